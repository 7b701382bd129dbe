/**
 * Every 1-bit flip in a pixel blob or a sealed metadata part is detected and named (which instance,
 * which part); a wrong key, a swapped, truncated or missing blob and an edited metadata part each fail
 * with their own message, and a failed rebuild writes nothing. Real files, real folder store.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMetadataPart, encodeMetadataPart } from '../../../src/core/split/format';
import { SplitError } from '../../../src/node/split/errors';
import type { FolderPixelStore } from '../../../src/node/split/folder-store';
import { deriveInstanceKey, deriveSealKey } from '../../../src/node/split/keys';
import { rebuildFromParts } from '../../../src/node/split/rebuild';
import { openMetadataPart, sealMetadataPart } from '../../../src/node/split/seal';
import { createSplitStorage, type SplitStorage } from '../../../src/node/split/split-storage';
import { openDatabase } from '../../../src/node/store/database';
import { tempDir } from '../../support/tmp';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

function failureOf(fn: () => unknown): SplitError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SplitError) return err;
    throw err;
  }
  throw new Error('no error');
}

async function failureOfAsync(fn: () => Promise<unknown>): Promise<SplitError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof SplitError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('split storage detects and names damage', () => {
  const tmp = tempDir('medimg-split-tamper-');
  const db = openDatabase(join(tmp.path, 'db.sqlite'));
  let split: SplitStorage;
  let mr: string;
  let ct: string;
  const out = join(tmp.path, 'out');
  beforeAll(async () => {
    split = createSplitStorage({ db, home: tmp.path, durable: false });
    const run = await split.splitFiles([join(PYDICOM, 'MR_small.dcm'), join(PYDICOM, 'CT_small.dcm'), join(PYDICOM, 'JPEG2000.dcm')]);
    expect(run.errors).toEqual([]);
    [mr, ct] = run.instances.map((i) => i.sopInstanceUid) as [string, string];
  });
  afterAll(() => {
    db.close();
    tmp.cleanup();
  });

  const blobPath = (sop: string) => (split.store as FolderPixelStore).pathOf(split.index.get(sop)!.blobAddress);
  // A sealed metadata part is kept in its index row (since stop 26): read and altered there.
  const readMeta = (sop: string) => split.index.sealedMetadata(sop)!;
  const writeMeta = (sop: string, sealed: Uint8Array) => expect(db.prepare('UPDATE split_instances SET metadata_sealed = ? WHERE sop_instance_uid = ?').run(Buffer.from(sealed), sop).changes).toBe(1);
  const secret = () => readFileSync(join(tmp.path, 'split', 'institution.key'));

  it('a 1-bit flip anywhere in a pixel blob (every byte position) fails, naming the instance', async () => {
    for (const sop of [mr, split.index.all().find((r) => r.layout === 'cut' && r.transferSyntaxUid.endsWith('.4.91'))!.sopInstanceUid]) {
      const { header, metadata } = split.openMetadata(sop);
      const key = deriveInstanceKey(secret(), header.meta);
      const blob = readFileSync(blobPath(sop));
      expect(rebuildFromParts(header, metadata, key, blob).length).toBe(header.fileLength);
      const seen = new Set<string>();
      for (let i = 0; i < blob.length; i++) {
        const b = Buffer.from(blob);
        b[i] = b[i]! ^ (1 << (i % 8));
        const e = failureOf(() => rebuildFromParts(header, metadata, key, b));
        expect(e.sopInstanceUid).toBe(sop);
        expect(e.message).toContain(sop);
        seen.add(e.failure);
      }
      // Flips in the check value read as "another instance's blob"; everywhere else as altered bytes.
      expect([...seen].sort()).toEqual(['BLOB_SWAPPED', 'BLOB_TAMPERED']);
    }
  });

  it('a 1-bit flip anywhere in a sealed metadata part (every byte position) fails, naming the instance', () => {
    const sealed = readMeta(ct);
    const sealKey = deriveSealKey(secret());
    expect(openMetadataPart(sealKey, sealed, ct).header.sopInstanceUid).toBe(ct);
    const seen = new Set<string>();
    for (let i = 0; i < sealed.length; i++) {
      const b = Buffer.from(sealed);
      b[i] = b[i]! ^ (1 << (i % 8));
      const e = failureOf(() => openMetadataPart(sealKey, b, ct));
      expect(e.sopInstanceUid).toBe(ct);
      expect(e.message).toContain(ct);
      seen.add(e.failure);
    }
    expect([...seen].every((f) => f === 'METADATA_TAMPERED' || f === 'METADATA_MISMATCH')).toBe(true);
  });

  it('an edited metadata part re-sealed with another institution\'s secret is refused', () => {
    const { header, metadata } = split.openMetadata(mr);
    const edited = Buffer.from(metadata);
    const at = header.cutAt - 20; // a value byte of an element before Pixel Data
    edited[at] = edited[at]! ^ 0x01;
    const forged = sealMetadataPart(deriveSealKey(Buffer.alloc(32, 7)), mr, encodeMetadataPart(header, edited));
    const e = failureOf(() => openMetadataPart(deriveSealKey(secret()), forged, mr));
    expect(e.failure).toBe('METADATA_TAMPERED');
    expect(e.message).toMatch(/fails its seal/);
    // With the right seal key but an edited body, the rebuild's digest check still catches it.
    const { header: h } = decodeMetadataPart(encodeMetadataPart(header, edited));
    const blob = readFileSync(blobPath(mr));
    const e2 = failureOf(() => rebuildFromParts(h, edited, deriveInstanceKey(secret(), h.meta), blob));
    expect(e2.failure).toBe('REBUILD_MISMATCH');
  });

  it('a wrong key is told apart from a damaged blob', () => {
    const { header, metadata } = split.openMetadata(mr);
    const blob = readFileSync(blobPath(mr));
    const e = failureOf(() => rebuildFromParts(header, metadata, deriveInstanceKey(Buffer.alloc(32), header.meta), blob));
    expect(e.failure).toBe('WRONG_KEY');
    expect(e.message).toContain(`instance ${mr}`);
  });

  it('through the storage: swapped, truncated, flipped and missing blobs and an edited or swapped metadata part fail and write nothing', async () => {
    const expectNothingWritten = () => expect(existsSync(out) ? readdirSync(out).filter((n) => !n.startsWith('.')) : []).toEqual([]);
    const mrBlob = blobPath(mr);
    const ctBlob = blobPath(ct);
    const keepMr = readFileSync(mrBlob);
    const keepMeta = readMeta(mr);

    copyFileSync(ctBlob, mrBlob); // another instance's blob under this address
    let e = await failureOfAsync(() => split.rebuildTo(mr, out));
    expect(e.failure).toBe('BLOB_SWAPPED');
    expect(e.message).toContain(mr);
    expectNothingWritten();

    writeFileSync(mrBlob, keepMr);
    truncateSync(mrBlob, keepMr.length - 100);
    e = await failureOfAsync(() => split.rebuildTo(mr, out));
    expect(e.failure).toBe('BLOB_TRUNCATED');
    expect(e.message).toMatch(/truncated/);
    expectNothingWritten();

    const flipped = Buffer.from(keepMr);
    flipped[4000] = flipped[4000]! ^ 0x10;
    writeFileSync(mrBlob, flipped);
    e = await failureOfAsync(() => split.rebuildTo(mr, out));
    expect(e.failure).toBe('BLOB_TAMPERED');
    expectNothingWritten();

    await split.store.delete(split.index.get(mr)!.blobAddress);
    e = await failureOfAsync(() => split.rebuildTo(mr, out));
    expect(e.failure).toBe('BLOB_MISSING');
    expectNothingWritten();
    writeFileSync(mrBlob, keepMr);

    const m = Buffer.from(keepMeta);
    m[m.length - 40] = m[m.length - 40]! ^ 1;
    writeMeta(mr, m);
    e = await failureOfAsync(() => split.rebuildTo(mr, out));
    expect(e.failure).toBe('METADATA_TAMPERED');
    expect(e.message).toContain(mr);
    expectNothingWritten();

    writeMeta(mr, readMeta(ct)); // another instance's metadata part in this one's row
    e = await failureOfAsync(() => split.rebuildTo(mr, out));
    expect(e.failure).toBe('METADATA_MISMATCH');
    expectNothingWritten();

    writeMeta(mr, keepMeta);
    const ok = await split.rebuildTo(mr, out);
    expect(ok.matchesOriginal).toBe(true);
  });

  it('another institution secret opens nothing', async () => {
    const other = createSplitStorage({ db, home: tmp.path, durable: false, secret: { secret: () => Buffer.alloc(32, 9) } });
    const e = await failureOfAsync(() => other.rebuildBytes(ct));
    expect(e.failure).toBe('METADATA_TAMPERED');
    expect(e.message).toMatch(/sealed by another institution/);
  });
});
