import type { LedgerService } from './index';

export const DEMO_PASSPHRASE = 'medimgshr-demo';

/** Demo setup (being written; see the next commit). */
export class DemoSetup {
  constructor(private readonly l: LedgerService) {
    void this.l;
  }
}
