/**
 * The two-thread AI backend (dist/workers/ai-inference.worker.cjs as a preparing and an inferring
 * worker, real onnxruntime-node): told the next job, it prepares that image while the current one is
 * inferred, and the numbers are the same as running each image alone in the calling thread; a hint
 * not followed, a skipped image in between and a cancel while the next image is prepared ahead all
 * still give the right answers.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateModelCard } from '../../../src/core/ai/card';
import type { InferenceJob, InferenceOutcome } from '../../../src/node/ai/inference';
import { findAiWorkerScript, InlineInference, prepareAheadPays, WorkerInference } from '../../../src/node/ai/inference-runner';
import { decodeFrames } from '../../../src/node/dicom/decode';
import { blockImage, probeCard, writeCrImage, writeModelFolder } from '../../support/ai';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-ai-pipe-');
afterAll(() => tmp.cleanup());

const outputOf = (o: InferenceOutcome) => {
  if (o.kind !== 'result') throw new Error(`expected a result, got ${o.kind}: ${o.kind === 'failed' ? o.message : o.reason}`);
  return { output: o.output, heat: Array.from(o.heatMap!.values), pixel: o.pixelSha256, window: o.window, inverted: o.inverted };
};

describe('AI worker pipeline (next image prepared during inference)', () => {
  it('gives the numbers of running each image alone; survives an unfollowed hint, a skipped image and a cancel', async () => {
    const script = findAiWorkerScript();
    if (!script) throw new Error('dist/workers/ai-inference.worker.cjs is missing: run node scripts/build.mjs --node first');
    const folder = writeModelFolder(join(tmp.path, 'probe'));
    const modelPath = join(folder, 'model.onnx');
    const v = validateModelCard(probeCard());
    if (!v.ok) throw new Error(v.problems.join('; '));
    const model = { id: 'probe', modelPath, modelSha256: createHash('sha256').update(readFileSync(modelPath)).digest('hex'), card: v.card };
    // region brightness differs per image, so each output is its own; image 2 is an MR (not accepted: skipped)
    const files = [400, 1500, 2600, 3500, 900].map((region, i) => {
      const f = join(tmp.path, `img${i}.dcm`);
      writeCrImage(f, { rows: 256, columns: 256, pixels: blockImage(1024, region), instance: `p${i}`, photometric: i === 3 ? 'MONOCHROME1' : 'MONOCHROME2', modality: i === 2 ? 'MR' : 'CR' });
      return f;
    });
    const job = (f: string): InferenceJob => ({ filePath: f, model, computePixelDigest: true });

    const inline = new InlineInference(decodeFrames);
    const alone = [];
    for (const f of files) alone.push(await inline.run(job(f)));
    await inline.close();
    expect(alone[2]).toMatchObject({ kind: 'skipped' });
    expect(alone[2]!.kind === 'skipped' && alone[2]!.reason).toMatch(/MR/);
    const expected = alone.filter((o) => o.kind === 'result').map(outputOf);
    // the regions really differ: four different first outputs
    expect(new Set(expected.map((e) => e.output[0])).size).toBe(4);

    // prepared ahead in the second thread (what `auto` chooses when ONNX Runtime leaves a core free)
    const backend = new WorkerInference(script, { prepareAhead: 'always' });
    expect(backend.preparesAhead).toBe(true);
    try {
      const got: InferenceOutcome[] = [];
      for (let i = 0; i < files.length; i++) got.push(await backend.run(job(files[i]!), undefined, i + 1 < files.length ? job(files[i + 1]!) : undefined));
      expect(got[2]).toMatchObject({ kind: 'skipped' });
      expect(got.filter((o) => o.kind === 'result').map(outputOf)).toEqual(expected);

      // a hint not followed: image 1 was announced, image 4 is asked for → image 4's numbers
      await backend.run(job(files[0]!), undefined, job(files[1]!));
      expect(outputOf(await backend.run(job(files[4]!)))).toEqual(outputOf(alone[4]!));

      // cancel while the next image waits prepared: the run answers CANCELLED, the backend goes on
      const ac = new AbortController();
      await backend.run(job(files[0]!), undefined, job(files[1]!));
      ac.abort();
      await expect(backend.run(job(files[1]!), ac.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(outputOf(await backend.run(job(files[3]!)))).toEqual(outputOf(alone[3]!));

      // cancel once the announced image is already queued for (or in) inference behind the previous
      // one: CANCELLED, the thread doing it is stopped, and the images after it still get their own numbers
      // a 2,048² radiograph takes longer to prepare than the small image before it to infer
      const big = join(tmp.path, 'big.dcm');
      writeCrImage(big, { rows: 2048, columns: 2048, pixels: blockImage(1024, 3000, 2048), instance: 'big', photometric: 'MONOCHROME2', modality: 'CR' });
      const bigAlone = await new InlineInference(decodeFrames).run(job(big));
      let cancels = 0;
      for (const wait of [0, 1, 3]) {
        const ac2 = new AbortController();
        await backend.run(job(files[0]!), undefined, job(big));
        const cancelledRun = backend.run(job(big), ac2.signal, job(files[3]!));
        setTimeout(() => ac2.abort(), wait);
        // a run already finished when the cancel comes gives its own numbers
        const settled = await cancelledRun.then((o) => ({ o }), (e: unknown) => ({ e }));
        if ('e' in settled) expect(settled.e).toMatchObject({ code: 'CANCELLED' });
        else expect(outputOf(settled.o)).toEqual(outputOf(bigAlone));
        cancels += 'e' in settled ? 1 : 0;
        expect(outputOf(await backend.run(job(files[3]!), undefined, job(files[4]!)))).toEqual(outputOf(alone[3]!));
        expect(outputOf(await backend.run(job(files[4]!)))).toEqual(outputOf(alone[4]!));
      }
      expect(cancels, 'the immediate cancel at least').toBeGreaterThanOrEqual(1);
    } finally {
      await backend.close();
    }
  });

  it('with prepareAhead never (or auto on one core) gives the same numbers, each image in the inferring thread', async () => {
    const script = findAiWorkerScript();
    if (!script) throw new Error('dist/workers/ai-inference.worker.cjs is missing: run node scripts/build.mjs --node first');
    const folder = writeModelFolder(join(tmp.path, 'probe-serial'));
    const modelPath = join(folder, 'model.onnx');
    const v = validateModelCard(probeCard());
    if (!v.ok) throw new Error(v.problems.join('; '));
    const model = { id: 'probe', modelPath, modelSha256: createHash('sha256').update(readFileSync(modelPath)).digest('hex'), card: v.card };
    const files = [700, 2900].map((region, i) => {
      const f = join(tmp.path, `serial${i}.dcm`);
      writeCrImage(f, { rows: 256, columns: 256, pixels: blockImage(1024, region), instance: `s${i}` });
      return f;
    });
    const job = (f: string): InferenceJob => ({ filePath: f, model, computePixelDigest: true });
    const inline = new InlineInference(decodeFrames);
    const expected = [];
    for (const f of files) expected.push(outputOf(await inline.run(job(f))));
    await inline.close();
    expect(expected[0]!.output[0]).not.toBe(expected[1]!.output[0]);
    // the auto rule: a core left free by ONNX Runtime's intra-op threads, or not
    expect(prepareAheadPays({}, 4)).toBe(true);
    expect(prepareAheadPays({}, 2)).toBe(true);
    expect(prepareAheadPays({}, 1)).toBe(false);
    expect(prepareAheadPays({ intraOpThreads: 4 }, 4)).toBe(true);
    expect(prepareAheadPays({ prepareAhead: 'always' }, 2)).toBe(true);
    expect(prepareAheadPays({ intraOpThreads: 1, prepareAhead: 'never' }, 4)).toBe(false);
    const backend = new WorkerInference(script, { prepareAhead: 'never' });
    expect(backend.preparesAhead).toBe(false);
    try {
      const got = [];
      for (let i = 0; i < files.length; i++) got.push(outputOf(await backend.run(job(files[i]!), undefined, i + 1 < files.length ? job(files[i + 1]!) : undefined)));
      expect(got).toEqual(expected);
    } finally {
      await backend.close();
    }
  });
});
