/**
 * Split → rebuild on real files: every file of pydicom's test set that the project reads comes back
 * byte-identical (SHA-256 equal); the files it cannot read are rejected with the same error as the
 * import; generated CT and MR series round-trip too. Real SQLite, a real folder store.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDicomBytes } from '../../../src/node/dicom/parse';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { createSplitStorage } from '../../../src/node/split/split-storage';
import { openDatabase } from '../../../src/node/store/database';
import { tempDir } from '../../support/tmp';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

/** What the import says about a file: null when it reads it, else its reject code and message. */
function importVerdict(path: string): { reject: string; message: string } | null {
  try {
    parseDicomBytes(readFileSync(path));
    return null;
  } catch (err) {
    const e = err as { reject?: string; message: string };
    return { reject: e.reject ?? 'ERROR', message: e.message };
  }
}

describe('split → rebuild, byte-identical', () => {
  const tmp = tempDir('medimg-split-rt-');
  const db = openDatabase(join(tmp.path, 'db.sqlite'));
  const split = createSplitStorage({ db, home: tmp.path, durable: false });
  afterAll(() => {
    db.close();
    tmp.cleanup();
  });

  it("pydicom's test set: every file the project reads round-trips; the others fail as at import", async () => {
    const files = walk(PYDICOM);
    const readable = files.filter((f) => importVerdict(f) === null);
    const rejected = files.filter((f) => importVerdict(f) !== null);
    // pydicom's set holds one instance in many encodings (same SOP Instance UID, different files):
    // a storage refuses a second, different file for a split UID, so those go to a fresh storage.
    let remaining = files;
    const instances: { path: string; sop: string; storage: ReturnType<typeof createSplitStorage> }[] = [];
    const errors: Awaited<ReturnType<typeof split.splitFiles>>['errors'] = [];
    for (let round = 0; remaining.length; round++) {
      const home = join(tmp.path, `round-${round}`);
      const d = openDatabase(':memory:');
      const s = createSplitStorage({ db: d, home, durable: false });
      const run = await s.splitFiles(remaining);
      for (const i of run.instances) instances.push({ path: i.path, sop: i.sopInstanceUid, storage: s });
      errors.push(...run.errors.filter((e) => e.failure !== 'ALREADY_SPLIT_DIFFERENTLY'));
      remaining = run.errors.filter((e) => e.failure === 'ALREADY_SPLIT_DIFFERENTLY').map((e) => e.path);
      expect(round).toBeLessThan(20);
    }
    // Rejected files: the same reject code and message as the import.
    for (const f of rejected) {
      const e = errors.find((x) => x.path === f);
      expect(e, f).toBeDefined();
      expect({ reject: e!.reject, message: e!.message }).toEqual(importVerdict(f));
    }
    // Files that read but cannot be split: only those without a SOP Instance UID (no leaf).
    const unsplittable = errors.filter((e) => readable.includes(e.path));
    for (const e of unsplittable) expect(e.failure ?? e.code, e.path).toMatch(/NO_SOP_INSTANCE_UID/);
    expect(instances.length + unsplittable.length).toBe(readable.length);
    expect(instances.length).toBeGreaterThanOrEqual(50);
    // Every transfer syntax of the set is covered, incl. deflated, big endian, implicit, encapsulated.
    const syntaxes = new Set(instances.map((i) => i.storage.index.get(i.sop)!.transferSyntaxUid));
    for (const ts of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.80']) {
      expect(syntaxes, ts).toContain(ts);
    }
    const out = join(tmp.path, 'out');
    for (const i of instances) {
      const original = readFileSync(i.path);
      const b = await i.storage.rebuildBytes(i.sop);
      expect(sha(b), i.path).toBe(sha(original));
      expect(b.equals(original), i.path).toBe(true);
    }
    const r = await instances[0]!.storage.rebuildTo(instances[0]!.sop, out);
    expect(r.matchesOriginal).toBe(true);
    console.log(
      `split and rebuilt ${instances.length} files\n` +
        `rejected as at import ${rejected.length}: ${rejected.map((f) => f.slice(PYDICOM.length + 1)).join(', ')}\n` +
        `read but not splittable ${unsplittable.length}: ${unsplittable.map((e) => e.path.slice(PYDICOM.length + 1)).join(', ')}`,
    );
  });

  it('the metadata part holds no pixel bytes; the blob is the pixel part plus 45 bytes', async () => {
    const f = join(PYDICOM, 'CT_small.dcm');
    const bytes = readFileSync(f);
    const run = await split.splitFiles([f]);
    const sop = run.instances[0]!.sopInstanceUid;
    const m = split.openMetadata(sop);
    expect(m.header.layout).toBe('cut');
    expect(m.metadata.length + m.header.pixelLength).toBe(bytes.length);
    expect(m.header.pixelLength).toBe(32768);
    const blob = (await split.store.get(m.header.blobAddress))!;
    expect(blob.length).toBe(32768 + 45);
    expect(sha(blob)).toBe(m.header.blobAddress);
    // No 64-byte run of the pixel part appears in the blob (it is encrypted).
    const px = bytes.subarray(m.header.cutAt, m.header.cutAt + 64);
    expect(blob.indexOf(px)).toBe(-1);
  });

  it('generated CT and MR series round-trip', async () => {
    for (const kind of ['ct', 'mr'] as const) {
      const dir = join(tmp.path, `sample-${kind}`);
      const s = await writeSampleSeries({ outDir: dir, slices: 12, kind, seed: kind === 'ct' ? 7 : 8 });
      const run = await split.splitFiles(s.files);
      expect(run.errors).toEqual([]);
      expect(run.instances).toHaveLength(12);
      for (const i of run.instances) {
        const b = await split.rebuildBytes(i.sopInstanceUid);
        expect(sha(b)).toBe(sha(readFileSync(i.path)));
      }
      expect(split.index.byStudy(s.studyInstanceUid)).toHaveLength(12);
    }
  });

  it('splitting the same files again writes nothing new', async () => {
    const f = join(PYDICOM, 'MR_small.dcm');
    const first = await split.splitFiles([f, f]);
    expect(first.instances.map((i) => i.already)).toEqual([false, true]);
    const before = split.index.count();
    const again = await split.splitFiles([f, f]);
    expect(again.errors).toEqual([]);
    expect(again.instances.every((i) => i.already)).toBe(true);
    expect(split.index.count()).toBe(before);
    // Rebuilding into a folder that was emptied and removed in between makes it again.
    const out = join(tmp.path, 'again');
    expect((await split.rebuildTo(again.instances[0]!.sopInstanceUid, out)).matchesOriginal).toBe(true);
    rmSync(out, { recursive: true, force: true });
    const r = await split.rebuildTo(again.instances[0]!.sopInstanceUid, out);
    expect(sha(readFileSync(r.path))).toBe(sha(readFileSync(f)));
  });
});
