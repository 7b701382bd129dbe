/** The built CLI: `medimgshr import <pydicom test_files> --json`, `sample`, `studies`. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ImportReport, StudySummary } from '../../../src/shared/api/library';
import { tempDir } from '../../support/tmp';
import { PYDICOM_TEST_FILES, ROOT } from './support';

function cli(args: string[], home: string) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/medimgshr.cjs'), '--home', home, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('medimgshr library commands', () => {
  const tmp = tempDir('medimg-cli-');
  const home = join(tmp.path, 'home');
  afterAll(() => tmp.cleanup());

  it('import --json lists each rejected file with a code and reason and indexes the rest', () => {
    const r = cli(['import', PYDICOM_TEST_FILES, '--json'], home);
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as ImportReport;
    expect(rep.added).toBeGreaterThan(100);
    const byFile = Object.fromEntries(rep.rejected.map((x) => [x.path.slice(PYDICOM_TEST_FILES.length + 1), x]));
    expect(byFile['zipMR.gz']).toMatchObject({ code: 'COMPRESSED_ARCHIVE' });
    expect(byFile['MR_truncated.dcm']).toMatchObject({ code: 'TRUNCATED' });
    expect(byFile['README.txt']).toMatchObject({ code: 'NOT_DICOM' });
    expect(byFile['MR_small_RLE.dcm']).toMatchObject({ code: 'DUPLICATE_SOP_INSTANCE_UID' });
    for (const x of rep.rejected) expect(x.reason.length, x.path).toBeGreaterThan(20);
    // the second run is idempotent
    const again = JSON.parse(cli(['import', PYDICOM_TEST_FILES, '--json'], home).stdout) as ImportReport;
    expect(again.added).toBe(0);
    expect(again.unchanged).toBe(rep.added + rep.unchanged);
    expect(again.rejected.length).toBe(rep.rejected.length);
  });

  it('sample writes a series that import and studies then show', () => {
    const out = join(tmp.path, 'sample');
    const s = cli(['sample', '--out', out, '--slices', '7', '--kind', 'mr', '--seed', '4', '--json'], home);
    expect(s.status, s.stderr).toBe(0);
    const written = JSON.parse(s.stdout) as { files: string[]; seriesInstanceUid: string };
    expect(written.files).toHaveLength(7);
    const imp = cli(['import', out], home);
    expect(imp.status).toBe(0);
    expect(imp.stdout).toMatch(/^7 added, 0 updated, 0 unchanged, 0 rejected/);
    const st = JSON.parse(cli(['studies', '--search', 'SYNTHETIC', '--json'], home).stdout) as { studies: StudySummary[] };
    expect(st.studies).toHaveLength(1);
    expect(st.studies[0]).toMatchObject({ synthetic: true, instanceCount: 7, modalities: ['MR'] });
    const human = cli(['studies', '--sort', 'name'], home);
    expect(human.stdout).toContain('[SYNTHETIC]');
    // the Study Instance UID that share, consent and trust show need is in the table
    expect(human.stdout).toContain('Study Instance UID');
    expect(human.stdout).toContain(written.files.length ? st.studies[0]!.studyInstanceUid : '');
  });

  it('import fails when nothing at all was imported (a missing path, only non-DICOM files)', () => {
    const missing = cli(['import', join(tmp.path, 'no-such-folder')], home);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain('Nothing was imported.');
    expect(missing.stdout).toContain('does not exist');
    const text = cli(['import', join(PYDICOM_TEST_FILES, 'README.txt'), '--json'], home);
    expect(text.status).toBe(1);
    expect((JSON.parse(text.stdout) as ImportReport).rejected.map((x) => x.code)).toEqual(['NOT_DICOM']);
  });

  it('an unknown command gets one line with the closest command; a usage error points at that command\'s help', () => {
    const r = cli(['studie'], home);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['medimgshr: unknown command "studie" — did you mean "studies"? (medimgshr --help lists the commands)']);
    const u = cli(['import'], home);
    expect(u.status).toBe(2);
    expect(u.stderr).toContain('run "medimgshr import --help"');
  });

  it('says what is wrong with bad options, in plain words', () => {
    const r = cli(['sample', '--out', join(tmp.path, 'x'), '--slices', 'many'], home);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--slices must be a whole number');
    const h = cli(['import', '--help'], home);
    expect(h.stdout).toContain('DICOMDIR');
  });
});
