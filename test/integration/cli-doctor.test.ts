import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/node/store/migrations';
import { tempDir } from '../support/tmp';

const bin = fileURLToPath(new URL('../../bin/medimgshr.cjs', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

describe('medimgshr doctor (built CLI, real SQLite)', () => {
  it('--json names the app-data folder and the schema version', () => {
    const home = tempDir();
    try {
      const out = JSON.parse(run(['doctor', '--json'], { MEDIMG_HOME: home.path })) as {
        appHome: string;
        database: { schemaVersion: number; journalMode: string; path: string };
        components: { name: string; found: boolean }[];
      };
      expect(out.appHome).toBe(home.path);
      expect(out.database.schemaVersion).toBe(Math.max(...migrations.map((m) => m.version)));
      expect(out.database.journalMode).toBe('wal');
      expect(existsSync(out.database.path)).toBe(true);
      expect(out.components.map((c) => c.name)).toEqual(expect.arrayContaining(['anvil', 'chromium', 'orthanc', 'electron']));
    } finally {
      home.cleanup();
    }
  });

  it('--home overrides MEDIMG_HOME, and the text form says what is missing in words', () => {
    const a = tempDir();
    const b = tempDir();
    try {
      const out = JSON.parse(run(['--home', b.path, 'doctor', '--json'], { MEDIMG_HOME: a.path })) as { appHome: string };
      expect(out.appHome).toBe(b.path);
      const text = run(['doctor'], { MEDIMG_HOME: a.path });
      expect(text).toContain(`app-data folder : ${a.path}`);
      expect(text).toMatch(/schema version  : \d+/);
      // Fits an 80-column terminal (paths are the user's own, so the app-data lines are left out).
      const wide = text.split('\n').filter((l) => l.length > 80 && !l.includes(a.path) && !l.includes('/node_modules/') && !l.startsWith('/'));
      expect(wide).toEqual([]);
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });

  it('--help explains itself in plain words', () => {
    const text = run(['--help']);
    expect(text).toContain('doctor');
    expect(text).toContain('--json');
  });
});
