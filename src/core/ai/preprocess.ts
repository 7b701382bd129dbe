/**
 * Pixels → model input tensor, the pure maths (docs/ai.md "Preprocessing"). Version
 * PREPROCESSING_ID; any change to these formulas must change the id, since results record it.
 *
 *   1. modality rescale      m = stored · RescaleSlope + RescaleIntercept
 *   2. window                v = clamp((m − lo) / (hi − lo), 0, 1),  lo = C − W/2, hi = C + W/2
 *                            (C, W from the card, the file's first Window Center/Width, or the
 *                            image's own min..max)
 *   3. MONOCHROME1           v = 1 − v   (when the card asks for it; the default)
 *   4. resize to the card's width × height: separable; "area" = exact box average over each
 *      output pixel's footprint, "bilinear" = half-pixel centres without antialiasing,
 *      "nearest" = source pixel floor((j + ½) · scale)
 *   5. normalise             meanStd: (v − mean[c]) / std[c];  scale: v · scale + offset
 *   6. channels              grey repeated into every channel; layout N×C×H×W, N = 1
 *
 * The common case (8/16-bit samples, area reduction) runs all six steps in one pass
 * (windowAreaNormalise); it equals the step-by-step functions below up to float rounding (≤ 1e-5
 * per tensor value, test/unit/ai/preprocess-fused.test.ts), so it is the same PREPROCESSING_ID.
 */
import type { ModelCard, NormaliseSpec, ResizeMethod, WindowSpec } from './card';

export const PREPROCESSING_ID = 'medimgshr-ai-preprocess/1';

export type SampleArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array;

export interface GreyImage {
  rows: number;
  columns: number;
  /** rows × columns stored values, row by row. */
  samples: SampleArray;
  rescaleSlope: number;
  rescaleIntercept: number;
  photometricInterpretation: string;
  /** The file's first Window Center/Width pair, in rescaled units, if any. */
  fileWindow: { center: number; width: number } | null;
  /**
   * Set when `samples` are the 8- or 16-bit words as stored in the file (a Uint8Array or
   * Uint16Array view, no copy): the stored value is Bits Stored bits ending at High Bit,
   * sign-extended when signed. The look-up table of steps 1–3 then also does this masking, so a
   * native image needs no decoded copy. Absent: `samples` already hold the stored values.
   */
  storedBits?: StoredBits;
}

export interface StoredBits {
  bitsStored: number;
  highBit: number;
  signed: boolean;
}

/** The stored value in a word of a file (Bits Stored bits ending at High Bit, sign-extended when signed). */
export function storedValueOf(word: number, b: StoredBits): number {
  const v = Math.floor(word / 2 ** (b.highBit + 1 - b.bitsStored)) % 2 ** b.bitsStored;
  return b.signed && v >= 2 ** (b.bitsStored - 1) ? v - 2 ** b.bitsStored : v;
}

export interface AppliedWindow {
  center: number;
  width: number;
  source: 'card' | 'file' | 'minmax';
}

export interface PreprocessedInput {
  /** 1 × channels × height × width, float32. */
  tensor: Float32Array;
  dims: [1, number, number, number];
  window: AppliedWindow;
  inverted: boolean;
  preprocessing: typeof PREPROCESSING_ID;
}

