import type { LedgerService } from './index';

/** Verification (being written; see the next commit). */
export class Verifier {
  constructor(private readonly l: LedgerService) {
    void this.l;
  }
}
