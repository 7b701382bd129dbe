/**
 * The library's background file hash (Library.hashPending) asks again before each chunk of 128
 * which files still have no digest: files whose digest was recorded meanwhile (the fingerprint
 * engine records its `file` digest for the files it reads, e.g. an anchor right after an import)
 * are not read and hashed a second time.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { Services } from '../../../src/node/services';
import { tempDir } from '../../support/tmp';

describe('library background hash', () => {
  const tmp = tempDir('medimg-hash-recheck-');
  afterAll(() => tmp.cleanup());

  it('skips the files whose digest was recorded while it ran', async () => {
    const dir = join(tmp.path, 'ct');
    const sample = await writeSampleSeries({ outDir: dir, slices: 200, kind: 'ct', seed: 77, matrix: 16 });
    const s = await Services.open({ home: join(tmp.path, 'home') });
    try {
      await s.tasks.run('import', null, (task) => s.library.import([dir], task));
      const recorded = 'ab'.repeat(32);
      const hashed = await s.tasks.run('hash', null, (task) => {
        const progress = task.progress.bind(task);
        let once = false;
        task.progress = (update, force) => {
          if (!once && (update.done ?? 0) >= 128) {
            once = true;
            // after the first chunk: the rest gets its digest from elsewhere, and its files go
            // (a file read now would be counted as failed)
            s.db.prepare('UPDATE instances SET sha256 = ? WHERE sha256 IS NULL').run(recorded);
            for (const f of sample.files.slice(128)) rmSync(f);
          }
          progress(update, force);
        };
        return s.library.hashPending(task);
      });
      expect(hashed).toBe(200);
      const rows = s.db.prepare('SELECT sha256 FROM instances ORDER BY file_path').all() as { sha256: string }[];
      expect(rows).toHaveLength(200);
      expect(rows.slice(0, 128).every((r) => /^[0-9a-f]{64}$/.test(r.sha256) && r.sha256 !== recorded)).toBe(true);
      expect(rows.slice(128).every((r) => r.sha256 === recorded)).toBe(true);
    } finally {
      await s.close();
    }
  });
});
