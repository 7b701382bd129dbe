/**
 * Where inference runs. `WorkerInference` keeps two worker threads (ai-inference.worker.cjs), one
 * preparing images and one with the model sessions loaded, so the main process (and the UI it
 * serves) never waits on decoding or ONNX Runtime; cancelling a running image terminates the
 * worker doing it (ONNX Runtime cannot be interrupted mid-run) and a fresh one starts for the next job. `InlineInference` runs the same
 * engine in the calling thread (tests, and a missing worker bundle).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError, ErrorCode } from '../../shared/errors';
import type { PixelDecoder } from './dicom-input';
import { InferenceEngine, type EngineSessionOptions, type InferenceJob, type InferenceOutcome, type Prepared } from './inference';

export interface InferenceBackend {
  /**
   * Never rejects for a bad image (failures come back as outcomes); rejects CANCELLED on abort.
   * `next`, when given, is the job the caller will run after this one: a backend with a second
   * thread prepares it while this image is inferred.
   */
  run(job: InferenceJob, signal?: AbortSignal, next?: InferenceJob): Promise<InferenceOutcome>;
  close(): Promise<void>;
  readonly where: 'worker' | 'inline';
}

export interface EngineOptions extends EngineSessionOptions {
  /**
   * Whether a study's next image is prepared (read, decoded, preprocessed) in a second thread while
   * the current one is inferred. `auto` (default): on two or more cores. The preparing thread does
   * take a core from ONNX Runtime's threads for its ~2 ms (read + SIMD preprocessing of a 2,048²
   * radiograph), but hiding that work behind the inference gains more: on this machine kind a study
   * ran at 1.24× the bare inference prepared ahead against 1.37× prepared in the inferring thread
   * (and 1.43× against 1.64× with the JavaScript preprocessing, docs/ai.md). An earlier machine,
   * with inference three times slower and preprocessing three times longer, measured the opposite;
   * `never` keeps that behaviour.
   */
  prepareAhead?: 'auto' | 'always' | 'never';
}

