/** Helpers shared by the library integration tests (real files, real SQLite, python3 + pydicom as the peer). */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readdirSync, statSync } from 'node:fs';

export const PYDICOM_TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
export const ROOT = join(__dirname, '../../..');

/** A python3 that can import pydicom (Debian's, not a pyenv shim), or null. */
export function pythonWithPydicom(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import pydicom'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  if (process.env.CI) throw new Error('python3 with pydicom is required when CI is set');
  return null;
}

/** Runs a python snippet and parses the JSON it prints. */
export function pyJson<T>(py: string, code: string, args: string[] = []): T {
  const out = execFileSync(py, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  return JSON.parse(out) as T;
}

export function walkFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walkFiles(p) : [p];
    });
}


export const sender = { url: 'app://medimgshr/index.html', trusted: true };
