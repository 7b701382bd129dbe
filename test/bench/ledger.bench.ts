import type { Bench } from './harness';

/** Benchmarks of the ledger work. */
export const ledgerBenches: Bench[] = [];
