import type { Bench } from './harness';

/** Benchmarks of the viewer work. */
export const viewerBenches: Bench[] = [];
