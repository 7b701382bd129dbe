/**
 * Preprocessing on two threads (src/node/ai/row-split.ts, the built helper
 * dist/workers/preprocess-rows.worker.cjs, a real worker thread): the helper's rows equal the
 * calling thread's; a split run gives exactly the one-thread tensor; and the inference engine
 * (real onnxruntime-node, the probe model) gives the same outputs, heat map and pixel digest with
 * the split as without, reading the pixels from its shared file buffer.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { SimdAreaReducer, whyNotSimd } from '../../../src/core/ai/area-simd';
import { validateModelCard, type ModelCard } from '../../../src/core/ai/card';
import { planPreprocess, preprocess, PreprocessScratch, type GreyImage } from '../../../src/core/ai/preprocess';
import { InferenceEngine, type InferenceOutcome } from '../../../src/node/ai/inference';
import { CHUNK_ROWS, findRowsWorkerScript, RowSplitter, type RowsJob } from '../../../src/node/ai/row-split';
import { decodeFrames } from '../../../src/node/dicom/decode';
import { probeCard, writeCrImage, writeModelFolder } from '../../support/ai';
import { seededRandom } from '../../support/onnx';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-ai-rows-');
afterAll(() => tmp.cleanup());

const card224 = (): ModelCard => {
  const r = validateModelCard(
    probeCard({
      input: { name: 'input', width: 224, height: 224, channels: 3 },
      preprocessing: { window: { mode: 'file' }, invertMonochrome1: true, resize: 'area', normalise: { mode: 'meanStd', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
    }),
  );
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.card;
};

/** A 1,030×1,024 12-bit MONOCHROME1 image in shared memory (as the engine's file buffer holds it), junk above High Bit. */
function sharedImage(): GreyImage {
  const rows = 1030;
  const columns = 1024;
  const sab = new SharedArrayBuffer(rows * columns * 2 + 64);
  const samples = new Uint16Array(sab, 64, rows * columns);
  const rnd = seededRandom(21);
  for (let y = 0; y < rows; y++) for (let x = 0; x < columns; x++) samples[y * columns + x] = ((Math.abs(x - 512) < 200 ? 2600 : 900) + y + Math.floor(rnd() * 200)) | (Math.floor(rnd() * 16) << 12);
  return { rows, columns, samples, rescaleSlope: 1.25, rescaleIntercept: -50, photometricInterpretation: 'MONOCHROME1', fileWindow: { center: 1800, width: 3000 }, storedBits: { bitsStored: 12, highBit: 11, signed: false } };
}

const maxDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/**
 * The helper given the whole image, this thread taking no chunk: each chunk must be marked done by
 * the helper (2), the tensor `whole`. `simdSource`: the samples' offset in the kernel's memory.
 */
