/**
 * The split worker pool (src/node/split/pool.ts) does the same work as the calling thread: the
 * same blobs under the same addresses, the same index rows, every rebuilt file byte-identical;
 * two files with one SOP Instance UID in one run are told apart as inline; nothing stray is left.
 * And the viewer's lookup: a library instance id finds its split row in one query, and opening a
 * storage to read makes no folder; with the source file deleted, the tag inspector reads the rebuilt copy. Real SQLite, a real folder store, generated CT slices (64²).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { Library } from '../../../src/node/library/library';
import type { FolderPixelStore } from '../../../src/node/split/folder-store';
import { findSplitWorkerScript } from '../../../src/node/split/pool';
import { SplitService } from '../../../src/node/split/service';
import type { SplitRow } from '../../../src/node/split/split-index';
import { createSplitStorage, type SplitStorage } from '../../../src/node/split/split-storage';
import { openDatabase, type Db } from '../../../src/node/store/database';
import { tempDir } from '../../support/tmp';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const N = 24; // above the pool's threshold (16)
const SECRET = Buffer.alloc(32, 7); // one institution for every storage here: the same keys, so the same blobs

describe('split worker pool', () => {
  const tmp = tempDir('medimg-split-pool-');
  let files: string[];
  const dbs: Db[] = [];
  const storages: SplitStorage[] = [];
  const open = (name: string, threads: string) => {
    const db = openDatabase(':memory:');
    dbs.push(db);
    const before = process.env.MEDIMG_SPLIT_THREADS;
    process.env.MEDIMG_SPLIT_THREADS = threads;
    const s = createSplitStorage({ db, home: join(tmp.path, name), durable: false, secret: { secret: () => SECRET } });
    storages.push(s);
    return { db, s, restore: () => (before === undefined ? delete process.env.MEDIMG_SPLIT_THREADS : (process.env.MEDIMG_SPLIT_THREADS = before)) };
  };

  beforeAll(async () => {
    const dir = join(tmp.path, 'ct');
    await writeSampleSeries({ outDir: dir, slices: N, kind: 'ct', seed: 77, matrix: 64 });
    files = readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(dir, f));
    expect(files).toHaveLength(N);
  });
  afterAll(async () => {
    for (const s of storages) await s.close();
    for (const db of dbs) db.close();
    tmp.cleanup();
  });

  it('the worker bundle is built (the tests run against dist/)', () => {
    expect(findSplitWorkerScript()).toMatch(/split\.worker\.cjs$/);
  });

  it('pool and inline give the same blobs, rows and byte-identical rebuilds; a second run finds them split', async () => {
    const inline = open('inline', '0');
    const a = await inline.s.splitFiles(files);
    inline.restore();
    const pooled = open('pooled', '2');
    const progress: number[] = [];
    const b = await pooled.s.splitFiles(files, { onProgress: (p) => progress.push(p.done) });
    pooled.restore();
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    expect(a.threads).toBe(0); // inline: no worker answered
    expect(b.threads).toBe(2); // both worker threads split files (their thread ids in the answers)
    expect(progress).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    // In the order given; the deterministic nonce makes the same blob under the same address.
    expect(b.instances.map((i) => i.path)).toEqual(files);
    expect(b.instances.map((i) => [i.sopInstanceUid, i.blobAddress, i.blobSize, i.metadataSize, i.already])).toEqual(a.instances.map((i) => [i.sopInstanceUid, i.blobAddress, i.blobSize, i.metadataSize, false]));
    const strip = (r: SplitRow) => ({ ...r, splitAt: null, store: null });
    expect(pooled.s.index.all().map(strip)).toEqual(inline.s.index.all().map(strip));
    // One sealed part per instance, in its row (from the worker's answer), none as a file.
    for (const i of b.instances) {
      expect(pooled.s.index.get(i.sopInstanceUid)!.metadataPath).toBe('');
      expect(pooled.s.index.sealedMetadata(i.sopInstanceUid)!.length).toBe(i.metadataSize);
      expect(pooled.s.openMetadata(i.sopInstanceUid).header).toMatchObject({ sopInstanceUid: i.sopInstanceUid, blobAddress: i.blobAddress });
    }
    expect(existsSync(pooled.s.metadataDir)).toBe(false);

    const out = join(tmp.path, 'out');
    const sops = b.instances.map((i) => i.sopInstanceUid);
    const rb = await pooled.s.rebuildManyTo([...sops, '1.2.3.4.5.6.7.8.9'], out);
    expect(rb.rebuilt.map((r) => r.sopInstanceUid)).toEqual(sops);
    expect(rb.errors).toHaveLength(1);
    expect(rb.errors[0]).toMatchObject({ sopInstanceUid: '1.2.3.4.5.6.7.8.9', error: { failure: 'NOT_SPLIT' } });
    for (const [k, r] of rb.rebuilt.entries()) expect(sha(readFileSync(r.path))).toBe(sha(readFileSync(files[k]!)));

    // Again: every file already split (nothing written), still in order.
    process.env.MEDIMG_SPLIT_THREADS = '2';
    const again = await pooled.s.splitFiles(files);
    pooled.restore();
    expect(again.errors).toEqual([]);
    expect(again.instances.every((i) => i.already)).toBe(true);
    expect(existsSync(pooled.s.metadataDir)).toBe(false);
  });

  it('a tampered blob is named by the worker as by the calling thread, and nothing is written for it', async () => {
    const { s, restore } = open('tamper', '2');
    const run = await s.splitFiles(files);
    restore();
    const victim = run.instances[3]!;
    // The worker wrote it into a pack (one file per message of blobs): flip a byte of its range there.
    const at = (s.store as FolderPixelStore).locate(victim.blobAddress)!;
    expect(at.path).toMatch(/\/packs\/[0-9a-f]{24}\.pack$/);
    expect(at.length).toBe(victim.blobSize);
    const pack = readFileSync(at.path);
    pack[at.offset + at.length - 100]! ^= 1;
    writeFileSync(at.path, pack);
    const out = join(tmp.path, 'out-tamper');
    const rb = await s.rebuildManyTo(run.instances.map((i) => i.sopInstanceUid), out);
    expect(rb.rebuilt).toHaveLength(N - 1);
    expect(rb.errors).toHaveLength(1);
    expect(rb.errors[0]!.sopInstanceUid).toBe(victim.sopInstanceUid);
    expect(rb.errors[0]!.error).toMatchObject({ failure: 'BLOB_TAMPERED', code: 'TAMPERED', message: expect.stringContaining(victim.sopInstanceUid) });
    expect(existsSync(join(out, `${victim.sopInstanceUid}.dcm`))).toBe(false);
  });

  it('two different files with one SOP Instance UID in one run: the second is refused by name', async () => {
    const { s, restore } = open('dup', '2');
    const altered = join(tmp.path, 'altered.dcm');
    const bytes = readFileSync(files[5]!);
    bytes[bytes.length - 1]! ^= 0xff; // a pixel changed, same header
    writeFileSync(altered, bytes);
    const list = [...files.slice(0, 20), altered];
    const run = await s.splitFiles(list);
    restore();
    expect(run.instances).toHaveLength(20);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatchObject({ path: altered, failure: 'ALREADY_SPLIT_DIFFERENTLY', code: 'CONFLICT' });
    expect(s.index.get(run.instances[5]!.sopInstanceUid)!.fileSha256).toBe(sha(readFileSync(files[5]!)));
    // The refused file's sealed part did not replace the one recorded: the instance still rebuilds as the original.
    expect(sha(await s.rebuildBytes(run.instances[5]!.sopInstanceUid))).toBe(sha(readFileSync(files[5]!)));
  });

  it("the viewer's lookup: one query from a library instance id; opening the storage to read makes no folder", async () => {
    const home = join(tmp.path, 'viewer');
    const db = openDatabase(join(tmp.path, 'viewer.db'));
    dbs.push(db);
    const sp = new SplitService({ db, home, cacheDir: join(home, 'cache') });
    expect(sp.index.forLibraryInstance(1)).toBeNull();
    expect(await sp.servedBytesOfInstance(1, { path: files[0]!, sha256: null })).toBeNull();
    expect(existsSync(home)).toBe(false); // nothing made by a read
    const run = await sp.splitFiles(files.slice(0, 2));
    const t = new Date().toISOString();
    db.prepare("INSERT INTO patients (id, patient_key, patient_id, name) VALUES (1, 'k', 'P', 'N')").run();
    db.prepare("INSERT INTO studies (id, patient_ref, study_uid) VALUES (1, 1, ?)").run(run.instances[0]!.studyInstanceUid);
    db.prepare("INSERT INTO series (id, study_ref, series_uid) VALUES (1, 1, 's')").run();
    const ins = db.prepare('INSERT INTO instances (id, series_ref, sop_uid, transfer_syntax, file_path, file_size, file_mtime, indexed_at) VALUES (?, 1, ?, ?, ?, 0, 0, ?)');
    ins.run(7, run.instances[1]!.sopInstanceUid, run.instances[1]!.transferSyntaxUid, files[1]!, t);
    ins.run(8, '9.9.9', run.instances[1]!.transferSyntaxUid, join(tmp.path, 'whole.dcm'), t);
    expect(sp.index.forLibraryInstance(7)).toMatchObject({ sopInstanceUid: run.instances[1]!.sopInstanceUid, blobAddress: run.instances[1]!.blobAddress });
    expect(sp.index.forLibraryInstance(8)).toBeNull(); // kept whole
    const served = await sp.servedBytesOfInstance(7, { path: files[1]!, sha256: null });
    expect(sha(served!)).toBe(sha(readFileSync(files[1]!)));
    expect(await sp.servedBytesOfInstance(8, { path: join(tmp.path, 'whole.dcm'), sha256: null })).toBeNull();

    // The source file deleted after the split: the tag inspector reads the rebuilt copy.
    const copy = join(tmp.path, 'gone.dcm');
    copyFileSync(files[2]!, copy);
    const third = (await sp.splitFiles([copy])).instances[0]!;
    ins.run(9, third.sopInstanceUid, third.transferSyntaxUid, copy, t);
    rmSync(copy);
    const rebuiltPath = await sp.rebuiltPathOfInstance(9, { path: copy, sha256: null });
    expect(sha(readFileSync(rebuiltPath!))).toBe(sha(readFileSync(files[2]!)));
    expect(await sp.rebuiltPathOfInstance(8, { path: join(tmp.path, 'whole.dcm'), sha256: null })).toBeNull();
    const lib = new Library(db, undefined, { sourceOf: (id, file) => sp.rebuiltPathOfInstance(id, file) });
    const tags = await lib.tags(9);
    expect(tags.transferSyntaxUid).toBe(third.transferSyntaxUid);
    expect(JSON.stringify(tags.dataset)).toContain(third.sopInstanceUid);
    await expect(new Library(db).tags(9)).rejects.toThrow(); // without split storage the deleted file cannot be read
    await lib.close();
    await sp.close();
  });
});
