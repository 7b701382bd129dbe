/**
 * Our Storage SCP in its own thread (ThreadedStorageScp in storage-scp.ts starts it). A PACS
 * answering our C-MOVE sends one image at a time and the next only after our C-STORE response; on
 * the main thread that response waited whenever the thread was indexing or verifying earlier
 * images. Here the PDU parsing and the responses run beside that work; each instance goes to the
 * main thread (its bytes moved, not copied), which stores it.
 *
 * A push (another AE's C-STORE, or a C-MOVE we did not ask for): the response waits for the main
 * thread (the file is on disk, fsynced, first). A sub-operation of a C-MOVE the main thread said it
 * is waiting for (`expect`: our AE title as move originator, one of the SOP Instance UIDs it asked
 * for) is answered at once, like the C-GET thread's: the first image's response waits for the main
 * thread (on screen before the rest comes), and at most `window` go unacked.
 */
import { hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { StorageScp, type StorageScpOptions, type StoredInstance } from './storage-scp';
import { toPacsError } from './errors';
import { writeCacheFileSync } from './cache-file';

export type ToScpThread =
  | { type: 'start'; opts: StorageScpOptions }
  | { type: 'stop' }
  | { type: 'ack'; seq: number; ok: boolean; message?: string }
  | { type: 'expect'; id: number; originatorAet: string; /** null: any */ sops: string[] | null; window: number; /** its arrivals are written into this cache folder here (writeCacheFileSync) */ cacheDir?: string }
  | { type: 'unexpect'; id: number };

export type FromScpThread =
  | { type: 'listening'; port: number }
  | { type: 'start-failed'; error: { reason: string; message: string; hint?: string } }
  | { type: 'stopped' }
  | { type: 'instance'; seq: number; instance: StoredInstance; answered: boolean }
  | { type: 'association' }
  | { type: 'rejected'; r: { callingAet: string; calledAet: string; reason: string; remote: string } }
  | { type: 'association-end'; a: { callingAet: string; sopInstanceUids: string[] } }
  /** After 'unexpect': every arrival of that C-MOVE was passed on (its 'instance' messages came before this one). */
  | { type: 'unexpected'; id: number };

const port = parentPort;
if (!port) throw new Error('scp.worker runs as a worker thread');
const send = (m: FromScpThread, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

let scp: StorageScp | null = null;
let seq = 0;
const acks = new Map<number, (a: { ok: boolean; message?: string }) => void>();
interface Expectation {
  originatorAet: string;
  /** null: any SOP Instance UID (a whole study / series asked for before its listing came) */
  sops: Set<string> | null;
  window: number;
  taken: number;
  unacked: Set<number>;
  slots: (() => void)[];
  cacheDir?: string;
}
const expectations = new Map<number, Expectation>();

/** Hashing and passing on, in arrival order, after the C-STORE responses already due are written (setImmediate runs after the microtasks that send them). */
const passing: (() => void)[] = [];
function inOrder(f: () => void): void {
  if (passing.push(f) > 1) return;
  setImmediate(() => {
    for (let g = passing.shift(); g; g = passing.shift()) g();
  });
}

function forward(i: StoredInstance): Promise<void> {
  const s = seq++;
  const e = [...expectations.values()].find((x) => i.moveOriginatorAet === x.originatorAet && (x.sops === null || x.sops.has(i.sopInstanceUid)));
  const first = e ? e.taken++ === 0 : false;
  const answered = !!e && !first;
  const acked = new Promise<{ ok: boolean; message?: string }>((r) => acks.set(s, r));
  if (e) {
    e.unacked.add(s);
    void acked.then(() => {
      e.unacked.delete(s);
      e.slots.shift()?.();
    });
  }
  const pass = () => {
    // the cache's name for it, hashed here rather than on the busy main thread
    const sha256 = hash('sha256', i.file, 'hex');
    const bytes = () => {
      const buf = i.file.buffer as ArrayBuffer;
      const own = i.file.byteOffset === 0 && i.file.byteLength === buf.byteLength;
      send({ type: 'instance', seq: s, instance: { ...i, sha256 }, answered }, own ? [buf] : undefined);
    };
    if (!e?.cacheDir) return bytes();
    // an arrival of our own C-MOVE: written here too (blocking: writeCacheFileSync), the main thread only records it (no file I/O, no half-megabyte buffer per image on its heap)
    let path: string;
    try {
      path = writeCacheFileSync(e.cacheDir, i.file, sha256);
    } catch {
      return bytes(); // the main thread writes it (and reports what fails)
    }
    send({ type: 'instance', seq: s, instance: { ...i, file: new Uint8Array(0), sha256, written: { path, sha256, size: i.file.byteLength, transferSyntaxUid: i.transferSyntaxUid } }, answered });
  };
  if (answered) {
    // answered first (the PACS waits for the response to send the next image), hashed and passed on after it
    inOrder(pass);
    return e.unacked.size > e.window ? new Promise<void>((r) => e.slots.push(r)) : Promise.resolve();
  }
  inOrder(pass);
  return acked.then((a) => (a.ok ? undefined : Promise.reject(new Error(a.message ?? 'store failed'))));
}

port.on('message', (m: ToScpThread) => {
  switch (m.type) {
    case 'start': {
      try {
        const s = new StorageScp(m.opts, {
          onInstance: forward,
          onAssociation: () => send({ type: 'association' }),
          onRejected: (r) => send({ type: 'rejected', r }),
          onAssociationEnd: (a) => send({ type: 'association-end', a }),
        });
        s.start().then(
          () => {
            scp = s;
            send({ type: 'listening', port: s.port });
          },
          (err: unknown) => {
            const e = toPacsError(err);
            send({ type: 'start-failed', error: { reason: e.reason, message: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}) } });
          },
        );
      } catch (err) {
        const e = toPacsError(err);
        send({ type: 'start-failed', error: { reason: e.reason, message: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}) } });
      }
      return;
    }
    case 'stop':
      void (scp?.stop() ?? Promise.resolve()).then(() => send({ type: 'stopped' }));
      return;
    case 'ack': {
      const a = acks.get(m.seq);
      acks.delete(m.seq);
      a?.({ ok: m.ok, ...(m.message !== undefined ? { message: m.message } : {}) });
      return;
    }
    case 'expect':
      expectations.set(m.id, { originatorAet: m.originatorAet, sops: m.sops ? new Set(m.sops) : null, window: m.window, taken: 0, unacked: new Set(), slots: [], ...(m.cacheDir ? { cacheDir: m.cacheDir } : {}) });
      return;
    case 'unexpect': {
      const e = expectations.get(m.id);
      expectations.delete(m.id);
      for (const r of e?.slots.splice(0) ?? []) r();
      // after what was passed on already (inOrder: after the passes still due, each written when passed)
      inOrder(() => send({ type: 'unexpected', id: m.id }));
      return;
    }
  }
});
