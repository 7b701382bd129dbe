/**
 * A pool of split worker threads (one per core), like the fingerprint pool: each worker reads the
 * source file or the parts itself, encrypts or decrypts, and writes into the folder pixel store or
 * the output folder; only paths and small results cross threads, a batch of jobs per message. The
 * index stays in the calling thread (it alone records rows). No pool when the worker bundle is
 * missing (dist/workers/split.worker.cjs, built by scripts/build.mjs): the caller then does the
 * same work inline.
 */
import { availableParallelism } from 'node:os';
import { findBundledWorker, WorkerPool } from '../worker-pool';
import type { KnownFingerprint } from './split';
import type { RebuildTarget, SplitFileError, SplitParts, WireError } from './work';

export interface PoolSetup {
  secret: Uint8Array;
  storeRoot: string;
  /** fsync blobs (the folder store's setting; the split's `durable` too). */
  storeDurable: boolean;
  durable: boolean;
  home: string;
}

export type PoolJob =
  | { id: number; kind: 'split'; path: string; known?: KnownFingerprint }
  | { id: number; kind: 'rebuild'; target: RebuildTarget; outDir: string; verify: boolean }
  /** Answered once the worker has loaded (starting the pool ahead of the work). */
  | { id: number; kind: 'ping' };

type JobInput = PoolJob extends infer J ? (J extends PoolJob ? Omit<J, 'id'> : never) : never;

export type PoolResult =
  | { id: number; ok: true; value: SplitParts | { path: string; size: number; sha256: string } | null }
  | { id: number; ok: false; error: SplitFileError | WireError };

/** Instances per worker message: the blobs of one pack. */
export const SPLIT_BATCH = 8;

export function findSplitWorkerScript(): string | null {
  return findBundledWorker('split.worker', process.env.MEDIMG_SPLIT_WORKER);
}

const closedAnswer = (job: PoolJob): PoolResult => ({ id: job.id, ok: false, error: { code: 'CANCELLED', message: 'Split storage was closed.' } });

export class SplitPool {
  readonly size: number;
  private nextId = 1;

  private constructor(private readonly pool: WorkerPool<PoolJob, PoolResult>) {
    this.size = pool.size;
  }

  /** A pool, or null when the worker bundle is not there (or `threads` is 0, as MEDIMG_SPLIT_THREADS=0 asks). */
  static create(setup: PoolSetup, threads = Number(process.env.MEDIMG_SPLIT_THREADS ?? availableParallelism())): SplitPool | null {
    if (!(threads > 0)) return null;
    const script = findSplitWorkerScript();
    if (!script) return null;
    return new SplitPool(
      new WorkerPool<PoolJob, PoolResult>(script, {
        threads,
        workerData: setup,
        // A message's split blobs become one pack file (one flush): 8 instances a message, two
        // messages per worker (one being computed while the other is flushed).
        batch: SPLIT_BATCH,
        depth: 2 * SPLIT_BATCH,
        // jobs come one by one as earlier ones are recorded: without this, a 5,000-instance split
        // wrote packs of 3.6 blobs on average
        fullBatches: true,
        stopped: (job, why) => ({ id: job.id, ok: false, error: { code: 'INTERNAL', message: `The split worker stopped (${why}) during this instance.`, ...(job.kind === 'split' ? { path: job.path } : {}) } }),
      }),
    );
  }

  /** Resolves once every worker has loaded its code (one ping each: the pool shares a short queue out evenly). */
  async ready(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.run({ kind: 'ping' })));
  }

  run(input: JobInput): Promise<PoolResult> {
    const job = { ...input, id: this.nextId++ } as PoolJob;
    if (this.pool.isClosed) return Promise.resolve(closedAnswer(job));
    return this.pool.run(job);
  }

  close(): Promise<void> {
    return this.pool.close(closedAnswer);
  }
}
