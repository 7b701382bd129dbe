/**
 * The WebDAV pixel store against a real nginx (Debian nginx-light) on loopback: the PixelStore
 * contract, a split → rebuild round trip through it, and garbage collection through its listing.
 */
import { createHash } from 'node:crypto';
import { readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { SplitError } from '../../../src/node/split/errors';
import { blobAddress } from '../../../src/node/split/pixel-store';
import { createSplitStorage } from '../../../src/node/split/split-storage';
import { WebDavPixelStore } from '../../../src/node/split/webdav-store';
import { openDatabase } from '../../../src/node/store/database';
import { tempDir } from '../../support/tmp';
import { requireNginx, startDavServer, type DavServer } from './webdav-server';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const have = requireNginx();

describe.skipIf(!have)('WebDAV pixel store (nginx on loopback)', () => {
  const tmp = tempDir('medimg-split-dav-');
  let server: DavServer;
  beforeAll(async () => {
    server = await startDavServer(join(tmp.path, 'nginx'));
  });
  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it('put / get / has / delete / list', async () => {
    const store = new WebDavPixelStore(server.url);
    const blob = new Uint8Array(100_001).map((_, i) => (i * 7) & 255);
    const a = await store.put(blob);
    expect(a).toBe(blobAddress(blob));
    expect(await store.put(blob)).toBe(a); // idempotent
    expect(await store.has(a)).toBe(true);
    expect((await store.get(a))!.equals(Buffer.from(blob))).toBe(true);
    const listed = [];
    for await (const b of store.list()) listed.push(b);
    expect(listed).toEqual([{ address: a, size: blob.length, modifiedMs: expect.any(Number) }]);
    expect(await store.delete(a)).toBe(true);
    expect(await store.delete(a)).toBe(false);
    expect(await store.get(a)).toBeNull();
    expect(await store.has(a)).toBe(false);
  });

  it('split → rebuild byte-identical through the WebDAV store; garbage collection keeps what the index names', async () => {
    const db = openDatabase(join(tmp.path, 'db.sqlite'));
    const store = new WebDavPixelStore(server.url);
    const split = createSplitStorage({ db, home: join(tmp.path, 'home'), store, durable: false });
    const s = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 5, kind: 'ct', seed: 3 });
    const files = [...s.files, join(PYDICOM, 'JPEG2000.dcm'), join(PYDICOM, 'image_dfl.dcm')];
    const run = await split.splitFiles(files);
    expect(run.errors).toEqual([]);
    expect(run.store).toBe(server.url);
    for (const i of run.instances) {
      const b = await split.rebuildBytes(i.sopInstanceUid);
      expect(createHash('sha256').update(b).digest('hex')).toBe(createHash('sha256').update(readFileSync(i.path)).digest('hex'));
    }
    // An orphan (a blob no index row names), old enough to collect.
    const orphan = await store.put(new Uint8Array([1, 2, 3]));
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(server.dataDir, orphan.slice(0, 2), orphan.slice(2, 4), orphan), old, old);
    const report = await split.collectGarbage();
    expect(report.blobsDeleted).toEqual([orphan]);
    expect(report.blobsKept).toBe(files.length);
    expect(await store.has(orphan)).toBe(false);
    db.close();
  });

  it('an unreachable store is reported as such', async () => {
    const store = new WebDavPixelStore('http://127.0.0.1:9/blobs/', { timeoutMs: 2000 });
    await expect(store.get('a'.repeat(64))).rejects.toBeInstanceOf(SplitError);
    await expect(store.get('a'.repeat(64))).rejects.toThrow(/cannot be reached/);
  });
});