/** The modality-rescaled min and max of the image. */
export function rescaledRange(img: GreyImage): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  const s = img.samples;
  const sb = img.storedBits;
  if (sb) {
    // which words occur, then their stored values (the words are at most 16 bits)
    const seen = new Uint8Array(s instanceof Uint8Array ? 256 : 65536);
    for (let i = 0; i < s.length; i++) seen[s[i]!] = 1;
    for (let w = 0; w < seen.length; w++) {
      if (!seen[w]) continue;
      const v = storedValueOf(w, sb);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  } else {
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const a = min * img.rescaleSlope + img.rescaleIntercept;
  const b = max * img.rescaleSlope + img.rescaleIntercept;
  return { min: Math.min(a, b), max: Math.max(a, b) };
}

/** Which window step 2 uses. A window of width 0 (a flat image) becomes width 1 so nothing divides by 0. */
export function chooseWindow(spec: WindowSpec, img: GreyImage): AppliedWindow {
  if (spec.mode === 'fixed') return { center: spec.center, width: spec.width, source: 'card' };
  if (spec.mode === 'file' && img.fileWindow && img.fileWindow.width > 0) return { ...img.fileWindow, source: 'file' };
  const { min, max } = rescaledRange(img);
  return { center: (min + max) / 2, width: max > min ? max - min : 1, source: 'minmax' };
}

/** Steps 1–3 for one stored value. */
export function windowValue(stored: number, img: Pick<GreyImage, 'rescaleSlope' | 'rescaleIntercept'>, w: AppliedWindow, invert: boolean): number {
  const m = stored * img.rescaleSlope + img.rescaleIntercept;
  const lo = w.center - w.width / 2;
  let v = (m - lo) / w.width;
  v = v < 0 ? 0 : v > 1 ? 1 : v;
  return invert ? 1 - v : v;
}

/** Steps 1–3 as a look-up table for integer samples of up to 16 bits (index = stored − base), else null. */
function windowLut(img: GreyImage, w: AppliedWindow, invert: boolean, scratch?: PreprocessScratch): { lut: Float32Array; base: number } | null {
  const s = img.samples;
  if (!(s instanceof Uint8Array || s instanceof Int8Array || s instanceof Uint16Array || s instanceof Int16Array)) {
    if (img.storedBits) throw new Error('stored words must be 8 or 16 bits');
    return null;
  }
  const sb = img.storedBits;
  if (sb && !(s instanceof Uint8Array || s instanceof Uint16Array)) throw new Error('stored words must be unsigned 8- or 16-bit arrays');
  const base = s instanceof Int8Array ? -128 : s instanceof Int16Array ? -32768 : 0;
  const size = s instanceof Uint8Array || s instanceof Int8Array ? 256 : 65536;
  // a series of images from one modality mostly shares its window and rescale: the table is reused
  const key = `${base}:${size}:${sb ? `${sb.bitsStored}.${sb.highBit}.${sb.signed}` : '-'}:${img.rescaleSlope}:${img.rescaleIntercept}:${w.center}:${w.width}:${invert}`;
  if (scratch?.lutKey === key && scratch.lut) return { lut: scratch.lut, base };
  const lut = scratch ? scratch.floats('lut', size) : new Float32Array(size);
  if (sb) for (let i = 0; i < size; i++) lut[i] = windowValue(storedValueOf(i, sb), img, w, invert);
  else for (let i = 0; i < size; i++) lut[i] = windowValue(i + base, img, w, invert);
  if (scratch) {
    scratch.lut = lut;
    scratch.lutKey = key;
  }
  return { lut, base };
}

/**
 * Buffers one caller reuses from image to image (the inference engine keeps one per model and runs
 * one image at a time): the window table, the resize's intermediate rows, the plane and the input
 * tensor are allocated once instead of per image. What `preprocess` returns with a scratch is only
 * valid until the next call with the same scratch.
 */
export class PreprocessScratch {
  lut: Float32Array | null = null;
  lutKey = '';
  private readonly buffers = new Map<string, Float32Array>();
  private readonly doubleBuffers = new Map<string, Float64Array>();
  /** A float buffer of exactly n values (contents undefined), reused while it is large enough. */
  floats(name: string, n: number): Float32Array {
    let b = this.buffers.get(name);
    if (!b || b.length < n) {
      b = new Float32Array(n);
      this.buffers.set(name, b);
    }
    return b.length === n ? b : b.subarray(0, n);
  }
  /** The same for float64 accumulators. */
  doubles(name: string, n: number): Float64Array {
    let b = this.doubleBuffers.get(name);
    if (!b || b.length < n) {
      b = new Float64Array(n);
      this.doubleBuffers.set(name, b);
    }
    return b.length === n ? b : b.subarray(0, n);
  }
  /** Area plans by (from, to), reused while the image size stays the same. */
  readonly plans = new Map<string, AreaPlan>();
}

/** Steps 1–3 over the whole image. */
export function windowImage(img: GreyImage, w: AppliedWindow, invert: boolean): Float32Array {
  const s = img.samples;
  const out = new Float32Array(s.length);
  const t = windowLut(img, w, invert);
  if (t) for (let i = 0; i < s.length; i++) out[i] = t.lut[s[i]! - t.base]!;
  else for (let i = 0; i < s.length; i++) out[i] = windowValue(s[i]!, img, w, invert);
  return out;
}

/** For each output index, the source indices it reads and their weights (summing to 1). */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  /** max taps per output */
  stride: number;
}

