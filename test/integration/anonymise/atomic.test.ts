/** The all-or-nothing export folder (src/node/atomic.ts) on a real file system. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { atomicExport } from '../../../src/node/atomic';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-atomic-');
afterAll(() => tmp.cleanup());

describe('atomicExport', () => {
  it('moves the folder into place only when the writer succeeds', async () => {
    const dest = join(tmp.path, 'ok');
    const result = await atomicExport(dest, async (staging) => {
      await writeFile(join(staging, 'a.txt'), 'A');
      expect(existsSync(dest)).toBe(false); // nothing visible under the final name while writing
      return 7;
    });
    expect(result).toBe(7);
    expect(readFileSync(join(dest, 'a.txt'), 'utf8')).toBe('A');
    expect(readdirSync(tmp.path).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('a writer that fails half way leaves nothing behind and says so', async () => {
    const dest = join(tmp.path, 'fails');
    await expect(
      atomicExport(dest, async (staging) => {
        await writeFile(join(staging, 'first.dcm'), 'x');
        throw new Error('disk full');
      }),
    ).rejects.toThrow(/nothing was written: disk full/);
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(tmp.path).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('refuses an existing destination unless replacing, and replaces whole', async () => {
    const dest = join(tmp.path, 'exists');
    mkdirSync(dest);
    writeFileSync(join(dest, 'old.txt'), 'old');
    await expect(atomicExport(dest, async () => 1)).rejects.toMatchObject({ code: 'CONFLICT' });
    await atomicExport(dest, async (s) => writeFile(join(s, 'new.txt'), 'new'), { replace: true });
    expect(readdirSync(dest)).toEqual(['new.txt']);
  });

  it('sweeps a staging folder left by a crashed export', async () => {
    const leftover = join(tmp.path, '.swept.partial-deadbeef');
    mkdirSync(leftover);
    writeFileSync(join(leftover, 'half.dcm'), 'x');
    await atomicExport(join(tmp.path, 'swept'), async (s) => writeFile(join(s, 'f'), 'f'));
    expect(existsSync(leftover)).toBe(false);
  });

  it('a cancelled export is not moved into place', async () => {
    const ac = new AbortController();
    const dest = join(tmp.path, 'cancel');
    await expect(
      atomicExport(dest, async (s) => {
        await writeFile(join(s, 'f'), 'f');
        ac.abort();
      }, { signal: ac.signal }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(existsSync(dest)).toBe(false);
  });
});
