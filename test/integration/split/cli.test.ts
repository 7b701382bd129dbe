/**
 * `medimgshr split` and `medimgshr rebuild` through the built CLI (`node bin/medimgshr.cjs`):
 * pydicom's files and a generated CT series, every rebuilt file's SHA-256 equal to the original's;
 * a file the import rejects is reported with the import's error; `split --study` takes a study from
 * the library; a damaged blob makes `rebuild` fail with a specific message and write nothing.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDicomBytes } from '../../../src/node/dicom/parse';
import { tempDir } from '../../support/tmp';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const root = join(__dirname, '../../..');
const bin = join(root, 'bin/medimgshr.cjs');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('medimgshr split / rebuild (built CLI)', () => {
  const tmp = tempDir('medimg-split-cli-');
  const home = join(tmp.path, 'home');
  const run = (args: string[]) => spawnSync(process.execPath, [bin, '--home', home, ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  afterAll(() => tmp.cleanup());

  it('split then rebuild: every rebuilt file is byte-identical; a non-DICOM file gets the import error', () => {
    const files = ['MR_small_implicit.dcm', 'ExplVR_BigEnd.dcm', 'image_dfl.dcm', 'JPEG2000.dcm', 'SC_rgb_small_odd.dcm', 'rtplan.dcm', 'README.txt'].map((f) => join(PYDICOM, f));
    const s = run(['split', ...files]);
    expect(s.status).toBe(1); // README.txt
    const out = JSON.parse(s.stdout) as { instances: { path: string; sopInstanceUid: string; fileSha256: string; layout: string }[]; errors: { path: string; reject: string; message: string }[] };
    expect(out.instances).toHaveLength(6);
    expect(out.errors).toEqual([expect.objectContaining({ path: join(PYDICOM, 'README.txt'), reject: 'NOT_DICOM' })]);
    expect(new Set(out.instances.map((i) => i.layout))).toEqual(new Set(['cut', 'deflated', 'no-pixel-data']));
    const dest = join(tmp.path, 'rebuilt');
    const r = run(['rebuild', '--all', '--out', dest]);
    expect(r.status).toBe(0);
    const rb = JSON.parse(r.stdout) as { rebuilt: { sopInstanceUid: string; path: string; sha256: string; matchesOriginal: boolean }[]; errors: unknown[] };
    expect(rb.errors).toEqual([]);
    expect(rb.rebuilt).toHaveLength(6);
    for (const i of out.instances) {
      const got = rb.rebuilt.find((x) => x.sopInstanceUid === i.sopInstanceUid)!;
      expect(sha(got.path)).toBe(sha(i.path));
      expect(got.matchesOriginal).toBe(true);
    }
  });

  it('a generated CT series, split by --study from the library, rebuilds byte-identical by --study', () => {
    const dir = join(tmp.path, 'ct');
    expect(spawnSync(process.execPath, [bin, '--home', home, 'sample', '--kind', 'ct', '--slices', '40', '--out', dir, '--seed', '40'], { encoding: 'utf8' }).status).toBe(0);
    const imp = spawnSync(process.execPath, [bin, '--home', home, 'import', dir, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(imp.status, imp.stderr).toBe(0);
    const study = parseDicomBytes(readFileSync(join(dir, readdirSync(dir).sort()[0]!))).dataSet.string('x0020000d')!.replace(/\0/g, '').trim();
    const s = run(['split', '--study', study]);
    expect(s.status, s.stdout).toBe(0);
    const out = JSON.parse(s.stdout) as { instances: { path: string; sopInstanceUid: string }[] };
    expect(out.instances).toHaveLength(40);
    const dest = join(tmp.path, 'ct-rebuilt');
    const r = run(['rebuild', '--study', study, '--out', dest]);
    expect(r.status).toBe(0);
    for (const i of out.instances) expect(sha(join(dest, `${i.sopInstanceUid}.dcm`))).toBe(sha(i.path));
  });

  it('a damaged blob: rebuild exits 1, names the instance and what failed, writes nothing for it', () => {
    const s = run(['split', join(PYDICOM, 'CT_small.dcm')]);
    const i = (JSON.parse(s.stdout) as { instances: { sopInstanceUid: string; blobAddress: string }[] }).instances[0]!;
    const blob = join(home, 'blobs', 'split', i.blobAddress); // the folder store's layout: <root>/<address>
    const b = readFileSync(blob);
    b[1000] = b[1000]! ^ 4;
    writeFileSync(blob, b);
    const dest = join(tmp.path, 'damaged');
    const r = run(['rebuild', i.sopInstanceUid, '--out', dest]);
    expect(r.status).toBe(1);
    const rb = JSON.parse(r.stdout) as { errors: { sopInstanceUid: string; failure: string; message: string }[] };
    expect(rb.errors).toEqual([expect.objectContaining({ sopInstanceUid: i.sopInstanceUid, failure: 'BLOB_TAMPERED' })]);
    expect(rb.errors[0]!.message).toContain(i.sopInstanceUid);
    expect(existsSync(join(dest, `${i.sopInstanceUid}.dcm`))).toBe(false);
    const human = spawnSync(process.execPath, [bin, '--home', home, 'rebuild', i.sopInstanceUid, '--out', dest], { encoding: 'utf8' });
    expect(human.stdout).toMatch(/BLOB_TAMPERED: The pixel blob of instance .* fails its AES-GCM check/);
  });
});
