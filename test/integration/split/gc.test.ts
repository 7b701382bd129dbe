/**
 * Garbage collection never deletes a blob that an index row, a pin or an anchor names, spares young
 * blobs (a split in another process may not have committed yet), and removes old orphans, stray
 * metadata parts and temporary files. Real SQLite, real folder store.
 */
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderPixelStore } from '../../../src/node/split/folder-store';
import { createSplitStorage } from '../../../src/node/split/split-storage';
import { openDatabase } from '../../../src/node/store/database';
import { tempDir } from '../../support/tmp';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

describe('split garbage collection', () => {
  const tmp = tempDir('medimg-split-gc-');
  afterAll(() => tmp.cleanup());

  it('keeps indexed, pinned, anchored and young blobs; removes old orphans, stray metadata and temporaries', async () => {
    const db = openDatabase(join(tmp.path, 'db.sqlite'));
    const store = new FolderPixelStore(join(tmp.path, 'blobs'), { durable: false });
    const split = createSplitStorage({ db, home: tmp.path, store, durable: false });
    const run = await split.splitFiles([join(PYDICOM, 'MR_small.dcm'), join(PYDICOM, 'CT_small.dcm')]);
    expect(run.errors).toEqual([]);
    const old = new Date(Date.now() - 3 * 3600_000);
    const age = (p: string) => utimesSync(p, old, old);
    for (const r of split.index.all()) age(store.pathOf(r.blobAddress));
    // A row written before stop 26 keeps its sealed metadata part in a file: made so for MR_small
    // (the part moved out of the row into split/metadata/), it is kept, aged, and still rebuilds.
    const [legacy, inRow] = split.index.all();
    expect([legacy!.metadataPath, inRow!.metadataPath]).toEqual(['', '']);
    const legacyRel = join('split', 'metadata', 'legacy-part.msm');
    mkdirSync(split.metadataDir, { recursive: true });
    writeFileSync(join(tmp.path, legacyRel), split.index.sealedMetadata(legacy!.sopInstanceUid)!);
    db.prepare('UPDATE split_instances SET metadata_path = ?, metadata_sealed = NULL WHERE sop_instance_uid = ?').run(legacyRel, legacy!.sopInstanceUid);
    expect(split.index.sealedMetadata(legacy!.sopInstanceUid)).toBeNull();
    age(join(tmp.path, legacyRel));
    const orphan = await store.put(new Uint8Array([1]));
    const pinned = await store.put(new Uint8Array([2]));
    const anchored = await store.put(new Uint8Array([3]));
    const young = await store.put(new Uint8Array([4]));
    for (const a of [orphan, pinned, anchored]) age(store.pathOf(a));
    split.index.pin(pinned, 'share:in-flight');
    const strayMeta = join(split.metadataDir, 'ff', 'stray.msm');
    mkdirSync(join(split.metadataDir, 'ff'), { recursive: true });
    writeFileSync(strayMeta, 'x');
    age(strayMeta);
    const strayTmp = join(tmp.path, 'blobs', '.tmp', 'leftover');
    writeFileSync(strayTmp, 'y');
    age(strayTmp);

    const dry = await split.collectGarbage({ anchors: { anchoredBlobAddresses: () => [anchored] }, dryRun: true });
    expect(dry.blobsDeleted).toEqual([orphan]);
    expect(await store.has(orphan)).toBe(true);

    const r = await split.collectGarbage({ anchors: { anchoredBlobAddresses: () => [anchored] } });
    expect(r.blobsDeleted).toEqual([orphan]);
    expect(r.youngSpared).toBe(1);
    expect(r.blobsKept).toBe(4); // two indexed, one pinned, one anchored
    expect(r.metadataRemoved).toBe(1);
    expect(r.temporariesRemoved).toBe(1);
    for (const a of [pinned, anchored, young, ...split.index.all().map((x) => x.blobAddress)]) expect(await store.has(a)).toBe(true);
    expect(existsSync(strayMeta)).toBe(false);
    expect(existsSync(join(tmp.path, legacyRel))).toBe(true); // named by its row
    expect(existsSync(strayTmp)).toBe(false);
    for (const row of split.index.all()) expect((await split.rebuildTo(row.sopInstanceUid, join(tmp.path, 'out'))).matchesOriginal).toBe(true);

    // Without the anchor the anchored blob goes; after unpinning, the pinned one too.
    split.index.unpin(pinned, 'share:in-flight');
    const r2 = await split.collectGarbage();
    expect(r2.blobsDeleted.sort()).toEqual([pinned, anchored].sort());
    db.close();
  });
});
