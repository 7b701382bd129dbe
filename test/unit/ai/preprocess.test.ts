import { describe, expect, it } from 'vitest';
import { validateModelCard, type ModelCard } from '../../../src/core/ai/card';
import { chooseWindow, normaliseChannels, preprocess, PreprocessScratch, PREPROCESSING_ID, resizePlane, windowAndResize, windowImage, type GreyImage } from '../../../src/core/ai/preprocess';
import { probeCard } from '../../support/ai';

const img = (samples: GreyImage['samples'], rows: number, columns: number, extra: Partial<GreyImage> = {}): GreyImage => ({
  rows,
  columns,
  samples,
  rescaleSlope: 1,
  rescaleIntercept: 0,
  photometricInterpretation: 'MONOCHROME2',
  fileWindow: null,
  ...extra,
});

const card = (over: Record<string, unknown>): ModelCard => {
  const r = validateModelCard(probeCard(over));
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.card;
};

describe('windowing', () => {
  it('rescales, windows and clamps (hand-computed)', () => {
    // stored 0, 500, 1000, 3000 with slope 2, intercept -1000 → −1000, 0, 1000, 5000
    // window C 500 W 2000 → lo −500, hi 1500: 0, 0.25, 0.75, 1
    const i = img(new Uint16Array([0, 500, 1000, 3000]), 2, 2, { rescaleSlope: 2, rescaleIntercept: -1000 });
    const w = chooseWindow({ mode: 'fixed', center: 500, width: 2000 }, i);
    expect(w).toEqual({ center: 500, width: 2000, source: 'card' });
    expect(Array.from(windowImage(i, w, false))).toEqual([0, 0.25, 0.75, 1]);
    expect(Array.from(windowImage(i, w, true))).toEqual([1, 0.75, 0.25, 0]);
  });

  it('uses the file window, else min–max, for "file"', () => {
    const withFile = img(new Int16Array([-100, 0, 100, 300]), 2, 2, { fileWindow: { center: 40, width: 400 } });
    expect(chooseWindow({ mode: 'file' }, withFile)).toEqual({ center: 40, width: 400, source: 'file' });
    const without = img(new Int16Array([-100, 0, 100, 300]), 2, 2);
    expect(chooseWindow({ mode: 'file' }, without)).toEqual({ center: 100, width: 400, source: 'minmax' });
    // min–max maps −100 → 0, 300 → 1
    expect(Array.from(windowImage(without, chooseWindow({ mode: 'minmax' }, without), false))).toEqual([0, 0.25, 0.5, 1]);
  });

  it('gives the same values through the look-up table as directly (float samples)', () => {
    const ints = new Uint16Array([0, 17, 4095, 65535, 1234]);
    const floats = Float32Array.from(ints);
    const w = { center: 2000, width: 3000, source: 'card' as const };
    expect(Array.from(windowImage(img(ints, 1, 5), w, true))).toEqual(Array.from(windowImage(img(floats, 1, 5), w, true)));
  });
});

describe('resizing', () => {
  it('area: exact box averages, also for a non-integer factor', () => {
    const src = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]); // 4×4
    expect(Array.from(resizePlane(src, 4, 4, 2, 2, 'area'))).toEqual([3.5, 5.5, 11.5, 13.5]);
    // 1×3 → 1×2: outputs cover [0,1.5) and [1.5,3): (1 + 0.5·2)/1.5, (0.5·2 + 3)/1.5
    const out = resizePlane(Float32Array.from([1, 2, 3]), 1, 3, 1, 2, 'area');
    expect(out[0]).toBeCloseTo(4 / 3, 6);
    expect(out[1]).toBeCloseTo(8 / 3, 6);
  });
  it('bilinear with half-pixel centres and nearest', () => {
    // 1×4 → 1×2: centres at source 0.5 and 2.5
    expect(Array.from(resizePlane(Float32Array.from([0, 10, 20, 30]), 1, 4, 1, 2, 'bilinear'))).toEqual([5, 25]);
    // nearest: floor((j + ½)·2) = 1, 3
    expect(Array.from(resizePlane(Float32Array.from([0, 10, 20, 30]), 1, 4, 1, 2, 'nearest'))).toEqual([10, 30]);
    // enlarging 1×2 → 1×4: source positions −0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1)
    expect(Array.from(resizePlane(Float32Array.from([0, 8]), 1, 2, 1, 4, 'bilinear'))).toEqual([0, 2, 6, 8]);
  });
});

