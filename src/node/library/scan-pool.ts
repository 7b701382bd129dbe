/**
 * A small pool of import workers (dist/workers/import.worker.cjs). Jobs are split across the
 * workers; results come back in job order. Without the worker bundle (tests run from source
 * before a build) it scans in-process.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { scanMany, type ScanJob, type ScanOutcome } from './scan';
import { findWorker } from './thumbnails';

interface Pending {
  resolve: (r: ScanOutcome[]) => void;
  reject: (e: Error) => void;
}

export class ScanPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private rr = 0;
  /** True when scanning runs in worker threads. */
  readonly threaded: boolean;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    const file = findWorker('import.worker');
    this.threaded = file !== null;
    if (!file) return;
    for (let i = 0; i < size; i++) {
      const w = new Worker(file);
      w.on('message', (m: { id: number; results?: ScanOutcome[]; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if (m.results) p.resolve(m.results);
        else p.reject(new Error(m.error ?? 'import worker failed'));
      });
      w.on('error', (err) => this.failAll(err));
      w.unref(); // idle workers never keep the process alive
      this.workers.push(w);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private run(w: Worker, jobs: ScanJob[]): Promise<ScanOutcome[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, jobs });
    });
  }

  /** Scans `jobs`, split evenly over the workers. */
  async scan(jobs: ScanJob[]): Promise<ScanOutcome[]> {
    if (!this.threaded || jobs.length === 0) return scanMany(jobs);
    const n = Math.min(this.workers.length, jobs.length);
    const per = Math.ceil(jobs.length / n);
    const parts: Promise<ScanOutcome[]>[] = [];
    for (let i = 0; i < n; i++) {
      const w = this.workers[this.rr++ % this.workers.length]!;
      parts.push(this.run(w, jobs.slice(i * per, (i + 1) * per)));
    }
    return (await Promise.all(parts)).flat();
  }

  private refs = 0;
  /** Keep the process alive while an import or hashing run uses the pool (counted). */
  ref(): void {
    if (this.refs++ === 0) for (const w of this.workers) w.ref();
  }
  unref(): void {
    if (--this.refs === 0) for (const w of this.workers) w.unref();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}
