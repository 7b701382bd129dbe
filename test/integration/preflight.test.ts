import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectComponents, missingComponents } from '../../src/node/components';
import { tempDir } from '../support/tmp';

const root = fileURLToPath(new URL('../..', import.meta.url));
const preflight = join(root, 'scripts/preflight.mjs');

describe('test preflight (scripts/preflight.mjs, the list medimgshr doctor reports)', () => {
  it('lists every external component the tests use, each with the package that installs it', () => {
    const names = detectComponents().map((c) => c.name);
    for (const n of ['anvil', 'solc', 'chromium', 'orthanc', 'orthanc-dicomweb', 'dcmconv', 'storescu', 'python3', 'pydicom', 'numpy', 'pydicom test files'])
      expect(names).toContain(n);
    for (const c of detectComponents()) expect(c.install).toMatch(/apt-get install [a-z0-9-]+|npm ci|npm install/);
  });

  it('under CI, everything .ci/run installs is here (numpy included)', () => {
    if (!process.env.CI) return;
    expect(missingComponents(detectComponents(), 'tests')).toEqual([]);
  });

  it('with CI set and a package missing, fails in one line per missing program naming its package', () => {
    // A PATH holding only node: every program found through PATH (the dcmtk tools) is missing.
    const bin = tempDir();
    try {
      mkdirSync(join(bin.path, 'bin'));
      symlinkSync(process.execPath, join(bin.path, 'bin', 'node'));
      const r = spawnSync(join(bin.path, 'bin', 'node'), [preflight], { encoding: 'utf8', env: { PATH: join(bin.path, 'bin'), CI: 'true', HOME: process.env.HOME } });
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toContain('missing: dcmconv (re-encoding DICOM (transfer syntaxes) in the fingerprint tests) — apt-get install dcmtk');
      expect(lines).toContain('missing: storescu (DIMSE C-STORE peer (sends studies into a PACS)) — apt-get install dcmtk');
      for (const l of lines) expect(l).toMatch(/^missing: .+ — (apt-get install|npm)/);
      expect(r.stdout).toContain('MISSING dcmconv');
      // Without CI the same run lists them and goes on.
      const r2 = spawnSync(join(bin.path, 'bin', 'node'), [preflight], { encoding: 'utf8', env: { PATH: join(bin.path, 'bin'), HOME: process.env.HOME } });
      expect(r2.status).toBe(0);
      expect(r2.stdout).toMatch(/\d+ missing: the tests that need them cannot pass here/);
    } finally {
      bin.cleanup();
    }
  });
});