export function resizeTaps(from: number, to: number, method: ResizeMethod): Taps {
  const scale = from / to;
  const stride = method === 'nearest' ? 1 : method === 'bilinear' ? 2 : Math.ceil(scale) + 2;
  const start = new Int32Array(to);
  const count = new Int32Array(to);
  const weights = new Float32Array(to * stride);
  for (let j = 0; j < to; j++) {
    if (method === 'nearest') {
      start[j] = Math.min(from - 1, Math.floor((j + 0.5) * scale));
      count[j] = 1;
      weights[j] = 1;
    } else if (method === 'bilinear' || scale <= 1) {
      // (area of an enlargement is the bilinear interpolation of the covering pixels)
      const src = Math.min(from - 1, Math.max(0, (j + 0.5) * scale - 0.5));
      const i0 = Math.floor(src);
      const f = src - i0;
      start[j] = i0;
      count[j] = i0 + 1 < from && f > 0 ? 2 : 1;
      weights[j * stride] = count[j] === 2 ? 1 - f : 1;
      if (count[j] === 2) weights[j * stride + 1] = f;
    } else {
      const a = j * scale;
      const b = Math.min(from, (j + 1) * scale);
      const i0 = Math.floor(a);
      const i1 = Math.min(from - 1, Math.ceil(b) - 1);
      start[j] = i0;
      count[j] = i1 - i0 + 1;
      for (let i = i0; i <= i1; i++) weights[j * stride + (i - i0)] = (Math.min(b, i + 1) - Math.max(a, i)) / (b - a);
    }
  }
  return { start, count, weights, stride };
}

/** Step 4: resizes a rows × columns plane to height × width. */
export function resizePlane(src: Float32Array, rows: number, columns: number, height: number, width: number, method: ResizeMethod): Float32Array {
  if (rows === height && columns === width) return src;
  return resample((i) => src[i]!, src, null, rows, columns, height, width, method);
}

/**
 * Steps 1–4 in one pass over the source (the windowed full-size image is never materialised):
 * the same values as resizePlane(windowImage(…)), without a 2,048² float copy.
 */
export function windowAndResize(img: GreyImage, w: AppliedWindow, invert: boolean, height: number, width: number, method: ResizeMethod, scratch?: PreprocessScratch): Float32Array {
  const t = windowLut(img, w, invert, scratch);
  if (!t || (img.rows === height && img.columns === width)) return resizePlane(windowImage(img, w, invert), img.rows, img.columns, height, width, method);
  return resample(null, img.samples, t, img.rows, img.columns, height, width, method, scratch);
}

