/**
 * Is a stored finding still about this image and this model? A result is stale when the image's
 * pixel digest now differs from the one recorded, when the file is gone, or when the model that
 * produced it is no longer installed or its installed files no longer hash to what was recorded.
 */
import { statSync } from 'node:fs';
import type { Db } from '../store/database';
import type { InstalledModel } from './model-registry';
import type { StoredResult } from './result-store';

export interface PixelDigestSource {
  /** The fingerprint tables' pixel digest when it is current for the file (same size and mtime), else null. */
  known(path: string): string | null;
  /** The current pixel digest: known, or computed from the file now; null when the file cannot be read. */
  current(path: string): Promise<{ sha256: string; source: 'fingerprint' | 'computed' } | null>;
}

/** Reads fingerprint_files (migration 003); computes with `compute` when the row is missing or outdated. */
export class FingerprintPixelDigests implements PixelDigestSource {
  constructor(
    private readonly db: Db,
    private readonly compute: (path: string) => Promise<string | null>,
  ) {}

  known(path: string): string | null {
    let st;
    try {
      st = statSync(path);
    } catch {
      return null;
    }
    const row = this.db.prepare('SELECT pixel_sha256, size, mtime_ms FROM fingerprint_files WHERE path = ? AND error_code IS NULL').get(path) as
      | { pixel_sha256: string | null; size: number | null; mtime_ms: number | null }
      | undefined;
    if (!row?.pixel_sha256 || row.size !== st.size || row.mtime_ms !== st.mtimeMs) return null;
    return row.pixel_sha256;
  }

  async current(path: string): Promise<{ sha256: string; source: 'fingerprint' | 'computed' } | null> {
    const k = this.known(path);
    if (k) return { sha256: k, source: 'fingerprint' };
    const c = await this.compute(path);
    return c ? { sha256: c, source: 'computed' } : null;
  }
}

export type Freshness = { state: 'current' } | { state: 'stale'; reasons: string[] };

export interface ModelLookup {
  find(id: string): InstalledModel | null;
  verifyFiles(m: InstalledModel): { ok: boolean; modelSha256: string | null; cardSha256: string | null };
}

const short = (h: string | null) => (h ? h.slice(0, 12) : 'none');

export async function assessFreshness(r: StoredResult, pixels: PixelDigestSource, models: ModelLookup): Promise<Freshness> {
  const reasons: string[] = [];
  const now = await pixels.current(r.filePath);
  if (!now) reasons.push(`the image file ${r.filePath} can no longer be read`);
  else if (now.sha256 !== r.pixelSha256) {
    reasons.push(`the image's pixels changed since the finding (pixel digest was ${short(r.pixelSha256)}…, now ${short(now.sha256)}…)`);
  }
  const m = models.find(r.model.id);
  if (!m) reasons.push(`the model that produced it (${r.model.name} ${r.model.version}) is no longer installed`);
  else {
    const v = models.verifyFiles(m);
    if (v.modelSha256 !== r.model.modelSha256) reasons.push(`the installed model file changed (SHA-256 was ${short(r.model.modelSha256)}…, now ${short(v.modelSha256)}…)`);
    if (v.cardSha256 !== r.model.cardSha256) reasons.push(`the installed model card changed (SHA-256 was ${short(r.model.cardSha256)}…, now ${short(v.cardSha256)}…)`);
  }
  return reasons.length ? { state: 'stale', reasons } : { state: 'current' };
}
