/**
 * The AI run in its worker thread (dist/workers/ai-inference.worker.cjs) with progress and cancel,
 * and the built CLI (`node bin/medimgshr.cjs model …`): no model → the honest message; add, run,
 * one pixel changed → stale; remove.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { computePixelDigest, createAi, inspectModel } from '../../../src/node/ai';
import { findAiWorkerScript, WorkerInference } from '../../../src/node/ai/inference-runner';
import { decodeFrames } from '../../../src/node/dicom/decode';
import { openDatabase } from '../../../src/node/store/database';
import { Task } from '../../../src/node/tasks';
import { blockImage, writeCrImage, writeModelFolder } from '../../support/ai';
import { tempDir } from '../../support/tmp';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const bin = join(root, 'bin/medimgshr.cjs');
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const tmp = tempDir('medimg-ai-cli-');
afterAll(() => tmp.cleanup());


function cli(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, '--home', home, '--json', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, json: JSON.parse(r.stdout || 'null') as Record<string, unknown> & { error?: { message: string } }, stderr: r.stderr };
}

describe('AI in a worker thread', () => {
  it('gives the same numbers as inline, reports progress, and cancels between images', async () => {
    expect(findAiWorkerScript()).toMatch(/ai-inference\.worker\.cjs$/);
    const dir = join(tmp.path, 'worker');
    const db = openDatabase(join(tmp.path, 'worker.sqlite'));
    const ai = createAi({ db, appDataDir: dir, decode: decodeFrames, inspect: inspectModel, computePixelDigest });
    try {
      await ai.registry.install(writeModelFolder(join(dir, 'probe')));
      const files = Array.from({ length: 6 }, (_, i) => {
        const f = join(dir, `img${i}.dcm`);
        writeCrImage(f, { rows: 256, columns: 256, pixels: blockImage(1024, 3072), instance: `w${i}` });
        return f;
      });
      const events: { done: number; total: number | null }[] = [];
      const run = await ai.runFiles(files.slice(0, 2), { task: new Task('ai', null, (e) => events.push({ done: e.done, total: e.total }), 0) });
      expect(run.ranIn).toBe('worker');
      expect(run.results.map((r) => r.findings[0]!.probability)).toEqual([expect.closeTo(sigmoid(1), 6), expect.closeTo(sigmoid(1), 6)]);
      expect(events.at(-1)).toEqual({ done: 2, total: 2 });

      const task = new Task('ai', null, (e) => {
        if (e.done >= 1) task.cancel();
      }, 0);
      const cancelled = await ai.runFiles(files, { task });
      expect(cancelled.cancelled).toBe(true);
      expect(cancelled.results.length).toBeGreaterThanOrEqual(1);
      expect(cancelled.results.length).toBeLessThan(6);
      // after a cancel the engine still works (a fresh worker if the old one was stopped mid-image)
      const again = await ai.runFiles([files[5]!]);
      expect(again.results).toHaveLength(1);

      // cancelling while the worker is inside an image stops that worker; the next job gets a fresh one
      const m = ai.registry.list()[0]!;
      const job = { filePath: files[0]!, model: { id: m.id, modelPath: m.modelPath, modelSha256: m.modelSha256, card: m.card }, computePixelDigest: true };
      const backend = new WorkerInference(findAiWorkerScript()!);
      try {
        const ac = new AbortController();
        const running = backend.run(job, ac.signal);
        setTimeout(() => ac.abort(), 30);
        await expect(running).rejects.toMatchObject({ code: 'CANCELLED' });
        const next = await backend.run(job);
        expect(next.kind).toBe('result');
      } finally {
        await backend.close();
      }
    } finally {
      await ai.close();
      db.close();
    }
  });
});

describe('medimgshr model (built CLI)', () => {
  it('no model → honest message; add, list, run, stale after one pixel changes, remove', () => {
    const home = join(tmp.path, 'home');
    const file = join(tmp.path, 'chest.dcm');
    writeCrImage(file, { rows: 256, columns: 256, pixels: blockImage(1024, 3072), instance: 'cli' });

    const none = cli(home, 'model', 'run', file);
    expect(none.status).toBe(1);
    expect(none.json.error!.message).toMatch(/^No AI model is installed: Settings → AI models, or `medimgshr model add <folder>`/);

    const added = cli(home, 'model', 'add', writeModelFolder(join(tmp.path, 'probe')));
    expect(added.status).toBe(0);
    const id = (added.json.model as { id: string }).id;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((cli(home, 'model', 'list').json.models as { id: string }[]).map((m) => m.id)).toEqual([id]);

    const ran = cli(home, 'model', 'run', file);
    expect(ran.status).toBe(0);
    const results = ran.json.results as { findings: { label: string; probability: number; present: boolean }[]; pixelSha256: string }[];
    expect(ran.json.disclaimer).toBe('AI — not for diagnostic use');
    expect(results[0]!.findings.map((f) => [f.label, Number(f.probability.toFixed(6)), f.present])).toEqual([
      ['Opacity (region)', Number(sigmoid(1).toFixed(6)), true],
      ['Mean brightness', 0.28125, false],
    ]);

    expect((cli(home, 'model', 'findings', file).json.results as { freshness: unknown }[])[0]!.freshness).toEqual({ state: 'current' });
    const bytes = readFileSync(file);
    bytes.writeUInt16LE(bytes.readUInt16LE(bytes.length - 2) ^ 1, bytes.length - 2);
    writeFileSync(file, bytes);
    const stale = (cli(home, 'model', 'findings', file).json.results as { freshness: { state: string; reasons: string[] } }[])[0]!.freshness;
    expect(stale.state).toBe('stale');
    expect(stale.reasons[0]).toMatch(/^the image's pixels changed since the finding/);

    expect(cli(home, 'model', 'remove', id.slice(0, 8)).status).toBe(0);
    expect(cli(home, 'model', 'list').json.models).toEqual([]);
  });
});