function resample(
  read: ((i: number) => number) | null,
  samples: SampleArray,
  table: { lut: Float32Array; base: number } | null,
  rows: number,
  columns: number,
  height: number,
  width: number,
  method: ResizeMethod,
  scratch?: PreprocessScratch,
): Float32Array {
  const h = resizeTaps(columns, width, method);
  const v = resizeTaps(rows, height, method);
  // only the source rows some output row reads
  const needed = new Uint8Array(rows);
  for (let i = 0; i < height; i++) for (let t = 0; t < v.count[i]!; t++) needed[v.start[i]! + t] = 1;
  // horizontal pass: rows × width (only the needed rows are written, and only they are read)
  const tmp = scratch ? scratch.floats('rows', rows * width) : new Float32Array(rows * width);
  const lut = table?.lut;
  const base = table?.base ?? 0;
  for (let r = 0; r < rows; r++) {
    if (!needed[r]) continue;
    const row = r * columns;
    for (let j = 0; j < width; j++) {
      const s = row + h.start[j]!;
      const n = h.count[j]!;
      const wo = j * h.stride;
      let acc = 0;
      if (lut && n >= 3) {
        // an area tap: partial first and last pixels, equal weights in between (one multiply)
        let mid = 0;
        for (let t = 1; t < n - 1; t++) mid += lut[samples[s + t]! - base]!;
        acc = lut[samples[s]! - base]! * h.weights[wo]! + mid * h.weights[wo + 1]! + lut[samples[s + n - 1]! - base]! * h.weights[wo + n - 1]!;
      } else if (lut) for (let t = 0; t < n; t++) acc += lut[samples[s + t]! - base]! * h.weights[wo + t]!;
      else for (let t = 0; t < n; t++) acc += read!(s + t) * h.weights[wo + t]!;
      tmp[r * width + j] = acc;
    }
  }
  // vertical pass: height × width
  const out = scratch ? scratch.floats('plane', height * width).fill(0) : new Float32Array(height * width);
  for (let i = 0; i < height; i++) {
    const s = v.start[i]!;
    const n = v.count[i]!;
    const wo = i * v.stride;
    const o = i * width;
    for (let t = 0; t < n; t++) {
      const wt = v.weights[wo + t]!;
      const row = (s + t) * width;
      for (let j = 0; j < width; j++) out[o + j]! += tmp[row + j]! * wt;
    }
  }
  return out;
}

/** Steps 5–6: writes the normalised plane into each channel of a 1×C×H×W tensor. */
export function normaliseChannels(plane: Float32Array, channels: number, spec: NormaliseSpec, scratch?: PreprocessScratch): Float32Array {
  const n = plane.length;
  const out = scratch ? scratch.floats('tensor', n * channels) : new Float32Array(n * channels);
  for (let c = 0; c < channels; c++) {
    let mul: number, add: number;
    if (spec.mode === 'meanStd') {
      const mean = spec.mean.length === 1 ? spec.mean[0]! : spec.mean[c]!;
      const std = spec.std.length === 1 ? spec.std[0]! : spec.std[c]!;
      mul = 1 / std;
      add = -mean / std;
    } else {
      mul = spec.scale;
      add = spec.offset;
    }
    const o = c * n;
    for (let i = 0; i < n; i++) out[o + i] = plane[i]! * mul + add;
  }
  return out;
}

/**
 * One axis of an area (box) reduction from `from` to `to` ≤ `from` samples: output j covers the
 * source interval [j·s, (j+1)·s), s = from / to; it is the sum of the whole source pixels in it
 * (`full0` ≤ i < `full1`, weight 1) plus the partly covered pixel at each end (`headIndex` with
 * `headWeight`, `tailIndex` with `tailWeight`; weight 0 when there is none), divided by the
 * interval's length (`inverseLength`). The same weights as resizeTaps(…, 'area').
 */
export interface AreaPlan {
  full0: Int32Array;
  full1: Int32Array;
  headIndex: Int32Array;
  headWeight: Float64Array;
  tailIndex: Int32Array;
  tailWeight: Float64Array;
  /** headWeight[j + 1] (0 for the last): the share of the right edge pixel that goes to the next box. */
  nextHeadWeight: Float64Array;
  inverseLength: Float64Array;
  from: number;
}

export function areaPlan(from: number, to: number): AreaPlan {
  if (!(to >= 1 && from >= to)) throw new Error(`an area reduction needs 1 ≤ output (${to}) ≤ input (${from})`);
  const scale = from / to;
  const p: AreaPlan = {
    full0: new Int32Array(to),
    full1: new Int32Array(to),
    headIndex: new Int32Array(to),
    headWeight: new Float64Array(to),
    tailIndex: new Int32Array(to),
    tailWeight: new Float64Array(to),
    nextHeadWeight: new Float64Array(to),
    inverseLength: new Float64Array(to),
    from,
  };
  for (let j = 0; j < to; j++) {
    const a = j * scale;
    const b = Math.min(from, (j + 1) * scale);
    const fa = Math.floor(a);
    const fb = Math.floor(b);
    // the first and last pixel of the interval are "partial" unless the bound is a whole number
    const headPartial = a > fa;
    const tailPartial = b > fb && fb < from;
    p.full0[j] = headPartial ? fa + 1 : fa;
    p.full1[j] = fb;
    p.headIndex[j] = fa;
    p.headWeight[j] = headPartial ? fa + 1 - a : 0;
    p.tailIndex[j] = tailPartial ? fb : fa;
    p.tailWeight[j] = tailPartial ? b - fb : 0;
    p.inverseLength[j] = 1 / (b - a);
  }
  for (let j = 0; j + 1 < to; j++) p.nextHeadWeight[j] = p.headWeight[j + 1]!;
  return p;
}

