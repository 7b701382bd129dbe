/**
 * One image's preprocessing on two threads. Preprocessing a 2,048² radiograph is a pass over 8 MB
 * that one thread does at memory speed; it runs just before that image's inference, when ONNX
 * Runtime is not running and both cores are idle. The calling thread and a helper
 * (preprocess-rows.worker.ts) take chunks of output rows from a shared counter until none are
 * left; the helper reads the pixels from the engine's shared file buffer (no copy) and writes its
 * rows into a shared tensor, which the caller copies into its own (a few hundred kB). A helper that
 * is late (still starting, or not scheduled on a loaded machine) simply gets no chunks: the
 * caller never waits for it to start, and for a chunk it took only about as long as a chunk takes
 * (then does it itself), so a loaded machine costs at most one chunk twice. Not used while an
 * inference runs (a study's image prepared ahead): the helper would take a core from ONNX Runtime.
 */
import { existsSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SimdAreaReducer } from '../../core/ai/area-simd';
import type { ModelCard } from '../../core/ai/card';
import { preprocessRows, type GreyImage, type OutputRows, type PreprocessPlan, type PreprocessScratch } from '../../core/ai/preprocess';

/** Output rows per chunk: small enough that the two threads end together, large enough that the extra edge row each chunk reads (1 in ~70 source rows at 2,048 → 224) costs little. */
export const CHUNK_ROWS = 8;
/** Images with fewer pixels are not worth a hand-over to the helper. */
export const MIN_SPLIT_PIXELS = 512 * 512;

const PENDING = 0;
const DONE_HERE = 1;
const DONE_BY_HELPER = 2;
const HELPER_FAILED = 3;

/**
 * Pixel rows not read yet (EngineSessionOptions.readRows): each thread reads the source rows of a
 * chunk into the kernel's memory just before reducing it. Rows at a chunk's edge are read by both
 * threads; the bytes are the file's, so the second write leaves them as they are.
 */
export interface RowSource {
  /** Byte offset of the first pixel row in the file. */
  fileOffset: number;
  /** Byte offset of the first pixel row in the kernel's memory. */
  memoryOffset: number;
  rowBytes: number;
  rows: number;
}

/** Reads source rows [from, to) from the open file into the kernel's memory; throws when the file is shorter than its header said. */
export function readSourceRows(fd: number, src: RowSource, from: number, to: number, memory: ArrayBufferLike): void {
  const a = Math.max(0, from);
  const b = Math.min(src.rows, to);
  if (b <= a) return;
  const length = (b - a) * src.rowBytes;
  const into = new Uint8Array(memory, src.memoryOffset + a * src.rowBytes, length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, into, off, length - off, src.fileOffset + a * src.rowBytes + off);
    if (n === 0) throw new Error(`the file ended inside its pixel data (row ${a + Math.floor(off / src.rowBytes)} of ${src.rows}); it changed while being read`);
    off += n;
  }
}

export interface RowsJob {
  /** Int32: [0] the next chunk to take, [1 + c] chunk c's state (PENDING, DONE_HERE, DONE_BY_HELPER, HELPER_FAILED). */
  state: SharedArrayBuffer;
  chunkRows: number;
  /** The helper's tensor (1×C×H×W float32). */
  out: SharedArrayBuffer;
  card: Pick<ModelCard, 'input' | 'preprocessing'>;
  plan: PreprocessPlan;
  image: Omit<GreyImage, 'samples'> & { samples: { buffer: SharedArrayBuffer; byteOffset: number; length: number; bytes: 1 | 2 } };
  /** Set: both threads run the SIMD kernel on the samples at this byte offset of the kernel's memory (the helper has it from its start). */
  simdSource?: number;
  /** Set: the pixel rows are not read yet; the helper opens this file and reads each chunk's rows first, with `busy` raised (Int32 [0]) while it may write. */
  readRows?: { path: string; source: RowSource; busy: SharedArrayBuffer };
}

/** The source rows output rows [out.from, out.to) are reduced from (area resize of `rows` to `height`), as [from, to). */
export function sourceRowsOf(out: OutputRows, rows: number, height: number): [number, number] {
  return [Math.floor((out.from * rows) / height), Math.min(rows, Math.ceil((out.to * rows) / height))];
}

