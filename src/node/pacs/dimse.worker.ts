/**
 * The C-GET association in its own thread (dimse-thread.ts starts it). Orthanc, like most PACS,
 * sends one C-GET sub-operation at a time and the next only after our C-STORE response: on the main
 * thread that response waited whenever the thread was indexing, hashing or verifying earlier images,
 * and the PACS sat idle meanwhile. Here the PDU parsing, the Part-10 wrapping and the response run
 * beside that work. Each received instance goes to the main thread (its bytes moved, not copied).
 *
 * The response: the first image's waits for the main thread's ack (it is in the library, on screen
 * before the rest comes); later ones go at once unless more than `window` instances are not yet
 * acked (bounded memory while the main thread writes them to the cache). A retrieve killed before
 * the main thread wrote an answered instance lists the series again and fetches what has no cached
 * file (test pacs-retrieve-kill).
 */
import { hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { DimseClient, type ReceivedInstance, type RetrieveTarget, type SubOperations } from './dimse';
import type { DimseSettings } from './connections';
import { toPacsError } from './errors';
import { writeCacheFileSync } from './cache-file';

export type ToDimseThread =
  | { type: 'get'; job: number; settings: DimseSettings; timeoutMs: number; answerTimeoutMs: number; targets: RetrieveTarget[]; window: number; /** associations a series is spread over (DimseClient.get) */ associations?: number; /** send 'progress' (one message per pending C-GET response): only when someone listens */ progress?: boolean; /** each image is written into this cache folder here (writeCacheFileSync) */ cacheDir?: string }
  | { type: 'ack'; job: number; seq: number; ok: boolean }
  | { type: 'cancel'; job: number };

export type FromDimseThread =
  | { type: 'instance'; job: number; seq: number; instance: ReceivedInstance }
  | { type: 'progress'; job: number; p: { completed: number; failed: number; warnings: number; remaining: number | null } }
  /** The spread's series listing (C-FIND rows; null: it failed), for the main thread's own listing. */
  | { type: 'listed'; job: number; rows: Record<string, unknown>[] | null }
  | { type: 'done'; job: number; result: { completed: number; failed: number; warnings: number; remaining: number | null } }
  | { type: 'error'; job: number; error: { reason: string; message: string; hint?: string; detail?: string } };

interface Job {
  ctl: AbortController;
  unacked: number;
  acks: Map<number, (ok: boolean) => void>;
  slots: (() => void)[];
}

const port = parentPort;
if (!port) throw new Error('dimse.worker runs as a worker thread');
const jobs = new Map<number, Job>();
const send = (m: FromDimseThread, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

port.on('message', (m: ToDimseThread) => {
  if (m.type === 'get') return void start(m);
  const j = jobs.get(m.job);
  if (!j) return;
  if (m.type === 'cancel') return j.ctl.abort();
  j.unacked--;
  const a = j.acks.get(m.seq);
  j.acks.delete(m.seq);
  a?.(m.ok);
  if (j.unacked <= 0 || j.slots.length) j.slots.shift()?.();
});

/** The spread's listing to the main thread (null when it failed, or its rows cannot be cloned: the main thread then asks itself). */
function listedTo(job: number, rows: Record<string, unknown>[] | null): void {
  try {
    // as plain data (dcmjs's rows hold what structured cloning refuses)
    send({ type: 'listed', job, rows: rows ? (JSON.parse(JSON.stringify(rows)) as Record<string, unknown>[]) : null });
  } catch {
    send({ type: 'listed', job, rows: null });
  }
}

const passing: (() => void)[] = [];
function inOrder(f: () => void): void {
  if (passing.push(f) > 1) return;
  setImmediate(() => {
    for (let g = passing.shift(); g; g = passing.shift()) g();
  });
}

function start(m: Extract<ToDimseThread, { type: 'get' }>): void {
  const j: Job = { ctl: new AbortController(), unacked: 0, acks: new Map(), slots: [] };
  jobs.set(m.job, j);
  let seq = 0;
  const client = new DimseClient(m.settings, m.timeoutMs, m.answerTimeoutMs);
  client
    .get(
      m.targets,
      (i) => {
        const s = seq++;
        j.unacked++;
        const first = s === 0;
        const acked = first ? new Promise<boolean>((r) => j.acks.set(s, r)) : null;
        const pass = () => {
          // the cache's name for it, hashed here rather than on the busy main thread
          const sha256 = hash('sha256', i.file, 'hex');
          const bytes = () => {
            const buf = i.file.buffer as ArrayBuffer;
            // moved when the file owns its whole buffer (part10File's concat does); copied otherwise
            const own = i.file.byteOffset === 0 && i.file.byteLength === buf.byteLength;
            send({ type: 'instance', job: m.job, seq: s, instance: { ...i, sha256 } }, own ? [buf] : undefined);
          };
          if (!m.cacheDir) return bytes();
          // written here too (blocking: writeCacheFileSync): the main thread then only records it (no file I/O, no half-megabyte buffer per image on its heap)
          let path: string;
          try {
            path = writeCacheFileSync(m.cacheDir, i.file, sha256);
          } catch {
            return bytes(); // the main thread writes it (and reports what fails)
          }
          send({ type: 'instance', job: m.job, seq: s, instance: { ...i, file: new Uint8Array(0), sha256, written: { path, sha256, size: i.file.byteLength, transferSyntaxUid: i.transferSyntaxUid } } });
        };
        // after the C-STORE response (the PACS waits for it to send the next image): setImmediate runs
        // after the microtask that sends it, and keeps the arrival order
        inOrder(pass);
        if (acked) return acked.then((ok) => (ok ? undefined : Promise.reject(new Error('not stored'))));
        if (j.unacked > m.window) return new Promise<void>((r) => j.slots.push(r));
        return Promise.resolve();
      },
      { signal: j.ctl.signal, ...(m.progress ? { onProgress: (p: SubOperations) => send({ type: 'progress', job: m.job, p }) } : {}), ...(m.associations ? { associations: m.associations } : {}), onListed: (rows) => listedTo(m.job, rows) },
    )
    .then(
      // after every instance passed on (inOrder)
      (result) => inOrder(() => send({ type: 'done', job: m.job, result })),
      (err: unknown) => {
        const e = toPacsError(err);
        inOrder(() => send({ type: 'error', job: m.job, error: { reason: e.reason, message: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}), ...(e.detail !== undefined ? { detail: e.detail } : {}) } }));
      },
    )
    .finally(() => {
      jobs.delete(m.job);
      for (const r of j.slots.splice(0)) r();
    });
}
