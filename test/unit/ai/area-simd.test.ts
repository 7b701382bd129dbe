/**
 * The WebAssembly SIMD area reduction (src/core/ai/area-simd.ts) against the one-pass JavaScript
 * path it replaces for 16-bit words (preprocessRows): the same tensor up to float rounding, for
 * whole images and row ranges, windows that clamp at both ends, MONOCHROME1, rescale slope and
 * intercept, stored bits with junk above High Bit, widths that do not fill a SIMD step, samples
 * outside the kernel's memory. Also: the committed module bytes are what the .wat compiles to, the
 * integer plan has areaPlan's weights, and every image it cannot take says why.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileWat, moduleSource } from '../../../scripts/build-wasm.mjs';
import { integerAreaPlan, SimdAreaReducer, whyNotSimd } from '../../../src/core/ai/area-simd';
import { validateModelCard, type ModelCard } from '../../../src/core/ai/card';
import { areaPlan, planPreprocess, preprocessRows, PreprocessScratch, type GreyImage } from '../../../src/core/ai/preprocess';
import { probeCard } from '../../support/ai';
import { seededRandom } from '../../support/onnx';

const cardFor = (height: number, width: number, window: Record<string, unknown>, normalise: Record<string, unknown> = { mode: 'meanStd', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }): ModelCard => {
  const r = validateModelCard(probeCard({ input: { name: 'input', width, height, channels: 3 }, preprocessing: { window, invertMonochrome1: true, resize: 'area', normalise } }));
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.card;
};

const reducer = SimdAreaReducer.create()!;

/** An image whose samples live in the kernel's memory (as the inference engine reads a file there). */
function inKernelMemory(img: GreyImage): GreyImage {
  const s = img.samples as Uint16Array;
  const bytes = reducer.fileBytes(s.byteLength + 2);
  // one byte in: the words start at an odd 16-bit position of the memory, as in a file after its header
  const words = new Uint16Array(bytes.buffer, bytes.byteOffset + 2, s.length);
  words.set(s);
  return { ...img, samples: words };
}

