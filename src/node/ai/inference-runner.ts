/**
 * Where inference runs. `WorkerInference` keeps one worker thread (ai-inference.worker.cjs) with
 * the model sessions loaded, so the main process (and the UI it serves) never waits on decoding or
 * ONNX Runtime; cancelling a running image terminates the worker (ONNX Runtime cannot be
 * interrupted mid-run) and a fresh one starts for the next job. `InlineInference` runs the same
 * engine in the calling thread (tests, and a missing worker bundle).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError, ErrorCode } from '../../shared/errors';
import type { PixelDecoder } from './dicom-input';
import { InferenceEngine, type InferenceJob, type InferenceOutcome } from './inference';

export interface InferenceBackend {
  /** Never rejects for a bad image (failures come back as outcomes); rejects CANCELLED on abort. */
  run(job: InferenceJob, signal?: AbortSignal): Promise<InferenceOutcome>;
  close(): Promise<void>;
  readonly where: 'worker' | 'inline';
}

export function findAiWorkerScript(): string | null {
  const candidates = [
    process.env.MEDIMG_AI_WORKER,
    fileURLToPath(new URL('../workers/ai-inference.worker.cjs', import.meta.url)),
    fileURLToPath(new URL('../../../dist/workers/ai-inference.worker.cjs', import.meta.url)),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}

const cancelled = () => new AppError(ErrorCode.Cancelled, 'The AI run was cancelled.');

export class InlineInference implements InferenceBackend {
  readonly where = 'inline' as const;
  private readonly engine: InferenceEngine;
  constructor(decode: PixelDecoder, options: { intraOpThreads?: number } = {}) {
    this.engine = new InferenceEngine(decode, options);
  }
  async run(job: InferenceJob, signal?: AbortSignal): Promise<InferenceOutcome> {
    if (signal?.aborted) throw cancelled();
    const out = await this.engine.run(job);
    if (signal?.aborted) throw cancelled();
    return out;
  }
  close(): Promise<void> {
    return this.engine.close();
  }
}

interface Pending {
  worker: Worker;
  resolve: (o: InferenceOutcome) => void;
  reject: (e: Error) => void;
}

export class WorkerInference implements InferenceBackend {
  readonly where = 'worker' as const;
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Jobs run one at a time: one image at a time keeps memory bounded and ONNX Runtime uses every core. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly script: string,
    private readonly options: { intraOpThreads?: number } = {},
  ) {}

  private spawn(): Worker {
    const w = new Worker(this.script, { workerData: { intraOpThreads: this.options.intraOpThreads } });
    w.unref();
    w.on('message', (m: { id: number; outcome?: InferenceOutcome }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (p && m.outcome) p.resolve(m.outcome);
    });
    const fail = (why: string) => {
      if (this.worker === w) this.worker = null;
      // only this worker's jobs: a worker stopped by a cancel exits while its successor already works
      for (const [id, p] of this.pending) {
        if (p.worker !== w) continue;
        this.pending.delete(id);
        p.resolve({ kind: 'failed', instance: null, code: 'INTERNAL', message: `The AI worker stopped (${why}) while reading this image.` });
      }
    };
    w.on('error', (err) => fail(err.message));
    w.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = w;
    return w;
  }

  run(job: InferenceJob, signal?: AbortSignal): Promise<InferenceOutcome> {
    const next = this.chain.then(() => this.runNow(job, signal));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private runNow(job: InferenceJob, signal?: AbortSignal): Promise<InferenceOutcome> {
    if (this.closed) return Promise.reject(new AppError(ErrorCode.Cancelled, 'The AI engine was closed.'));
    if (signal?.aborted) return Promise.reject(cancelled());
    const w = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise<InferenceOutcome>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        if (this.worker === w) this.worker = null;
        void w.terminate();
        reject(cancelled());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        worker: w,
        resolve: (o) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(o);
        },
        reject,
      });
      w.postMessage({ id, job });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

/** A worker when the bundle is built, else inline (`threads: 0` forces inline). */
export function createInferenceBackend(decode: PixelDecoder, o: { threads?: number; intraOpThreads?: number } = {}): InferenceBackend {
  const script = o.threads === 0 ? null : findAiWorkerScript();
  return script ? new WorkerInference(script, o) : new InlineInference(decode, o);
}
