/**
 * One image through one model: read the header, check the card accepts it (skipped with the
 * reason otherwise, before any decoding), compute the pixel digest when asked, decode, preprocess,
 * run ONNX Runtime, read the outputs. Runs inside ai-inference.worker.ts (off the main thread),
 * or in the calling thread for tests and when the worker bundle is missing.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { ModelCard } from '../../core/ai/card';
import { whyNotAccepted } from '../../core/ai/card';
import { SimdAreaReducer, whyNotSimd } from '../../core/ai/area-simd';
import { planPreprocess, preprocess, PREPROCESSING_ID, PreprocessScratch, type AppliedWindow, type PreprocessedInput } from '../../core/ai/preprocess';
import { AppError, ErrorCode } from '../../shared/errors';
import { parseHeaderFast } from '../dicom/fast-header';
import { parseDicomBytes, type ParsedDicom } from '../dicom/parse';
import { pixelDigest, readFully } from '../fingerprint/compute';
import { describeImage, fileWindowOf, greyImageOf, identityOf, storedWordsOf, type InstanceIdentity, type PixelDecoder } from './dicom-input';
import { loadSession, ort, type OrtSession, type SessionOptions } from './onnx-runtime';
import { CHUNK_ROWS, readSourceRows, RowSplitter, sourceRowsOf, type RowSource } from './row-split';

export interface InferenceJob {
  filePath: string;
  model: { id: string; modelPath: string; modelSha256: string; card: ModelCard };
  /** Compute the pixel digest here (when the fingerprint tables have no current one). */
  computePixelDigest: boolean;
}

export interface Timings {
  readMs: number;
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  /** Chunks of output rows the helper thread preprocessed, of how many (absent: not split). */
  splitRows?: { chunks: number; byHelper: number };
  /** Preprocessed by the WebAssembly SIMD kernel (area-simd.ts). */
  simd?: boolean;
  /** The pixel rows were read chunk by chunk during preprocessing (EngineSessionOptions.readRows); readMs is then the header only. */
  rowsRead?: boolean;
}

export interface EngineSessionOptions extends SessionOptions {
  /**
   * Preprocess an image that is inferred right after (not one prepared ahead during another's
   * inference) on two threads, this one and a helper (row-split.ts). Default: on when there are
   * at least two cores and the helper's bundle is built.
   */
  splitRows?: boolean;
  /** Preprocess 16-bit area reductions with the WebAssembly SIMD kernel where it applies (area-simd.ts). Default: on where WebAssembly SIMD is available. */
  simd?: boolean;
  /**
   * With the SIMD kernel: read the file's header first and its pixel rows chunk by chunk, each
   * just before the chunk is preprocessed (by whichever thread takes it), instead of the whole file
   * first. The file is then read by both threads and each row is used while still in the CPU's
   * cache. Default: on. Applies to native 16-bit greyscale with the window from the card or the
   * file, and no pixel digest to compute here; anything else reads the whole file first.
   */
  readRows?: boolean;
}

export type InferenceOutcome =
  | {
      kind: 'result';
      instance: InstanceIdentity;
      window: AppliedWindow;
      inverted: boolean;
      preprocessing: string;
      /** The output the labels come from, as the model gave it (before the card's activation). */
      output: number[];
      heatMap: { shape: number[]; values: Float32Array } | null;
      pixelSha256: string | null;
      timings: Timings;
    }
  | { kind: 'skipped'; instance: InstanceIdentity; reason: string }
  | { kind: 'failed'; instance: InstanceIdentity | null; code: string; message: string };

/** An image read and preprocessed, ready for ONNX Runtime (what the preparing thread hands over). */
export interface Prepared {
  kind: 'prepared';
  instance: InstanceIdentity;
  window: AppliedWindow;
  inverted: boolean;
  preprocessing: string;
  tensor: Float32Array;
  dims: [1, number, number, number];
  pixelSha256: string | null;
  timings: Omit<Timings, 'inferenceMs'>;
}

export type SkippedOrFailed = Exclude<InferenceOutcome, { kind: 'result' }>;

