/**
 * Key images through the one handler table (real SQLite, real files): mark / unmark (idempotent, audited), save as a
 * DICOM Key Object Selection document for a generated series and for a real pydicom file, the KOS checked by
 * dicom3tools' dciodvfy (0 errors, only reviewed warnings), re-read by dcmjs and by pydicom (an independent reader):
 * the referenced SOP Instance UIDs are exactly the marked ones. The KOS joins the library as a non-image instance of
 * the study, and a fresh workstation that imports the study with its KOS shows the referenced images as key images.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlerTable, type HandlerTable } from '../../../src/node/handlers';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { kosContent, readNaturalized } from '../../../src/node/keyimages';
import { KOS_SOP_CLASS_UID, type Channel, type RequestOf } from '../../../src/shared/api';
import { PYDICOM_TEST_FILES, pyJson, pythonWithPydicom } from '../library/support';
import { tempDir } from '../../support/tmp';
import { callHandler } from '../../support/handlers';
import { dciodvfy, validate } from '../../support/dciodvfy';

const py = pythonWithPydicom();
const CT_SMALL = join(PYDICOM_TEST_FILES, 'CT_small.dcm');
if (process.env.CI && !existsSync(CT_SMALL)) throw new Error(`${CT_SMALL} is required under CI: apt-get install python3-pydicom`);

/** Warnings of dciodvfy on a KOS reviewed in docs/conformance.md (each a regex over its line). */
export const KOS_REVIEWED_WARNINGS: RegExp[] = [];


/** pydicom's reading of a KOS: the IMAGE items' and the evidence's referenced SOP Instance UIDs, and the header. */
const PY_READ = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
content = [r.ReferencedSOPInstanceUID for it in ds.ContentSequence if it.ValueType == 'IMAGE' for r in it.ReferencedSOPSequence]
evidence = {se.SeriesInstanceUID: [r.ReferencedSOPInstanceUID for r in se.ReferencedSOPSequence]
            for st in ds.CurrentRequestedProcedureEvidenceSequence for se in st.ReferencedSeriesSequence}
print(json.dumps({'sopClass': ds.SOPClassUID, 'modality': ds.Modality, 'study': ds.StudyInstanceUID, 'patientId': ds.PatientID,
  'patientName': str(ds.PatientName), 'title': ds.ConceptNameCodeSequence[0].CodeMeaning, 'titleCode': ds.ConceptNameCodeSequence[0].CodeValue,
  'template': ds.ContentTemplateSequence[0].TemplateIdentifier, 'content': content, 'evidence': evidence, 'series': ds.SeriesInstanceUID}))
