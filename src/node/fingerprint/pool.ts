/**
 * A pool of fingerprint worker threads, one per core by default. Each worker reads its own files
 * (nothing but the paths and the small results cross threads, a batch of files per message). Falls back to fingerprinting in the
 * calling thread when the worker bundle is missing (`threads: 0` forces that).
 */
import { availableParallelism } from 'node:os';
import { findBundledWorker, WorkerPool } from '../worker-pool';
import { fingerprintFile, type FileOutcome, type RecordedFileDigest } from './compute';

/** Where the bundled worker is: next to the bundle (dist/workers), or dist/workers from the sources. */
export function findWorkerScript(): string | null {
  return findBundledWorker('fingerprint.worker', process.env.MEDIMG_FINGERPRINT_WORKER);
}

interface Job {
  id: number;
  path: string;
  knownFile?: string;
  recorded?: RecordedFileDigest;
}
type Answer = { id: number; outcome: FileOutcome };

const failed = (code: string, message: string): FileOutcome => ({ ok: false, error: { code, message }, size: null, mtimeMs: null });

export class FingerprintPool {
  readonly size: number;
  /** Files handed to one worker at a time, so it never waits for the main thread between files. */
  readonly depth: number;
  /** Files per message (each way): the worker answers a batch at once. */
  readonly batch: number;
  private readonly pool: WorkerPool<Job, Answer> | null;
  private nextId = 1;
  private closed = false;

  /**
   * `warmUp`: synthetic slices each worker fingerprints before its first file (default 2,000 small
   * slices read from a temporary file: about 0.2 s of CPU per worker, compiler threads included,
   * measured at load 10; 0 = none), so V8 has compiled the worker's path by then — the functions
   * that run once per file too (warmup.ts). With 800, those were still being compiled during the
   * first 1,000 files: 0.05 ms of CPU per image in the compiler's threads.
   */
  constructor(threads = availableParallelism(), o: { batch?: number; depth?: number; warmUp?: number } = {}) {
    // 16 files per message: at 4, posting the answers (structured clone + waking the main thread)
    // was a tenth of a worker's profile on 512² CT slices; two batches in hand keep a worker busy.
    this.batch = o.batch ?? 16;
    this.depth = o.depth ?? 32;
    const script = threads > 0 ? findWorkerScript() : null;
    this.pool = script ? new WorkerPool<Job, Answer>(script, { threads, workerData: { warmUp: o.warmUp }, depth: this.depth, batch: this.batch, stopped: (j, why) => ({ id: j.id, outcome: failed('INTERNAL', `The fingerprint worker stopped (${why}) while reading this file.`) }) }) : null;
    this.size = this.pool?.size ?? 0;
  }

  /** Fingerprints one file (never rejects: failures come back as `{ ok: false }`). */
  async run(path: string, knownFile?: string, recorded?: RecordedFileDigest): Promise<FileOutcome> {
    if (this.closed) return failed('CANCELLED', 'The fingerprint engine was closed.');
    if (!this.pool) return fingerprintFile(path, knownFile, recorded ? { recorded } : {});
    return (await this.pool.run({ id: this.nextId++, path, knownFile, ...(recorded ? { recorded } : {}) })).outcome;
  }

  /** Drops queued (not yet started) files; they resolve as cancelled. */
  cancelQueued(): number {
    return this.pool?.cancelQueued((j) => ({ id: j.id, outcome: failed('CANCELLED', 'Fingerprinting was cancelled before this file was read.') })) ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close((j) => ({ id: j.id, outcome: failed('CANCELLED', 'Fingerprinting was cancelled before this file was read.') }));
  }
}
