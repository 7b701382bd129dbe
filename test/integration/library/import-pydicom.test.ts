/**
 * Import of EVERY file in pydicom's test set (recursively, DICOMDIRs included) plus non-DICOM files
 * made here (text, PNG, random bytes, a zip, a file with an unknown transfer syntax, one with an
 * impossible length, a truncated copy). Every rejected file must carry the expected code and a
 * reason; everything else must be indexed, and what we index must agree with what pydicom reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { PNG } from 'pngjs';
import { Services } from '../../../src/node/services';
import { createHandlerTable, dispatch, type HandlerTable } from '../../../src/node/handlers';
import type { ImportReport } from '../../../src/shared/api/library';
import { tempDir } from '../../support/tmp';
import { PYDICOM_TEST_FILES, pyJson, pythonWithPydicom, sender, walkFiles } from './support';

const py = pythonWithPydicom();

/** How we classify pydicom's broken or non-image files (relative path → reject code). */
const EXPECTED_REJECTS: Record<string, string> = {
  'MR_truncated.dcm': 'TRUNCATED', // pixel data cut short
  'rtplan_truncated.dcm': 'TRUNCATED', // ends inside a sequence item
  'dicomdirtests/DICOMDIR-nooffset': 'TRUNCATED', // its sequence declares more bytes than the file holds
  'README.txt': 'NOT_DICOM',
  'no_meta.dcm': 'NOT_DICOM', // starts with a stray byte: not a raw data set either (pydicom rejects it too)
  'rtplan.dump': 'NOT_DICOM',
  'rtstruct.dump': 'NOT_DICOM',
  'test1.json': 'NOT_DICOM',
  'test_PN.json': 'NOT_DICOM',
  'dicomdirtests/README.txt': 'NOT_DICOM',
  'dicomdirtests/TINY_ALPHA/README': 'NOT_DICOM',
  'zipMR.gz': 'COMPRESSED_ARCHIVE',
  'UN_sequence.dcm': 'MISSING_UIDS',
  'empty_charset_LEI.dcm': 'MISSING_UIDS',
  'no_meta_group_length.dcm': 'MISSING_UIDS',
  'priv_SQ.dcm': 'MISSING_UIDS',
  'meta_missing_tsyntax.dcm': 'MALFORMED', // private undefined-length items dicom-parser cannot delimit (and no UIDs)
  'nested_priv_SQ.dcm': 'MALFORMED',
};

