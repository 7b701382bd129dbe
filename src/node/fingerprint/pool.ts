/**
 * A pool of fingerprint worker threads, one per core by default. Each worker reads its own files
 * (nothing but the paths and the small results cross threads, a batch of files per message). Falls back to fingerprinting in the
 * calling thread when the worker bundle is missing (`threads: 0` forces that).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fingerprintFile, type FileOutcome } from './compute';

/** Where the bundled worker is: next to the bundle (dist/workers), or dist/workers from the sources. */
export function findWorkerScript(): string | null {
  const candidates = [
    process.env.MEDIMG_FINGERPRINT_WORKER,
    fileURLToPath(new URL('../workers/fingerprint.worker.cjs', import.meta.url)),
    fileURLToPath(new URL('../../../dist/workers/fingerprint.worker.cjs', import.meta.url)),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}

interface Pending {
  id: number;
  path: string;
  knownFile?: string;
  resolve: (o: FileOutcome) => void;
}

export class FingerprintPool {
  readonly size: number;
  private readonly workers: { w: Worker; busy: Map<number, Pending> }[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  /** Files handed to one worker at a time, so it never waits for the main thread between files. */
  readonly depth = 8;
  /** Files per message (each way): the worker answers a batch at once. */
  readonly batch = 4;
  private pumpQueued = false;

  constructor(threads = availableParallelism()) {
    const script = threads > 0 ? findWorkerScript() : null;
    this.size = script ? Math.max(1, threads) : 0;
    for (let i = 0; i < this.size; i++) this.spawn(script!);
  }

  private spawn(script: string): void {
    const slot = { w: new Worker(script), busy: new Map<number, Pending>() };
    slot.w.unref();
    slot.w.on('message', (m: { results: { id: number; outcome: FileOutcome }[] }) => {
      for (const r of m.results) {
        const p = slot.busy.get(r.id);
        slot.busy.delete(r.id);
        p?.resolve(r.outcome);
      }
      this.pump();
    });
    const fail = (why: string) => {
      for (const p of slot.busy.values()) {
        p.resolve({ ok: false, error: { code: 'INTERNAL', message: `The fingerprint worker stopped (${why}) while reading this file.` }, size: null, mtimeMs: null });
      }
      slot.busy.clear();
      const i = this.workers.indexOf(slot);
      if (i >= 0) this.workers.splice(i, 1);
      if (!this.closed) {
        this.spawn(script);
        this.pump();
      }
    };
    slot.w.on('error', (err) => fail(err.message));
    slot.w.on('exit', (code) => {
      if (!this.closed) fail(`exit code ${code}`);
    });
    this.workers.push(slot);
  }

  /** Runs `pump` once after the current synchronous work, so files asked for together go out as one batch. */
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
      if (this.queue.length === 0) return;
      const slot = this.workers.filter((s) => s.busy.size <= this.depth - this.batch).sort((a, b) => a.busy.size - b.busy.size)[0];
      if (!slot) return;
      const jobs = this.queue.splice(0, Math.min(this.batch, this.depth - slot.busy.size));
      for (const job of jobs) slot.busy.set(job.id, job);
      slot.w.postMessage({ jobs: jobs.map((j) => ({ id: j.id, path: j.path, knownFile: j.knownFile })) });
    }
  }

  /** Fingerprints one file (never rejects: failures come back as `{ ok: false }`). */
  run(path: string, knownFile?: string): Promise<FileOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, error: { code: 'CANCELLED', message: 'The fingerprint engine was closed.' }, size: null, mtimeMs: null });
    if (this.size === 0) return fingerprintFile(path, knownFile);
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, path, knownFile, resolve });
      this.schedulePump();
    });
  }

  /** Drops queued (not yet started) files; they resolve as cancelled. */
  cancelQueued(): number {
    const dropped = this.queue.splice(0);
    for (const p of dropped) p.resolve({ ok: false, error: { code: 'CANCELLED', message: 'Fingerprinting was cancelled before this file was read.' }, size: null, mtimeMs: null });
    return dropped.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelQueued();
    await Promise.all(this.workers.splice(0).map((s) => s.w.terminate()));
  }
}
