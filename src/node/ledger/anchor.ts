import type { LocalAnchor } from '../../shared/api/ledger';
import type { LedgerService } from './index';

export const ANCHOR_KIND = 'anchor';
export interface AnchorOptions {
  storageUri?: string;
}

/** Anchoring (being written; see the next commit). */
export class Anchoring {
  constructor(
    private readonly l: LedgerService,
    private readonly opts: AnchorOptions = {},
  ) {}
  local(root: string): LocalAnchor | null {
    void this.l;
    void this.opts;
    void root;
    return null;
  }
  ofStudy(studyInstanceUid: string): LocalAnchor[] {
    void studyInstanceUid;
    return [];
  }
}
