/**
 * Pixel rows read while preprocessing (EngineSessionOptions.readRows): the engine reads a file's
 * header, then each chunk's source rows just before the SIMD kernel reduces them, in the calling
 * thread and in the row helper. The tensors must be exactly those of reading the whole file first,
 * for every image of a run (the kernel's memory is reused from image to image, so a row read late
 * or not at all would show the previous image's pixels); files where it does not apply (a window
 * from the pixels, a header past 64 kB, a pixel digest to compute, a truncated file) are read whole
 * and give the same results and messages. Real files, real worker threads, no fakes.
 */
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateModelCard, type ModelCard } from '../../../src/core/ai/card';
import { InferenceEngine, type InferenceJob, type Prepared, type SkippedOrFailed } from '../../../src/node/ai/inference';
import { decodeFrames } from '../../../src/node/dicom/decode';
import { crImageBytes, probeCard } from '../../support/ai';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-ai-rows-');
afterAll(() => tmp.cleanup());

const SIZE = 2048;

/** Stored values that differ row by row and image by image (a row from another image shows). */
function pixels(seed: number, size = SIZE): Uint16Array {
  const px = new Uint16Array(size * size);
  let x = seed * 2654435761;
  for (let i = 0; i < px.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    px[i] = (x >>> 20) + ((i / size) | 0);
  }
  return px;
}

function card(overrides: Record<string, unknown> = {}): ModelCard {
  const v = validateModelCard(probeCard({ input: { name: 'image', width: 224, height: 224, channels: 3 }, ...overrides }));
  if (!v.ok) throw new Error(v.problems.join('; '));
  return v.card;
}

function file(name: string, seed: number, extra?: Record<string, unknown>, window: { center: number; width: number } | null = { center: 2048, width: 4096 }, size = SIZE): string {
  const f = join(tmp.path, `${name}.dcm`);
  writeFileSync(f, crImageBytes({ rows: size, columns: size, pixels: pixels(seed, size), instance: name, window, ...(extra ? { extra } : {}) }).bytes);
  return f;
}

type PrepareOne = (job: InferenceJob, reuse: boolean, split: boolean) => Promise<Prepared | SkippedOrFailed>;
/** The engine's own preparation (reused buffers; `split`: with the row helper), its tensor copied out. */
async function prepared(engine: InferenceEngine, job: InferenceJob, split: boolean): Promise<Prepared | SkippedOrFailed> {
  const p = await (engine as unknown as { prepareOne: PrepareOne }).prepareOne.call(engine, job, true, split);
  return p.kind === 'prepared' ? { ...p, tensor: p.tensor.slice() } : p;
}

const job = (filePath: string, c: ModelCard, computePixelDigest = false): InferenceJob => ({ filePath, model: { id: 'probe', modelPath: '/nonexistent', modelSha256: '0', card: c }, computePixelDigest });

describe('AI preprocessing with the pixel rows read chunk by chunk', () => {
  it('gives the tensors of reading the whole file, image after image, with the row helper, alone, and not at all', async () => {
    // two radiographs the row helper shares, and one under 512² that the inferring thread reduces alone, chunk by chunk
    const files = [1, 2].map((seed) => file(`img${seed}`, seed)).concat(file('small', 3, undefined, undefined, 500));
    const c = card();
    const whole = new InferenceEngine(decodeFrames, { readRows: false });
    const rows = new InferenceEngine(decodeFrames);
    try {
      const expected: Float32Array[] = [];
      for (const f of files) {
        const p = await prepared(whole, job(f, c), false);
        if (p.kind !== 'prepared') throw new Error(`${p.kind}`);
        expect(p.timings.rowsRead).toBeUndefined();
        expect(p.timings.simd).toBe(true);
        expected.push(p.tensor);
      }
      // the three images differ (a stale row would change a tensor)
      expect(expected[0]).not.toEqual(expected[1]);
      let byHelper = 0;
      // alternating images and both paths, several rounds: the kernel's memory holds another image each time
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < files.length; i++) {
          // split: prepared just before its inference (the helper may share it); not split: prepared
          // ahead beside another inference, where the whole file is read first
          const split = (round + i) % 2 === 0;
          const p = await prepared(rows, job(files[i]!, c), split);
          if (p.kind !== 'prepared') throw new Error(`${p.kind}: ${p.kind === 'failed' ? p.message : p.reason}`);
          expect(p.timings.rowsRead, `round ${round} image ${i}`).toBe(split ? true : undefined);
          if (split) expect(p.timings.splitRows?.chunks, `round ${round} image ${i}`).toBe(i < 2 ? 28 : undefined);
          byHelper += p.timings.splitRows?.byHelper ?? 0;
          expect(Buffer.from(p.tensor.buffer).equals(Buffer.from(expected[i]!.buffer)), `tensor of image ${i}, round ${round}, ${split ? 'with' : 'without'} the helper`).toBe(true);
        }
      }
      // a log line, not an assertion: how much the helper did depends on the machine's load
      console.log(`read-rows: the row helper did ${byHelper} of the chunks in the split runs`);
    } finally {
      await whole.close();
      await rows.close();
    }
  });

  it('reads the whole file first where the rows cannot wait, with the same tensors and messages', async () => {
    const whole = new InferenceEngine(decodeFrames, { readRows: false });
    const rows = new InferenceEngine(decodeFrames);
    try {
      const same = async (name: string, j: InferenceJob) => {
        const a = await prepared(whole, j, true);
        const b = await prepared(rows, j, true);
        expect(b.kind, name).toBe(a.kind);
        if (a.kind === 'prepared' && b.kind === 'prepared') {
          expect(b.timings.rowsRead, name).toBeUndefined();
          expect(Buffer.from(b.tensor.buffer).equals(Buffer.from(a.tensor.buffer)), name).toBe(true);
          expect(b.pixelSha256, name).toBe(a.pixelSha256);
        }
        return [a, b] as const;
      };
      // a window from the pixels' own range needs every pixel first
      await same('min..max window', job(file('minmax', 4), card({ preprocessing: { window: { mode: 'minmax' }, invertMonochrome1: true, resize: 'area', normalise: { mode: 'scale', scale: 1, offset: 0 } } })));
      // the card asks for the file's window and the file has none: min..max too
      await same('no window in the file', job(file('nowindow', 5, undefined, null), card()));
      // Pixel Data starts after 64 kB (a 100 kB ICC profile ahead of it)
      await same('header past 64 kB', job(file('icc', 6, { ICCProfile: new Uint8Array(100_000).fill(7).buffer }), card()));
      // the pixel digest reads every pixel
      const [, withDigest] = await same('pixel digest', job(file('digest', 7), card(), true));
      expect(withDigest.kind === 'prepared' && withDigest.pixelSha256).toMatch(/^[0-9a-f]{64}$/);
      // cut short inside its pixel data: the same message either way
      const cut = file('cut', 8);
      truncateSync(cut, SIZE * SIZE * 2 - 4096);
      const [a, b] = await same('truncated', job(cut, card()));
      expect(a.kind).toBe('failed');
      expect(b.kind === 'failed' && b.message).toBe(a.kind === 'failed' && a.message);
      expect(b.kind === 'failed' && b.message).toMatch(/truncated|ends inside its pixel data/i);
    } finally {
      await whole.close();
      await rows.close();
    }
  });
});
