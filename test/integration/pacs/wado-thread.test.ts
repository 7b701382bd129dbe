/**
 * The WADO thread (wado-stream.worker.ts, loaded from dist/workers as the app loads it) against a
 * local HTTP server: each part of a series reply arrives as a file written into the cache folder
 * under the SHA-256 of its bytes, byte-identical, with its SOP Instance UID and transfer syntax; the
 * reply is paused after the first part until its promise settles; a reply cut off, one that is not
 * multipart, a refusal and a cancel end it with the same PacsError reasons as on the main thread.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WrittenFile } from '../../../src/node/pacs/cache-file';
import { DicomWebClient } from '../../../src/node/pacs/dicomweb';
import { PacsError, PacsReason } from '../../../src/node/pacs/errors';
import { part10File } from '../../../src/node/pacs/part10';
import { findBundledWorker } from '../../../src/node/worker-pool';
import { tempDir } from '../../support/tmp';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const files = [1, 2, 3].map((i) => part10File(Buffer.alloc(70_000 * i, i), { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: `1.2.3.4.${i}`, transferSyntaxUid: EXPLICIT_LE }));
const BOUNDARY = 'b0und4ry';
/** The parts, then the closing boundary; or (`close` false) the start of one more part that never ends. */
const reply = (parts: Buffer[], close = true) =>
  Buffer.concat([
    ...parts.flatMap((p) => [Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1'), p]),
    close ? Buffer.from(`\r\n--${BOUNDARY}--\r\n`, 'latin1') : Buffer.concat([Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1'), files[2]!.subarray(0, 1000)]),
  ]);

describe('WADO-RS series read in the WADO thread', () => {
  const tmp = tempDir('medimg-wado-thread-');
  let server: Server;
  let url = '';
  /** What the next request gets (by series UID). */
  const routes: Record<string, (res: ServerResponse) => void> = {
    whole: (res) => {
      res.writeHead(200, { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      const msg = reply(files);
      // in small chunks, so parts span many reads
      let at = 0;
      const next = () => {
        if (at >= msg.length) return void res.end();
        res.write(msg.subarray(at, (at += 16_384)), next);
      };
      next();
    },
    cut: (res) => {
      res.writeHead(200, { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      res.end(reply(files.slice(0, 2), false));
    },
    plain: (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('[]');
    },
    refused: (res) => {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('no');
    },
    hang: (res) => {
      res.writeHead(200, { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      res.write(reply(files.slice(0, 1), false)); // then nothing
    },
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const series = /\/series\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '';
      (routes[series] ?? routes.refused!)(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    tmp.cleanup();
  });

  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 400 && !ok(); i++) await new Promise((res) => setTimeout(res, 25));
  };
  const run = (series: string, o: { signal?: AbortSignal; firstWait?: Promise<unknown> } = {}) => {
    const client = new DicomWebClient({ url, auth: 'none', username: null, secret: null, caPem: null, timeoutMs: 10_000 });
    const got: { file: WrittenFile; sop: string | null; released: boolean }[] = [];
    const state = { released: false };
    const dir = join(tmp.path, series);
    const p = client.retrieveStreamToCache(
      '1.2.3',
      series,
      dir,
      {
        onInstance: (file, sop) => {
          got.push({ file, sop, released: state.released });
          return got.length === 1 ? o.firstWait : undefined;
        },
        onWriteFailed: () => undefined,
      },
      o.signal ? { signal: o.signal } : {},
    );
    return { p, got, dir, state, close: () => client.close() };
  };

  it('the thread bundle is built (the app and the tests load dist/workers/wado-stream.worker.cjs)', () => {
    expect(findBundledWorker('wado-stream.worker', undefined)).toMatch(/wado-stream\.worker\.cjs$/);
  });

  it('every part: a file named by its SHA-256, byte-identical, with its SOP Instance UID and transfer syntax; the reply waits for the first', async () => {
    let release: () => void = () => undefined;
    const firstWait = new Promise<void>((r) => (release = r));
    const r = run('whole', { firstWait: firstWait.then(() => (r.state.released = true)) });
    expect(r.p).not.toBeNull();
    await until(() => r.got.length > 0);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.got.length).toBe(1); // paused after the first part
    release();
    expect(await r.p).toBe(3);
    r.close();
    expect(r.got.map((g) => g.sop)).toEqual(['1.2.3.4.1', '1.2.3.4.2', '1.2.3.4.3']);
    expect(r.got.map((g) => g.released)).toEqual([false, true, true]);
    r.got.forEach((g, i) => {
      const bytes = readFileSync(g.file.path);
      expect(sha(bytes)).toBe(sha(files[i]!));
      expect(g.file.sha256).toBe(sha(files[i]!));
      expect(g.file.path).toBe(join(r.dir, g.file.sha256.slice(0, 2), `${g.file.sha256}.dcm`));
      expect(g.file.size).toBe(files[i]!.length);
      expect(g.file.transferSyntaxUid).toBe(EXPLICIT_LE);
    });
  });

  it('cut off before the closing boundary: the whole parts arrive, then "connection lost"', async () => {
    const r = run('cut');
    const err = (await r.p!.catch((e: unknown) => e)) as PacsError;
    r.close();
    expect(err).toBeInstanceOf(PacsError);
    expect(err.reason).toBe(PacsReason.ConnectionLost);
    expect(err.message).toMatch(/cut off/);
    expect(r.got.map((g) => g.sop)).toEqual(['1.2.3.4.1', '1.2.3.4.2']);
    for (const g of r.got) expect(existsSync(g.file.path)).toBe(true);
  });

  it('not multipart, and refused: the same reasons as on the main thread', async () => {
    const a = run('plain');
    const e1 = (await a.p!.catch((e: unknown) => e)) as PacsError;
    const b = run('refused');
    const e2 = (await b.p!.catch((e: unknown) => e)) as PacsError;
    a.close();
    b.close();
    expect(e1.reason).toBe(PacsReason.NotDicom);
    expect(e2.reason).toBe(PacsReason.Forbidden);
    expect(a.got.length + b.got.length).toBe(0);
  });

  it('cancelled while the server holds the rest: "cancelled" (not the 10 s idle limit)', async () => {
    const ctl = new AbortController();
    const r = run('hang', { signal: ctl.signal });
    await until(() => r.got.length > 0);
    ctl.abort();
    const err = (await r.p!.catch((e: unknown) => e)) as PacsError;
    r.close();
    expect(err.reason).toBe(PacsReason.Cancelled);
    expect(r.got.map((g) => g.sop)).toEqual(['1.2.3.4.1']);
  });
});
