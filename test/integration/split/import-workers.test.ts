/**
 * Split on import, as the app runs it: `library.import` through the handler table (real Services,
 * real SQLite, a real folder store) starts the split worker threads while the files are indexed,
 * the split task runs in them (its final progress label names the worker threads that split the
 * images, from the threads' own answers), every split instance rebuilds byte-identical, and closing
 * the services stops the threads.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { createHandlerTable, dispatch } from '../../../src/node/handlers';
import { readPackFooter } from '../../../src/node/split/folder-store';
import { findSplitWorkerScript } from '../../../src/node/split/pool';
import { Services } from '../../../src/node/services';
import type { AppEvent } from '../../../src/shared/api';
import type { ImportReport } from '../../../src/shared/api/library';
import { tempDir } from '../../support/tmp';
import { sender } from '../library/support';

const N = 24; // above the pool's threshold (16)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('split on import runs in the split worker threads', () => {
  const tmp = tempDir('medimg-split-import-');
  let s: Services;
  let dir: string;
  const threadsBefore = process.env.MEDIMG_SPLIT_THREADS;

  beforeAll(async () => {
    process.env.MEDIMG_SPLIT_THREADS = '2'; // as on the 2-core reference machine, whatever this one has
    dir = join(tmp.path, 'ct');
    await writeSampleSeries({ outDir: dir, slices: N, kind: 'ct', seed: 1313, matrix: 64 });
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' }, storageScp: false });
  });
  afterAll(async () => {
    await s?.close();
    if (threadsBefore === undefined) delete process.env.MEDIMG_SPLIT_THREADS;
    else process.env.MEDIMG_SPLIT_THREADS = threadsBefore;
    tmp.cleanup();
  });

  it('the worker bundle is built (the app and the tests load dist/workers/split.worker.cjs)', () => {
    expect(findSplitWorkerScript()).toMatch(/split\.worker\.cjs$/);
  });

  it('import with split on import: threads started by the import, the split done in 2 worker threads, rebuilds byte-identical; close stops them', async () => {
    s.split.saveSettings({ onImport: true });
    expect(s.split.storage.workerThreads).toBe(0); // nothing started by opening the app
    const finished: Extract<AppEvent, { type: 'progress' }>[] = [];
    s.events.on('event', (e) => {
      if (e.type === 'progress' && e.kind === 'split' && e.finished) finished.push(e);
    });
    const table = createHandlerTable(s);
    const r = await dispatch(table, 'library.import', { paths: [dir] }, sender);
    expect(r.ok).toBe(true);
    expect((r as { value: ImportReport }).value.added).toBe(N);
    expect(s.split.storage.workerThreads).toBe(2); // started when the import began

    await vi.waitFor(() => expect(finished).toHaveLength(1), { timeout: 120_000, interval: 100 });
    expect(finished[0]).toMatchObject({ done: N, failed: 0, label: `${N} image(s) split into metadata and encrypted pixels on 2 worker threads` });
    expect(s.split.index.count()).toBe(N);

    // Byte-identical: each file as the viewer would get it (rebuilt from the parts).
    const files = readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort();
    for (const f of files) {
      const original = readFileSync(join(dir, f));
      const row = s.split.index.all().find((r) => r.sourcePath === join(dir, f))!;
      expect(row).toBeDefined();
      expect(sha(await s.split.storage.rebuildBytes(row.sopInstanceUid))).toBe(sha(original));
    }

    // a worker's message of instances becomes one pack
    const packDir = join(tmp.path, 'home', 'blobs', 'split', 'packs');
    const packs = readdirSync(packDir).map((n) => readPackFooter(join(packDir, n))!.entries.length);
    expect(packs.reduce((a, b) => a + b, 0)).toBe(N);
    // full messages of 8 (at most one short one, to an idle worker while the import trickles in);
    // before WorkerPool's fullBatches this run wrote 6 packs: [2, 8, 1, 8, 1, 4]
    expect(packs.length).toBeLessThanOrEqual(N / 8 + 1);

    const storage = s.split.storage;
    await s.close();
    expect(storage.workerThreads).toBe(0);
    s = undefined as unknown as Services; // closed here: afterAll has nothing left to close
  }, 180_000);
});
