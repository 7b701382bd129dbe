import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCacheFileSync } from '../../../src/node/pacs/cache-file';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-cache-file-sync-');
afterAll(() => tmp.cleanup());

describe("writeCacheFileSync: the WADO and DIMSE threads' blocking cache write", () => {
  it('writes under the content name (<dir>/ab/abcdef….dcm), no temp file left; the same bytes again replace it; a removed cache folder is made again', () => {
    const dir = join(tmp.path, 'cache');
    const file = new Uint8Array([1, 2, 3, 4, 5]);
    const sha = hash('sha256', file, 'hex');
    const path = writeCacheFileSync(dir, file, sha);
    expect(path).toBe(join(dir, sha.slice(0, 2), `${sha}.dcm`));
    expect([...readFileSync(path)]).toEqual([1, 2, 3, 4, 5]);
    expect(writeCacheFileSync(dir, file, sha)).toBe(path);
    expect(readdirSync(dir)).toEqual([sha.slice(0, 2)]);
    expect(readdirSync(join(dir, sha.slice(0, 2)))).toEqual([`${sha}.dcm`]);
    rmSync(dir, { recursive: true });
    expect(writeCacheFileSync(dir, file, sha)).toBe(path);
    expect(existsSync(path)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('a folder it cannot write into: the error is thrown (the thread then hands the bytes to the main thread)', () => {
    writeCacheFileSync(join(tmp.path, 'x'), new Uint8Array([9]), 'ff'.repeat(32));
    // a path below a regular file: ENOTDIR, not retried
    const f = join(tmp.path, 'x', 'ff', `${'ff'.repeat(32)}.dcm`);
    expect(() => writeCacheFileSync(join(f, 'sub'), new Uint8Array([1]), 'aa'.repeat(32))).toThrow(/ENOTDIR/);
  });
});
