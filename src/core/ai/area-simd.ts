/**
 * Steps 1–6 of the preprocessing (preprocess.ts) for the commonest input — unsigned 16-bit stored
 * words reduced by area to the model's size through a window whose bounds fall on whole stored
 * values — in WebAssembly (area-kernel.wat): the sums down the columns in SIMD, 8 columns per step
 * (in 16-bit lanes where they fit), then the sums across and the affine maps, one call per batch of
 * output rows. With the sums across in JavaScript, a 2,048² radiograph to 224² took 1.39 ms of CPU;
 * in the kernel 0.66 ms, the same floats (bit for bit).
 *
 * Why it is exact: inside the window, step 2 is affine in the stored value (v = α·s + β), and
 * outside it is 0 or 1, which is the affine value of the bound. So with the stored values clamped
 * to the window's bounds L and H (whole numbers), v = α·clamp(s, L, H) + β for every s, and an
 * area average of v is α · (average of the clamped values) + β. The kernel sums the clamped values
 * as integers; the box weights of an area reduction from n to m samples are multiples of
 * gcd(n, m) / m, so they are integers too (scaled by m / gcd). What is left in floating point is
 * one multiply-add per output value. Equal to windowAreaNormalise up to float rounding
 * (test/unit/ai/area-simd.test.ts); same PREPROCESSING_ID.
 *
 * The samples must be in the kernel's memory: `fileBytes` hands out a view there to read a file
 * into (the inference engine does), and any other image is copied in first.
 */
import { AREA_KERNEL_WASM } from './area-kernel-wasm';
import type { ModelCard } from './card';
import { channelAffine, type GreyImage, type OutputRows, type PreprocessPlan } from './preprocess';

/**
 * Each thread's region of the memory (area-kernel.wat has the layout): column sums for 65,536
 * columns, the horizontal and vertical plans (4,096 outputs each at most), the channels' affine
 * maps and an output block of 16,384 floats.
 */
const SLOT_BYTES = 9 * 65536;
const H_PLAN = 262144;
const V_PLAN = 360448;
const AFFINE = 458752;
const OUT = 462848;
const OUT_FLOATS = 16384;
/** The kernel's limits: output size per axis and channels (anything larger takes the JavaScript path). */
const MAX_OUTPUT = 4096;
const MAX_CHANNELS = 4;
/** Threads that may share one memory (the calling thread and the row helper), each with its own region. */
const SLOTS = 2;
/** Where a file's bytes start: after every thread's region. */
const FILE_START = SLOTS * SLOT_BYTES;
const PAGE = 65536;

/** One axis of the reduction with integer weights (full pixel = `full`, each output's total = `total`). */
export interface IntegerAreaPlan {
  full: number;
  total: number;
  full0: Int32Array;
  full1: Int32Array;
  headIndex: Int32Array;
  headWeight: Int32Array;
  tailIndex: Int32Array;
  tailWeight: Int32Array;
}

const gcd = (a: number, b: number): number => {
  while (b) [a, b] = [b, a % b];
  return a;
};

/**
 * The area plan of preprocess.ts's areaPlan in whole numbers: source pixel x spans [x·m, (x+1)·m)
 * and output j spans [j·n, (j+1)·n) in units of 1/m pixel, so every overlap is a whole number of
 * units; divided by g = gcd(n, m).
 */
export function integerAreaPlan(from: number, to: number): IntegerAreaPlan {
  if (!(Number.isInteger(from) && Number.isInteger(to) && to >= 1 && from >= to)) throw new Error(`an area reduction needs whole 1 ≤ output (${to}) ≤ input (${from})`);
  const g = gcd(from, to);
  const p: IntegerAreaPlan = {
    full: to / g,
    total: from / g,
    full0: new Int32Array(to),
    full1: new Int32Array(to),
    headIndex: new Int32Array(to),
    headWeight: new Int32Array(to),
    tailIndex: new Int32Array(to),
    tailWeight: new Int32Array(to),
  };
  for (let j = 0; j < to; j++) {
    const a = j * from;
    const b = (j + 1) * from;
    const fa = Math.floor(a / to);
    const fb = Math.floor(b / to);
    p.headIndex[j] = fa;
    if (a % to) {
      p.headWeight[j] = ((fa + 1) * to - a) / g;
      p.full0[j] = fa + 1;
    } else p.full0[j] = fa;
    p.full1[j] = fb;
    p.tailIndex[j] = fa;
    if (b % to && fb < from) {
      p.tailIndex[j] = fb;
      p.tailWeight[j] = (b - fb * to) / g;
    }
  }
  return p;
}

