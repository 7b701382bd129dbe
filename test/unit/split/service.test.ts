/**
 * SplitService (Services.split): saved settings, which pixel store a received share may read, the
 * viewer's rebuild-on-demand cache and its guard against hiding an altered copy, the store Test.
 * Real SQLite and a real folder store in a temp folder; no chain.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SplitService } from '../../../src/node/split/service';
import { openDatabase, type Db } from '../../../src/node/store/database';
import { tempDir } from '../../support/tmp';

const CT_SMALL = '/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('SplitService', () => {
  const tmp = tempDir('medimg-split-service-');
  let db: Db;
  let sp: SplitService;
  const home = join(tmp.path, 'home');
  const cacheDir = join(home, 'cache', 'split-rebuilt');
  beforeAll(() => {
    mkdirSync(home, { recursive: true });
    db = openDatabase(join(home, 'medimgshr.db'));
    sp = new SplitService({ db, home, cacheDir });
  });
  afterAll(() => {
    db.close();
    tmp.cleanup();
  });

  it('settings: off and the app-data folder by default; saved; a relative store is refused with what to type', () => {
    expect(sp.settings()).toEqual({ onImport: false, store: null, knownStores: [] });
    expect(sp.storage.store.location).toBe(pathToFileURL(join(home, 'blobs', 'split')).href);
    expect(sp.saveSettings({ onImport: true })).toMatchObject({ onImport: true, store: null });
    expect(new SplitService({ db, home, cacheDir }).settings().onImport).toBe(true);
    expect(() => sp.saveSettings({ store: 'relative/folder' })).toThrow(/neither an absolute folder path nor a WebDAV URL/);
    expect(sp.settings().store).toBeNull();
  });

  it("a received share's store: the own one; an unknown one refused by name with how to add it; an added one; a missing folder", () => {
    expect(sp.resolveStore(sp.storage.store.location)).toBe(sp.storage.store);
    const other = join(tmp.path, 'other-store');
    const uri = pathToFileURL(other).href;
    let err: unknown;
    try {
      sp.resolveStore(uri);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ failure: 'STORE_UNKNOWN', code: 'NOT_FOUND', message: expect.stringContaining(uri), hint: expect.stringContaining(`medimgshr split-store add ${uri}`) });
    sp.addKnownStore(uri);
    expect(() => sp.resolveStore(uri)).toThrow(/does not exist on this workstation/);
    mkdirSync(other);
    expect(sp.resolveStore(uri).location).toBe(uri);
    // reached elsewhere on this workstation (a mount point)
    const mount = join(tmp.path, 'mounted');
    mkdirSync(mount);
    sp.addKnownStore(uri, mount);
    expect(sp.settings().knownStores).toHaveLength(1);
    expect(sp.resolveStore(uri).location).toBe(pathToFileURL(mount).href);
    expect(sp.removeKnownStore(uri)).toBe(true);
    expect(() => sp.resolveStore(uri)).toThrow(/does not know/);
  });

  it('the viewer gets the rebuilt original (cached; a damaged cache is rebuilt), never in place of an altered copy', async () => {
    const src = join(tmp.path, 'src', 'CT_small.dcm');
    mkdirSync(join(tmp.path, 'src'));
    copyFileSync(CT_SMALL, src);
    const original = readFileSync(CT_SMALL);
    const run = await sp.splitFiles([src]);
    expect(run.errors).toEqual([]);
    const sop = run.instances[0]!.sopInstanceUid;
    expect(sp.studies()).toEqual([{ studyInstanceUid: run.instances[0]!.studyInstanceUid, instances: 1 }]);

    const first = await sp.servedBytes(sop, { path: src, sha256: null });
    expect(sha(first!)).toBe(sha(original));
    const cached = readdirSync(cacheDir, { recursive: true }).filter((f) => String(f).endsWith('.dcm'));
    expect(cached).toHaveLength(1);
    // A damaged cache entry is not served: rebuilt again.
    const cachePath = join(cacheDir, String(cached[0]));
    writeFileSync(cachePath, Buffer.from('not the file'));
    expect(sha((await sp.servedBytes(sop, { path: src, sha256: null }))!)).toBe(sha(original));
    expect(sha(readFileSync(cachePath))).toBe(sha(original));

    // Another file with the same SOP Instance UID (an altered copy elsewhere): not replaced by the rebuild.
    expect(await sp.servedBytes(sop, { path: join(tmp.path, 'altered.dcm'), sha256: 'ab'.repeat(32) })).toBeNull();
    // The same content at another path (a copy) is the split instance.
    expect(sha((await sp.servedBytes(sop, { path: join(tmp.path, 'copy.dcm'), sha256: sha(original) }))!)).toBe(sha(original));
  });

  it('Test: the folder store passes; an unreachable WebDAV server fails naming it', async () => {
    const ok = await sp.testStore();
    expect(ok).toMatchObject({ ok: true, location: sp.storage.store.location, hint: null });
    const bad = await sp.testStore('http://127.0.0.1:9/blobs/');
    expect(bad.ok).toBe(false);
    expect(bad.location).toBe('http://127.0.0.1:9/blobs/');
    expect(bad.message).toContain('http://127.0.0.1:9/blobs/');
    expect(bad.hint).toBeTruthy();
  });
});
