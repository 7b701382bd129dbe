/**
 * Measurements as a DICOM SR through the one handler table (real SQLite, real files): lengths, angles and ROIs
 * saved on a generated CT series (two series) and on pydicom's CT_small.dcm are written as a TID 1500 Measurement
 * Report (Enhanced SR) that joins the library as an instance of the study; dciodvfy finds 0 errors; pydicom (an
 * independent reader) reads the measured values and units; the measurements are deleted and read back from the
 * report: the same kinds, points and values (lengths in mm to 0.01, angles in degrees), and reading it again adds
 * nothing. A workstation without the images says which measurements it could not restore.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlerTable, type HandlerTable } from '../../../src/node/handlers';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { anonymiseExport } from '../../../src/node/dicom/anonymise';
import { readNaturalized } from '../../../src/node/keyimages';
import { readFileSync, readdirSync } from 'node:fs';
import { ENHANCED_SR_SOP_CLASS_UID, type Channel, type Measurement, type RequestOf } from '../../../src/shared/api';
import { PYDICOM_TEST_FILES, pyJson, pythonWithPydicom } from '../library/support';
import { tempDir } from '../../support/tmp';
import { callHandler } from '../../support/handlers';
import { dciodvfy, validate } from '../../support/dciodvfy';

const py = pythonWithPydicom();
const CT_SMALL = join(PYDICOM_TEST_FILES, 'CT_small.dcm');
if (process.env.CI && !existsSync(CT_SMALL)) throw new Error(`${CT_SMALL} is required under CI: apt-get install python3-pydicom`);

/** Warnings of dciodvfy on a Measurement Report reviewed in docs/conformance.md (each a regex over its line). */
export const SR_REVIEWED_WARNINGS: RegExp[] = [];


/** pydicom's reading of the report: every NUM with its concept, value, unit and the image its SCOORD is on. */
const PY_READ = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
out = []
def walk(items):
    for it in items:
        if it.ValueType == 'NUM':
            mv = it.MeasuredValueSequence[0]
            img = None
            for sc in getattr(it, 'ContentSequence', []):
                for im in getattr(sc, 'ContentSequence', []):
                    img = im.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
            out.append({'concept': it.ConceptNameCodeSequence[0].CodeMeaning, 'value': float(mv.NumericValue), 'unit': mv.MeasurementUnitsCodeSequence[0].CodeValue, 'image': img})
        if 'ContentSequence' in it:
            walk(it.ContentSequence)
walk(ds.ContentSequence)
print(json.dumps({'sopClass': ds.SOPClassUID, 'modality': ds.Modality, 'study': ds.StudyInstanceUID, 'patientId': ds.PatientID,
  'template': ds.ContentTemplateSequence[0].TemplateIdentifier, 'title': ds.ConceptNameCodeSequence[0].CodeMeaning, 'nums': out,
  'evidence': {se.SeriesInstanceUID: sorted(r.ReferencedSOPInstanceUID for r in se.ReferencedSOPSequence)
               for st in ds.CurrentRequestedProcedureEvidenceSequence for se in st.ReferencedSeriesSequence}}))
`;

const SECOND_SERIES = `
import json, os, sys, pydicom
from pydicom.uid import generate_uid
out = sys.argv[1]; os.makedirs(out, exist_ok=True)
series = generate_uid()
for i, f in enumerate(sys.argv[2:]):
    ds = pydicom.dcmread(f)
    ds.SeriesInstanceUID = series; ds.SeriesNumber = 2
    ds.SOPInstanceUID = generate_uid(); ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(os.path.join(out, f"b{i}.dcm"))
print(json.dumps(series))
`;

const tmp = tempDir('medimg-sr-');
let s: Services;
let table: HandlerTable;
let studyId: number;
let ctA: { id: number; sop: string; seriesUid: string }[];
let ctB: { id: number; sop: string; seriesUid: string }[];

const call = <C extends Channel>(channel: C, request: RequestOf<C>) => callHandler(table, s.log, channel, request);

const L1 = { start: { x: 10.25, y: 20.5 }, end: { x: 90.75, y: 60 } };
const A1 = { start: { x: 10, y: 10 }, middle: { x: 40, y: 40 }, end: { x: 80, y: 20 } };
const R1 = { start: { x: 20, y: 30 }, end: { x: 60, y: 50 } };
const E1 = { start: { x: 30, y: 30 }, end: { x: 50, y: 70 } };
const P1 = { end: { x: 32, y: 32 } };

function summary(ms: Measurement[]): string[] {
  return ms
    .map((m) => {
      const v = m.kind === 'length' ? `${Number(m.stats.length).toFixed(2)} ${String(m.stats.unit)}` : m.kind === 'angle' ? `${Number(m.stats.angle).toFixed(2)}°` : '';
      return `${m.instanceId}#${m.frame} ${m.kind} ${JSON.stringify(m.data.handles)} ${v}`;
    })
    .sort();
}

