/**
 * The AI API through the one handler table (what the renderer calls): install from a folder (a card
 * mismatch names the shape), run a study as a task of kind 'ai' with progress events, cancel it with
 * task.cancel, findings per image and per study, and removing the model makes the results stale.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlerTable, type HandlerTable } from '../../../src/node/handlers';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import type { AppEvent, Channel, ProgressEvent, RequestOf } from '../../../src/shared/api';
import { blockImage, probeCard, writeCrImage, writeModelFolder } from '../../support/ai';
import { tempDir } from '../../support/tmp';
import { callHandler } from '../../support/handlers';

const tmp = tempDir('medimg-ai-api-');
let s: Services;
let table: HandlerTable;
const N = 6;
const files: string[] = [];

const call = <C extends Channel>(channel: C, request: RequestOf<C>) => callHandler(table, s.log, channel, request);

beforeAll(async () => {
  s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' } });
  table = createHandlerTable(s);
  const dir = join(tmp.path, 'cr');
  mkdirSync(dir);
  for (let i = 0; i < N; i++) {
    const f = join(dir, `im${i}.dcm`);
    writeCrImage(f, { rows: 256, columns: 256, pixels: blockImage(1024, 1024 + 400 * i), study: 'api', instance: `i${i}` });
    files.push(f);
  }
  await s.library.import([dir], new Task('import', null, () => {}));
}, 120_000);
afterAll(async () => {
  await s?.close();
  tmp.cleanup();
});

describe('AI API (handler table, real SQLite, ONNX Runtime)', () => {
  it('installs from a folder, refusing a card that does not match the model with the shape named', async () => {
    expect((await call('ai.models.list', {})).models).toEqual([]);
    await expect(call('ai.run', { scope: { instanceId: s.library.instanceAtPath(files[0]!)!.instanceId } })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/^No AI model is installed/) });
    const bad = writeModelFolder(join(tmp.path, 'bad'), probeCard({ output: { name: 'probabilities', activation: 'none', labels: [{ name: 'Only one', threshold: 0.5 }] } }));
    await expect(call('ai.models.add', { folder: bad })).rejects.toMatchObject({ message: expect.stringContaining("the card lists 1 label (output 1×1), the model's output 'probabilities' is 1×2") });
    const added = await call('ai.models.add', { folder: writeModelFolder(join(tmp.path, 'good')) });
    expect(added.alreadyInstalled).toBe(false);
    expect(added.model).toMatchObject({ name: 'Probe chest model (test)', modalities: ['CR', 'DX'], notForDiagnosticUse: true, heatMap: true });
    expect((await call('ai.models.add', { folder: join(tmp.path, 'good') })).alreadyInstalled).toBe(true);
  });

  it('runs a study as a task with progress events; task.cancel stops it, and what ran is kept', async () => {
    const progress: ProgressEvent[] = [];
    let cancelled = false;
    const onEvent = (e: AppEvent) => {
      if (e.type !== 'progress' || e.kind !== 'ai') return;
      progress.push(e);
      if (!cancelled && e.done >= 2) {
        cancelled = true;
        void call('task.cancel', { taskId: e.taskId });
      }
    };
    s.events.on('event', onEvent);
    try {
      const id0 = s.library.instanceAtPath(files[0]!)!.instanceId;
      const r = await call('ai.run', { scope: { studyOfInstanceId: id0 } });
      expect(r.cancelled).toBe(true);
      expect(r.results.length).toBeGreaterThanOrEqual(2);
      expect(r.results.length).toBeLessThan(N);
      expect(progress[0]!.total).toBe(N);
      expect(progress.at(-1)!.finished).toBe(true);
      expect(r.disclaimer).toBe('AI — not for diagnostic use');
      // the whole study, not cancelled: every image has a current result
      const all = await call('ai.run', { scope: { studyOfInstanceId: id0 } });
      expect(all.cancelled).toBe(false);
      expect(all.results).toHaveLength(N);
      const study = await call('ai.findings', { scope: { studyOfInstanceId: id0 } });
      expect(study.results).toHaveLength(N);
      expect(study.results.every((x) => x.freshness.state === 'current')).toBe(true);
      // region value 1024 + 400 i: after the file window (C 2048 W 4096) (1024 + 400 i) / 4096
      const one = await call('ai.findings', { scope: { instanceId: s.library.instanceAtPath(files[3]!)!.instanceId } });
      expect(one.results).toHaveLength(1);
      expect(one.results[0]!.findings[0]!.probability).toBeCloseTo(1 / (1 + Math.exp(-4 * ((1024 + 1200) / 4096 - 0.5))), 6);
      expect(one.results[0]!.heatMap).toMatchObject({ width: 8, height: 8 });
      expect(one.results[0]!.instanceId).toBe(s.library.instanceAtPath(files[3]!)!.instanceId);
    } finally {
      s.events.off('event', onEvent);
    }
  }, 120_000);

  it('removing the model keeps its results, marked stale with why', async () => {
    const [m] = (await call('ai.models.list', {})).models;
    const removed = await call('ai.models.remove', { id: m!.id });
    expect(removed.removed.id).toBe(m!.id);
    const one = await call('ai.findings', { scope: { instanceId: s.library.instanceAtPath(files[0]!)!.instanceId } });
    expect(one.results[0]!.freshness).toEqual({ state: 'stale', reasons: ['the model that produced it (Probe chest model (test) 1.0.0) is no longer installed'] });
  });
});