export function imageOfRowsJob(job: RowsJob): GreyImage {
  const s = job.image.samples;
  const samples = s.bytes === 1 ? new Uint8Array(s.buffer, s.byteOffset, s.length) : new Uint16Array(s.buffer, s.byteOffset, s.length);
  return { ...job.image, samples };
}

/**
 * Takes chunks of output rows from the shared counter until none are left; each chunk done is
 * marked `mark` (and waiters woken), a chunk whose work threw is marked HELPER_FAILED for the
 * caller to redo. Returns the number of chunks this thread did.
 */
export function runRowChunks(state: SharedArrayBuffer, chunkRows: number, height: number, mark: number, work: (rows: OutputRows) => void, busy?: SharedArrayBuffer): number {
  const st = new Int32Array(state);
  const chunks = Math.ceil(height / chunkRows);
  let done = 0;
  // `busy` (the helper reading rows into the file's memory): raised before a chunk is taken and
  // lowered after it, so the engine can wait until no write of this image can still come (quiesce)
  const b = busy ? new Int32Array(busy) : null;
  const lower = () => {
    if (!b) return;
    Atomics.store(b, 0, 0);
    Atomics.notify(b, 0);
  };
  for (;;) {
    if (b) Atomics.store(b, 0, 1);
    const c = Atomics.add(st, 0, 1);
    if (c >= chunks) {
      lower();
      return done;
    }
    let m = mark;
    try {
      work({ from: c * chunkRows, to: Math.min(height, (c + 1) * chunkRows) });
      done++;
    } catch (err) {
      if (mark === DONE_HERE) throw err;
      m = HELPER_FAILED;
    }
    lower();
    Atomics.store(st, 1 + c, m);
    Atomics.notify(st, 1 + c);
  }
}

