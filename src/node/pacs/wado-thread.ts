/**
 * The WADO thread (wado-stream.worker.ts): started on first use and kept (idle, it does not keep
 * the process alive). A series-level WADO-RS retrieve reads its reply and writes each part into the
 * cache there; this thread gets the written files. Without the bundle (tests from the sources) or
 * with MEDIMG_WADO_THREAD=0, streamInThread returns null and the caller streams on this thread.
 */
import { findBundledWorker, KeptThread } from '../worker-pool';
import type { WrittenFile } from './cache-file';
import { PacsError, PacsReason } from './errors';
import type { WadoStreamRequest } from './wado-stream';

export type ToWadoThread =
  | ({ type: 'stream'; job: number; cacheDir: string; caPem?: string } & WadoStreamRequest)
  | { type: 'resume'; job: number }
  | { type: 'cancel'; job: number };

export type FromWadoThread =
  | { type: 'instance'; job: number; seq: number; sop: string | null; file: WrittenFile }
  | { type: 'write-failed'; job: number; seq: number; sop: string | null; message: string }
  | { type: 'not-dicom'; job: number; index: number }
  | { type: 'done'; job: number; parts: number }
  | { type: 'error'; job: number; error: { reason: string; message: string; hint?: string; detail?: string } };

const kept = new KeptThread<FromWadoThread>(() => (process.env.MEDIMG_WADO_THREAD === '0' ? null : findBundledWorker('wado-stream.worker', process.env.MEDIMG_WADO_WORKER)));
const listeners = kept.jobs;

/** Starts the WADO thread ahead of a retrieve. */
export function warmWadoThread(): void {
  kept.get();
}

/** See DicomWebClient.retrieveStreamToCache. */
export function streamInThread(
  r: WadoStreamRequest & { caPem?: string },
  cacheDir: string,
  handlers: { onInstance: (file: WrittenFile, sopInstanceUid: string | null) => void | Promise<unknown>; onWriteFailed: (sopInstanceUid: string | null, message: string) => void; onNotDicom?: (index: number) => void },
  opts: { signal?: AbortSignal } = {},
): Promise<number> | null {
  const w = kept.get();
  if (!w) return null;
  const job = kept.nextJob();
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const settle = (err: PacsError | null, parts = 0) => {
      if (settled) return;
      settled = true;
      listeners.delete(job);
      opts.signal?.removeEventListener('abort', onAbort);
      if (listeners.size === 0) w.unref();
      if (err) reject(err);
      else resolve(parts);
    };
    const onAbort = () => {
      w.postMessage({ type: 'cancel', job } satisfies ToWadoThread);
      settle(new PacsError(PacsReason.Cancelled, 'The PACS operation was cancelled.'));
    };
    listeners.set(job, (m) => {
      if (settled) return;
      switch (m.type) {
        case 'instance': {
          let wait: void | Promise<unknown> | undefined;
          try {
            wait = handlers.onInstance(m.file, m.sop);
          } catch {
            wait = undefined;
          }
          // the thread waits after the first part until this one says go on
          if (m.seq === 1) {
            const go = () => w.postMessage({ type: 'resume', job } satisfies ToWadoThread);
            if (wait) wait.then(go, go);
            else go();
          }
          return;
        }
        case 'write-failed':
          handlers.onWriteFailed(m.sop, m.message);
          if (m.seq === 1) w.postMessage({ type: 'resume', job } satisfies ToWadoThread);
          return;
        case 'not-dicom':
          handlers.onNotDicom?.(m.index);
          return;
        case 'done':
          return settle(null, m.parts);
        case 'error':
          return settle(new PacsError(m.error.reason as PacsReason, m.error.message, m.error.hint, m.error.detail));
        case 'exit':
          return settle(new PacsError(PacsReason.ConnectionLost, `The WADO-RS reply could not be read to the end: its thread stopped (${m.why}).`, 'Retrieve again; only what is missing is fetched.'));
      }
    });
    if (listeners.size === 1) w.ref(); // a CLI run waits for the reply
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    w.postMessage({ type: 'stream', job, cacheDir, url: r.url, headers: r.headers, timeoutMs: r.timeoutMs, where: r.where, ...(r.caPem ? { caPem: r.caPem } : {}) } satisfies ToWadoThread);
  });
}
