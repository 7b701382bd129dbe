/**
 * A pool of split worker threads (one per core), like the fingerprint pool: each worker reads the
 * source file or the parts itself, encrypts or decrypts, and writes into the folder pixel store or
 * the output folder; only paths and small results cross threads, a batch of jobs per message. The
 * index stays in the calling thread (it alone records rows). No pool when the worker bundle is
 * missing (dist/workers/split.worker.cjs, built by scripts/build.mjs): the caller then does the
 * same work inline.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KnownFingerprint } from './split';
import type { RebuildTarget, SplitFileError, SplitParts, WireError } from './work';

export interface PoolSetup {
  secret: Uint8Array;
  storeRoot: string;
  /** fsync blobs (the folder store's setting) and sealed metadata parts (the split's). */
  storeDurable: boolean;
  durable: boolean;
  home: string;
  metadataTmp: string;
}

export type PoolJob =
  | { id: number; kind: 'split'; path: string; known?: KnownFingerprint }
  | { id: number; kind: 'rebuild'; target: RebuildTarget; outDir: string; verify: boolean };

type JobInput = PoolJob extends infer J ? (J extends PoolJob ? Omit<J, 'id'> : never) : never;

export type PoolResult =
  | { id: number; ok: true; value: SplitParts | { path: string; size: number; sha256: string } }
  | { id: number; ok: false; error: SplitFileError | WireError };

export function findSplitWorkerScript(): string | null {
  const candidates = [
    process.env.MEDIMG_SPLIT_WORKER,
    fileURLToPath(new URL('../workers/split.worker.cjs', import.meta.url)),
    fileURLToPath(new URL('../../../dist/workers/split.worker.cjs', import.meta.url)),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}

interface Pending {
  job: PoolJob;
  resolve: (r: PoolResult) => void;
}

export class SplitPool {
  readonly size: number;
  private readonly workers: { w: Worker; busy: Map<number, Pending> }[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private pumpQueued = false;
  /** Jobs handed to one worker at a time, and per message. */
  private readonly depth = 8;
  private readonly batch = 4;

  private constructor(
    private readonly script: string,
    private readonly setup: PoolSetup,
    threads: number,
  ) {
    this.size = Math.max(1, threads);
    for (let i = 0; i < this.size; i++) this.spawn();
  }

  /** A pool, or null when the worker bundle is not there (or `threads` is 0, as MEDIMG_SPLIT_THREADS=0 asks). */
  static create(setup: PoolSetup, threads = Number(process.env.MEDIMG_SPLIT_THREADS ?? availableParallelism())): SplitPool | null {
    if (!(threads > 0)) return null;
    const script = findSplitWorkerScript();
    return script ? new SplitPool(script, setup, threads) : null;
  }

  private spawn(): void {
    const slot = { w: new Worker(this.script, { workerData: this.setup }), busy: new Map<number, Pending>() };
    slot.w.unref(); // an idle worker never keeps the process alive; a busy one does (see pump)
    slot.w.on('message', (m: { results: PoolResult[] }) => {
      for (const r of m.results) {
        const p = slot.busy.get(r.id);
        slot.busy.delete(r.id);
        p?.resolve(r);
      }
      this.pump();
      if (slot.busy.size === 0) slot.w.unref();
    });
    const fail = (why: string) => {
      for (const p of slot.busy.values()) p.resolve({ id: p.job.id, ok: false, error: { code: 'INTERNAL', message: `The split worker stopped (${why}) during this instance.`, ...(p.job.kind === 'split' ? { path: p.job.path } : {}) } });
      slot.busy.clear();
      const i = this.workers.indexOf(slot);
      if (i >= 0) this.workers.splice(i, 1);
      if (!this.closed) {
        this.spawn();
        this.pump();
      }
    };
    slot.w.on('error', (err) => fail(err.message));
    slot.w.on('exit', (code) => {
      if (!this.closed) fail(`exit code ${code}`);
    });
    this.workers.push(slot);
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    for (;;) {
      if (!this.queue.length) return;
      const slot = this.workers.filter((s) => s.busy.size <= this.depth - this.batch).sort((a, b) => a.busy.size - b.busy.size)[0];
      if (!slot) return;
      const jobs = this.queue.splice(0, Math.min(this.batch, this.depth - slot.busy.size));
      for (const p of jobs) slot.busy.set(p.job.id, p);
      slot.w.ref();
      slot.w.postMessage({ jobs: jobs.map((p) => p.job) });
    }
  }

  run(input: JobInput): Promise<PoolResult> {
    const job = { ...input, id: this.nextId++ } as PoolJob;
    if (this.closed) return Promise.resolve({ id: job.id, ok: false, error: { code: 'CANCELLED', message: 'Split storage was closed.' } });
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      this.schedulePump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve({ id: p.job.id, ok: false, error: { code: 'CANCELLED', message: 'Split storage was closed.' } });
    await Promise.all(this.workers.splice(0).map((s) => s.w.terminate()));
  }
}
