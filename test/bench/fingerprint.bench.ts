import type { Bench } from './harness';

/** Benchmarks of the fingerprint work. */
export const fingerprintBenches: Bench[] = [];
