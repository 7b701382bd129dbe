/**
 * The one-pass preprocessing (window table + area box sums + normalisation into the tensor, and
 * native pixels read as stored words) against the step-by-step definition in preprocess.ts
 * (windowImage → resizePlane → normaliseChannels on decoded, canonical samples), on pydicom's
 * greyscale test files and on a generated 2,048² chest radiograph. Tolerance: 1e-5 per tensor
 * value — float rounding only (sums in float64 vs float32), so the preprocessing id stays
 * medimgshr-ai-preprocess/1 and no stored result becomes stale.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateModelCard, type ModelCard } from '../../../src/core/ai/card';
import {
  areaPlan,
  chooseWindow,
  normaliseChannels,
  preprocess,
  PreprocessScratch,
  PREPROCESSING_ID,
  resizePlane,
  resizeTaps,
  storedValueOf,
  windowImage,
  type GreyImage,
} from '../../../src/core/ai/preprocess';
import { greyImageOf, storedWordsOf } from '../../../src/node/ai/dicom-input';
import { decodeFrames } from '../../../src/node/dicom/decode';
import { parseDicomBytes } from '../../../src/node/dicom/parse';
import { crImageBytes, probeCard } from '../../support/ai';
import { seededRandom } from '../../support/onnx';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const TOLERANCE = 1e-5;

const card = (over: Record<string, unknown>): ModelCard => {
  const r = validateModelCard(probeCard(over));
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.card;
};
const cardFor = (size: number, window: Record<string, unknown>, invert = true) =>
  card({
    input: { name: 'input', width: size, height: size, channels: 3 },
    preprocessing: { window, invertMonochrome1: invert, resize: 'area', normalise: { mode: 'meanStd', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
  });

/** The definition, step by step (full-size windowed float image, separable resize, normalise). */
function reference(img: GreyImage, c: ModelCard): Float32Array {
  const p = c.preprocessing;
  const w = chooseWindow(p.window, img);
  const inverted = p.invertMonochrome1 && img.photometricInterpretation.trim().toUpperCase() === 'MONOCHROME1';
  const plane = resizePlane(windowImage(img, w, inverted), img.rows, img.columns, c.input.height, c.input.width, p.resize);
  return normaliseChannels(plane, c.input.channels, p.normalise);
}

/** The decoder's canonical samples (masked, sign-extended), the way the pipeline read them before. */
async function canonicalGrey(bytes: Uint8Array): Promise<GreyImage> {
  const p = parseDicomBytes(bytes);
  const viaView = await greyImageOf(p.dataSet, p.transferSyntaxUid, decodeFrames);
  const d = await decodeFrames(p.dataSet, { frames: [0], canonicalSamples: true, transferSyntaxUid: p.transferSyntaxUid });
  const f = d.frames[0]!.slice();
  const signed = d.pixelRepresentation === 1;
  const samples = d.bitsAllocated === 8 ? (signed ? new Int8Array(f.buffer) : f) : signed ? new Int16Array(f.buffer) : new Uint16Array(f.buffer);
  return { ...viaView, samples, storedBits: undefined };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('area plan', () => {
  it('has the same weights as the area taps (2,048 → 224, 7 → 3, 100 → 100)', () => {
    for (const [from, to] of [[2048, 224], [7, 3], [100, 100], [2000, 224]] as const) {
      const p = areaPlan(from, to);
      const t = resizeTaps(from, to, 'area');
      for (let j = 0; j < to; j++) {
        const weights = new Map<number, number>();
        for (let k = 0; k < t.count[j]!; k++) weights.set(t.start[j]! + k, t.weights[j * t.stride + k]!);
        const len = 1 / p.inverseLength[j]!;
        for (let i = p.full0[j]!; i < p.full1[j]!; i++) expect(weights.get(i)! * len).toBeCloseTo(1, 5);
        if (p.headWeight[j]! > 0) expect(weights.get(p.headIndex[j]!)! * len).toBeCloseTo(p.headWeight[j]!, 5);
        if (p.tailWeight[j]! > 0) expect(weights.get(p.tailIndex[j]!)! * len).toBeCloseTo(p.tailWeight[j]!, 5);
        const covered = p.full1[j]! - p.full0[j]! + p.headWeight[j]! + p.tailWeight[j]!;
        expect(covered).toBeCloseTo(len, 9);
      }
    }
  });
});

describe('stored words (native pixels without a decoded copy)', () => {
  it('masks to Bits Stored at High Bit and sign-extends, like the decoder', () => {
    expect(storedValueOf(0xf123, { bitsStored: 12, highBit: 11, signed: false })).toBe(0x123);
    expect(storedValueOf(0x0fff, { bitsStored: 12, highBit: 11, signed: true })).toBe(-1);
    expect(storedValueOf(0x0800, { bitsStored: 12, highBit: 11, signed: true })).toBe(-2048);
    expect(storedValueOf(0x7ff0, { bitsStored: 12, highBit: 15, signed: false })).toBe(0x7ff);
  });

  it('12-bit signed words with junk above High Bit give the canonical samples\' tensor', () => {
    const rnd = seededRandom(7);
    const n = 300 * 260;
    const words = new Uint16Array(n);
    const canonical = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      const v = Math.round((rnd() - 0.5) * 4000); // −2000..2000
      canonical[i] = v;
      words[i] = ((v & 0xfff) | (Math.floor(rnd() * 16) << 12)) & 0xffff; // junk in bits 12–15 (overlay bits of old files)
    }
    const base = { rows: 300, columns: 260, rescaleSlope: 1, rescaleIntercept: -24, photometricInterpretation: 'MONOCHROME1', fileWindow: null };
    for (const window of [{ mode: 'minmax' }, { mode: 'fixed', center: 100, width: 1500 }]) {
      const c = cardFor(37, window);
      const fast = preprocess({ ...base, samples: words, storedBits: { bitsStored: 12, highBit: 11, signed: true } }, c);
      const ref = reference({ ...base, samples: canonical }, c);
      expect(fast.inverted).toBe(true);
      expect(maxDiff(fast.tensor, ref)).toBeLessThanOrEqual(TOLERANCE);
      // the same words starting 2 bytes into a 4-byte word (the two-samples-per-read path shifted by one)
      const shifted = new Uint16Array(n + 1);
      shifted.set(words, 1);
      const fromShifted = preprocess({ ...base, samples: shifted.subarray(1), storedBits: { bitsStored: 12, highBit: 11, signed: true } }, c);
      expect(maxDiff(fromShifted.tensor, ref)).toBeLessThanOrEqual(TOLERANCE);
    }
  });
  it('unsigned 12-bit words: odd and even widths, both 32-bit word parities, windows that clamp and that do not', () => {
    const rnd = seededRandom(11);
    for (const [rows, columns] of [[301, 259], [300, 260], [97, 1000]] as const) {
      const n = rows * columns;
      const words = new Uint16Array(n + 1);
      const canonical = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const v = Math.floor(rnd() * 4096);
        canonical[i] = v;
        words[i + 1] = v | (Math.floor(rnd() * 16) << 12); // junk above High Bit
      }
      const base = { rows, columns, rescaleSlope: 1, rescaleIntercept: 0, photometricInterpretation: 'MONOCHROME2', fileWindow: null };
      for (const window of [{ mode: 'minmax' }, { mode: 'fixed', center: 2047.5, width: 4095 }, { mode: 'fixed', center: 1000.25, width: 700.5 }]) {
        const c = cardFor(37, window);
        const ref = reference({ ...base, samples: canonical }, c);
        for (const view of [words.subarray(1), new Uint16Array(words.subarray(1))]) {
          const fast = preprocess({ ...base, samples: view, storedBits: { bitsStored: 12, highBit: 11, signed: false } }, c, new PreprocessScratch());
          expect(maxDiff(fast.tensor, ref)).toBeLessThanOrEqual(TOLERANCE);
        }
      }
    }
  });
});

