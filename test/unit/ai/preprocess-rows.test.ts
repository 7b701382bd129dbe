/**
 * Splitting the one-pass preprocessing by output rows (what the calling thread and the row helper
 * each do, src/node/ai/row-split.ts): any set of row ranges, in any order, each written into the
 * same tensor, gives exactly the tensor of `preprocess` — every output row comes from its own
 * source rows only (a range starting mid-image reads the partly covered row at its top itself).
 * Covered: the 8/4-rows-per-pass path (aligned 16-bit, even width), the shifted and odd-width
 * 16-bit paths, 8-bit and signed samples, MONOCHROME1, stored bits with junk above High Bit.
 */
import { describe, expect, it } from 'vitest';
import { validateModelCard, type ModelCard } from '../../../src/core/ai/card';
import { planPreprocess, preprocess, preprocessRows, PreprocessScratch, type GreyImage } from '../../../src/core/ai/preprocess';
import { probeCard } from '../../support/ai';
import { seededRandom } from '../../support/onnx';

const cardFor = (height: number, width: number, window: Record<string, unknown>): ModelCard => {
  const r = validateModelCard(
    probeCard({
      input: { name: 'input', width, height, channels: 3 },
      preprocessing: { window, invertMonochrome1: true, resize: 'area', normalise: { mode: 'meanStd', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
    }),
  );
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.card;
};

/** Row ranges of `size` rows, in a shuffled order. */
function shuffledRanges(height: number, size: number, seed: number): { from: number; to: number }[] {
  const out = [];
  for (let from = 0; from < height; from += size) out.push({ from, to: Math.min(height, from + size) });
  const rnd = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function images(): { name: string; img: GreyImage }[] {
  const rnd = seededRandom(5);
  const rows = 613;
  const columns = 590;
  const n = rows * columns;
  const u16 = new Uint16Array(n + 1);
  for (let i = 0; i <= n; i++) u16[i] = (Math.floor(rnd() * 4096) | (Math.floor(rnd() * 16) << 12)) & 0xffff;
  const u8 = new Uint8Array(n);
  for (let i = 0; i < n; i++) u8[i] = Math.floor((Math.floor(i / columns) / rows) * 200 + rnd() * 55); // a gradient down the image, with noise
  const i16 = new Int16Array(n);
  for (let i = 0; i < n; i++) i16[i] = Math.round((rnd() - 0.5) * 3000);
  const base = { rows, columns, rescaleSlope: 1.5, rescaleIntercept: -40, fileWindow: { center: 1500, width: 2500 } };
  const bits = { bitsStored: 12, highBit: 11, signed: false };
  return [
    { name: '16-bit words, aligned, even width (several rows per pass), MONOCHROME1', img: { ...base, samples: u16.subarray(0, n), storedBits: bits, photometricInterpretation: 'MONOCHROME1' } },
    { name: '16-bit words starting mid 32-bit word', img: { ...base, samples: u16.subarray(1), storedBits: bits, photometricInterpretation: 'MONOCHROME2' } },
    { name: '16-bit, odd width', img: { ...base, columns: 589, rows: 614, samples: u16.subarray(0, 589 * 614), storedBits: bits, photometricInterpretation: 'MONOCHROME2' } },
    { name: '8-bit', img: { ...base, samples: u8, photometricInterpretation: 'MONOCHROME2', fileWindow: { center: 128, width: 200 } } },
    { name: 'signed 16-bit', img: { ...base, samples: i16, photometricInterpretation: 'MONOCHROME1', fileWindow: null } },
  ];
}

describe('one-pass preprocessing split by output rows', () => {
  it.each(images().map((x) => [x.name, x.img] as const))('%s: ranges in any order = the whole tensor, exactly', (_name, img) => {
    for (const [height, width, window] of [
      [97, 61, { mode: 'file' }],
      [224, 224, { mode: 'minmax' }],
      [50, 50, { mode: 'fixed', center: 900, width: 600 }],
    ] as const) {
      const c = cardFor(height, width, window);
      const whole = preprocess(img, c).tensor;
      const plan = planPreprocess(img, c);
      expect(plan.onePass).toBe(true);
      for (const size of [8, 13, height]) {
        const target = new Float32Array(whole.length).fill(Number.NaN);
        const scratch = new PreprocessScratch();
        for (const r of shuffledRanges(height, size, size)) preprocessRows(img, c, plan, r, target, scratch);
        let diff = 0;
        for (let i = 0; i < whole.length; i++) diff = Math.max(diff, Math.abs(whole[i]! - target[i]!));
        expect(Number.isNaN(diff)).toBe(false);
        expect(diff).toBe(0);
      }
      // the values vary (not a constant tensor; the fixed window clamps all of the 8-bit image, so not checked there)
      if (window.mode === 'fixed') continue;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of whole) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(hi - lo).toBeGreaterThan(0.5);
    }
  });

  it('refuses to split what is not the one-pass path, and a tensor of the wrong size', () => {
    const img: GreyImage = { rows: 64, columns: 64, samples: new Float32Array(64 * 64), rescaleSlope: 1, rescaleIntercept: 0, photometricInterpretation: 'MONOCHROME2', fileWindow: null };
    const c = cardFor(32, 32, { mode: 'minmax' });
    const plan = planPreprocess(img, c);
    expect(plan.onePass).toBe(false);
    expect(() => preprocessRows(img, c, plan, { from: 0, to: 32 }, new Float32Array(3 * 32 * 32))).toThrow(/one-pass/);
    const ints = { ...img, samples: new Uint16Array(64 * 64) };
    expect(() => preprocessRows(ints, c, planPreprocess(ints, c), { from: 0, to: 32 }, new Float32Array(10))).toThrow(/3×32×32/);
  });
});
