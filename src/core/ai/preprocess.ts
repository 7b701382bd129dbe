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
  for (let i = 0; i < s.length; i++) {
    const v = s[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
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
  if (!(s instanceof Uint8Array || s instanceof Int8Array || s instanceof Uint16Array || s instanceof Int16Array)) return null;
  const base = s instanceof Int8Array ? -128 : s instanceof Int16Array ? -32768 : 0;
  const size = s instanceof Uint8Array || s instanceof Int8Array ? 256 : 65536;
  // a series of images from one modality mostly shares its window and rescale: the table is reused
  const key = `${base}:${size}:${img.rescaleSlope}:${img.rescaleIntercept}:${w.center}:${w.width}:${invert}`;
  if (scratch?.lutKey === key && scratch.lut) return { lut: scratch.lut, base };
  const lut = scratch ? scratch.floats('lut', size) : new Float32Array(size);
  for (let i = 0; i < size; i++) lut[i] = windowValue(i + base, img, w, invert);
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
  /** A float buffer of exactly n values (contents undefined), reused while it is large enough. */
  floats(name: string, n: number): Float32Array {
    let b = this.buffers.get(name);
    if (!b || b.length < n) {
      b = new Float32Array(n);
      this.buffers.set(name, b);
    }
    return b.length === n ? b : b.subarray(0, n);
  }
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

/** The whole pipeline for one greyscale image and one model card. */
export function preprocess(img: GreyImage, card: Pick<ModelCard, 'input' | 'preprocessing'>, scratch?: PreprocessScratch): PreprocessedInput {
  if (img.samples.length < img.rows * img.columns) {
    throw new Error(`the image has ${img.samples.length} samples but ${img.columns}×${img.rows} pixels`);
  }
  const p = card.preprocessing;
  const window = chooseWindow(p.window, img);
  const inverted = p.invertMonochrome1 && img.photometricInterpretation.trim().toUpperCase() === 'MONOCHROME1';
  const plane = windowAndResize(img, window, inverted, card.input.height, card.input.width, p.resize, scratch);
  const tensor = normaliseChannels(plane, card.input.channels, p.normalise, scratch);
  return { tensor, dims: [1, card.input.channels, card.input.height, card.input.width], window, inverted, preprocessing: PREPROCESSING_ID };
}