describe('one pass = the definition', () => {
  const files = ['CT_small.dcm', 'MR_small.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm', 'JPEG2000.dcm'];
  it.each(files)('pydicom %s (file window and min–max)', async (name) => {
    const path = join(PYDICOM, name);
    if (!existsSync(path)) throw new Error(`${path} is missing: install python3-pydicom (Debian) for the real DICOM test files`);
    const bytes = new Uint8Array(readFileSync(path));
    const p = parseDicomBytes(bytes);
    const grey = await greyImageOf(p.dataSet, p.transferSyntaxUid, decodeFrames);
    const ref = await canonicalGrey(bytes);
    const size = Math.floor(Math.min(grey.rows, grey.columns) / 3); // a non-integer factor
    for (const window of [{ mode: 'file' }, { mode: 'minmax' }]) {
      const c = cardFor(size, window);
      const fast = preprocess(grey, c, new PreprocessScratch());
      expect(fast.preprocessing).toBe(PREPROCESSING_ID);
      const d = maxDiff(fast.tensor, reference(ref, c));
      expect(d).toBeLessThanOrEqual(TOLERANCE);
      // and a real spread of values went through (not a constant image)
      expect(Math.max(...fast.tensor) - Math.min(...fast.tensor)).toBeGreaterThan(0.5);
    }
  });

  it('reads native greyscale as a view of the file\'s bytes, others through the decoder', () => {
    const native = parseDicomBytes(new Uint8Array(readFileSync(join(PYDICOM, 'CT_small.dcm'))));
    const v = storedWordsOf(native.dataSet, native.transferSyntaxUid)!;
    expect(v.samples.buffer).toBe(native.dataSet.byteArray.buffer);
    expect(v.storedBits).toEqual({ bitsStored: 16, highBit: 15, signed: true });
    const big = parseDicomBytes(new Uint8Array(readFileSync(join(PYDICOM, 'MR_small_bigendian.dcm'))));
    expect(storedWordsOf(big.dataSet, big.transferSyntaxUid)).toBeNull();
  });

  it('a generated 2,048² MONOCHROME1 chest radiograph to 224² (the benchmark\'s case), scratch reused', async () => {
    const size = 2048;
    const rnd = seededRandom(3);
    const px = new Uint16Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) px[y * size + x] = Math.round((Math.abs(x - 1024) < 300 ? 2600 : 900) + y / 4 + (rnd() - 0.5) * 200);
    const bytes = crImageBytes({ rows: size, columns: size, pixels: px, photometric: 'MONOCHROME1', window: { center: 1800, width: 3600 }, rescale: { slope: 1.5, intercept: -100 } }).bytes;
    const p = parseDicomBytes(bytes);
    const grey = await greyImageOf(p.dataSet, p.transferSyntaxUid, decodeFrames);
    const ref = await canonicalGrey(bytes);
    const scratch = new PreprocessScratch();
    for (const window of [{ mode: 'file' }, { mode: 'fixed', center: 2000, width: 1000 }]) {
      const c = cardFor(224, window);
      const fast = preprocess(grey, c, scratch);
      expect(fast.inverted).toBe(true);
      expect(fast.window.source).toBe(window.mode === 'file' ? 'file' : 'card');
      expect(maxDiff(fast.tensor, reference(ref, c))).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});
