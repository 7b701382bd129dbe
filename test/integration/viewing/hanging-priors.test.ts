/**
 * Linked viewing against real SQLite and real files: the reader's hanging protocols survive a restart (migration
 * 017), a study's first screen follows them, a series' Frame of Reference UID comes from its header, and priors
 * are the same patient's (Patient ID + Issuer of Patient ID) earlier studies of the same modality.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROTOCOLS, type HangingProtocol } from '../../../src/core/hanging/protocols';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import { writeAsStudy, writeLinkedStudy, type LinkedStudy } from '../../support/linked-series';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-viewing-');
const home = join(tmp.path, 'home');
let s: Services;
let study: LinkedStudy;
const seriesIdOf = (uidOfAnyFile: string) => (s.db.prepare('SELECT series_ref AS id FROM instances WHERE file_path = ?').get(uidOfAnyFile) as { id: number }).id;
const studyIdOfSeries = (seriesId: number) => (s.db.prepare('SELECT study_ref AS id FROM series WHERE id = ?').get(seriesId) as { id: number }).id;

beforeAll(async () => {
  study = await writeLinkedStudy(join(tmp.path, 'cur'), { seed: 4242, slices: 12, matrix: 64, sagittals: 4 });
  // Priors of the same patient: 2025 (other frame of reference), 2024 (no issuer match), and a later study (not a prior).
  const prior2025 = writeAsStudy(study.axial.files, join(tmp.path, 'p2025'), { key: 'p2025', patientId: study.patientId, studyDate: '20250310', frameOfReferenceUid: '2.25.777' });
  const prior2024 = writeAsStudy(study.axial.files, join(tmp.path, 'p2024'), { key: 'p2024', patientId: study.patientId, studyDate: '20240101', issuer: 'OTHER-HOSPITAL' });
  const later = writeAsStudy(study.axial.files, join(tmp.path, 'later'), { key: 'later', patientId: study.patientId, studyDate: '29990101' });
  const other = writeAsStudy(study.axial.files, join(tmp.path, 'other'), { key: 'other', patientId: 'SOMEONE-ELSE', studyDate: '20230101' });
  s = await Services.open({ home, ledger: { mode: 'none' } });
  const r = await s.library.import([study.axial.dir, study.sagittal.dir, ...[prior2025, prior2024, later, other].map((f) => join(f[0]!, '..'))], new Task('import', null, () => {}));
  expect(r.rejected).toEqual([]);
  expect(r.added).toBe(12 + 4 + 4 * 12);
}, 120_000);

afterAll(async () => {
  await s?.close();
  tmp.cleanup();
});

describe('hanging protocols', () => {
  it('built-in until saved; a saved list survives closing and reopening the app; reset brings the defaults back', async () => {
    expect(s.viewing.listProtocols()).toMatchObject({ source: 'built-in', protocols: DEFAULT_PROTOCOLS.map((p) => ({ id: p.id })) });
    const axialId = seriesIdOf(study.axial.files[0]!);
    const sagId = seriesIdOf(study.sagittal.files[0]!);
    const studyId = studyIdOfSeries(axialId);
    // CT chest (the generator writes Body Part Examined CHEST): the axial (series 2) twice, mediastinum and lung.
    expect(s.viewing.plan(studyId)).toEqual({ studyId, protocol: { id: 'ct-chest', name: 'CT chest: soft tissue beside lung window' }, layout: '1x2', cells: [{ seriesId: axialId, window: 'mediastinum' }, { seriesId: axialId, window: 'lung' }] });

    const mine: HangingProtocol = { id: 'ct-chest-3', name: '  CT chest: axial, sagittal, bone ', modalities: ['ct'], bodyPart: 'chest', minSeries: 2, maxSeries: null, layout: '2x2', cells: [{ series: 1, window: 'mediastinum' }, { series: 2, window: null }, { series: 1, window: 'bone' }] };
    const saved = s.viewing.saveProtocols([mine, ...DEFAULT_PROTOCOLS]);
    expect(saved.source).toBe('saved');
    expect(saved.protocols[0]).toEqual({ ...mine, name: 'CT chest: axial, sagittal, bone', modalities: ['CT'], bodyPart: 'CHEST' });

    await s.close();
    s = await Services.open({ home, ledger: { mode: 'none' } });
    const row = s.db.prepare('SELECT saved_by AS by, protocols_json AS json FROM hanging_protocols').get() as { by: string; json: string };
    expect(row.by).toBeTruthy();
    expect(JSON.parse(row.json)).toHaveLength(DEFAULT_PROTOCOLS.length + 1);
    expect(s.viewing.listProtocols().protocols[0]!.name).toBe('CT chest: axial, sagittal, bone');
    expect(s.viewing.plan(studyId)).toEqual({
      studyId,
      protocol: { id: 'ct-chest-3', name: 'CT chest: axial, sagittal, bone' },
      layout: '2x2',
      cells: [{ seriesId: axialId, window: 'mediastinum' }, { seriesId: sagId, window: null }, { seriesId: axialId, window: 'bone' }, { seriesId: null, window: null }],
    });

    // A bad protocol is refused with the reason, and nothing is saved.
    expect(() => s.viewing.saveProtocols([{ ...mine, layout: '1x1' }])).toThrow(/3 viewports do not fit a 1x1 layout/);
    expect(s.viewing.listProtocols().protocols[0]!.id).toBe('ct-chest-3');

    expect(s.viewing.resetProtocols().source).toBe('built-in');
    expect(s.viewing.plan(studyId).protocol!.id).toBe('ct-chest');
  });
});

describe('frame of reference and priors', () => {
  it('the Frame of Reference UID of a series, from its header', async () => {
    const axialId = seriesIdOf(study.axial.files[0]!);
    expect(await s.viewing.frameOfReference(axialId)).toEqual({ seriesId: axialId, frameOfReferenceUid: study.frameOfReferenceUid });
    expect((await s.viewing.frameOfReference(seriesIdOf(study.sagittal.files[0]!))).frameOfReferenceUid).toBe(study.frameOfReferenceUid);
    await expect(s.viewing.frameOfReference(999_999)).rejects.toThrow(/Series 999999 is not in the library/);
  });

  it('priors: same Patient ID and issuer, same modality, earlier, most recent first', async () => {
    const axialId = seriesIdOf(study.axial.files[0]!);
    const r = await s.viewing.priors(axialId);
    expect(r.current).toMatchObject({ modality: 'CT', patientId: study.patientId, issuer: '' });
    // what a PACS search for priors needs: the current study's UID (not offered as its own prior) and the open series
    expect(r.current.studyInstanceUid).toBe(study.studyInstanceUid);
    expect(r.current.series).toEqual({ number: expect.any(Number), description: expect.any(String) });
    // 2024 has another issuer, 2999 is later, SOMEONE-ELSE is another patient: only 2025.
    expect(r.priors.map((p) => p.date)).toEqual(['20250310']);
    expect(r.message).toBeNull();
    const prior = r.priors[0]!;
    expect((await s.viewing.frameOfReference(prior.seriesId)).frameOfReferenceUid).toBe('2.25.777');

    // From the 2025 study: nothing earlier with an empty issuer.
    const none = await s.viewing.priors(prior.seriesId);
    expect(none.priors).toEqual([]);
    expect(none.message).toBe(`No earlier CT study of patient ${study.patientId} in the local library. Import or retrieve the prior study first.`);
  });
});