/** The window as bounds on the stored value and its affine part (v = alpha · s + beta between them). */
interface StoredWindow {
  lo: number;
  hi: number;
  alpha: number;
  beta: number;
  mask: number;
}

/** Why an image cannot take the kernel (null: it can). */
export function whyNotSimd(img: GreyImage, card: Pick<ModelCard, 'input'>, plan: PreprocessPlan): string | null {
  if (!plan.onePass) return 'not an area reduction of integer samples';
  if (!(img.samples instanceof Uint16Array)) return 'not unsigned 16-bit samples';
  const sb = img.storedBits;
  if (sb && (sb.signed || sb.highBit !== sb.bitsStored - 1 || sb.bitsStored > 16 || sb.bitsStored < 1)) return 'stored bits signed or not at the bottom of the word';
  if (img.samples.length < img.rows * img.columns) return 'fewer samples than pixels';
  const { height, width, channels } = card.input;
  if (height > MAX_OUTPUT || width > MAX_OUTPUT || channels > MAX_CHANNELS || img.columns > 65536) return `the model's input (${channels}×${height}×${width}) is larger than the kernel's buffers`;
  const total = Math.max(img.rows / gcd(img.rows, card.input.height), img.columns / gcd(img.columns, card.input.width));
  // a column sum is at most 65,535 · total (i32); the output's sum 65,535 · total² (exact in f64)
  if (65535 * total >= 2 ** 31) return 'the reduction ratio is too irregular for 32-bit sums';
  if (storedWindow(img, plan) === null) return 'the window bounds are not whole stored values';
  return null;
}

function storedWindow(img: Omit<GreyImage, 'samples'>, plan: PreprocessPlan): StoredWindow | null {
  const { center, width } = plan.window;
  const slope = img.rescaleSlope;
  const intercept = img.rescaleIntercept;
  if (!(slope > 0 && width > 0)) return null;
  const sb = img.storedBits;
  const max = sb ? 2 ** sb.bitsStored - 1 : 65535;
  const wlo = center - width / 2;
  // the stored values where the window starts and ends
  const vlo = (wlo - intercept) / slope;
  const vhi = (wlo + width - intercept) / slope;
  if (!(vlo <= 0 || Number.isInteger(vlo)) || !(vhi >= max || Number.isInteger(vhi))) return null;
  const lo = Math.max(0, Math.min(max, Math.ceil(vlo)));
  const hi = Math.max(0, Math.min(max, Math.floor(vhi)));
  return { lo, hi, alpha: slope / width, beta: (intercept - wlo) / width, mask: max };
}

type ReduceRows = (
  src: number,
  stride: number,
  columns: number,
  from: number,
  to: number,
  vFull: number,
  hFull: number,
  width: number,
  mask: number,
  lo: number,
  hi: number,
  scale: number,
  offset: number,
  channels: number,
  slot: number,
) => void;

let compiled: WebAssembly.Module | null = null;

export class SimdAreaReducer {
  private bytes: SharedArrayBuffer;
  private readonly plans = new Map<string, IntegerAreaPlan>();
  /** Which reduction's plans are in this thread's region now. */
  private planned = '';

  private constructor(
    /** The kernel's memory (shared: a second thread may attach to it, see `attach`). */
    readonly memory: WebAssembly.Memory,
    private readonly reduceRows: ReduceRows,
    /** Byte offset of this thread's region. */
    private readonly slot: number,
  ) {
    this.bytes = memory.buffer as unknown as SharedArrayBuffer;
  }

  private static instantiate(memory: WebAssembly.Memory, slot: number): SimdAreaReducer {
    compiled ??= new WebAssembly.Module(Uint8Array.from(atob(AREA_KERNEL_WASM), (c) => c.charCodeAt(0)));
    const instance = new WebAssembly.Instance(compiled, { env: { memory } });
    return new SimdAreaReducer(memory, instance.exports.reduceRows as unknown as ReduceRows, slot * SLOT_BYTES);
  }

  /** A reducer with its own memory, or null where WebAssembly SIMD or shared memory is not available. */
  static create(): SimdAreaReducer | null {
    try {
      return SimdAreaReducer.instantiate(new WebAssembly.Memory({ initial: FILE_START / PAGE + 1, maximum: 65536, shared: true }), 0);
    } catch {
      return null;
    }
  }

  /** The same memory seen from another thread (the row helper), with its own region; null where it cannot load. */
  static attach(memory: WebAssembly.Memory): SimdAreaReducer | null {
    try {
      return SimdAreaReducer.instantiate(memory, 1);
    } catch {
      return null;
    }
  }