function planOf(from: number, to: number, scratch?: PreprocessScratch): AreaPlan {
  if (!scratch) return areaPlan(from, to);
  const key = `${from}>${to}`;
  let p = scratch.plans.get(key);
  if (!p) scratch.plans.set(key, (p = areaPlan(from, to)));
  return p;
}

/** Steps 5–6 as one multiply-add per channel. */
export function channelAffine(spec: NormaliseSpec, channels: number): { mul: Float64Array; add: Float64Array } {
  const mul = new Float64Array(channels);
  const add = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    if (spec.mode === 'meanStd') {
      const mean = spec.mean.length === 1 ? spec.mean[0]! : spec.mean[c]!;
      const std = spec.std.length === 1 ? spec.std[0]! : spec.std[c]!;
      mul[c] = 1 / std;
      add[c] = -mean / std;
    } else {
      mul[c] = spec.scale;
      add[c] = spec.offset;
    }
  }
  return { mul, add };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * One source row's windowed values added, with weight 1, into the column accumulator `a`
 * (a[x] += lut[s[off + x] − base]). Every column is its own sum, so the adds do not wait on each
 * other (summing a box into one register chained every add on the previous one); the row is read
 * once, front to back.
 */
function addRow(s: SampleArray, off: number, n: number, lut: Float32Array, base: number, a: Float64Array): void {
  for (let x = 0; x < n; x++) a[x]! += lut[s[off + x]! - base]!;
}

/**
 * addRow for unsigned 16-bit samples, two per 32-bit read: `words` views the samples' bytes from
 * `shift` (0 or 1) samples before the first.
 */
function addRowPairs(s: Uint16Array, words: Uint32Array, shift: number, off: number, n: number, lut: Float32Array, a: Float64Array): void {
  let x = 0;
  if ((off + shift) & 1) a[x++]! += lut[s[off]!]!;
  const kEnd = (off + n + shift) >> 1;
  for (let k = (off + x + shift) >> 1; k < kEnd; k++, x += 2) {
    const w = words[k]!;
    a[x]! += lut[w & 0xffff]!;
    a[x + 1]! += lut[w >>> 16]!;
  }
  if (x < n) a[x]! += lut[s[off + x]!]!;
}

/**
 * Eight source rows at once (each starting on a 32-bit word, an even number of columns), two
 * samples per 32-bit read: one accumulator load and store per column for eight pixels (measured here 1.5–1.7× faster than two rows per pass: the accumulator round trip,
 * not the table look-up, was the bottleneck). The sums are paired so no add waits on a long chain.
 */