`;

const tmp = tempDir('medimg-kos-');
let s: Services;
let table: HandlerTable;
let sampleStudyId: number;
let sampleInstances: { id: number; sopInstanceUid: string }[];
let sampleSeriesUid: string;

const call = <C extends Channel>(channel: C, request: RequestOf<C>) => callHandler(table, s.log, channel, request);

beforeAll(async () => {
  s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' } });
  table = createHandlerTable(s);
  const sample = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 8, kind: 'ct', seed: 41 });
  sampleSeriesUid = sample.seriesInstanceUid;
  await s.library.import([join(tmp.path, 'ct'), ...(existsSync(CT_SMALL) ? [CT_SMALL] : [])], new Task('import', null, () => {}));
  const st = s.library.studyByUid(sample.studyInstanceUid)!;
  sampleStudyId = st.id;
  const series = s.library.series(st.id).series[0]!;
  sampleInstances = s.library.instances(series.id).instances.map((i) => ({ id: i.id, sopInstanceUid: i.sopInstanceUid }));
}, 120_000);
afterAll(async () => {
  await s?.close();
  tmp.cleanup();
});

describe('key images and the Key Object Selection document', () => {
  it('marks and unmarks per study, idempotently, with one audit entry per change', async () => {
    const [a, b, c, d] = [sampleInstances[1]!, sampleInstances[3]!, sampleInstances[6]!, sampleInstances[7]!];
    expect((await call('keyImages.mark', { instanceId: a.id })).changed).toBe(true);
    expect((await call('keyImages.mark', { instanceId: a.id })).changed).toBe(false);
    await call('keyImages.mark', { instanceId: b.id });
    await call('keyImages.mark', { instanceId: d.id });
    const unmarked = await call('keyImages.unmark', { instanceId: d.id });
    expect(unmarked.changed).toBe(true);
    expect((await call('keyImages.unmark', { instanceId: d.id })).changed).toBe(false);
    const list = await call('keyImages.mark', { instanceId: c.id });
    expect(list.studyId).toBe(sampleStudyId);
    expect(list.images.map((i) => i.sopInstanceUid).sort()).toEqual([a, b, c].map((x) => x.sopInstanceUid).sort());
    expect(list.images.every((i) => i.source === 'marked' && i.seriesInstanceUid === sampleSeriesUid && i.instanceId !== null)).toBe(true);
    // by series as the viewer asks
    const bySeries = await call('keyImages.list', { seriesId: s.library.instance(a.id).seriesId });
    expect(bySeries.images.map((i) => i.instanceId).sort()).toEqual([a, b, c].map((x) => x.id).sort());
    const audit = s.trust.audit.list({ study: list.studyInstanceUid });
    expect(audit.filter((e) => e.action === 'key-image.mark').map((e) => e.subject.instances)).toEqual([[a.sopInstanceUid], [b.sopInstanceUid], [d.sopInstanceUid], [c.sopInstanceUid]]);
    expect(audit.filter((e) => e.action === 'key-image.unmark').map((e) => e.subject.instances)).toEqual([[d.sopInstanceUid]]);
  });

  it('says in clinical words what is wrong: nothing to save, a document is not an image', async () => {
    const other = s.library.studies({ limit: 10 }).studies.find((x) => x.id !== sampleStudyId);
    if (other) {
      await expect(call('keyImages.save', { studyId: other.id })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'This study has no key images to save.' });
    }
    await expect(call('keyImages.mark', { instanceId: 999_999 })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'Image 999999 is not in the library.' });
  });

  let kosPath = '';
  let kosSop = '';
  it('saves a KOS of a generated series: in the library as a KO series of the study, not an image', async () => {
    const marked = (await call('keyImages.list', { studyId: sampleStudyId })).images.map((i) => i.sopInstanceUid).sort();
    const r = await call('keyImages.save', { studyId: sampleStudyId, title: '113004', description: 'Teaching file: nodule' });
    expect(r.unchanged).toBe(false);
    expect(r.document).toMatchObject({ origin: 'saved', referenced: 3, title: { code: '113004', meaning: 'For Teaching' }, description: 'Teaching file: nodule' });
    kosPath = r.filePath;
    kosSop = r.document.sopInstanceUid;
    const ko = s.library.series(sampleStudyId).series.find((x) => x.modality === 'KO')!;
    expect(ko).toBeDefined();
    const inst = s.library.instances(ko.id).instances;
    expect(inst.map((i) => [i.sopInstanceUid, i.sopClassUid, i.hasPixels])).toEqual([[kosSop, KOS_SOP_CLASS_UID, false]]);
    expect(s.library.thumbnailSource(ko.id)).toBeNull();
    expect(r.document.instanceId).toBe(inst[0]!.id);
    // dcmjs reads back exactly the marked images, with their series
    const c = kosContent(readNaturalized(readFileSync(kosPath)));
    expect(c.references.map((x) => x.sopInstanceUid).sort()).toEqual(marked);
    expect(new Set(c.references.map((x) => x.seriesInstanceUid))).toEqual(new Set([sampleSeriesUid]));
    expect(c.title).toEqual({ code: '113004', meaning: 'For Teaching' });
    expect(s.trust.audit.list({ action: 'key-image.save' })).toHaveLength(1);
  });

  it('saving the same images under the same title again writes no second document', async () => {
    const again = await call('keyImages.save', { studyId: sampleStudyId, title: '113004', description: 'Teaching file: nodule' });
    expect(again.unchanged).toBe(true);
    expect(again.document.sopInstanceUid).toBe(kosSop);
    expect(again.list.documents.filter((d) => d.origin === 'saved')).toHaveLength(1);
    expect(s.trust.audit.list({ action: 'key-image.save' })).toHaveLength(1);
    await expect(call('keyImages.mark', { instanceId: again.document.instanceId! })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('is a Key Object Selection document, not an image') });
  });

  it.skipIf(!dciodvfy)('the KOS of the generated series passes dciodvfy with 0 errors', () => {
    const v = validate(kosPath);
    expect(v.errors).toEqual([]);
    expect(v.warnings.filter((w) => !KOS_REVIEWED_WARNINGS.some((re) => re.test(w)))).toEqual([]);
  });

  it.skipIf(!py)('pydicom reads the KOS: the same study, patient, title and referenced images', () => {
    const r = pyJson<{ sopClass: string; modality: string; study: string; patientId: string; title: string; titleCode: string; template: string; content: string[]; evidence: Record<string, string[]> }>(py!, PY_READ, [kosPath]);
    const st = s.library.study(sampleStudyId);
    expect(r).toMatchObject({ sopClass: KOS_SOP_CLASS_UID, modality: 'KO', study: st.studyInstanceUid, patientId: st.patient.patientId, title: 'For Teaching', titleCode: '113004', template: '2010' });
    const marked = [sampleInstances[1]!, sampleInstances[3]!, sampleInstances[6]!].map((x) => x.sopInstanceUid).sort();
    expect([...r.content].sort()).toEqual(marked);
    expect(Object.keys(r.evidence)).toEqual([sampleSeriesUid]);
    expect([...r.evidence[sampleSeriesUid]!].sort()).toEqual(marked);
  });

  it.skipIf(!existsSync(CT_SMALL))("saves a KOS for pydicom's CT_small.dcm (a real scanner file): dciodvfy 0 errors, pydicom reads the one image", async () => {
    const inst = s.library.instanceAtPath(CT_SMALL)!;
    const r1 = await call('keyImages.mark', { instanceId: inst.instanceId });
    const saved = await call('keyImages.save', { studyId: r1.studyId });
    expect(saved.document).toMatchObject({ referenced: 1, title: { code: '113000', meaning: 'Of Interest' } });
    const sop = s.library.instance(inst.instanceId).sopInstanceUid;
    if (dciodvfy) {
      const v = validate(saved.filePath);
      expect(v.errors).toEqual([]);
      expect(v.warnings.filter((w) => !KOS_REVIEWED_WARNINGS.some((re) => re.test(w)))).toEqual([]);
    }
    if (py) {
      const r = pyJson<{ content: string[]; patientName: string; study: string }>(py, PY_READ, [saved.filePath]);
      expect(r.content).toEqual([sop]);
      expect(r.patientName).toBe('CompressedSamples^CT1');
      expect(r.study).toBe(s.library.study(r1.studyId).studyInstanceUid);
    }
  });

  it('a workstation that imports the study with its KOS shows the referenced images as key images (once: an unmark stands)', async () => {
    const s2 = await Services.open({ home: join(tmp.path, 'home2'), ledger: { mode: 'none' } });
    try {
      await s2.library.import([join(tmp.path, 'ct'), kosPath], new Task('import', null, () => {}));
      const st = s2.library.studyByUid(s.library.study(sampleStudyId).studyInstanceUid)!;
      const list = s2.keyImages.list({ studyId: st.id });
      const marked = [sampleInstances[1]!, sampleInstances[3]!, sampleInstances[6]!].map((x) => x.sopInstanceUid).sort();
      expect(list.images.map((i) => i.sopInstanceUid).sort()).toEqual(marked);
      expect(list.images.every((i) => i.source === 'document' && i.instanceId !== null)).toBe(true);
      expect(list.documents).toEqual([expect.objectContaining({ sopInstanceUid: kosSop, origin: 'read', referenced: 3, title: { code: '113004', meaning: 'For Teaching' } })]);
      const first = list.images[0]!;
      s2.keyImages.unmark(first.instanceId!);
      expect(s2.keyImages.list({ studyId: st.id }).images.map((i) => i.sopInstanceUid)).not.toContain(first.sopInstanceUid);
    } finally {
      await s2.close();
    }
  });
});
