/**
 * Send instances to a PACS: STOW-RS (batches of 16 files per request; the server's answer says
 * which instances it stored and which it refused) or C-STORE (one association, a status per file).
 * A result per instance, progress per batch.
 */
import { readFile } from 'node:fs/promises';
import type { Task } from '../tasks';
import type { DicomWebClient, DicomJson } from './dicomweb';
import { statusText, type DimseClient } from './dimse';
import { PacsError, PacsReason, toPacsError, type PacsApiError } from './errors';
import { readFileMeta } from './part10';

export type SendVia = 'stow-rs' | 'c-store';

export interface SendResult {
  path: string;
  sopInstanceUid: string | null;
  ok: boolean;
  message: string;
}

export interface SendReport {
  connection: string;
  via: SendVia;
  sent: number;
  failed: number;
  results: SendResult[];
  bytes: number;
  seconds: number;
  cancelled: boolean;
  error: PacsApiError | null;
}

const BATCH = 16;

/** SOP Instance UIDs listed in a STOW-RS response sequence (0008,1199 stored / 0008,1198 failed). */
function sopsIn(resp: DicomJson | null, tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of (resp?.[tag]?.Value ?? []) as DicomJson[]) {
    const sop = item['00081155']?.Value?.[0];
    const reason = item['00081197']?.Value?.[0];
    // STOW-RS Failure Reason (0008,1197) uses the C-STORE status codes (PS3.18 §10.5.3).
    if (typeof sop === 'string') out.set(sop, reason === undefined ? '' : `failure reason: ${statusText(Number(reason))}`);
  }
  return out;
}

export async function send(
  ctx: { connectionName: string; web: DicomWebClient | null; dimse: DimseClient | null },
  paths: string[],
  via: SendVia,
  task: Task,
  opts: { onResult?: (r: SendResult, index: number) => void } = {},
): Promise<SendReport> {
  const t0 = Date.now();
  if (via === 'stow-rs' && !ctx.web) throw new PacsError(PacsReason.NotConfigured, `Connection "${ctx.connectionName}" has no DICOMweb URL, so STOW-RS cannot be used.`, 'Use --via c-store, or add the DICOMweb URL.');
  if (via === 'c-store' && !ctx.dimse) throw new PacsError(PacsReason.NotConfigured, `Connection "${ctx.connectionName}" has no DIMSE settings, so C-STORE cannot be used.`, 'Use --via stow-rs, or add host, port and AE titles.');
  const results: SendResult[] = [];
  const push = (r: SendResult) => {
    results.push(r);
    opts.onResult?.(r, results.length - 1);
  };
  let bytes = 0;
  let error: PacsError | null = null;
  task.progress({ total: paths.length, done: 0, failed: 0, label: 'sending' }, true);
  const tally = () => task.progress({ done: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length });

  if (via === 'c-store') {
    const sopOf = new Map<string, string | null>();
    for (const p of paths) {
      try {
        sopOf.set(p, readFileMeta(await readFile(p)).get(0x0003) ?? null);
      } catch {
        sopOf.set(p, null);
      }
    }
    try {
      const r = await ctx.dimse!.store(paths, {
        signal: task.signal,
        onResult: (x) => {
          push({ path: x.path, sopInstanceUid: sopOf.get(x.path) ?? null, ok: x.ok, message: x.ok ? (x.status === 'success' ? 'stored' : `stored (${x.status})`) : `C-STORE status: ${x.status}` });
          tally();
        },
      });
      for (const x of r) if (!results.some((y) => y.path === x.path)) push({ path: x.path, sopInstanceUid: sopOf.get(x.path) ?? null, ok: x.ok, message: x.ok ? 'stored' : `C-STORE status: ${x.status}` });
    } catch (err) {
      error = toPacsError(err);
    }
  } else {
    for (let i = 0; i < paths.length && !task.cancelled; i += BATCH) {
      const chunk = paths.slice(i, i + BATCH);
      const files: Uint8Array[] = [];
      const sops: (string | null)[] = [];
      for (const p of chunk) {
        const f = await readFile(p);
        files.push(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
        sops.push(readFileMeta(f).get(0x0003) ?? null);
      }
      try {
        const resp = await ctx.web!.store(files, task.signal);
        bytes += files.reduce((n, f) => n + f.byteLength, 0);
        const stored = sopsIn(resp, '00081199');
        const refused = sopsIn(resp, '00081198');
        chunk.forEach((p, k) => {
          const sop = sops[k] ?? null;
          if (sop && refused.has(sop)) push({ path: p, sopInstanceUid: sop, ok: false, message: `refused by the PACS (${refused.get(sop) || 'no failure reason given'})` });
          else push({ path: p, sopInstanceUid: sop, ok: resp === null || stored.size === 0 || (sop !== null && stored.has(sop)), message: 'stored' });
        });
      } catch (err) {
        const e = toPacsError(err);
        if (e.reason === PacsReason.Cancelled) break;
        for (const [k, p] of chunk.entries()) push({ path: p, sopInstanceUid: sops[k] ?? null, ok: false, message: e.message });
        if (e.reason !== PacsReason.HttpError) {
          error = e;
          break;
        }
      }
      tally();
    }
  }
  const seen = new Set(results.map((r) => r.path));
  for (const p of paths) if (!seen.has(p)) push({ path: p, sopInstanceUid: null, ok: false, message: error ? error.message : 'not sent (cancelled)' });
  task.progress({}, true);
  return {
    connection: ctx.connectionName,
    via,
    sent: results.filter((r) => r.ok).length,
    failed: results.filter((r) => !r.ok).length,
    results,
    bytes,
    seconds: (Date.now() - t0) / 1000,
    cancelled: task.cancelled,
    error: error ? error.toJSON() : null,
  };
}