function addEightRowsPairs(words: Uint32Array, shift: number, off: number, stride: number, n: number, lut: Float32Array, a: Float64Array, set: boolean): void {
  const k0 = (off + shift) >> 1;
  const d = stride >> 1;
  const pairs = n >> 1;
  // the first pass of an output row sets the column sums (no clearing pass before it)
  if (set) {
    for (let i = 0, k = k0; i < pairs; i++, k++) {
      const w0 = words[k]!;
      const w1 = words[k + d]!;
      const w2 = words[k + 2 * d]!;
      const w3 = words[k + 3 * d]!;
      const w4 = words[k + 4 * d]!;
      const w5 = words[k + 5 * d]!;
      const w6 = words[k + 6 * d]!;
      const w7 = words[k + 7 * d]!;
      const x = i << 1;
      a[x] = lut[w0 & 0xffff]! + lut[w1 & 0xffff]! + (lut[w2 & 0xffff]! + lut[w3 & 0xffff]!) + (lut[w4 & 0xffff]! + lut[w5 & 0xffff]! + (lut[w6 & 0xffff]! + lut[w7 & 0xffff]!));
      a[x + 1] = lut[w0 >>> 16]! + lut[w1 >>> 16]! + (lut[w2 >>> 16]! + lut[w3 >>> 16]!) + (lut[w4 >>> 16]! + lut[w5 >>> 16]! + (lut[w6 >>> 16]! + lut[w7 >>> 16]!));
    }
    return;
  }
  for (let i = 0, k = k0; i < pairs; i++, k++) {
    const w0 = words[k]!;
    const w1 = words[k + d]!;
    const w2 = words[k + 2 * d]!;
    const w3 = words[k + 3 * d]!;
    const w4 = words[k + 4 * d]!;
    const w5 = words[k + 5 * d]!;
    const w6 = words[k + 6 * d]!;
    const w7 = words[k + 7 * d]!;
    const x = i << 1;
    a[x]! += lut[w0 & 0xffff]! + lut[w1 & 0xffff]! + (lut[w2 & 0xffff]! + lut[w3 & 0xffff]!) + (lut[w4 & 0xffff]! + lut[w5 & 0xffff]! + (lut[w6 & 0xffff]! + lut[w7 & 0xffff]!));
    a[x + 1]! += lut[w0 >>> 16]! + lut[w1 >>> 16]! + (lut[w2 >>> 16]! + lut[w3 >>> 16]!) + (lut[w4 >>> 16]! + lut[w5 >>> 16]! + (lut[w6 >>> 16]! + lut[w7 >>> 16]!));
  }
}

/** Four source rows at once (as addEightRowsPairs). */
function addFourRowsPairs(words: Uint32Array, shift: number, off: number, stride: number, n: number, lut: Float32Array, a: Float64Array, set: boolean): void {
  const k0 = (off + shift) >> 1;
  const d = stride >> 1;
  const pairs = n >> 1;
  // the first pass of an output row sets the column sums (no clearing pass before it)
  if (set) {
    for (let i = 0, k = k0; i < pairs; i++, k++) {
      const w0 = words[k]!;
      const w1 = words[k + d]!;
      const w2 = words[k + 2 * d]!;
      const w3 = words[k + 3 * d]!;
      const x = i << 1;
      a[x] = lut[w0 & 0xffff]! + lut[w1 & 0xffff]! + (lut[w2 & 0xffff]! + lut[w3 & 0xffff]!);
      a[x + 1] = lut[w0 >>> 16]! + lut[w1 >>> 16]! + (lut[w2 >>> 16]! + lut[w3 >>> 16]!);
    }
    return;
  }
  for (let i = 0, k = k0; i < pairs; i++, k++) {
    const w0 = words[k]!;
    const w1 = words[k + d]!;
    const w2 = words[k + 2 * d]!;
    const w3 = words[k + 3 * d]!;
    const x = i << 1;
    a[x]! += lut[w0 & 0xffff]! + lut[w1 & 0xffff]! + (lut[w2 & 0xffff]! + lut[w3 & 0xffff]!);
    a[x + 1]! += lut[w0 >>> 16]! + lut[w1 >>> 16]! + (lut[w2 >>> 16]! + lut[w3 >>> 16]!);
  }
}

/**
 * One source row's windowed values summed over each output column's box (edge columns weighted,
 * not yet divided by the box width), times `weight`, added into `into` (width values). Used for
 * the rows a box covers only partly (the same row is shared by two output rows: summed once) and
 * for the few whole rows left over after the 8- and 4-row passes: no column accumulator round trip.
 */
function boxRow(s: SampleArray, off: number, lut: Float32Array, base: number, h: AreaPlan, width: number, weight: number, into: Float64Array): void {
  const { full0, full1, headIndex, headWeight, tailIndex, tailWeight } = h;
  for (let j = 0; j < width; j++) {
    let sum = headWeight[j]! * lut[s[off + headIndex[j]!]! - base]! + tailWeight[j]! * lut[s[off + tailIndex[j]!]! - base]!;
    const end = off + full1[j]!;
    for (let x = off + full0[j]!; x < end; x++) sum += lut[s[x]! - base]!;
    into[j]! += weight * sum;
  }
}

