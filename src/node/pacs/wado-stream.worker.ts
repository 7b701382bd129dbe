/**
 * The WADO thread (wado-thread.ts starts it): a WADO-RS study / series request read here, each part
 * named by its SHA-256 and written into the cache folder (writeCacheFile), and only the written
 * file (path, digest, size, transfer syntax, SOP Instance UID) passed to the main thread. On the
 * main thread the socket reads, the multipart splitting, the copies, the hash and the file calls of
 * every part (and the garbage collections of ~100 MB of buffers per 200-slice series) competed with
 * the indexing and verification of the images that had come.
 *
 * Each part is written with blocking calls (this thread has nothing else to do meanwhile; the
 * socket's bytes wait in the kernel): no round trips through libuv's pool. The reply is paused after
 * the first part until the main thread says it is in the library (on screen before the rest: `resume`).
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { parentPort } from 'node:worker_threads';
import { writeCacheFileSync } from './cache-file';
import { PacsError, PacsReason } from './errors';
import { readFileMeta } from './part10-meta';
import { streamWado, type WadoStreamRequest } from './wado-stream';
import type { FromWadoThread, ToWadoThread } from './wado-thread';

const port = parentPort;
if (!port) throw new Error('wado-stream.worker runs as a worker thread');
const send = (m: FromWadoThread) => port.postMessage(m);
const jobs = new Map<number, { ctl: AbortController; resume: () => void }>();

/** Keep-alive agents, one per origin kind and CA (a connection's requests reuse its sockets). */
const agents = new Map<string, HttpAgent | HttpsAgent>();
function agentFor(url: string, caPem: string | undefined): HttpAgent | HttpsAgent {
  const https = url.startsWith('https:');
  const key = `${https}\u0000${caPem ?? ''}`;
  let a = agents.get(key);
  if (!a) {
    a = https ? new HttpsAgent({ keepAlive: true, maxSockets: 8, ...(caPem ? { ca: [...rootCertificates, caPem] } : {}) }) : new HttpAgent({ keepAlive: true, maxSockets: 8 });
    agents.set(key, a);
  }
  return a;
}

port.on('message', (m: ToWadoThread) => {
  if (m.type === 'stream') return void start(m);
  const j = jobs.get(m.job);
  if (!j) return;
  if (m.type === 'cancel') j.ctl.abort();
  else j.resume();
});

async function start(m: Extract<ToWadoThread, { type: 'stream' }>): Promise<void> {
  const ctl = new AbortController();
  let resumed: (() => void) | null = null;
  jobs.set(m.job, { ctl, resume: () => resumed?.() });
  let seq = 0;
  const r: WadoStreamRequest = { url: m.url, headers: m.headers, timeoutMs: m.timeoutMs, where: m.where };
  try {
    const parts = await streamWado(
      r,
      agentFor(m.url, m.caPem),
      {
        onInstance: (body) => {
          const n = ++seq;
          const meta = readFileMeta(body);
          const sop = meta.get(0x0003) ?? null;
          const sha256 = createHash('sha256').update(body).digest('hex');
          try {
            const path = writeCacheFileSync(m.cacheDir, body, sha256);
            send({ type: 'instance', job: m.job, seq: n, sop, file: { path, sha256, size: body.byteLength, transferSyntaxUid: meta.get(0x0010) ?? null } });
          } catch (err) {
            send({ type: 'write-failed', job: m.job, seq: n, sop, message: err instanceof Error ? err.message : String(err) });
          }
          // the first: paused until the main thread has it in the library (on screen before the rest is read)
          return n === 1 ? new Promise<void>((res) => (resumed = res)) : undefined;
        },
        onNotDicom: (index) => send({ type: 'not-dicom', job: m.job, index }),
      },
      { signal: ctl.signal },
    );
    send({ type: 'done', job: m.job, parts });
  } catch (err) {
    const e = err instanceof PacsError ? err : new PacsError(PacsReason.ConnectionLost, err instanceof Error ? err.message : String(err));
    send({ type: 'error', job: m.job, error: { reason: e.reason, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.detail ? { detail: e.detail } : {}) } });
  } finally {
    jobs.delete(m.job);
  }
}
