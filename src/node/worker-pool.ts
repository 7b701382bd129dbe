/**
 * A pool of worker threads (one per core by default) that take jobs in batches: only small jobs and
 * results cross threads, several per message each way, and a worker always has the next jobs in hand
 * so it never waits for the calling thread between two. The fingerprint and split pools are this
 * pool with their own job and result types.
 *
 * A worker's message protocol: it receives `{ jobs: Job[] }` and answers `{ results: Result[] }`,
 * each result carrying its job's id. A worker that dies answers its jobs in hand with `stopped(job)`
 * and is replaced — unless workers keep dying before any result comes back (a script that throws
 * when it loads): after MAX_START_FAILURES such deaths in a row the pool stops replacing them and
 * answers every job, queued or new, with `stopped(job)` naming the reason. Idle workers never keep
 * the process alive; busy ones do (a CLI run could otherwise exit with jobs still out).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The bundled worker `name` (dist/workers/<name>.cjs): an override, next to the bundle, or dist/ from the sources. */
export function findBundledWorker(name: string, override: string | undefined): string | null {
  const candidates = [
    override,
    fileURLToPath(new URL(`../workers/${name}.cjs`, import.meta.url)),
    fileURLToPath(new URL(`../../dist/workers/${name}.cjs`, import.meta.url)), // from src/node (tests run the sources)
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}

/**
 * One worker thread started on first use and kept (unref'd while idle), whose messages name a `job`:
 * each job's listener hears its own messages, and every listener hears `{ type: 'exit', why }` when
 * the thread stops (the next get() starts a new one). get() is null without the bundle (`locate`).
 */
export class KeptThread<M extends { job: number }> {
  private thread: Worker | null | undefined;
  private seq = 0;
  readonly jobs = new Map<number, (m: M | { type: 'exit'; why: string }) => void>();
  constructor(private readonly locate: () => string | null) {}

  nextJob(): number {
    return ++this.seq;
  }

  get(): Worker | null {
    if (this.thread !== undefined) return this.thread;
    const file = this.locate();
    if (!file) return (this.thread = null);
    const w = new Worker(file);
    w.unref();
    w.on('message', (m: M) => this.jobs.get(m.job)?.(m));
    const gone = (why: string) => {
      if (this.thread === w) this.thread = undefined;
      for (const f of [...this.jobs.values()]) f({ type: 'exit', why });
    };
    w.on('error', (err) => gone(err.message));
    w.on('exit', (code) => gone(`exit code ${code}`));
    return (this.thread = w);
  }
}

/** Workers in a row that may die before any worker has answered, before the pool gives up. */
export const MAX_START_FAILURES = 3;

interface Pending<J, R> {
  job: J;
  resolve: (r: R) => void;
}

export interface WorkerPoolOptions<J, R> {
  threads: number;
  workerData?: unknown;
  /** The answer for a job whose worker stopped while holding it. */
  stopped(job: J, why: string): R;
  /** Jobs handed to one worker at a time, and per message. */
  depth?: number;
  batch?: number;
  /**
   * A message of fewer than `batch` jobs goes only to a worker holding none: a busy worker waits
   * for a full one. For workers that write a message's results together (the split's packs), where
   * a caller queuing jobs one by one would otherwise send out many small messages. Messages then
   * go out after the current turn of the event loop, not after the current microtask.
   */
  fullBatches?: boolean;
}

export class WorkerPool<J extends { id: number }, R extends { id: number }> {
  readonly size: number;
  private readonly workers: { w: Worker; busy: Map<number, Pending<J, R>>; dead: boolean }[] = [];
  /** Deaths since a worker last answered. */
  private startFailures = 0;
  /** Why the pool stopped replacing workers (null: it has not). */
  private brokenBy: string | null = null;
  private readonly queue: Pending<J, R>[] = [];
  private closed = false;
  private pumpQueued = false;
  private readonly depth: number;
  private readonly batch: number;

  constructor(
    private readonly script: string,
    private readonly o: WorkerPoolOptions<J, R>,
  ) {
    this.depth = o.depth ?? 8;
    this.batch = o.batch ?? 4;
    this.size = Math.max(1, o.threads);
    for (let i = 0; i < this.size; i++) this.spawn();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Why the pool gave up on its workers (they kept dying before answering), or null. */
  get broken(): string | null {
    return this.brokenBy;
  }

  private spawn(): void {
    const slot = { w: new Worker(this.script, { workerData: this.o.workerData }), busy: new Map<number, Pending<J, R>>(), dead: false };
    slot.w.unref();
    slot.w.on('message', (m: { results: R[] }) => {
      this.startFailures = 0;
      for (const r of m.results) {
        const p = slot.busy.get(r.id);
        slot.busy.delete(r.id);
        p?.resolve(r);
      }
      this.pump();
      if (slot.busy.size === 0) slot.w.unref();
    });
    const fail = (why: string) => {
      // 'error' is followed by 'exit': one replacement per worker
      if (slot.dead) return;
      slot.dead = true;
      for (const p of slot.busy.values()) p.resolve(this.o.stopped(p.job, why));
      slot.busy.clear();
      const i = this.workers.indexOf(slot);
      if (i >= 0) this.workers.splice(i, 1);
      if (this.closed || this.brokenBy) return;
      if (++this.startFailures >= MAX_START_FAILURES) {
        this.brokenBy = `${why}; ${this.startFailures} workers in a row stopped before answering, so no more are started`;
        this.cancelQueued((job) => this.o.stopped(job, this.brokenBy!));
        return;
      }
      this.spawn();
      this.pump();
    };
    slot.w.on('error', (err) => fail(err.message));
    slot.w.on('exit', (code) => {
      if (!this.closed) fail(`exit code ${code}`);
    });
    this.workers.push(slot);
  }

  /** Runs `pump` once after the current synchronous work, so jobs asked for together go out as one batch. */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    const pump = () => {
      this.pumpQueued = false;
      this.pump();
    };
    // fullBatches: after the event loop's turn, so jobs a caller queues in a chain of promise
    // callbacks (one per answer that came back) are all queued before a message goes out
    if (this.o.fullBatches) setImmediate(pump);
    else queueMicrotask(pump);
  }

  private pump(): void {
    for (;;) {
      if (this.queue.length === 0) return;
      const open = this.workers.filter((s) => s.busy.size <= this.depth - this.batch);
      const slot = open.sort((a, b) => a.busy.size - b.busy.size)[0];
      if (!slot) return;
      // a short queue is shared out evenly (20 files on 2 workers: 10 each, not 16 and 4); with
      // fullBatches, among the workers that can take a message now
      const fair = Math.ceil(this.queue.length / (this.o.fullBatches ? open.length : this.workers.length));
      const n = Math.min(this.batch, this.depth - slot.busy.size, fair);
      // the least busy worker is busy: so is every other one
      if (this.o.fullBatches && n < this.batch && slot.busy.size > 0) return;
      const jobs = this.queue.splice(0, n);
      for (const p of jobs) slot.busy.set(p.job.id, p);
      slot.w.ref();
      slot.w.postMessage({ jobs: jobs.map((p) => p.job) });
    }
  }

  /** Queues a job (the caller checks `isClosed` first). */
  run(job: J): Promise<R> {
    if (this.brokenBy) return Promise.resolve(this.o.stopped(job, this.brokenBy));
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      this.schedulePump();
    });
  }

  /** Drops queued (not yet started) jobs, each answered by `answer`. */
  cancelQueued(answer: (job: J) => R): number {
    const dropped = this.queue.splice(0);
    for (const p of dropped) p.resolve(answer(p.job));
    return dropped.length;
  }

  async close(answer: (job: J) => R): Promise<void> {
    this.closed = true;
    this.cancelQueued(answer);
    await Promise.all(this.workers.splice(0).map((s) => s.w.terminate()));
  }
}