  /** The memory's current bytes (another thread may have grown it). */
  private current(): SharedArrayBuffer {
    if (this.bytes.byteLength !== (this.memory.buffer as unknown as SharedArrayBuffer).byteLength) this.bytes = this.memory.buffer as unknown as SharedArrayBuffer;
    return this.bytes;
  }

  /** `size` bytes in the kernel's memory (shared), for a file to be read into; valid until the next call. */
  fileBytes(size: number): Uint8Array {
    const need = FILE_START + size;
    const have = this.current().byteLength;
    if (have < need) {
      this.memory.grow(Math.ceil((need - have) / PAGE));
      this.bytes = this.memory.buffer as unknown as SharedArrayBuffer;
    }
    return new Uint8Array(this.bytes, FILE_START, size);
  }

  /**
   * Where the image's samples start in the kernel's memory (copied there when they are elsewhere).
   * The row helper is given this offset, so both threads read the same bytes.
   */
  samplesAt(img: GreyImage): number {
    const s = img.samples as Uint16Array;
    const n = img.rows * img.columns;
    // a view made from fileBytes (a view of the memory from before it grew cannot be told from other memory: copied)
    if (s.buffer === this.current() && s.byteOffset >= FILE_START) return s.byteOffset;
    const into = this.fileBytes(n * 2);
    new Uint16Array(into.buffer, into.byteOffset, n).set(s.subarray(0, n));
    return into.byteOffset;
  }

  private plan(from: number, to: number): IntegerAreaPlan {
    const key = `${from}>${to}`;
    let p = this.plans.get(key);
    if (!p) this.plans.set(key, (p = integerAreaPlan(from, to)));
    return p;
  }

  /**
   * Output rows [rows.from, rows.to) into `target` (the whole 1×C×H×W tensor), as preprocessRows
   * would write them. Only for an image whyNotSimd accepts.
   */
  run(img: GreyImage, card: Pick<ModelCard, 'input' | 'preprocessing'>, plan: PreprocessPlan, rows: OutputRows, target: Float32Array): void {
    const why = whyNotSimd(img, card, plan);
    if (why) throw new Error(`the SIMD preprocessing does not apply: ${why}`);
    this.runAt(this.samplesAt(img), img, card, plan, rows, target);
  }

  /**
   * `run` on samples already at byte offset `src` of the memory (samplesAt), for an image whyNotSimd
   * accepted; `img.samples` is not read (the row helper has only the offset).
   */
  runAt(src: number, img: Omit<GreyImage, 'samples'>, card: Pick<ModelCard, 'input' | 'preprocessing'>, plan: PreprocessPlan, rows: OutputRows, target: Float32Array): void {
    const { height, width, channels } = card.input;
    const n = height * width;
    if (target.length !== n * channels) throw new Error(`the tensor has ${target.length} values, the card's input ${channels}×${height}×${width}`);
    const { columns } = img;
    const w = storedWindow(img, plan)!;
    const v = this.plan(img.rows, height);
    const h = this.plan(columns, width);
    const bytes = this.current();
    const key = `${img.rows}>${height},${columns}>${width}`;
    if (this.planned !== key) {
      for (const [at, p] of [
        [H_PLAN, h],
        [V_PLAN, v],
      ] as const)
        [p.full0, p.full1, p.headIndex, p.headWeight, p.tailIndex, p.tailWeight].forEach((a, k) => new Int32Array(bytes, this.slot + at + k * MAX_OUTPUT * 4, a.length).set(a));
      this.planned = key;
    }
    // v = alpha·s + beta, averaged: alpha · I / (totalV · totalH) + beta, then inverted and normalised
    const scale = w.alpha / (v.total * h.total);
    const { mul, add } = channelAffine(card.preprocessing.normalise, channels);
    const affine = new Float64Array(bytes, this.slot + AFFINE, 2 * MAX_CHANNELS);
    for (let c = 0; c < channels; c++) [affine[c], affine[MAX_CHANNELS + c]] = [mul[c]!, add[c]!];
    const sign = plan.inverted ? -1 : 1;
    const offset = plan.inverted ? 1 - w.beta : w.beta;
    // as many output rows per call as the output block holds, then copied out channel by channel
    const batch = Math.max(1, Math.floor(OUT_FLOATS / (channels * width)));
    const to = Math.min(height, rows.to);
    for (let from = Math.max(0, rows.from); from < to; from += batch) {
      const end = Math.min(to, from + batch);
      this.reduceRows(src, columns * 2, columns, from, end, v.full, h.full, width, w.mask, w.lo, w.hi, sign * scale, offset, channels, this.slot);
      const plane = (end - from) * width;
      for (let c = 0; c < channels; c++) target.set(new Float32Array(bytes, this.slot + OUT + c * plane * 4, plane), c * n + from * width);
    }
  }
}