beforeAll(async () => {
  s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' } });
  table = createHandlerTable(s);
  const a = await writeSampleSeries({ outDir: join(tmp.path, 'ct-a'), slices: 6, kind: 'ct', seed: 51 });
  // a second series of the same study: the report's evidence must name each image under its own series
  // (pydicom copies three slices under a new Series Instance UID; the generator has no option for it)
  if (py) pyJson(py, SECOND_SERIES, [join(tmp.path, 'ct-b'), ...a.files.slice(0, 3)]);
  await s.library.import([join(tmp.path, 'ct-a'), ...(py ? [join(tmp.path, 'ct-b')] : []), ...(existsSync(CT_SMALL) ? [CT_SMALL] : [])], new Task('import', null, () => {}));
  const st = s.library.studyByUid(a.studyInstanceUid)!;
  studyId = st.id;
  const series = s.library.series(st.id).series;
  const list = (i: number) =>
    s.library.instances(series[i]!.id).instances.map((x) => ({ id: x.id, sop: x.sopInstanceUid, seriesUid: series[i]!.seriesInstanceUid }));
  ctA = list(0);
  ctB = series.length > 1 ? list(1) : [];
}, 120_000);
afterAll(async () => {
  await s?.close();
  tmp.cleanup();
});

describe('measurements as a TID 1500 Measurement Report', () => {
  let reportPath = '';
  let reportSop = '';
  let before: string[] = [];

  it('says what to do when there is nothing to save', async () => {
    await expect(call('measurements.sr.save', { studyId })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'This study has no saved measurements to write as a Measurement Report.',
    });
  });

  it('writes the study\'s lengths, angles and ROIs as one Enhanced SR in a new series of the study', async () => {
    const [a0, a3] = [ctA[0]!, ctA[3]!];
    await call('measurements.save', { instanceId: a0.id, kind: 'length', data: { handles: L1 } });
    await call('measurements.save', { instanceId: a0.id, kind: 'angle', data: { handles: A1 } });
    await call('measurements.save', { instanceId: a3.id, kind: 'rectangleRoi', data: { handles: R1 }, stats: { mean: 41.7, sd: 3, min: 30, max: 50, area: 1 } });
    await call('measurements.save', { instanceId: a3.id, kind: 'ellipticalRoi', data: { handles: E1 }, stats: { mean: -5.25, sd: 2, min: -9, max: 0, area: 1 } });
    await call('measurements.save', { instanceId: a3.id, kind: 'probe', data: { handles: P1 }, stats: { value: 12 } });
    if (ctB.length) await call('measurements.save', { instanceId: ctB[1]!.id, kind: 'length', data: { handles: { start: { x: 5, y: 5 }, end: { x: 5, y: 105 } } } });
    const all = [...ctA, ...ctB].flatMap((i) => s.library.measurements({ instanceId: i.id }));
    before = summary(all.filter((m) => m.kind !== 'probe'));

    const r = await call('measurements.sr.save', { studyId });
    expect(r.written).toBe(ctB.length ? 5 : 4);
    expect(r.byKind).toEqual({ length: ctB.length ? 2 : 1, angle: 1, rectangleRoi: 1, ellipticalRoi: 1 });
    expect(r.images).toBe(ctB.length ? 3 : 2);
    expect(r.skipped).toEqual([{ sopInstanceUid: a3.sop, kind: 'probe', reason: 'a probe (one point value) has no TID 1500 mapping in the dcmjs Cornerstone adapter' }]);
    reportPath = r.filePath;
    reportSop = r.sopInstanceUid;
    const srSeries = s.library.series(studyId).series.find((x) => x.modality === 'SR')!;
    expect(srSeries).toBeDefined();
    expect(srSeries.seriesInstanceUid).toBe(r.seriesInstanceUid);
    const inst = s.library.instances(srSeries.id).instances;
    expect(inst.map((i) => [i.id, i.sopInstanceUid, i.sopClassUid, i.hasPixels])).toEqual([[r.instanceId, reportSop, ENHANCED_SR_SOP_CLASS_UID, false]]);
    expect(s.trust.audit.list({ action: 'measurements.sr.save' })).toHaveLength(1);
  });

  it.skipIf(!dciodvfy)('the report passes dciodvfy with 0 errors', () => {
    const v = validate(reportPath);
    expect(v.errors).toEqual([]);
    expect(v.warnings.filter((w) => !SR_REVIEWED_WARNINGS.some((re) => re.test(w)))).toEqual([]);
  });

  it.skipIf(!py)('pydicom reads the values with their units (mm, deg, mm², HU) on the measured images, each image under its own series', () => {
    const r = pyJson<{ sopClass: string; modality: string; study: string; template: string; title: string; nums: { concept: string; value: number; unit: string; image: string }[]; evidence: Record<string, string[]> }>(py!, PY_READ, [reportPath]);
    expect(r).toMatchObject({ sopClass: ENHANCED_SR_SOP_CLASS_UID, modality: 'SR', study: s.library.study(studyId).studyInstanceUid, template: '1500', title: 'Imaging Measurement Report' });
    const inst = s.library.instance(ctA[0]!.id);
    const [row, col] = inst.geometry.pixelSpacing as number[];
    const len = Math.hypot((L1.end.x - L1.start.x) * col!, (L1.end.y - L1.start.y) * row!);
    const length = r.nums.find((n) => n.concept === 'Length' && n.image === ctA[0]!.sop)!;
    expect(length.unit).toBe('mm');
    expect(length.value).toBeCloseTo(Number(len.toFixed(1)), 2);
    const angle = r.nums.find((n) => n.unit === 'deg')!;
    expect(angle.image).toBe(ctA[0]!.sop);
    const areas = r.nums.filter((n) => n.concept === 'Area');
    expect(areas.map((a) => a.unit)).toEqual(['mm2', 'mm2']);
    expect(areas[0]!.value).toBeCloseTo(40 * col! * 20 * row!, 1);
    expect(areas[1]!.value).toBeCloseTo((Math.PI * 20 * col! * 40 * row!) / 4, 1);
    expect(r.nums.filter((n) => n.unit === "[hnsf'U]").map((n) => n.value)).toEqual([41.7, -5.3]);
    const bySeries = Object.fromEntries(Object.entries(r.evidence));
    expect(bySeries[ctA[0]!.seriesUid]).toEqual([ctA[0]!.sop, ctA[3]!.sop].sort());
    if (ctB.length) expect(bySeries[ctB[0]!.seriesUid]).toEqual([ctB[1]!.sop]);
  });

  it('measurements deleted, then read back from the report: the same kinds, points and values; again: nothing new', async () => {
    for (const i of [...ctA, ...ctB]) for (const m of s.library.measurements({ instanceId: i.id })) if (m.kind !== 'probe') await call('measurements.delete', { id: m.id });
    expect([...ctA, ...ctB].flatMap((i) => s.library.measurements({ instanceId: i.id })).map((m) => m.kind)).toEqual(['probe']);
    const r = await call('measurements.sr.load', { path: reportPath });
    expect(r).toMatchObject({ sopInstanceUid: reportSop, found: ctB.length ? 5 : 4, restored: ctB.length ? 5 : 4, alreadyPresent: 0, notRestored: [] });
    const after = [...ctA, ...ctB].flatMap((i) => s.library.measurements({ instanceId: i.id })).filter((m) => m.kind !== 'probe');
    expect(summary(after)).toEqual(before);
    const length = after.find((m) => m.kind === 'length' && m.instanceId === ctA[0]!.id)!;
    expect(length.stats.unit).toBe('mm');
    const angle = after.find((m) => m.kind === 'angle')!;
    expect(Number(angle.stats.angle)).toBeGreaterThan(0);
    const rect = after.find((m) => m.kind === 'rectangleRoi')!;
    expect(rect.stats.mean).toBe(41.7);
    // by the library's instance of the report, a second time: everything is already there
    const again = await call('measurements.sr.load', { instanceId: s.library.instanceOfSop(reportSop)!.instanceId });
    expect(again).toMatchObject({ restored: 0, alreadyPresent: ctB.length ? 5 : 4, notRestored: [] });
  });

  it('a workstation without the images says which measurements it could not restore', async () => {
    const s2 = await Services.open({ home: join(tmp.path, 'home2'), ledger: { mode: 'none' } });
    try {
      await s2.library.import([join(tmp.path, 'ct-a')], new Task('import', null, () => {}));
      const r = await s2.measurementsSr.load({ path: reportPath });
      expect(r.restored).toBe(4);
      expect(r.notRestored).toEqual(ctB.length ? [{ sopInstanceUid: ctB[1]!.sop, kind: 'length', reason: 'the referenced image is not in the library' }] : []);
    } finally {
      await s2.close();
    }
  });

  it('an anonymised export of the study leaves the report out with the reason, and writes every image', async () => {
    // The Basic Profile would empty the report's Content Sequence (0040,A730) and references (no longer a valid SR);
    // the Retain Clean Structured Content option is not implemented, so the report is not exported anonymised.
    const out = join(tmp.path, 'anon');
    const files = [...ctA, ...ctB].map((i) => s.library.instanceFile(i.id)!.path);
    const rep = await anonymiseExport({ files: [...files, reportPath], outDir: out });
    expect(rep.written).toHaveLength(files.length);
    expect(rep.skipped).toHaveLength(1);
    expect(rep.skipped[0]).toMatchObject({ source: reportPath, code: 'STRUCTURED_CONTENT', reason: expect.stringMatching(/structured document \(SOP Class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.88\.\d+/) });
    const written = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.dcm'));
    const all = written.map((e) => readNaturalized(readFileSync(join(e.parentPath, e.name))));
    expect(all.map((d) => d.Modality)).toEqual(files.map(() => 'CT'));
    expect(all.every((d) => d.PatientIdentityRemoved === 'YES')).toBe(true);
  });

  it('a file that is not a Measurement Report is refused in DICOM words', async () => {
    await expect(call('measurements.sr.load', { path: join(tmp.path, 'ct-a', ...[]) })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const img = s.library.instanceFile(ctA[0]!.id)!.path;
    await expect(call('measurements.sr.load', { path: img })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('is not a DICOM Measurement Report (TID 1500): its SOP Class UID 1.2.840.10008.5.1.4.1.1.2 is not an Enhanced or Comprehensive SR'),
    });
  });

  it.skipIf(!existsSync(CT_SMALL))("CT_small.dcm (a real scanner file): length and angle → SR (dciodvfy 0 errors) → deleted → restored", async () => {
    const inst = s.library.instanceAtPath(CT_SMALL)!;
    const len = await call('measurements.save', { instanceId: inst.instanceId, kind: 'length', data: { handles: { start: { x: 12.5, y: 40 }, end: { x: 100, y: 77.25 } } } });
    const ang = await call('measurements.save', { instanceId: inst.instanceId, kind: 'angle', data: { handles: { start: { x: 20, y: 100 }, middle: { x: 64, y: 64 }, end: { x: 120, y: 90 } } } });
    const r = await call('measurements.sr.save', { studyId: inst.studyId });
    expect(r).toMatchObject({ written: 2, byKind: { length: 1, angle: 1 }, images: 1, skipped: [] });
    if (dciodvfy) {
      const v = validate(r.filePath);
      expect(v.errors).toEqual([]);
      expect(v.warnings.filter((w) => !SR_REVIEWED_WARNINGS.some((re) => re.test(w)))).toEqual([]);
    }
    if (py) {
      const p = pyJson<{ patientId: string; nums: { value: number; unit: string }[] }>(py, PY_READ, [r.filePath]);
      expect(p.patientId).toBe('1CT1');
      expect(p.nums.map((n) => n.unit).sort()).toEqual(['deg', 'mm']);
      expect(p.nums.find((n) => n.unit === 'mm')!.value).toBeCloseTo(Number(len.stats.length), 2);
      expect(p.nums.find((n) => n.unit === 'deg')!.value).toBeCloseTo(Number(ang.stats.angle), 2);
    }
    await call('measurements.delete', { id: len.id });
    await call('measurements.delete', { id: ang.id });
    const back = await call('measurements.sr.load', { path: r.filePath });
    expect(back).toMatchObject({ restored: 2, alreadyPresent: 0, notRestored: [] });
    const ms = s.library.measurements({ instanceId: inst.instanceId });
    expect(ms.find((m) => m.kind === 'length')!.stats.length).toBeCloseTo(Number(len.stats.length), 2);
    expect(ms.find((m) => m.kind === 'angle')!.stats.angle).toBeCloseTo(Number(ang.stats.angle), 2);
    expect(ms.find((m) => m.kind === 'length')!.data.handles).toEqual(len.data.handles);
  });
});
