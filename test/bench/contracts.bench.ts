import type { Bench } from './harness';

/** Benchmarks of the contracts work. */
export const contractsBenches: Bench[] = [];