describe('normalisation and the whole pipeline', () => {
  it('mean/std per channel (ImageNet-style) and scale', () => {
    const plane = Float32Array.from([0, 0.5, 1]);
    const t = normaliseChannels(plane, 3, { mode: 'meanStd', mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2] });
    expect(Array.from(t)).toEqual([-1, 0, 1, -1, 1, 3, 0, 0.25, 0.5]);
    expect(Array.from(normaliseChannels(plane, 1, { mode: 'scale', scale: 255, offset: -1 }))).toEqual([-1, 126.5, 254]);
  });

  it('MONOCHROME1 8×8 → 2×2 through every step (hand-computed)', () => {
    // top-left 4×4 block stored 1000, the rest 3000; window C 2000 W 4000 → lo 0: 0.25 and 0.75;
    // MONOCHROME1 inverted: 0.75 and 0.25; area 4×4 blocks; scale 2, offset −1 → 0.5, −0.5
    const s = new Uint16Array(64).fill(3000);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) s[r * 8 + c] = 1000;
    const c = card({
      input: { name: 'image', width: 2, height: 2, channels: 3 },
      preprocessing: { window: { mode: 'fixed', center: 2000, width: 4000 }, resize: 'area', normalise: { mode: 'scale', scale: 2, offset: -1 } },
    });
    const p = preprocess(img(s, 8, 8, { photometricInterpretation: 'MONOCHROME1' }), c);
    expect(p.dims).toEqual([1, 3, 2, 2]);
    expect(p.inverted).toBe(true);
    expect(p.preprocessing).toBe(PREPROCESSING_ID);
    expect(Array.from(p.tensor)).toEqual([0.5, -0.5, -0.5, -0.5, 0.5, -0.5, -0.5, -0.5, 0.5, -0.5, -0.5, -0.5]);
  });
});

describe('the fused window + resize', () => {
  it('equals windowing then resizing, for every method and sample type', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const method of ['area', 'bilinear', 'nearest'] as const) {
      for (const samples of [Uint16Array.from({ length: 61 * 47 }, () => Math.floor(rnd() * 4096)), Int16Array.from({ length: 61 * 47 }, () => Math.floor(rnd() * 2000) - 1000), Uint8Array.from({ length: 61 * 47 }, () => Math.floor(rnd() * 256))]) {
        const i = img(samples, 61, 47, { rescaleSlope: 1.5, rescaleIntercept: -20 });
        const w = { center: 300, width: 900, source: 'card' as const };
        const fused = windowAndResize(i, w, true, 13, 17, method);
        const twoStep = resizePlane(windowImage(i, w, true), 61, 47, 13, 17, method);
        expect(fused.length).toBe(13 * 17);
        for (let k = 0; k < fused.length; k++) expect(fused[k]).toBeCloseTo(twoStep[k]!, 5);
      }
    }
  });
});

describe('reused buffers (PreprocessScratch)', () => {
  it('give exactly the values of fresh buffers, image after image, when the window, rescale or sample type changes', () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const c = card({ input: { name: 'image', width: 16, height: 16, channels: 3 }, preprocessing: { window: { mode: 'file' }, invertMonochrome1: true, resize: 'area', normalise: { mode: 'meanStd', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } } });
    const scratch = new PreprocessScratch();
    const images: GreyImage[] = [
      img(Uint16Array.from({ length: 64 * 64 }, () => Math.floor(rnd() * 4096)), 64, 64, { fileWindow: { center: 2048, width: 4096 } }),
      img(Uint16Array.from({ length: 64 * 64 }, () => Math.floor(rnd() * 4096)), 64, 64, { fileWindow: { center: 2048, width: 4096 } }), // same window: table reused
      img(Uint16Array.from({ length: 64 * 64 }, () => Math.floor(rnd() * 4096)), 64, 64, { fileWindow: { center: 1000, width: 500 } }), // another window
      img(Int16Array.from({ length: 80 * 48 }, () => Math.floor(rnd() * 2000) - 1000), 80, 48, { rescaleSlope: 2, rescaleIntercept: -5, photometricInterpretation: 'MONOCHROME1' }),
      img(Uint16Array.from({ length: 64 * 64 }, () => Math.floor(rnd() * 4096)), 64, 64, { fileWindow: { center: 2048, width: 4096 } }),
    ];
    for (const i of images) {
      const fresh = preprocess(i, c);
      const reused = preprocess(i, c, scratch);
      expect(reused.window).toEqual(fresh.window);
      expect(Array.from(reused.tensor)).toEqual(Array.from(fresh.tensor));
    }
    // the same buffer is handed out again: no new tensor per image
    expect(preprocess(images[0]!, c, scratch).tensor.buffer).toBe(preprocess(images[1]!, c, scratch).tensor.buffer);
  });
});
