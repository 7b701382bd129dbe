import type { Bench } from './harness';

/** Benchmarks of the library work. */
export const libraryBenches: Bench[] = [];