/** Where the rows of a preprocessing run go: all rows (the default) or rows [from, to) of the output, for splitting an image between threads. */
export interface OutputRows {
  from: number;
  to: number;
}

/**
 * Steps 1–6 in one pass over the stored values, for an area reduction of 8/16-bit integer samples
 * (the common case: a 2,048² radiograph to 224²). Per output row: its whole source rows are looked
 * up in the window table and added into a float64 row of column sums (8 or 4 source rows per pass
 * when they can be read two samples per 32-bit word, so each column sum is loaded and stored once
 * per 8 pixels), then summed over each output column's box (edge columns weighted); the partly
 * covered source rows at the box's top and bottom (and whole rows left over) are box-summed on
 * their own, the shared edge row once for both output rows. Scaled by the box area and normalised
 * straight into the tensor. No full-size float image. Equal to
 * normaliseChannels(resizePlane(windowImage(…))) up to float rounding (sums in float64 here,
 * float32 there; see test/unit/ai/preprocess-fused.test.ts). `rows` limits the output rows
 * written (the rest of `out` is left as it is), so two threads can each do part of one image.
 */
export function windowAreaNormalise(
  img: GreyImage,
  table: { lut: Float32Array; base: number },
  height: number,
  width: number,
  channels: number,
  spec: NormaliseSpec,
  scratch?: PreprocessScratch,
  rows: OutputRows = { from: 0, to: height },
  target?: Float32Array,
): Float32Array {
  const { columns } = img;
  const h = planOf(columns, width, scratch);
  const v = planOf(img.rows, height, scratch);
  const cur = scratch ? scratch.doubles('columns', columns).fill(0) : new Float64Array(columns);
  const rowAcc = scratch ? scratch.doubles('rowBox', width) : new Float64Array(width);
  const edge = scratch ? scratch.doubles('edgeBox', width) : new Float64Array(width);
  let edgeRow = -1;
  const { lut, base } = table;
  const s = img.samples;
  const pairs = s instanceof Uint16Array && base === 0 && LITTLE_ENDIAN_HOST && s.byteOffset % 2 === 0 ? s : null;
  const shift = pairs ? (pairs.byteOffset % 4) / 2 : 0;
  const words = pairs ? new Uint32Array(pairs.buffer, pairs.byteOffset - 2 * shift, (pairs.length + shift) >> 1) : null;
  // several rows per pass when every row starts on a 32-bit word
  const manyRows = pairs !== null && shift === 0 && columns % 2 === 0;
  const n = height * width;
  const out = target ?? (scratch ? scratch.floats('tensor', n * channels) : new Float32Array(n * channels));
  const { mul, add } = channelAffine(spec, channels);
  const { full0: hFull0, full1: hFull1, headIndex: hHead, headWeight: hHeadW, tailIndex: hTail, tailWeight: hTailW, inverseLength: hInv } = h;
  /** A partly covered row's box sums (cached: the bottom edge row of one output row is the top one of the next). */
  const edgeOf = (r: number): Float64Array => {
    if (edgeRow !== r) {
      edge.fill(0);
      boxRow(s, r * columns, lut, base, h, width, 1, edge);
      edgeRow = r;
    }
    return edge;
  };
  for (let i = Math.max(0, rows.from); i < Math.min(height, rows.to); i++) {
    rowAcc.fill(0);
    const hw = v.headWeight[i]!;
    if (hw > 0) {
      const e = edgeOf(v.headIndex[i]!);
      for (let j = 0; j < width; j++) rowAcc[j]! += hw * e[j]!;
    }
    let r = v.full0[i]!;
    const r1 = v.full1[i]!;
    let columnSums = false;
    if (manyRows) {
      for (; r + 7 < r1; r += 8, columnSums = true) addEightRowsPairs(words!, shift, r * columns, columns, columns, lut, cur, !columnSums);
      if (r + 3 < r1) {
        addFourRowsPairs(words!, shift, r * columns, columns, columns, lut, cur, !columnSums);
        r += 4;
        columnSums = true;
      }
      for (; r < r1; r++) boxRow(s, r * columns, lut, base, h, width, 1, rowAcc);
    } else if (r < r1) {
      columnSums = true;
      for (; r < r1; r++) {
        if (pairs) addRowPairs(pairs, words!, shift, r * columns, columns, lut, cur);
        else addRow(s, r * columns, columns, lut, base, cur);
      }
    }
    const tw = v.tailWeight[i]!;
    if (tw > 0) {
      const e = edgeOf(v.tailIndex[i]!);
      for (let j = 0; j < width; j++) rowAcc[j]! += tw * e[j]!;
    }
    if (columnSums) {
      // each output column's box over the column sums
      for (let j = 0; j < width; j++) {
        let sum = hHeadW[j]! * cur[hHead[j]!]! + hTailW[j]! * cur[hTail[j]!]!;
        const end = hFull1[j]!;
        for (let x = hFull0[j]!; x < end; x++) sum += cur[x]!;
        rowAcc[j]! += sum;
      }
      if (!manyRows) cur.fill(0);
    }
    // the output row
    const wy = v.inverseLength[i]!;
    const o = i * width;
    for (let j = 0; j < width; j++) {
      const value = rowAcc[j]! * wy * hInv[j]!;
      for (let c = 0; c < channels; c++) out[c * n + o + j] = value * mul[c]! + add[c]!;
    }
  }
  return out;
}