export function findRowsWorkerScript(): string | null {
  const candidates = [
    process.env.MEDIMG_AI_ROWS_WORKER,
    fileURLToPath(new URL('./preprocess-rows.worker.cjs', import.meta.url)),
    fileURLToPath(new URL('../workers/preprocess-rows.worker.cjs', import.meta.url)),
    fileURLToPath(new URL('../../../dist/workers/preprocess-rows.worker.cjs', import.meta.url)),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}

export interface SplitStats {
  chunks: number;
  byHelper: number;
}

export class RowSplitter {
  private worker: Worker | null = null;
  private out: SharedArrayBuffer | null = null;
  /** Raised by the helper while it may write pixel rows into the file's memory (RowsJob.readRows). */
  private readonly busy = new SharedArrayBuffer(4);

  private constructor(
    private readonly script: string,
    private readonly simd: SimdAreaReducer | null,
  ) {
    this.spawn();
  }

  /**
   * A splitter when there are at least two cores and the helper's bundle is built, else null
   * (preprocess in one thread). With `simd`, the helper attaches to that kernel's memory and can
   * run the kernel on its rows too.
   */
  static create(cores = availableParallelism(), simd: SimdAreaReducer | null = null): RowSplitter | null {
    if (cores < 2) return null;
    const script = findRowsWorkerScript();
    return script ? new RowSplitter(script, simd) : null;
  }

  private spawn(): Worker {
    const w = new Worker(this.script, { workerData: { simdMemory: this.simd?.memory ?? null } });
    w.unref();
    const gone = () => {
      if (this.worker === w) this.worker = null;
    };
    w.on('error', gone);
    w.on('exit', gone);
    this.worker = w;
    return w;
  }

  /** Whether this image can be split: one-pass plan, 8/16-bit samples in shared memory, large enough. */
  canSplit(img: GreyImage, plan: PreprocessPlan): boolean {
    const s = img.samples;
    return plan.onePass && (s instanceof Uint8Array || s instanceof Uint16Array) && s.buffer instanceof SharedArrayBuffer && img.rows * img.columns >= MIN_SPLIT_PIXELS;
  }

  /**
   * Writes the whole tensor (as preprocessRows over all rows would), the helper doing the chunks
   * it takes. Blocks the calling thread until the last chunk is in (it is itself busy until then).
   */
  run(
    img: GreyImage,
    card: Pick<ModelCard, 'input' | 'preprocessing'>,
    plan: PreprocessPlan,
    tensor: Float32Array,
    scratch?: PreprocessScratch,
    simd?: { reducer: SimdAreaReducer; src: number; rows?: RowSource; fd?: number; path?: string },
  ): SplitStats {
    const { height, width, channels } = card.input;
    const n = height * width * channels;
    const w = this.worker ?? this.spawn();
    if (!this.out || this.out.byteLength < n * 4) this.out = new SharedArrayBuffer(n * 4);
    const chunks = Math.ceil(height / CHUNK_ROWS);
    // a fresh counter per image: a helper that gets this message late finds every chunk taken
    const state = new SharedArrayBuffer(4 * (1 + chunks));
    const s = img.samples as Uint8Array | Uint16Array;
    const job: RowsJob = {
      state,
      chunkRows: CHUNK_ROWS,
      out: this.out,
      card: { input: card.input, preprocessing: card.preprocessing },
      plan,
      image: {
        rows: img.rows,
        columns: img.columns,
        rescaleSlope: img.rescaleSlope,
        rescaleIntercept: img.rescaleIntercept,
        photometricInterpretation: img.photometricInterpretation,
        fileWindow: img.fileWindow,
        ...(img.storedBits ? { storedBits: img.storedBits } : {}),
        samples: { buffer: s.buffer as SharedArrayBuffer, byteOffset: s.byteOffset, length: s.length, bytes: s instanceof Uint8Array ? 1 : 2 },
      },
      ...(simd ? { simdSource: simd.src } : {}),
      ...(simd?.rows && simd.path ? { readRows: { path: simd.path, source: simd.rows, busy: this.busy } } : {}),
    };
    const reduce = simd ? (rows: OutputRows) => simd.reducer.runAt(simd.src, img, card, plan, rows, tensor) : (rows: OutputRows) => preprocessRows(img, card, plan, rows, tensor, scratch);
    const source = simd?.rows && simd.fd !== undefined ? { fd: simd.fd, rows: simd.rows, memory: simd.reducer.memory.buffer } : null;
    const work = source
      ? (rows: OutputRows) => {
          readSourceRows(source.fd, source.rows, ...sourceRowsOf(rows, img.rows, height), source.memory);
          reduce(rows);
        }
      : reduce;
    w.postMessage(job);
    const t0 = performance.now();
    const mine = runRowChunks(state, CHUNK_ROWS, height, DONE_HERE, work);
    // a chunk the helper took and has not finished: wait about as long as a chunk takes here, then
    // do it here (on a loaded machine the helper may be off its core for a whole time slice)
    const patienceMs = mine > 0 ? (performance.now() - t0) / mine : 1;
    const st = new Int32Array(state);
    const shared = new Float32Array(this.out, 0, n);
    const plane = height * width;
    let byHelper = 0;
    for (let c = 0; c < chunks; c++) {
      if (Atomics.load(st, 1 + c) === PENDING) Atomics.wait(st, 1 + c, PENDING, patienceMs);
      const rows = { from: c * CHUNK_ROWS, to: Math.min(height, (c + 1) * CHUNK_ROWS) };
      const f = Atomics.load(st, 1 + c);
      if (f === DONE_BY_HELPER) {
        byHelper++;
        for (let ch = 0; ch < channels; ch++) {
          const a = ch * plane + rows.from * width;
          const b = ch * plane + rows.to * width;
          tensor.set(shared.subarray(a, b), a);
        }
      } else if (f !== DONE_HERE) {
        // still running there (its late write lands in `out` before the helper reads its next job) or failed
        work(rows);
      }
    }
    return { chunks, byHelper };
  }

  /**
   * Resolves once the helper can no longer write rows of an earlier image into the file's memory
   * (call before the memory takes the next file). A helper off its core is waited for up to
   * `timeoutMs`; one that is still busy then is stopped (and the wait is for its exit), and a new
   * one starts with the next image.
   */
  async quiesce(timeoutMs = 2000): Promise<void> {
    const b = new Int32Array(this.busy);
    if (Atomics.load(b, 0) === 0) return;
    const deadline = performance.now() + timeoutMs;
    while (Atomics.load(b, 0) !== 0 && performance.now() < deadline) {
      // Atomics.waitAsync (Node 16+; not in this project's TypeScript lib)
      const r = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } }).waitAsync(b, 0, 1, Math.max(1, deadline - performance.now()));
      if (r.async) await r.value;
    }
    if (Atomics.load(b, 0) === 0) return;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    Atomics.store(b, 0, 0);
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
