/** The built CLI (`node bin/medimgshr.cjs`) on pydicom's files: compare and fingerprint. */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/tmp';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const root = join(__dirname, '../../..');
const bin = join(root, 'bin/medimgshr.cjs');
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('medimgshr fingerprint / compare (built CLI)', () => {
  const tmp = tempDir('medimg-fp-cli-');
  afterAll(() => tmp.cleanup());

  for (const other of ['MR_small_implicit.dcm', 'MR_small_bigendian.dcm']) {
    it(`compare MR_small.dcm ${other}: same pixel, same meta, different file`, () => {
      const j = run(['compare', join(PYDICOM, 'MR_small.dcm'), join(PYDICOM, other), '--json']);
      expect(j.status).toBe(0);
      const r = JSON.parse(j.stdout) as { comparison: { pixel: boolean; meta: boolean; file: boolean; verdict: string; meaning: string }; a: { pixel: string }; b: { pixel: string } };
      expect(r.comparison).toMatchObject({ pixel: true, meta: true, file: false, verdict: 'same-image-different-encoding' });
      expect(r.a.pixel).toMatch(/^[0-9a-f]{64}$/);
      const t = run(['compare', join(PYDICOM, 'MR_small.dcm'), join(PYDICOM, other)]);
      expect(t.status).toBe(0);
      expect(t.stdout).toMatch(/pixel\s+same/);
      expect(t.stdout).toMatch(/meta\s+same/);
      expect(t.stdout).toMatch(/file\s+DIFFERENT/);
      expect(t.stdout).toContain('Same pixels, same metadata, different file');
    });
  }

  it('compare after a PatientName edit says "same pixels, different metadata"; a broken file gives its error', () => {
    const edited = join(tmp.path, 'renamed.dcm');
    copyFileSync(join(PYDICOM, 'MR_small.dcm'), edited);
    execFileSync('dcmodify', ['-nb', '-m', '(0010,0010)=Other^Person', edited]);
    const t = run(['compare', join(PYDICOM, 'MR_small.dcm'), edited]);
    expect(t.stdout).toContain('Same pixels, different metadata');
    const bad = run(['compare', join(PYDICOM, 'MR_small.dcm'), join(PYDICOM, 'MR_truncated.dcm')]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('TRUNCATED');
    expect(bad.stdout).toMatch(/truncated/);
  });

  it('fingerprint: per-instance digests, per-study root, an error per broken file, the batch goes on; a second run reuses results', () => {
    const home = join(tmp.path, 'home');
    const junk = join(tmp.path, 'random.bin');
    writeFileSync(junk, Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919) % 256)));
    const files = ['MR_small.dcm', 'MR_truncated.dcm', 'CT_small.dcm', 'rtplan_truncated.dcm', 'zipMR.gz', 'badVR.dcm', 'JPEG2000.dcm'].map((f) => join(PYDICOM, f));
    const first = run(['--home', home, 'fingerprint', ...files, junk, '--json']);
    expect(first.status).toBe(1); // some files failed
    const r = JSON.parse(first.stdout) as {
      instances: { path: string; pixel: string; meta: string; file: string; pixelMode: string; cached: boolean; leaf: string }[];
      errors: { path: string; reject: string; message: string }[];
      studies: { studyInstanceUid: string; root: string; leafCount: number }[];
    };
    expect(r.instances.map((i) => i.path.split('/').pop()).sort()).toEqual(['CT_small.dcm', 'JPEG2000.dcm', 'MR_small.dcm', 'badVR.dcm']);
    expect(r.instances.find((i) => i.path.endsWith('JPEG2000.dcm'))!.pixelMode).toBe('fragments');
    expect(Object.fromEntries(r.errors.map((e) => [e.path.split('/').pop(), e.reject]))).toEqual({
      'MR_truncated.dcm': 'TRUNCATED',
      'rtplan_truncated.dcm': 'TRUNCATED',
      'zipMR.gz': 'COMPRESSED_ARCHIVE',
      'random.bin': 'NOT_DICOM',
    });
    expect(r.studies.length).toBeGreaterThanOrEqual(3);
    for (const st of r.studies) expect(st.root).toMatch(/^0x[0-9a-f]{64}$/);
    const sha = execFileSync('sha256sum', [join(PYDICOM, 'MR_small.dcm')], { encoding: 'utf8' }).split(' ')[0];
    expect(r.instances.find((i) => i.path.endsWith('MR_small.dcm'))!.file).toBe(sha);

    const second = run(['--home', home, 'fingerprint', join(PYDICOM, 'MR_small.dcm'), join(PYDICOM, 'CT_small.dcm')]);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('2 fingerprinted (2 unchanged since last time), 0 failed');
    expect(second.stdout).toContain('Merkle root 0x');
  });

  it('--help explains both commands in plain words', () => {
    expect(run(['fingerprint', '--help']).stdout).toContain('Merkle root');
    expect(run(['compare', '--help']).stdout).toContain('same pixels, different metadata');
  });
});
