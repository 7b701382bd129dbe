/**
 * The library index over real files and a real SQLite file: idempotent re-import, a changed file
 * detected and re-indexed, duplicate SOP Instance UIDs, a failed import losing nothing, cancel,
 * browser queries (search, sort, counts), remove, tags, and measurements surviving a reopen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Services } from '../../../src/node/services';
import { createHandlerTable, dispatch, type HandlerTable } from '../../../src/node/handlers';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import type { ImportReport, StudySummary, TagNode } from '../../../src/shared/api/library';
import type { AppEvent } from '../../../src/shared/api';
import { tempDir } from '../../support/tmp';
import { PYDICOM_TEST_FILES, sender } from './support';
import { measure } from '../../../src/shared/viewer/measure';

async function call<T>(t: HandlerTable, channel: string, req: unknown): Promise<T> {
  const r = await dispatch(t, channel, req, sender);
  if (!r.ok) throw new Error(`${channel}: ${r.error.code} ${r.error.message}`);
  return r.value as T;
}

describe('library index', () => {
  const tmp = tempDir('medimg-index-');
  const home = join(tmp.path, 'home');
  const ctDir = join(tmp.path, 'ct');
  const mrDir = join(tmp.path, 'mr');
  let s: Services;
  let t: HandlerTable;
  let first: ImportReport;
  let ct: Awaited<ReturnType<typeof writeSampleSeries>>;

  beforeAll(async () => {
    ct = await writeSampleSeries({ outDir: ctDir, slices: 12, kind: 'ct', seed: 11 });
    await writeSampleSeries({ outDir: mrDir, slices: 6, kind: 'mr', seed: 12 });
    s = await Services.open({ home });
    t = createHandlerTable(s);
    first = await call<ImportReport>(t, 'library.import', { paths: [ctDir, mrDir, join(PYDICOM_TEST_FILES, 'CT_small.dcm')] });
    await s.library.whenHashed();
  });
  afterAll(async () => {
    await s?.close();
    tmp.cleanup();
  });

  it('imports and reports counts', () => {
    expect(first.added).toBe(12 + 6 + 1);
    expect(first.rejected).toEqual([]);
    expect(first.instanceIds.length).toBe(19);
    expect(first.studyIds.length).toBe(3);
  });

  it('computes the SHA-256 of every imported file in the background (task "hash")', async () => {
    const { createHash } = await import('node:crypto');
    const rows = s.db.prepare('SELECT file_path, sha256 FROM instances').all() as { file_path: string; sha256: string | null }[];
    expect(rows).toHaveLength(19);
    for (const r of rows) expect(r.sha256, r.file_path).toBe(createHash('sha256').update(readFileSync(r.file_path)).digest('hex'));
  });

  it('re-importing the same files changes nothing', async () => {
    const before = s.db.prepare('SELECT id, sop_uid, sha256 FROM instances ORDER BY id').all();
    const again = await call<ImportReport>(t, 'library.import', { paths: [ctDir, mrDir, join(PYDICOM_TEST_FILES, 'CT_small.dcm')] });
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 19, rejected: [] });
    expect(s.db.prepare('SELECT id, sop_uid, sha256 FROM instances ORDER BY id').all()).toEqual(before);
  });

  it('detects a changed file at a known path and re-indexes it', async () => {
    const f = ct.files[3]!;
    const bytes = readFileSync(f);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100]! + 1) % 256; // one pixel changed
    writeFileSync(f, bytes);
    utimesSync(f, new Date(), new Date(Date.now() + 5000));
    const r = await call<ImportReport>(t, 'library.import', { paths: [ctDir] });
    expect(r.updated).toBe(1);
    expect(r.updatedPaths).toEqual([f]);
    expect(r.unchanged).toBe(11);
    const row = s.db.prepare('SELECT sha256 FROM instances WHERE file_path = ?').get(f) as { sha256: string };
    const { createHash } = await import('node:crypto');
    expect(row.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('an identical copy elsewhere is not indexed twice; a different file with the same SOP Instance UID is rejected', async () => {
    const dir = join(tmp.path, 'dups');
    mkdirSync(dir);
    copyFileSync(ct.files[0]!, join(dir, 'copy.dcm'));
    const altered = readFileSync(ct.files[0]!);
    altered[altered.length - 10] = 255 - altered[altered.length - 10]!;
    writeFileSync(join(dir, 'altered.dcm'), altered);
    const r = await call<ImportReport>(t, 'library.import', { paths: [dir] });
    expect(r.added).toBe(0);
    expect(r.identicalCopies).toEqual([{ path: join(dir, 'copy.dcm'), of: ct.files[0] }]);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]).toMatchObject({ path: join(dir, 'altered.dcm'), code: 'DUPLICATE_SOP_INSTANCE_UID' });
    expect(r.rejected[0]!.reason).toContain(ct.files[0]!);
  });

  it('two imports of the same new folder at once index each file once', async () => {
    const dir = join(tmp.path, 'concurrent');
    await writeSampleSeries({ outDir: dir, slices: 80, kind: 'mr', seed: 77 });
    const [a, b] = await Promise.all([call<ImportReport>(t, 'library.import', { paths: [dir] }), call<ImportReport>(t, 'library.import', { paths: [dir] })]);
    expect(a.added + b.added).toBe(80);
    expect(a.updated + b.updated).toBe(0);
    expect(a.rejected.concat(b.rejected)).toEqual([]);
    expect((s.db.prepare('SELECT COUNT(*) AS n FROM instances WHERE file_path LIKE ?').get(`${dir}%`) as { n: number }).n).toBe(80);
    await s.library.whenHashed();
    s.db.prepare('DELETE FROM instances WHERE file_path LIKE ?').run(`${dir}%`); // keep the counts of the later tests
    s.db.exec('DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.series_ref = series.id)');
    s.db.exec('DELETE FROM studies WHERE NOT EXISTS (SELECT 1 FROM series x WHERE x.study_ref = studies.id)');
    s.db.exec('DELETE FROM patients WHERE NOT EXISTS (SELECT 1 FROM studies x WHERE x.patient_ref = patients.id)');
  });

  it('reading headers in the worker threads (MEDIMG_SCAN_IN_WORKERS=1) gives the same index', async () => {
    const dir = join(tmp.path, 'threaded');
    await writeSampleSeries({ outDir: dir, slices: 70, kind: 'mr', seed: 71 });
    writeFileSync(join(dir, 'zz-not-dicom.txt'), 'hello');
    process.env.MEDIMG_SCAN_IN_WORKERS = '1';
    try {
      const r = await call<ImportReport>(t, 'library.import', { paths: [dir] });
      expect(r.added).toBe(70);
      expect(r.rejected.map((x) => [x.path, x.code])).toEqual([[join(dir, 'zz-not-dicom.txt'), 'NOT_DICOM']]);
      const again = await call<ImportReport>(t, 'library.import', { paths: [dir] });
      expect(again.unchanged).toBe(70);
    } finally {
      delete process.env.MEDIMG_SCAN_IN_WORKERS;
    }
    await s.library.whenHashed();
    expect((s.db.prepare('SELECT COUNT(*) AS n FROM instances WHERE file_path LIKE ? AND sha256 IS NOT NULL').get(`${dir}%`) as { n: number }).n).toBe(70);
    s.db.prepare('DELETE FROM instances WHERE file_path LIKE ?').run(`${dir}%`);
    s.db.exec('DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.series_ref = series.id)');
    s.db.exec('DELETE FROM studies WHERE NOT EXISTS (SELECT 1 FROM series x WHERE x.study_ref = studies.id)');
    s.db.exec('DELETE FROM patients WHERE NOT EXISTS (SELECT 1 FROM studies x WHERE x.patient_ref = patients.id)');
  });

  it('a failed import (only bad files) loses nothing already indexed', async () => {
    const before = s.db.prepare('SELECT * FROM instances ORDER BY id').all();
    const bad = join(tmp.path, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'a.dcm'), 'not dicom at all');
    writeFileSync(join(bad, 'b.dcm'), readFileSync(ct.files[5]!).subarray(0, 2000)); // truncated copy (same SOP UID)
    execFileSync('mkfifo', [join(tmp.path, 'a-pipe')]); // opening it would block forever
    const r = await call<ImportReport>(t, 'library.import', { paths: [bad, join(tmp.path, 'does-not-exist'), join(tmp.path, 'a-pipe')] });
    expect(r.added).toBe(0);
    expect(r.rejected.map((x) => x.code).sort()).toEqual(['NOT_DICOM', 'TRUNCATED', 'UNREADABLE', 'UNREADABLE']);
    expect(s.db.prepare('SELECT * FROM instances ORDER BY id').all()).toEqual(before);
  });

  it('lists patients and studies with counts, search and sort', async () => {
    const p = await call<{ patients: Array<{ name: string; studyCount: number; instanceCount: number }>; total: number }>(t, 'library.patients', { sort: 'name' });
    expect(p.total).toBe(3); // two synthetic patients (different seeds → different IDs) + CT_small
    const synth = p.patients.filter((x) => x.name === 'SYNTHETIC^PHANTOM');
    expect(synth.map((x) => x.instanceCount).sort((a, b) => a - b)).toEqual([6, 12]);
    const studies = await call<{ studies: StudySummary[] }>(t, 'library.studies', { sort: 'modality', order: 'asc' });
    expect(studies.studies.map((x) => x.modalities.join('/'))).toEqual(['CT', 'CT', 'MR']);
    const mr = await call<{ studies: StudySummary[]; total: number }>(t, 'library.studies', { search: 'mr' });
    expect(mr.total).toBe(1);
    expect(mr.studies[0]).toMatchObject({ synthetic: true, seriesCount: 1, instanceCount: 6, modalities: ['MR'] });
    const byName = await call<{ studies: StudySummary[] }>(t, 'library.studies', { sort: 'name', order: 'desc' });
    const names = byName.studies.map((x) => x.patient.name);
    expect(names).toEqual([...names].sort().reverse());
    const none = await call<{ studies: StudySummary[]; total: number }>(t, 'library.studies', { search: '%_' });
    expect(none.total).toBe(0); // LIKE wildcards are escaped
  });

  it('lists series and instances in slice order with geometry and the URL to load', async () => {
    const st = (await call<{ studies: StudySummary[] }>(t, 'library.studies', { search: 'CT chest phantom' })).studies[0]!;
    const { series } = await call<{ series: Array<{ id: number; instanceCount: number; thumbnailUrl: string; description: string }> }>(t, 'library.series', { studyId: st.id });
    expect(series).toHaveLength(1);
    expect(series[0]!.instanceCount).toBe(12);
    expect(series[0]!.thumbnailUrl).toBe(`/thumbnail/${series[0]!.id}.png`);
    expect(series[0]!.description).toBe('SYNTHETIC — not a patient');
    const { instances } = await call<{ instances: Array<{ id: number; number: number; url: string; geometry: { imagePositionPatient: number[]; pixelSpacing: number[]; sliceThickness: number } }> }>(
      t,
      'library.instances',
      { seriesId: series[0]!.id },
    );
    expect(instances.map((i) => i.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const z = instances.map((i) => i.geometry.imagePositionPatient[2]!);
    for (let k = 1; k < z.length; k++) expect(z[k]! - z[k - 1]!).toBeCloseTo(1.25, 3);
    expect(instances[0]!.geometry.pixelSpacing).toEqual([0.703125, 0.703125]);
    expect(instances[0]!.url).toBe(`/dicom/${instances[0]!.id}`);
    // The viewport's lean list: the same instances in the same order, one image each, no copies.
    const stack = await call<{ series: { id: number }; ids: number[]; frames: number[]; copies: unknown[] }>(t, 'library.stack', { seriesId: series[0]!.id });
    expect(stack.series.id).toBe(series[0]!.id);
    expect(stack.ids).toEqual(instances.map((i) => i.id));
    expect(stack.frames).toEqual(instances.map(() => 1));
    expect(stack.copies).toEqual([]);
  });

  it('returns the tag tree with names, VRs, values and nested sequence items', async () => {
    const rtplan = join(tmp.path, 'rtplan.dcm');
    copyFileSync(join(PYDICOM_TEST_FILES, 'rtplan.dcm'), rtplan);
    const r = await call<ImportReport>(t, 'library.import', { paths: [rtplan] });
    const id = r.instanceIds[0]!;
    const tags = await call<{ meta: TagNode[]; dataset: TagNode[]; transferSyntaxUid: string }>(t, 'library.tags', { instanceId: id });
    expect(tags.transferSyntaxUid).toBe('1.2.840.10008.1.2');
    expect(tags.meta.find((n) => n.tag === '(0002,0010)')).toMatchObject({ name: 'TransferSyntaxUID', vr: 'UI' });
    expect(tags.dataset.find((n) => n.tag === '(0010,0010)')).toMatchObject({ name: 'PatientName', vr: 'PN', value: 'Last^First^mid^pre' });
    const beams = tags.dataset.find((n) => n.name === 'BeamSequence')!;
    expect(beams.vr).toBe('SQ');
    expect(beams.items!.length).toBeGreaterThan(0);
    const cps = beams.items![0]!.find((n) => n.name === 'ControlPointSequence')!;
    expect(cps.items!.length).toBeGreaterThan(0); // nested two levels
    const missing = await dispatch(t, 'library.tags', { instanceId: 999999 }, sender);
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.error.code).toBe('NOT_FOUND');
  });

  it('stores measurements per instance, restores them after reopening, deletes them', async () => {
    const inst = s.db.prepare('SELECT id FROM instances WHERE file_path = ?').get(ct.files[6]) as { id: number };
    const saved = await call<{ id: number; kind: string; stats: Record<string, unknown> }>(t, 'measurements.save', {
      instanceId: inst.id,
      kind: 'ellipticalRoi',
      data: { handles: { start: { x: 10, y: 12 }, end: { x: 40, y: 44 } } },
      stats: { mean: 41.5, sd: 7.9, min: 12, max: 70, unit: 'HU' },
      label: 'liver',
    });
    expect(saved.kind).toBe('ellipticalRoi');
    const upd = await call<{ id: number; label: string }>(t, 'measurements.save', { id: saved.id, instanceId: inst.id, kind: 'ellipticalRoi', data: { x: 1 }, label: 'liver 2' });
    expect(upd).toMatchObject({ id: saved.id, label: 'liver 2' });
    // A length is stored as measured from its handles and the instance's Pixel Spacing, not as sent; an incomplete one is refused.
    const incomplete = await dispatch(t, 'measurements.save', { instanceId: inst.id, kind: 'length', data: { a: 1 }, stats: { length: 12.5, unit: 'mm' } }, sender);
    expect(!incomplete.ok && incomplete.error.code).toBe('INVALID_ARGUMENT');
    const sp = JSON.parse((s.db.prepare('SELECT pixel_spacing FROM instances WHERE id = ?').get(inst.id) as { pixel_spacing: string }).pixel_spacing) as number[];
    const expected = measure('length', { start: { x: 10, y: 20 }, end: { x: 70, y: 100 } }, sp)!;
    expect(expected.unit).toBe('mm');
    const len = await call<{ stats: Record<string, unknown> }>(t, 'measurements.save', {
      instanceId: inst.id,
      kind: 'length',
      data: { handles: { start: { x: 10, y: 20 }, end: { x: 70, y: 100 } } },
      stats: { length: 12.5, unit: 'mm' },
    });
    expect(len.stats).toEqual({ length: expected.value, unit: 'mm', text: expected.text });
    await s.close();
    s = await Services.open({ home });
    t = createHandlerTable(s);
    const list = await call<{ measurements: Array<{ id: number; kind: string; data: unknown; label: string | null; stats: Record<string, unknown> }> }>(t, 'measurements.list', { instanceId: inst.id });
    expect(list.measurements.map((m) => m.kind)).toEqual(['ellipticalRoi', 'length']);
    expect(list.measurements[0]).toMatchObject({ data: { x: 1 }, label: 'liver 2' });
    expect(list.measurements[1]!.stats).toEqual({ length: expected.value, unit: 'mm', text: expected.text });
    const bySeries = await call<{ measurements: unknown[] }>(t, 'measurements.list', {
      seriesId: (s.db.prepare('SELECT series_ref FROM instances WHERE id = ?').get(inst.id) as { series_ref: number }).series_ref,
    });
    expect(bySeries.measurements).toHaveLength(2);
    expect(await call(t, 'measurements.delete', { id: list.measurements[0]!.id })).toEqual({ deleted: true });
    expect(await call(t, 'measurements.delete', { id: list.measurements[0]!.id })).toEqual({ deleted: false });
    expect((await call<{ measurements: unknown[] }>(t, 'measurements.list', { instanceId: inst.id })).measurements).toHaveLength(1);
  });

  it('removes a study from the index (files untouched) and sends a library-changed event', async () => {
    const events: AppEvent[] = [];
    s.events.on('event', (e) => events.push(e));
    const st = (await call<{ studies: StudySummary[] }>(t, 'library.studies', { search: 'MR head' })).studies[0]!;
    const r = await call(t, 'library.remove', { studyId: st.id });
    expect(r).toEqual({ removedStudies: 1, removedSeries: 1, removedInstances: 6 });
    expect(events.some((e) => e.type === 'library-changed' && e.reason === 'remove')).toBe(true);
    expect((await call<{ total: number }>(t, 'library.studies', { search: 'MR head' })).total).toBe(0);
    expect(readFileSync(join(mrDir, 'IM00001.dcm')).length).toBeGreaterThan(100000);
    const bad = await dispatch(t, 'library.remove', { studyId: 1, seriesId: 2 }, sender);
    expect(!bad.ok && bad.error.code).toBe('INVALID_ARGUMENT');
    // and it can come back
    const again = await call<ImportReport>(t, 'library.import', { paths: [mrDir] });
    expect(again.added).toBe(6);
  });

  it('cancelling an import stops it, keeps what was indexed before, and says so', async () => {
    const big = join(tmp.path, 'big');
    await writeSampleSeries({ outDir: big, slices: 300, kind: 'mr', seed: 99 });
    const before = (s.db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n;
    let cancelledAt = -1;
    const onEvent = (e: AppEvent) => {
      if (e.type === 'progress' && e.kind === 'import' && !e.finished && cancelledAt < 0) {
        cancelledAt = e.done;
        void dispatch(t, 'task.cancel', { taskId: e.taskId }, sender);
      }
    };
    s.events.on('event', onEvent);
    const r = await call<ImportReport>(t, 'library.import', { paths: [big] });
    s.events.off('event', onEvent);
    expect(cancelledAt).toBeGreaterThanOrEqual(0);
    expect(r.cancelled).toBe(true);
    expect(r.scanned).toBeLessThan(300);
    expect(r.added).toBe(r.scanned);
    const after = (s.db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n;
    expect(after).toBe(before + r.added);
  });
});