async function helperAlone(w: Worker, img: GreyImage, card: ModelCard, plan: ReturnType<typeof planPreprocess>, whole: Float32Array, simdSource?: number): Promise<void> {
  const chunks = Math.ceil(card.input.height / CHUNK_ROWS);
  const s = img.samples as Uint16Array;
  const job: RowsJob = {
    state: new SharedArrayBuffer(4 * (1 + chunks)),
    chunkRows: CHUNK_ROWS,
    out: new SharedArrayBuffer(whole.length * 4),
    card,
    plan,
    image: { ...img, samples: { buffer: s.buffer as SharedArrayBuffer, byteOffset: s.byteOffset, length: s.length, bytes: 2 } },
    ...(simdSource === undefined ? {} : { simdSource }),
  };
  try {
    w.postMessage(job);
    const st = new Int32Array(job.state);
    const deadline = Date.now() + 60_000;
    for (let c = 0; c < chunks; c++) {
      while (Atomics.load(st, 1 + c) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(Atomics.load(st, 1 + c)).toBe(2);
    }
    expect(maxDiff(new Float32Array(job.out), whole)).toBe(0);
  } finally {
    await w.terminate();
  }
}

describe('preprocessing split between two threads', () => {
  it('the helper thread alone computes every chunk exactly as this thread does', async () => {
    const script = findRowsWorkerScript();
    if (!script) throw new Error('dist/workers/preprocess-rows.worker.cjs is missing: run node scripts/build.mjs --node first');
    const img = sharedImage();
    const card = card224();
    const plan = planPreprocess(img, card);
    await helperAlone(new Worker(script), img, card, plan, preprocess(img, card).tensor);
  });

  it('the helper thread alone runs the SIMD kernel on every chunk, from the memory it attached to, as this thread does', async () => {
    const script = findRowsWorkerScript();
    if (!script) throw new Error('dist/workers/preprocess-rows.worker.cjs is missing: run node scripts/build.mjs --node first');
    const reducer = SimdAreaReducer.create()!;
    // a 12-bit image with junk above High Bit, a window on whole stored values (the kernel's case)
    const base = sharedImage();
    const img: GreyImage = { ...base, rescaleSlope: 1, rescaleIntercept: 0, fileWindow: { center: 1800, width: 3000 } };
    const bytes = reducer.fileBytes(img.samples.byteLength);
    const samples = new Uint16Array(bytes.buffer, bytes.byteOffset, img.samples.length);
    samples.set(img.samples as Uint16Array);
    const inMemory: GreyImage = { ...img, samples };
    const card = card224();
    const plan = planPreprocess(inMemory, card);
    expect(whyNotSimd(inMemory, card, plan)).toBeNull();
    const src = reducer.samplesAt(inMemory);
    expect(src).toBe(samples.byteOffset);
    const whole = new Float32Array(3 * 224 * 224);
    reducer.runAt(src, inMemory, card, plan, { from: 0, to: 224 }, whole);
    expect(maxDiff(whole, preprocess(img, card).tensor)).toBeLessThan(1e-5);
    await helperAlone(new Worker(script, { workerData: { simdMemory: reducer.memory } }), inMemory, card, plan, whole, src);
  });

  it('a split run gives the one-thread tensor, image after image (helper starting late included)', async () => {
    const splitter = RowSplitter.create(2);
    if (!splitter) throw new Error('dist/workers/preprocess-rows.worker.cjs is missing: run node scripts/build.mjs --node first');
    try {
      const img = sharedImage();
      const card = card224();
      const plan = planPreprocess(img, card);
      expect(splitter.canSplit(img, plan)).toBe(true);
      // not in shared memory (a decoded copy): not split
      expect(splitter.canSplit({ ...img, samples: new Uint16Array(img.samples.length) }, plan)).toBe(false);
      const whole = preprocess(img, card).tensor;
      const scratch = new PreprocessScratch();
      for (let i = 0; i < 6; i++) {
        const tensor = new Float32Array(whole.length).fill(Number.NaN);
        const stats = splitter.run(img, card, plan, tensor, scratch);
        expect(stats.chunks).toBe(28);
        expect(stats.byHelper).toBeLessThanOrEqual(28);
        expect(maxDiff(tensor, whole)).toBe(0);
        await new Promise((r) => setTimeout(r, 20)); // let the helper pick up the next image in time
      }
    } finally {
      await splitter.close();
    }
  });

  it('the engine gives the same outputs, heat map and pixel digest with and without the split', async () => {
    const folder = writeModelFolder(join(tmp.path, 'probe'));
    const modelPath = join(folder, 'model.onnx');
    const v = validateModelCard(probeCard());
    if (!v.ok) throw new Error(v.problems.join('; '));
    const model = { id: 'probe', modelPath, modelSha256: createHash('sha256').update(readFileSync(modelPath)).digest('hex'), card: v.card };
    // 1,024² (large enough to split), the probe's region (input rows/cols 8..16 of 32) bright
    const size = 1024;
    const files = [1500, 3000].map((region, k) => {
      const px = new Uint16Array(size * size).fill(600);
      for (let r = 256; r < 512; r++) for (let c = 256; c < 512; c++) px[r * size + c] = region + ((r + c) % 7);
      const f = join(tmp.path, `big${k}.dcm`);
      writeCrImage(f, { rows: size, columns: size, pixels: px, instance: `big${k}`, photometric: k === 1 ? 'MONOCHROME1' : 'MONOCHROME2' });
      return f;
    });
    // the JavaScript preprocessing (these 16-bit images with a whole-number window would take the SIMD kernel: below)
    const split = new InferenceEngine(decodeFrames, { simd: false });
    const single = new InferenceEngine(decodeFrames, { splitRows: false, simd: false });
    const result = (o: InferenceOutcome) => {
      if (o.kind !== 'result') throw new Error(`expected a result, got ${o.kind}: ${o.kind === 'failed' ? o.message : o.reason}`);
      return o;
    };
    try {
      for (const f of files) {
        const job = { filePath: f, model, computePixelDigest: true };
        const a = result(await split.run(job));
        const b = result(await single.run(job));
        expect(a.timings.splitRows).toEqual({ chunks: 4, byHelper: expect.any(Number) });
        expect(b.timings.splitRows).toBeUndefined();
        expect(a.output).toEqual(b.output);
        expect(Array.from(a.heatMap!.values)).toEqual(Array.from(b.heatMap!.values));
        expect(a.pixelSha256).toBe(b.pixelSha256);
        expect(a.pixelSha256).toMatch(/^[0-9a-f]{64}$/);
        expect(a.window).toEqual({ center: 2048, width: 4096, source: 'file' });
      }
      // the two images really differ (region brightness, MONOCHROME1 inverted)
      const o0 = result(await split.run({ filePath: files[0]!, model, computePixelDigest: false })).output;
      const o1 = result(await split.run({ filePath: files[1]!, model, computePixelDigest: false })).output;
      expect(o0[0]).not.toBeCloseTo(o1[0]!, 3);
      // the SIMD kernel (the default for these images) gives the same outputs up to float rounding,
      // split between the two threads exactly those of one thread
      const simd = new InferenceEngine(decodeFrames);
      const simdOneThread = new InferenceEngine(decodeFrames, { splitRows: false });
      try {
        for (const f of files) {
          const job = { filePath: f, model, computePixelDigest: true };
          const a = result(await simd.run(job));
          const b = result(await single.run(job));
          const c = result(await simdOneThread.run(job));
          expect(a.timings.simd).toBe(true);
          expect(a.timings.splitRows).toEqual({ chunks: 4, byHelper: expect.any(Number) });
          expect(c.timings.simd).toBe(true);
          expect(c.timings.splitRows).toBeUndefined();
          expect(c.output).toEqual(a.output);
          expect(Array.from(c.heatMap!.values)).toEqual(Array.from(a.heatMap!.values));
          expect(b.timings.simd).toBeUndefined();
          expect(a.output.length).toBe(b.output.length);
          a.output.forEach((x, i) => expect(x).toBeCloseTo(b.output[i]!, 5));
          const ha = a.heatMap!.values;
          const hb = b.heatMap!.values;
          expect(ha.length).toBe(hb.length);
          ha.forEach((x, i) => expect(x).toBeCloseTo(hb[i]!, 5));
          expect(a.pixelSha256).toBe(b.pixelSha256);
          expect(a.window).toEqual(b.window);
        }
      } finally {
        await simd.close();
        await simdOneThread.close();
      }
    } finally {
      await split.close();
      await single.close();
    }
  });
});