/** The `auto` rule of EngineOptions.prepareAhead. */
export function prepareAheadPays(o: EngineOptions, cores = availableParallelism()): boolean {
  if (o.prepareAhead === 'always') return true;
  if (o.prepareAhead === 'never') return false;
  return cores >= 2;
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
  constructor(decode: PixelDecoder, options: EngineOptions = {}) {
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

type Role = 'prepare' | 'infer';

interface Pending {
  worker: Worker;
  resolve: (o: InferenceOutcome | Prepared) => void;
}

/** An image started ahead of its run(): `stop` stops the thread working on it now (preparing, then inferring). */
interface Ahead {
  key: string;
  outcome: Promise<InferenceOutcome | Prepared>;
  stop: () => void;
  /** Given up (a different image was asked for, or a cancel stopped its thread): not queued for inference. */
  dropped: boolean;
}

/** `p`, or CANCELLED as soon as `signal` aborts (then `stop` is called). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, stop: () => void): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    stop();
    return Promise.reject(cancelled());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      stop();
      reject(cancelled());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

const keyOf = (j: InferenceJob) => JSON.stringify([j.filePath, j.model.id, j.model.modelSha256, j.computePixelDigest]);

/**
 * Two worker threads: `prepare` reads, decodes and preprocesses; `infer` holds the model sessions
 * and runs ONNX Runtime. One image is inferred at a time (memory stays bounded and ONNX Runtime has
 * the cores), and — when EngineOptions.prepareAhead says it pays — while it is, the caller's next
 * image is prepared, so in a study the reading, decoding and preprocessing hide behind the previous
 * image's inference. Otherwise each image runs start to finish in the inferring thread.
 */
export class WorkerInference implements InferenceBackend {
  readonly where = 'worker' as const;
  private readonly workers: Record<Role, Worker | null> = { prepare: null, infer: null };
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Jobs run one at a time, in the order asked. */
  private chain: Promise<unknown> = Promise.resolve();
  /** The next image, being prepared (then inferred) ahead (at most one). */
  private ahead: Ahead | null = null;
  /** EngineOptions.prepareAhead, decided once. */
  readonly preparesAhead: boolean;

  constructor(
    private readonly script: string,
    private readonly options: EngineOptions = {},
  ) {
    this.preparesAhead = prepareAheadPays(options);
  }

  private spawn(role: Role): Worker {
    // the preparing thread works during another image's inference: no row helper there (it would take ONNX Runtime's core)
    const w = new Worker(this.script, { workerData: { intraOpThreads: this.options.intraOpThreads, executionMode: this.options.executionMode, splitRows: role === 'prepare' ? false : this.options.splitRows, readRows: this.options.readRows } });
    w.unref();
    w.on('message', (m: { id: number; outcome?: InferenceOutcome | Prepared }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (p && m.outcome) p.resolve(m.outcome);
    });
    const fail = (why: string) => {
      if (this.workers[role] === w) this.workers[role] = null;
      // only this worker's jobs: a worker stopped by a cancel exits while its successor already works
      for (const [id, p] of this.pending) {
        if (p.worker !== w) continue;
        this.pending.delete(id);
        p.resolve({ kind: 'failed', instance: null, code: 'INTERNAL', message: `The AI worker stopped (${why}) while reading this image.` });
      }
    };
    w.on('error', (err) => fail(err.message));
    w.on('exit', (code) => fail(`exit code ${code}`));
    this.workers[role] = w;
    return w;
  }

  /**
   * Posts one message to a worker. `stop` gives up on it: the worker is stopped (ONNX Runtime cannot
   * be interrupted mid-run) and a fresh one starts for the next job.
   */
  private post(role: Role, message: Record<string, unknown>, transfer: ArrayBuffer[] = []): { outcome: Promise<InferenceOutcome | Prepared>; stop: () => void } {
    const w = this.workers[role] ?? this.spawn(role);
    const id = this.nextId++;
    const outcome = new Promise<InferenceOutcome | Prepared>((resolve) => {
      this.pending.set(id, { worker: w, resolve });
      w.postMessage({ id, ...message }, transfer);
    });
    const stop = () => {
      this.pending.delete(id);
      if (this.workers[role] === w) this.workers[role] = null;
      // whatever was prepared or queued behind it on that worker goes with it: the next run starts afresh
      this.dropAhead();
      void w.terminate();
    };
    return { outcome, stop };
  }

  /** post(), given up on abort. */
  private call(role: Role, message: Record<string, unknown>, signal?: AbortSignal, transfer: ArrayBuffer[] = []): Promise<InferenceOutcome | Prepared> {
    if (signal?.aborted) return Promise.reject(cancelled());
    const { outcome, stop } = this.post(role, message, transfer);
    return untilAborted(outcome, signal, stop);
  }

  private dropAhead(): void {
    if (this.ahead) this.ahead.dropped = true;
    this.ahead = null;
  }

  run(job: InferenceJob, signal?: AbortSignal, next?: InferenceJob): Promise<InferenceOutcome> {
    const result = this.chain.then(() => this.runNow(job, signal, next));
    this.chain = result.catch(() => undefined);
    return result;
  }

  /**
   * Starts `next` ahead: prepared in the preparing thread, and as soon as it is, queued in the
   * inferring thread behind the current image, so that thread goes from one image straight to the
   * next (no round trip through this thread between them).
   */
  private startAhead(next: InferenceJob): void {
    const prep = this.post('prepare', { prepare: next });
    const entry: Ahead = { key: keyOf(next), outcome: prep.outcome, stop: prep.stop, dropped: false };
    entry.outcome = prep.outcome.then((p) => {
      if (p.kind !== 'prepared' || entry.dropped || this.closed) return p;
      const inf = this.post('infer', { infer: { job: next, prepared: p } }, [p.tensor.buffer as ArrayBuffer]);
      entry.stop = inf.stop;
      return inf.outcome;
    });
    entry.outcome.catch(() => undefined);
    this.ahead = entry;
  }

  private async runNow(job: InferenceJob, signal?: AbortSignal, next?: InferenceJob): Promise<InferenceOutcome> {
    if (this.closed) throw new AppError(ErrorCode.Cancelled, 'The AI engine was closed.');
    if (signal?.aborted) throw cancelled();
    const ahead = this.ahead?.key === keyOf(job) ? this.ahead : null;
    if (ahead) this.ahead = null;
    else this.dropAhead();
    const aheadNext = () => {
      if (next && !this.closed && this.preparesAhead) this.startAhead(next);
    };
    if (!ahead) {
      // nothing prepared: this image start to finish in the inferring thread (one hand-over, buffers
      // reused there), and the next one prepared beside it from now on
      const running = this.call('infer', { run: job }, signal);
      aheadNext();
      return (await running) as InferenceOutcome;
    }
    // prepared (and likely queued for inference) while the previous image was inferred; the next
    // one is prepared from now on, beside this one's inference; a cancel still answers at once
    aheadNext();
    const outcome = await untilAborted(ahead.outcome, signal, () => ahead.stop());
    if (outcome.kind !== 'prepared') return outcome;
    // prepared, but not queued (the engine was closing): infer it here
    return (await this.call('infer', { infer: { job, prepared: outcome } }, signal, [outcome.tensor.buffer as ArrayBuffer])) as InferenceOutcome;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dropAhead();
    const all = [this.workers.prepare, this.workers.infer];
    this.workers.prepare = this.workers.infer = null;
    for (const w of all) if (w) await w.terminate();
  }
}

/** A worker when the bundle is built, else inline (`threads: 0` forces inline). */
export function createInferenceBackend(decode: PixelDecoder, o: { threads?: number } & EngineOptions = {}): InferenceBackend {
  const script = o.threads === 0 ? null : findAiWorkerScript();
  const engine: EngineOptions = { intraOpThreads: o.intraOpThreads, executionMode: o.executionMode, prepareAhead: o.prepareAhead, splitRows: o.splitRows, readRows: o.readRows };
  return script ? new WorkerInference(script, engine) : new InlineInference(decode, engine);
}
