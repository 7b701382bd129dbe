/**
 * Reading one file for the index: stat, skip if unchanged since it was indexed, otherwise read the
 * header, hash the whole file and extract the index record. Runs in the import workers (and
 * in-process for small imports); returns plain data only (structured-clone safe).
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { RejectedFile } from '../../shared/api/library';
import { isMainThread } from 'node:worker_threads';
import { DicomFileError, readDicomFile, readDicomFileSync } from '../dicom/parse';
import { dicomdirReferences, extractRecord, type IndexRecord } from './extract';

export interface ScanJob {
  path: string;
  /** 'scan' (default): header + record; 'hash': only the SHA-256 of the whole file. */
  mode?: 'scan' | 'hash';
  /** Size and mtime of the indexed file at this path, if any. */
  known: { size: number; mtimeMs: number } | null;
}

export type ScanOutcome =
  | { path: string; kind: 'same' }
  | { path: string; kind: 'dicomdir'; refs: string[][] }
  | { path: string; kind: 'rejected'; rejected: RejectedFile }
  | { path: string; kind: 'record'; size: number; mtimeMs: number; sha256: string | null; record: IndexRecord }
  | { path: string; kind: 'hash'; size: number; mtimeMs: number; sha256: string };

/** SHA-256 of a whole file, streamed (never the whole file in memory). */
export async function hashFile(path: string): Promise<{ sha256: string; size: number; mtimeMs: number }> {
  const st = await stat(path);
  const h = createHash('sha256');
  await new Promise<void>((res, rej) => {
    createReadStream(path, { highWaterMark: 1024 * 1024 })
      .on('data', (c) => h.update(c))
      .on('end', () => res())
      .on('error', rej);
  });
  return { sha256: h.digest('hex'), size: st.size, mtimeMs: st.mtimeMs };
}

export async function scanFile(job: ScanJob): Promise<ScanOutcome> {
  const { path } = job;
  try {
    if (job.mode === 'hash') return { path, kind: 'hash', ...(await hashFile(path)) };
    const st = isMainThread ? await stat(path) : statSync(path);
    // Never open a FIFO, socket or device: opening a FIFO blocks until someone writes to it.
    if (!st.isFile()) return { path, kind: 'rejected', rejected: { path, code: 'UNREADABLE', reason: 'This is not a regular file (a pipe, socket or device), so it was not read.' } };
    if (job.known && st.size === job.known.size && st.mtimeMs === job.known.mtimeMs) return { path, kind: 'same' };
    // Header only. A new file's hash is computed after the import (Library.hashPending); a known
    // path whose size or mtime changed is hashed now, to tell a real change from a touch.
    const read = isMainThread ? readDicomFile : readDicomFileSync; // blocking I/O only off the main thread
    const parsed = await read(path, { headerOnly: true, hash: job.known !== null });
    if (parsed.isDicomdir) return { path, kind: 'dicomdir', refs: dicomdirReferences(parsed) };
    const record = extractRecord(parsed);
    return { path, kind: 'record', size: parsed.fileSize, mtimeMs: parsed.mtimeMs, sha256: parsed.sha256, record };
  } catch (err) {
    if (err instanceof DicomFileError) return { path, kind: 'rejected', rejected: { path, code: err.reject, reason: err.message } };
    const code = (err as NodeJS.ErrnoException).code;
    if (code) return { path, kind: 'rejected', rejected: { path, code: 'UNREADABLE', reason: `The file cannot be read (${code}).` } };
    return { path, kind: 'rejected', rejected: { path, code: 'MALFORMED', reason: `The file could not be parsed: ${(err as Error)?.message ?? String(err)}.` } };
  }
}

/** Scans jobs with a few reads in flight (I/O overlap), results in job order. */
export async function scanMany(jobs: ScanJob[], concurrency = 8): Promise<ScanOutcome[]> {
  const out: ScanOutcome[] = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < jobs.length; i = next++) out[i] = await scanFile(jobs[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, lane));
  return out;
}