function failedOutcome(err: unknown, instance: InstanceIdentity | null): SkippedOrFailed {
  const code = err instanceof AppError ? err.code : 'INFERENCE_FAILED';
  const message = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 400) : String(err);
  return { kind: 'failed', instance, code, message };
}

/** The header of almost every file fits; one whose Pixel Data starts later is read whole. */
const HEAD_BYTES = 64 * 1024;

/**
 * Where a file whose header alone was read has its pixel rows (native, unsigned 16-bit, inside the
 * file), when the window comes from the card or the file's header; null otherwise (the pixels are
 * then needed before preprocessing: a window from their range, a decode, a digest).
 */
function rowSourceOf(head: { size: number; all: Uint8Array; parsed: ParsedDicom }, job: InferenceJob): RowSource | null {
  const words = storedWordsOf(head.parsed.dataSet, head.parsed.transferSyntaxUid);
  if (!words || !(words.samples instanceof Uint16Array)) return null;
  const w = job.model.card.preprocessing.window;
  const fromHeader = w.mode === 'fixed' || (w.mode === 'file' && fileWindowOf(head.parsed.dataSet) !== null);
  if (!fromHeader) return null;
  const fileOffset = words.samples.byteOffset - head.all.byteOffset;
  const rowBytes = words.columns * 2;
  if (fileOffset + rowBytes * words.rows > head.size) return null;
  return { fileOffset, memoryOffset: words.samples.byteOffset, rowBytes, rows: words.rows };
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

export class InferenceEngine {
  /** Sessions by model id (content-addressed, so a changed model is a new id). */
  private readonly sessions = new Map<string, Promise<OrtSession>>();
  /**
   * Reused from image to image (fewer allocations per image, so V8's collector competes less with
   * ONNX Runtime for the cores): the file buffer and, per model, the preprocessing buffers. Only one
   * image uses them at a time; a second concurrent run allocates its own.
   */
  private fileBuffer: Buffer = Buffer.alloc(0);
  private readonly scratch = new Map<string, PreprocessScratch>();
  private busy = false;
  /** The helper thread for splitting an image's preprocessing (null: one thread). */
  private readonly splitter: RowSplitter | null;
  /** The SIMD preprocessing; files are read into its memory so it needs no copy (null: unavailable or off). */
  private readonly simd: SimdAreaReducer | null;

  constructor(
    private readonly decode: PixelDecoder,
    private readonly options: EngineSessionOptions = {},
  ) {
    this.simd = options.simd === false ? null : SimdAreaReducer.create();
    this.splitter = options.splitRows === false ? null : RowSplitter.create(undefined, this.simd);
  }

  /**
   * The session for a model, loaded from the very bytes whose SHA-256 was checked against the
   * installed hash (no window between checking the file and loading it).
   */
  private session(job: InferenceJob): Promise<OrtSession> {
    let s = this.sessions.get(job.model.id);
    if (!s) {
      const bytes = readFileSync(job.model.modelPath);
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== job.model.modelSha256) {
        return Promise.reject(
          new AppError(ErrorCode.Tampered, `The model file ${job.model.modelPath} no longer matches the SHA-256 recorded when it was installed.`, 'Remove the model and add it again.'),
        );
      }
      s = loadSession(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), this.options);
      s.catch(() => this.sessions.delete(job.model.id));
      this.sessions.set(job.model.id, s);
    }
    return s;
  }

  /** The whole file, read into the reused buffer (grown when a file is larger). */
  private readFile(path: string, reuse: boolean): Buffer {
    if (!reuse) return readFileSync(path);
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      // in the SIMD kernel's memory (shared, so the row helper can read it too)
      if (this.simd) {
        const b = this.simd.fileBytes(size);
        this.fileBuffer = Buffer.from(b.buffer, b.byteOffset, size);
      }
      // shared memory when a helper thread preprocesses part of the rows straight from the file's bytes
      else if (this.fileBuffer.length < size) {
        const n = Math.ceil(size * 1.1);
        this.fileBuffer = this.splitter ? Buffer.from(new SharedArrayBuffer(n)) : Buffer.allocUnsafe(n);
      }
      let off = 0;
      while (off < size) {
        const n = readSync(fd, this.fileBuffer, off, size - off, off);
        if (n === 0) break;
        off += n;
      }
      return this.fileBuffer.subarray(0, off);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The file's header read into the kernel's memory and parsed (stopping at Pixel Data), the rest
   * left unread; null when the header does not fit in the first HEAD_BYTES or does not parse as
   * expected (the caller then reads the whole file as before, and its errors are the usual ones).
   */
  private readHead(path: string): { fd: number; size: number; all: Uint8Array; parsed: ParsedDicom } | null {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const all = this.simd!.fileBytes(size);
      const headLen = Math.min(size, HEAD_BYTES);
      if (readFully(fd, all, headLen, 0) < headLen) throw new Error('short read');
      const head = all.subarray(0, headLen);
      // the usual Explicit VR Little Endian header without dicom-parser (the same data set; null: it decides)
      const parsed = parseHeaderFast(head, size) ?? parseDicomBytes(head, { headerOnly: true, fileSize: size });
      // the elements' offsets are the same in the whole file's view, which the pixel rows go into
      (parsed.dataSet as { byteArray: Uint8Array }).byteArray = all;
      return { fd, size, all, parsed };
    } catch {
      closeSync(fd);
      return null;
    }
  }

  /** One image start to finish in this thread: prepare, then infer. */
  async run(job: InferenceJob): Promise<InferenceOutcome> {
    const reuse = !this.busy;
    this.busy = true;
    try {
      // inferred right after: the cores are idle now, so the preprocessing may use two threads
      const p = await this.prepareOne(job, reuse, true);
      return p.kind === 'prepared' ? await this.infer(job, p) : p;
    } finally {
      if (reuse) this.busy = false;
    }
  }

  /**
   * Everything before ONNX Runtime (read, acceptance check, pixel digest, decode, preprocess), for
   * a second thread to run while this image's predecessor is inferred. The tensor is the caller's
   * own (not a reused buffer), so it can be transferred.
   */
  async prepare(job: InferenceJob): Promise<Prepared | SkippedOrFailed> {
    const reuse = !this.busy;
    this.busy = true;
    try {
      const p = await this.prepareOne(job, reuse, false);
      return p.kind === 'prepared' && reuse ? { ...p, tensor: p.tensor.slice() } : p;
    } finally {
      if (reuse) this.busy = false;
    }
  }

  private async prepareOne(job: InferenceJob, reuse: boolean, split: boolean): Promise<Prepared | SkippedOrFailed> {
    let instance: InstanceIdentity | null = null;
    // the file, open while its pixel rows are read chunk by chunk (readRows)
    let rowFd: number | null = null;
    try {
      // the row helper may still be writing the previous image's rows into the memory this file goes into
      if (reuse) await this.splitter?.quiesce();
      const t0 = now();
      // the header first and the pixel rows while preprocessing (readRows), or the whole file now
      // only where the row helper shares the reading (measured: in the preparing thread alone, beside
      // a running inference, reading chunk by chunk gained nothing and sometimes lost, docs/ai.md)
      const head = split && reuse && this.splitter && this.simd && this.options.readRows !== false && !job.computePixelDigest ? this.readHead(job.filePath) : null;
      let rows: RowSource | null = null;
      if (head) {
        rowFd = head.fd;
        rows = rowSourceOf(head, job);
        if (!rows) {
          closeSync(head.fd);
          rowFd = null;
        }
      }
      let parsed: ParsedDicom;
      if (head && rows) parsed = head.parsed;
      else {
        const bytes = this.readFile(job.filePath, reuse);
        parsed = parseDicomBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      }
      const ds = parsed.dataSet;
      instance = identityOf(ds);
      const t1 = now();
      const reason = whyNotAccepted(job.model.card, describeImage(ds));
      if (reason) return { kind: 'skipped', instance, reason };
      const pixelSha256 = job.computePixelDigest ? (await pixelDigest(ds, parsed.transferSyntaxUid, false)).pixel : null;
      const t2 = now();
      const grey = await greyImageOf(ds, parsed.transferSyntaxUid, this.decode);
      const t3 = now();
      let scratch = reuse ? this.scratch.get(job.model.id) : undefined;
      if (reuse && !scratch) this.scratch.set(job.model.id, (scratch = new PreprocessScratch()));
      let input: PreprocessedInput;
      let splitRows: Timings['splitRows'];
      const plan = (split && reuse && this.splitter) || this.simd ? planPreprocess(grey, job.model.card) : null;
      const simd = plan && this.simd && whyNotSimd(grey, job.model.card, plan) === null ? this.simd : null;
      const splitHere = plan && split && reuse && this.splitter?.canSplit(grey, plan) ? this.splitter : null;
      // rows still to be read need the kernel (with or without the helper); anything else reads them all now
      if (rows && rowFd !== null && !simd) {
        readSourceRows(rowFd, rows, 0, rows.rows, this.simd!.memory.buffer);
        rows = null;
      }
      if (plan && (simd || splitHere)) {
        const { height, width, channels } = job.model.card.input;
        const tensor = scratch ? scratch.floats('tensor', channels * height * width) : new Float32Array(channels * height * width);
        // the kernel must find the rows where they are read to (samplesAt copies samples from elsewhere)
        if (rows && rowFd !== null && simd && !(grey.samples.buffer === simd.memory.buffer && grey.samples.byteOffset === rows.memoryOffset)) {
          readSourceRows(rowFd, rows, 0, rows.rows, simd.memory.buffer);
          rows = null;
        }
        const pending = rows && rowFd !== null ? { rows, fd: rowFd, path: job.filePath } : null;
        const kernel = simd ? { reducer: simd, src: simd.samplesAt(grey), ...(pending ?? {}) } : undefined;
        if (splitHere) splitRows = splitHere.run(grey, job.model.card, plan, tensor, scratch, kernel);
        else if (kernel) {
          // one thread: chunk by chunk, each chunk's rows read just before it is reduced
          for (let from = 0; from < height; from += CHUNK_ROWS) {
            const out = { from, to: Math.min(height, from + CHUNK_ROWS) };
            if (pending) readSourceRows(pending.fd, pending.rows, ...sourceRowsOf(out, grey.rows, height), kernel.reducer.memory.buffer);
            kernel.reducer.runAt(kernel.src, grey, job.model.card, plan, out, tensor);
          }
        }
        input = { tensor, dims: [1, channels, height, width], window: plan.window, inverted: plan.inverted, preprocessing: PREPROCESSING_ID };
      } else input = preprocess(grey, job.model.card, scratch);
      const t4 = now();
      return {
        kind: 'prepared',
        instance,
        window: input.window,
        inverted: input.inverted,
        preprocessing: input.preprocessing,
        tensor: input.tensor,
        dims: input.dims,
        pixelSha256,
        timings: { readMs: t1 - t0, decodeMs: t3 - t2, preprocessMs: t4 - t3, ...(splitRows ? { splitRows } : {}), ...(simd ? { simd: true } : {}), ...(rows ? { rowsRead: true } : {}) },
      };
    } catch (err) {
      return failedOutcome(err, instance);
    } finally {
      if (rowFd !== null) closeSync(rowFd);
    }
  }

  /** ONNX Runtime on a prepared image, and the outputs read. */
  async infer(job: InferenceJob, p: Prepared): Promise<InferenceOutcome> {
    try {
      const t4 = now();
      const card = job.model.card;
      const session = await this.session(job);
      const feeds = { [card.input.name]: new ort.Tensor('float32', p.tensor, p.dims) };
      const fetches = card.heatMap ? [card.output.name, card.heatMap.name] : [card.output.name];
      const out = await session.run(feeds, fetches);
      const t5 = now();
      const probs = out[card.output.name]!;
      const heat = card.heatMap ? out[card.heatMap.name]! : null;
      return {
        kind: 'result',
        instance: p.instance,
        window: p.window,
        inverted: p.inverted,
        preprocessing: p.preprocessing,
        output: Array.from(probs.data as Float32Array),
        heatMap: heat ? { shape: heat.dims.map(Number), values: Float32Array.from(heat.data as Float32Array) } : null,
        pixelSha256: p.pixelSha256,
        timings: { ...p.timings, inferenceMs: t5 - t4 },
      };
    } catch (err) {
      return failedOutcome(err, p.instance);
    }
  }

  async close(): Promise<void> {
    await this.splitter?.close();
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await s.then((x) => x.release()).catch(() => undefined);
  }
}
