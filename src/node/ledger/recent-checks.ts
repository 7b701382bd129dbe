/**
 * Recent "verified" results, so one dialog verifies its images once: opening the Export or Share
 * dialog checks the images, and exporting or sending right after reuses that check instead of asking
 * the chain again (docs/architecture.md, "the path of one image").
 *
 * Only `verified` is kept, for a short time, per file as it is on disk now (path, size, modification
 * time) and per ledger (chain id, contract). Any failed chain read, the ledger going down or a chain
 * reset starts a new failure epoch, which forgets everything: no image shows "verified" from a check
 * older than the last failure. Every other state is always checked again (it may change at any time:
 * an anchor is confirmed, the ledger comes back).
 */
import type { InstanceVerification } from '../../shared/api/ledger';

/** How long a "verified" result is reused (one dialog: check, then export or share). */
export const REUSE_VERIFIED_MS = 30_000;

/** The file as it is on disk now: a changed file is a new key. */
export interface FileState {
  path: string;
  size: number;
  mtimeMs: number;
}

const keyOf = (f: FileState) => `${f.path}\u0000${f.size}\u0000${f.mtimeMs}`;

export class RecentChecks {
  private epoch = 0;
  private readonly kept = new Map<string, { ledger: string; epoch: number; at: number; result: InstanceVerification }>();

  constructor(
    private readonly reuseMs = REUSE_VERIFIED_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A chain read failed, the ledger went down or the chain was reset: forget every earlier check. */
  ledgerFailed(): void {
    this.epoch++;
    this.kept.clear();
  }

  /** The failure epoch (grows with every ledgerFailed()). */
  failureEpoch(): number {
    return this.epoch;
  }

  /** Keeps a result if it is `verified` (checked against `ledger` in failure epoch `epoch`). */
  keep(file: FileState, ledger: string, epoch: number, result: InstanceVerification): void {
    if (result.state !== 'verified' || epoch !== this.epoch) return;
    this.kept.set(keyOf(file), { ledger, epoch, at: this.now(), result });
  }

  /** The recent `verified` result of this file on this ledger, or null. */
  recent(file: FileState, ledger: string): InstanceVerification | null {
    const k = keyOf(file);
    const e = this.kept.get(k);
    if (!e) return null;
    if (e.epoch !== this.epoch || e.ledger !== ledger || this.now() - e.at > this.reuseMs) {
      this.kept.delete(k);
      return null;
    }
    return e.result;
  }
}
