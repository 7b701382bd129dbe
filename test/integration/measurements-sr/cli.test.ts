/**
 * `medimgshr measurements sr save|load` through the built CLI (--json) on a real app-data folder: the measurements
 * are saved through the library (as the viewer does), written as a Measurement Report, deleted, and loaded back;
 * errors say what is wrong in DICOM words and what to do.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { Services } from '../../../src/node/services';
import type { MeasurementReportLoadResult, MeasurementReportSaveResult } from '../../../src/shared/api';
import { runCli } from '../../support/cli-homes';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-sr-cli-');
const home = join(tmp.path, 'home');
const env = { ...process.env };
let study = '';

async function withServices<T>(fn: (s: Services) => T | Promise<T>): Promise<T> {
  const s = await Services.open({ home, ledger: { mode: 'none' } });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

beforeAll(async () => {
  const g = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 4, kind: 'ct', seed: 61 });
  study = g.studyInstanceUid;
  const imp = await runCli(home, ['import', join(tmp.path, 'ct')], env);
  expect(imp.code, imp.stderr).toBe(0);
}, 240_000);
afterAll(() => tmp.cleanup());

describe('medimgshr measurements sr', () => {
  it('says what to do when the study has no measurements or is not in the library', async () => {
    const none = await runCli(home, ['measurements', 'sr', 'save', '--study', study], env);
    expect(none.code).not.toBe(0);
    expect(none.out).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: 'This study has no saved measurements to write as a Measurement Report.', hint: expect.stringContaining('Draw lengths') } });
    const unknown = await runCli(home, ['measurements', 'sr', 'save', '--study', '1.2.3.999'], env);
    expect(unknown.out).toMatchObject({ error: { code: 'NOT_FOUND', message: 'The study 1.2.3.999 is not in the library.' } });
  });

  it('saves a length and an angle as a report, and loads them back after they were deleted', async () => {
    const saved = await withServices((s) => {
      const st = s.library.studyByUid(study)!;
      const inst = s.library.instances(s.library.series(st.id).series[0]!.id).instances[1]!;
      const l = s.library.saveMeasurement({ instanceId: inst.id, kind: 'length', data: { handles: { start: { x: 100, y: 100 }, end: { x: 300, y: 250 } } } });
      const a = s.library.saveMeasurement({ instanceId: inst.id, kind: 'angle', data: { handles: { start: { x: 10, y: 200 }, middle: { x: 200, y: 200 }, end: { x: 200, y: 20 } } } });
      return { instanceId: inst.id, length: Number(l.stats.length), angle: Number(a.stats.angle), ids: [l.id, a.id] };
    });
    expect(saved.angle).toBe(90);
    const w = await runCli(home, ['measurements', 'sr', 'save', '--study', study], env);
    expect(w.code, w.stderr).toBe(0);
    const r = w.out as MeasurementReportSaveResult;
    expect(r).toMatchObject({ written: 2, byKind: { length: 1, angle: 1 }, images: 1, skipped: [] });
    await withServices((s) => saved.ids.forEach((id) => s.library.deleteMeasurement(id)));
    const l = await runCli(home, ['measurements', 'sr', 'load', r.filePath], env);
    expect(l.code, l.stderr).toBe(0);
    expect(l.out as MeasurementReportLoadResult).toMatchObject({ sopInstanceUid: r.sopInstanceUid, found: 2, restored: 2, alreadyPresent: 0, notRestored: [] });
    const back = await withServices((s) => s.library.measurements({ instanceId: saved.instanceId }));
    expect(back.find((m) => m.kind === 'length')!.stats.length).toBeCloseTo(saved.length, 2);
    expect(back.find((m) => m.kind === 'angle')!.stats.angle).toBe(90);
    const text = await runCli(home, ['measurements', 'sr', 'load', r.filePath], env, { json: false });
    expect(text.stdout).toContain(`Measurement Report ${r.sopInstanceUid}: 2 measurement(s); 0 restored, 2 already saved, 0 not restored.`);
  });
});