function reference(img: GreyImage, card: ModelCard): Float32Array {
  const out = new Float32Array(card.input.channels * card.input.height * card.input.width);
  preprocessRows(img, card, planPreprocess(img, card), { from: 0, to: card.input.height }, out, new PreprocessScratch());
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function noise(rows: number, columns: number, seed: number, junkAbove = 0): Uint16Array {
  const rnd = seededRandom(seed);
  const s = new Uint16Array(rows * columns);
  for (let i = 0; i < s.length; i++) {
    const y = Math.floor(i / columns);
    // a gradient from below the window to above it, with noise, so both clamps are used
    s[i] = (Math.floor((y / rows) * 4600 + rnd() * 300) | (junkAbove ? Math.floor(rnd() * 16) << junkAbove : 0)) & 0xffff;
  }
  return s;
}

describe('SIMD area reduction', () => {
  it('the committed module is what area-kernel.wat compiles to', async () => {
    const wat = readFileSync(new URL('../../../src/core/ai/area-kernel.wat', import.meta.url), 'utf8');
    const committed = readFileSync(new URL('../../../src/core/ai/area-kernel-wasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(moduleSource(await compileWat(wat)));
  });

  it('the kernel loads here (WebAssembly SIMD and shared memory)', () => {
    expect(reducer).not.toBeNull();
  });

  it("the integer plan has areaPlan's weights, scaled to whole numbers", () => {
    for (const [from, to] of [
      [2048, 224],
      [613, 224],
      [590, 224],
      [224, 224],
      [300, 224],
      [3000, 512],
      [2049, 7],
    ] as const) {
      const f = areaPlan(from, to);
      const p = integerAreaPlan(from, to);
      expect(p.total / p.full).toBeCloseTo(from / to, 12);
      for (let j = 0; j < to; j++) {
        // each source pixel's weight in output j, both ways (float rounding may call a whole pixel an edge with weight 1 − ε)
        const dense = (full0: number, full1: number, head: number, hw: number, tail: number, tw: number, unit: number) => {
          const w = new Map<number, number>();
          for (let x = full0; x < full1; x++) w.set(x, (w.get(x) ?? 0) + 1);
          if (hw) w.set(head, (w.get(head) ?? 0) + hw / unit);
          if (tw) w.set(tail, (w.get(tail) ?? 0) + tw / unit);
          return w;
        };
        const a = dense(f.full0[j]!, f.full1[j]!, f.headIndex[j]!, f.headWeight[j]!, f.tailIndex[j]!, f.tailWeight[j]!, 1);
        const b = dense(p.full0[j]!, p.full1[j]!, p.headIndex[j]!, p.headWeight[j]!, p.tailIndex[j]!, p.tailWeight[j]!, p.full);
        for (const x of new Set([...a.keys(), ...b.keys()])) expect(Math.abs((a.get(x) ?? 0) - (b.get(x) ?? 0))).toBeLessThan(1e-9);
        // the weights of each output add up to its footprint
        const sum = p.full * (p.full1[j]! - p.full0[j]!) + p.headWeight[j]! + p.tailWeight[j]!;
        expect(sum).toBe(p.total);
      }
    }
  });

  const cases: { name: string; img: GreyImage; card: ModelCard }[] = [
    {
      name: '2,048² radiograph to 224², window inside the values, MONOCHROME1',
      img: { rows: 2048, columns: 2048, samples: noise(2048, 2048, 1), rescaleSlope: 1, rescaleIntercept: 0, photometricInterpretation: 'MONOCHROME1', fileWindow: { center: 1800, width: 3600 } },
      card: cardFor(224, 224, { mode: 'file' }),
    },
    {
      name: 'odd size (613 × 590, not a whole number of SIMD steps), slope 2, intercept −1,024, 12 stored bits with junk above',
      img: { rows: 613, columns: 590, samples: noise(613, 590, 2, 12), rescaleSlope: 2, rescaleIntercept: -1024, photometricInterpretation: 'MONOCHROME2', fileWindow: { center: 1000, width: 4000 }, storedBits: { bitsStored: 12, highBit: 11, signed: false } },
      card: cardFor(224, 224, { mode: 'file' }, { mode: 'scale', scale: 2, offset: -1 }),
    },
    {
      name: 'a fixed window of the card, narrower than the values, non-square output',
      img: { rows: 1001, columns: 777, samples: noise(1001, 777, 3), rescaleSlope: 1, rescaleIntercept: 0, photometricInterpretation: 'MONOCHROME2', fileWindow: null },
      card: cardFor(256, 200, { mode: 'fixed', center: 2300, width: 1000 }),
    },
    {
      name: 'values near the top of 16 bits through a full-range window (column sums too large for 16-bit lanes)',
      img: { rows: 2048, columns: 1030, samples: noise(2048, 1030, 5).map((v) => Math.min(65535, v * 13)), rescaleSlope: 1, rescaleIntercept: 0, photometricInterpretation: 'MONOCHROME2', fileWindow: { center: 32768, width: 65536 } },
      card: cardFor(224, 224, { mode: 'file' }),
    },
    {
      name: 'the window from the image’s own minimum and maximum',
      img: { rows: 640, columns: 512, samples: noise(640, 512, 4), rescaleSlope: 1, rescaleIntercept: 0, photometricInterpretation: 'MONOCHROME2', fileWindow: null },
      card: cardFor(224, 224, { mode: 'minmax' }),
    },
  ];

  for (const c of cases) {
    it(`equals the JavaScript path: ${c.name}`, () => {
      const img = inKernelMemory(c.img);
      const plan = planPreprocess(img, c.card);
      expect(whyNotSimd(img, c.card, plan)).toBeNull();
      const want = reference(c.img, c.card);
      const got = new Float32Array(want.length);
      reducer.run(img, c.card, plan, { from: 0, to: c.card.input.height }, got);
      expect(maxDiff(got, want)).toBeLessThan(1e-5);
      // the values span the normalised range: both clamps and the slope were exercised
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of got) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
      expect(hi - lo).toBeGreaterThan(0.5);
      // row ranges written separately, in any order, give the same tensor
      const parts = new Float32Array(want.length);
      const h = c.card.input.height;
      for (const [from, to] of [
        [h - 9, h],
        [0, 1],
        [1, 100],
        [100, h - 9],
      ] as const)
        reducer.run(img, c.card, plan, { from, to }, parts);
      expect(maxDiff(parts, got)).toBe(0);
    });
  }

  it('copies samples that are not in its memory, with the same result', () => {
    const c = cases[1]!;
    const plan = planPreprocess(c.img, c.card);
    const want = reference(c.img, c.card);
    const got = new Float32Array(want.length);
    reducer.run(c.img, c.card, plan, { from: 0, to: c.card.input.height }, got);
    expect(maxDiff(got, want)).toBeLessThan(1e-5);
  });

  it('says why it does not take an image (and leaves it to the JavaScript path)', () => {
    const base: GreyImage = { rows: 512, columns: 512, samples: new Uint16Array(512 * 512), rescaleSlope: 1, rescaleIntercept: 0, photometricInterpretation: 'MONOCHROME2', fileWindow: { center: 2047, width: 4095 } };
    const card = cardFor(224, 224, { mode: 'file' });
    const why = (img: GreyImage) => whyNotSimd(img, card, planPreprocess(img, card));
    expect(why(base)).toBe('the window bounds are not whole stored values');
    expect(why({ ...base, fileWindow: { center: 2048, width: 4096 } })).toBeNull();
    expect(why({ ...base, fileWindow: { center: 2048, width: 4096 }, samples: new Uint8Array(512 * 512) })).toBe('not unsigned 16-bit samples');
    expect(why({ ...base, fileWindow: { center: 2048, width: 4096 }, storedBits: { bitsStored: 12, highBit: 11, signed: true } })).toBe('stored bits signed or not at the bottom of the word');
    expect(why({ ...base, fileWindow: { center: 2048, width: 4096 }, rescaleSlope: -1 })).toBe('the window bounds are not whole stored values');
    const small: GreyImage = { ...base, rows: 100, columns: 100, samples: new Uint16Array(100 * 100), fileWindow: { center: 2048, width: 4096 } };
    expect(why(small)).toBe('not an area reduction of integer samples');
  });
});