describe.skipIf(!py)('import of pydicom test files + non-DICOM files', () => {
  const tmp = tempDir('medimg-import-');
  const extra = join(tmp.path, 'extra');
  let s: Services;
  let table: HandlerTable;
  let report: ImportReport;
  const EXTRA_REJECTS: Record<string, string> = {};

  beforeAll(async () => {
    mkdirSync(extra);
    writeFileSync(join(extra, 'notes.txt'), 'Patient called back on Tuesday.\n'.repeat(20));
    EXTRA_REJECTS['notes.txt'] = 'NOT_DICOM';
    const png = new PNG({ width: 16, height: 16 });
    png.data.fill(128);
    writeFileSync(join(extra, 'picture.png'), PNG.sync.write(png));
    EXTRA_REJECTS['picture.png'] = 'NOT_DICOM';
    writeFileSync(join(extra, 'random.bin'), randomBytes(4096));
    EXTRA_REJECTS['random.bin'] = 'NOT_DICOM';
    writeFileSync(join(extra, 'empty.dcm'), new Uint8Array(0));
    EXTRA_REJECTS['empty.dcm'] = 'NOT_DICOM';
    // a real zip (made by python's zipfile) holding a DICOM file
    pyJson(py!, 'import zipfile,sys,json\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED); z.write(sys.argv[2],"CT_small.dcm"); z.close(); print(json.dumps(1))', [
      join(extra, 'study.zip'),
      join(PYDICOM_TEST_FILES, 'CT_small.dcm'),
    ]);
    EXTRA_REJECTS['study.zip'] = 'COMPRESSED_ARCHIVE';
    // CT_small with its transfer syntax UID replaced by an unknown one of the same length
    const ct = readFileSync(join(PYDICOM_TEST_FILES, 'CT_small.dcm'));
    const ts = ct.indexOf('1.2.840.10008.1.2.1', 0, 'latin1');
    expect(ts).toBeGreaterThan(128);
    const unknownTs = Buffer.from(ct);
    unknownTs.write('1.2.840.99999.9.9.9', ts, 'latin1');
    writeFileSync(join(extra, 'unknown-ts.dcm'), unknownTs);
    EXTRA_REJECTS['unknown-ts.dcm'] = 'UNSUPPORTED_TRANSFER_SYNTAX';
    // CT_small truncated in the middle of its header
    writeFileSync(join(extra, 'cut.dcm'), ct.subarray(0, 700));
    EXTRA_REJECTS['cut.dcm'] = 'TRUNCATED';
    // an element (explicit VR, 4-byte length: an OB/UN) claiming ~4 GB in a small file
    const huge = Buffer.from(ct);
    const un = Buffer.alloc(12);
    un.writeUInt16LE(0x0009, 0); // private group
    un.writeUInt16LE(0x0010, 2);
    un.write('UN', 4, 'latin1');
    un.writeUInt32LE(0xfffffff0, 8);
    const metaEnd = ct.indexOf(Buffer.from([0x08, 0x00, 0x05, 0x00])); // first data element (0008,0005)
    expect(metaEnd).toBeGreaterThan(132);
    writeFileSync(join(extra, 'huge-length.dcm'), Buffer.concat([huge.subarray(0, metaEnd), un, huge.subarray(metaEnd)]));
    EXTRA_REJECTS['huge-length.dcm'] = 'MALFORMED';

    s = await Services.open({ home: join(tmp.path, 'home') });
    table = createHandlerTable(s);
    const r = await dispatch(table, 'library.import', { paths: [PYDICOM_TEST_FILES, extra] }, sender);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    report = r.value as ImportReport;
  });
  afterAll(async () => {
    await s?.close();
    tmp.cleanup();
  });

  const rel = (p: string) => (p.startsWith(extra) ? relative(extra, p) : relative(PYDICOM_TEST_FILES, p));

  it('rejects exactly the broken and non-DICOM files, each with its code and a plain reason', () => {
    const got: Record<string, string> = {};
    for (const r of report.rejected) {
      if (r.code === 'DUPLICATE_SOP_INSTANCE_UID') continue;
      got[rel(r.path)] = r.code;
      expect(r.reason.length).toBeGreaterThan(20);
      expect(r.reason).toMatch(/\.$/);
    }
    expect(got).toEqual({ ...EXPECTED_REJECTS, ...EXTRA_REJECTS });
    expect(report.cancelled).toBe(false);
    expect(report.dicomdirs.map(rel).sort()).toEqual(
      ['dicomdirtests/DICOMDIR', 'dicomdirtests/DICOMDIR-bigEnd', 'dicomdirtests/DICOMDIR-empty.dcm', 'dicomdirtests/DICOMDIR-implicit', 'dicomdirtests/DICOMDIR-nopatient', 'dicomdirtests/DICOMDIR-reordered', 'dicomdirtests/TINY_ALPHA/DICOMDIR'].sort(),
    );
  });

  it('indexes every other file, and agrees with pydicom on each SOP Instance UID', () => {
    // The peer: pydicom reads every file (force=True so raw data sets count too) and says which are
    // images of a study (all three UIDs, not a DICOMDIR), with a hash of their bytes.
    const peer = pyJson<Record<string, { sop: string | null; study: string | null; series: string | null; dir: boolean }>>(
      py!,
      `
import os, sys, json, pydicom, warnings
warnings.simplefilter('ignore')
out = {}
for root, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True, force=True)
            out[p] = dict(sop=str(ds.get('SOPInstanceUID') or '') or None, study=str(ds.get('StudyInstanceUID') or '') or None,
                          series=str(ds.get('SeriesInstanceUID') or '') or None, dir='DirectoryRecordSequence' in ds)
        except Exception as e:
            out[p] = dict(sop=None, study=None, series=None, dir=False)
print(json.dumps(out))
`,
      [PYDICOM_TEST_FILES],
    );
    const indexable = Object.entries(peer).filter(([p, v]) => v.sop && v.study && v.series && !v.dir && !(rel(p) in EXPECTED_REJECTS));
    // rtstruct.dcm and the *NoMeta.dcm files are raw data sets without a preamble: pydicom needs force=True, we read them.
    const rows = s.db.prepare('SELECT file_path, sop_uid FROM instances').all() as { file_path: string; sop_uid: string }[];
    const indexedPaths = new Map(rows.map((r) => [r.file_path, r.sop_uid]));
    // every file we indexed: pydicom finds the same SOP Instance UID in it
    for (const [path, sop] of indexedPaths) {
      if (path.startsWith(extra)) continue;
      expect(peer[path]?.sop, path).toBe(sop);
    }
    // every indexable file is either indexed, a duplicate SOP UID with different content, or an identical copy
    const dup = new Set(report.rejected.filter((r) => r.code === 'DUPLICATE_SOP_INSTANCE_UID').map((r) => r.path));
    const copies = new Set(report.identicalCopies.map((c) => c.path));
    for (const [path] of indexable) expect(indexedPaths.has(path) || dup.has(path) || copies.has(path), path).toBe(true);
    expect(indexedPaths.size + dup.size + copies.size).toBe(indexable.length);
    // one file per SOP Instance UID, and every pydicom SOP UID is in the index
    expect(new Set(indexable.map(([, v]) => v.sop))).toEqual(new Set(rows.map((r) => r.sop_uid)));
    expect(report.added).toBe(indexedPaths.size);
    // duplicates really are different bytes from the indexed file with that UID
    for (const d of dup) {
      const sop = peer[d]!.sop!;
      const kept = rows.find((r) => r.sop_uid === sop)!.file_path;
      const h = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
      expect(h(d)).not.toBe(h(kept));
      expect(report.rejected.find((r) => r.path === d)!.reason).toContain(kept);
    }
    expect(report.scanned).toBe(walkFiles(PYDICOM_TEST_FILES).length + Object.keys(EXTRA_REJECTS).length - report.dicomdirs.length);
  });

  it('indexes the attributes a browser needs (checked against pydicom for CT_small.dcm)', async () => {
    const p = join(PYDICOM_TEST_FILES, 'CT_small.dcm');
    const id = (s.db.prepare('SELECT id FROM instances WHERE file_path = ?').get(p) as { id: number }).id;
    const peer = pyJson<Record<string, unknown>>(
      py!,
      `
import sys, json, pydicom
d = pydicom.dcmread(sys.argv[1])
print(json.dumps(dict(name=str(d.PatientName), pid=d.PatientID, date=d.StudyDate, modality=d.Modality, rows=d.Rows, cols=d.Columns,
  ipp=[float(x) for x in d.ImagePositionPatient], iop=[float(x) for x in d.ImageOrientationPatient], ps=[float(x) for x in d.PixelSpacing],
  thick=float(d.SliceThickness), num=int(d.InstanceNumber), series=d.SeriesInstanceUID, slope=float(d.RescaleSlope), icpt=float(d.RescaleIntercept))))
`,
      [p],
    );
    const inst = await dispatch(table, 'library.instances', { seriesId: (s.db.prepare('SELECT series_ref FROM instances WHERE id = ?').get(id) as { series_ref: number }).series_ref }, sender);
    expect(inst.ok).toBe(true);
    const v = (inst as { value: { series: { seriesInstanceUid: string; modality: string }; instances: Array<{ id: number; rows: number; columns: number; number: number; geometry: Record<string, unknown>; rescaleSlope: number; rescaleIntercept: number; transferSyntaxUid: string; url: string }> } }).value;
    const i = v.instances.find((x) => x.id === id)!;
    expect(v.series.seriesInstanceUid).toBe(peer.series);
    expect(v.series.modality).toBe(peer.modality);
    expect(i.rows).toBe(peer.rows);
    expect(i.columns).toBe(peer.cols);
    expect(i.number).toBe(peer.num);
    expect(i.geometry.imagePositionPatient).toEqual(peer.ipp);
    expect(i.geometry.imageOrientationPatient).toEqual(peer.iop);
    expect(i.geometry.pixelSpacing).toEqual(peer.ps);
    expect(i.geometry.sliceThickness).toBe(peer.thick);
    expect(i.rescaleSlope).toBe(peer.slope);
    expect(i.rescaleIntercept).toBe(peer.icpt);
    expect(i.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
    expect(i.url).toBe(`/dicom/${id}`);
    const studies = await dispatch(table, 'library.studies', { search: String(peer.pid) }, sender);
    const st = (studies as { value: { studies: Array<{ patient: { name: string }; date: string }> } }).value.studies;
    expect(st.length).toBe(1);
    expect(st[0]!.patient.name).toBe(peer.name);
    expect(st[0]!.date).toBe(peer.date);
  });

  it('a DICOMDIR alone brings in the files it references (compared with pydicom reading its records)', async () => {
    const home2 = join(tmp.path, 'home2');
    const s2 = await Services.open({ home: home2 });
    try {
      const t2 = createHandlerTable(s2);
      const dicomdir = join(PYDICOM_TEST_FILES, 'dicomdirtests/DICOMDIR');
      const r = await dispatch(t2, 'library.import', { paths: [dicomdir] }, sender);
      expect(r.ok).toBe(true);
      const rep = (r as { value: ImportReport }).value;
      const refs = pyJson<string[]>(
        py!,
        `
import sys, json, os, pydicom
d = pydicom.dcmread(sys.argv[1])
base = os.path.dirname(sys.argv[1])
print(json.dumps(sorted(os.path.join(base, *([str(x) for x in r.ReferencedFileID] if isinstance(r.ReferencedFileID, pydicom.multival.MultiValue) else [str(r.ReferencedFileID)])) for r in d.DirectoryRecordSequence if 'ReferencedFileID' in r)))
`,
        [dicomdir],
      );
      expect(refs.length).toBeGreaterThan(20);
      expect(rep.dicomdirs).toEqual([dicomdir]);
      const indexed = (s2.db.prepare('SELECT file_path FROM instances ORDER BY file_path').all() as { file_path: string }[]).map((x) => x.file_path);
      // files referenced by the DICOMDIR: indexed, or rejected with a reason
      const rejected = rep.rejected.map((x) => x.path);
      expect([...indexed, ...rejected].sort()).toEqual(refs);
      expect(rep.added).toBe(indexed.length);
      expect(indexed.length).toBeGreaterThan(20);
    } finally {
      await s2.close();
    }
  });
});
