/**
 * The worker pool (src/node/worker-pool.ts) with real worker threads: a worker that dies while
 * holding a job answers that job as stopped and is replaced; a worker script that throws when it
 * loads is not restarted for ever (it was: each death started two more, a run reached 1,257
 * threads and its jobs never came back) — after MAX_START_FAILURES the pool answers every job,
 * queued or new, with the reason.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_START_FAILURES, WorkerPool } from '../../src/node/worker-pool';
import { tempDir } from '../support/tmp';

const tmp = tempDir('medimg-pool-');
afterAll(() => tmp.cleanup());

interface Job {
  id: number;
  v: number;
}
type Answer = { id: number; doubled?: number; stopped?: string };

const script = (name: string, body: string) => {
  const f = join(tmp.path, name);
  writeFileSync(f, body);
  return f;
};

const stopped = (j: Job, why: string): Answer => ({ id: j.id, stopped: why });

describe('worker pool', () => {
  it('a worker that dies holding a job answers it as stopped and is replaced; the other jobs are done', async () => {
    const f = script(
      'doubler.cjs',
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', ({ jobs }) => {
         if (jobs.some((j) => j.v < 0)) process.exit(3);
         parentPort.postMessage({ results: jobs.map((j) => ({ id: j.id, doubled: 2 * j.v })) });
       });`,
    );
    // one job per message, so only the bad job is in the dying worker's hands
    const pool = new WorkerPool<Job, Answer>(f, { threads: 2, stopped, batch: 1, depth: 1 });
    try {
      const answers = await Promise.all([1, -1, 2, 3, 4].map((v, id) => pool.run({ id, v })));
      expect(answers).toEqual([{ id: 0, doubled: 2 }, { id: 1, stopped: 'exit code 3' }, { id: 2, doubled: 4 }, { id: 3, doubled: 6 }, { id: 4, doubled: 8 }]);
      expect(pool.broken).toBeNull();
      expect(await pool.run({ id: 9, v: 5 })).toEqual({ id: 9, doubled: 10 });
    } finally {
      await pool.close((j) => stopped(j, 'closed'));
    }
  });

  it('a worker script that throws when it loads: every job answered with the reason, no endless restarts', async () => {
    const f = script('broken.cjs', `throw new Error('the codec could not be loaded');`);
    const pool = new WorkerPool<Job, Answer>(f, { threads: 2, stopped });
    try {
      const answers = await Promise.all([1, 2, 3, 4, 5].map((v, id) => pool.run({ id, v })));
      // the jobs in the first workers' hands are answered as those die; the replacements die too, and the pool gives up
      for (const a of answers) expect(a.stopped).toMatch(/the codec could not be loaded/);
      const deadline = Date.now() + 20_000;
      while (!pool.broken && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(pool.broken).toMatch(new RegExp(`the codec could not be loaded; ${MAX_START_FAILURES} workers in a row stopped before answering`));
      // later jobs are answered at once, no worker started
      expect(await pool.run({ id: 7, v: 1 })).toEqual({ id: 7, stopped: pool.broken });
    } finally {
      await pool.close((j) => stopped(j, 'closed'));
    }
  });

  it('fullBatches: jobs queued one by one go to a busy worker only as full messages (the split writes one pack per message)', async () => {
    const f = script(
      'sizes.cjs',
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', ({ jobs }) => {
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 15);
         parentPort.postMessage({ results: jobs.map((j) => ({ id: j.id, doubled: jobs.length })) });
       });`,
    );
    const JOBS = 96;
    /** Message sizes (jobs per message → messages) for a caller like split-storage's. */
    const messageSizes = async (fullBatches: boolean) => {
      const pool = new WorkerPool<Job, Answer>(f, { threads: 2, stopped, batch: 8, depth: 16, fullBatches });
      try {
        // as split-storage hands them out: at most the pool's depth in flight, a new job queued
        // (in its own turn) as each answer comes back
        const sizes: number[] = [];
        await new Promise<void>((done) => {
          let next = 0;
          let inFlight = 0;
          const submit = () => {
            while (next < JOBS && inFlight < 32) {
              const id = next++;
              inFlight++;
              void (async () => {
                await null;
                const a = await pool.run({ id, v: id });
                sizes.push(a.doubled!);
                inFlight--;
                submit();
              })();
            }
            if (next >= JOBS && inFlight === 0) done();
          };
          submit();
        });
        // every job answered once; a message of k jobs shows up as k answers saying k
        expect(sizes).toHaveLength(JOBS);
        const messages = new Map<number, number>();
        for (const k of sizes) messages.set(k, (messages.get(k) ?? 0) + 1);
        return [...messages].reduce((m, [k, answers]) => ({ ...m, [k]: answers / k }), {} as Record<number, number>);
      } finally {
        await pool.close((j) => stopped(j, 'closed'));
      }
    };
    const perMessage = (m: Record<number, number>) => JOBS / Object.values(m).reduce((a, b) => a + b, 0);
    const full = await messageSizes(true);
    const before = await messageSizes(false);
    // with it: nearly every message full (a short one only to an idle worker); without: far fewer jobs per message
    expect(full[8]).toBeGreaterThanOrEqual(JOBS / 8 - 2);
    expect(perMessage(full)).toBeGreaterThan(6);
    expect(perMessage(before)).toBeLessThan(perMessage(full) * 0.75);
  });
});