/** Steps 1–3's choices for an image and a card, and whether steps 1–6 run in one pass (windowAreaNormalise). */
export interface PreprocessPlan {
  window: AppliedWindow;
  inverted: boolean;
  /** The one-pass path applies: area reduction of 8/16-bit integer samples; then the output rows can be split (preprocessRows). */
  onePass: boolean;
}

export function planPreprocess(img: GreyImage, card: Pick<ModelCard, 'input' | 'preprocessing'>): PreprocessPlan {
  if (img.samples.length < img.rows * img.columns) {
    throw new Error(`the image has ${img.samples.length} samples but ${img.columns}×${img.rows} pixels`);
  }
  const p = card.preprocessing;
  const s = img.samples;
  const integer = s instanceof Uint8Array || s instanceof Int8Array || s instanceof Uint16Array || s instanceof Int16Array;
  return {
    window: chooseWindow(p.window, img),
    inverted: p.invertMonochrome1 && img.photometricInterpretation.trim().toUpperCase() === 'MONOCHROME1',
    onePass: p.resize === 'area' && img.rows >= card.input.height && img.columns >= card.input.width && integer,
  };
}

/**
 * Output rows [rows.from, rows.to) of a one-pass plan written into `target` (the whole 1×C×H×W
 * tensor; other rows untouched). Two threads that each write part of the rows get the tensor
 * `preprocess` would have given: every output row is computed from its own source rows only.
 */
export function preprocessRows(img: GreyImage, card: Pick<ModelCard, 'input' | 'preprocessing'>, plan: PreprocessPlan, rows: OutputRows, target: Float32Array, scratch?: PreprocessScratch): void {
  if (!plan.onePass) throw new Error('only the one-pass preprocessing can be split by output rows');
  const { height, width, channels } = card.input;
  if (target.length !== height * width * channels) throw new Error(`the tensor has ${target.length} values, the card's input ${channels}×${height}×${width}`);
  const table = windowLut(img, plan.window, plan.inverted, scratch)!;
  windowAreaNormalise(img, table, height, width, channels, card.preprocessing.normalise, scratch, rows, target);
}

/** The whole pipeline for one greyscale image and one model card. */
export function preprocess(img: GreyImage, card: Pick<ModelCard, 'input' | 'preprocessing'>, scratch?: PreprocessScratch): PreprocessedInput {
  const plan = planPreprocess(img, card);
  const { window, inverted } = plan;
  const { height, width, channels } = card.input;
  const p = card.preprocessing;
  const table = plan.onePass ? windowLut(img, window, inverted, scratch) : null;
  const tensor = table
    ? windowAreaNormalise(img, table, height, width, channels, p.normalise, scratch)
    : normaliseChannels(windowAndResize(img, window, inverted, height, width, p.resize, scratch), channels, p.normalise, scratch);
  return { tensor, dims: [1, channels, height, width], window, inverted, preprocessing: PREPROCESSING_ID };
}
