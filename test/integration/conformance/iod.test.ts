/**
 * Everything the app writes is valid DICOM: each kind of file goes through dicom3tools' IOD validator (dciodvfy, a
 * Debian package nobody here wrote). 0 errors; every warning is one reviewed in docs/conformance.md (listed below,
 * with why it stays). New kinds of written file join this list as they land.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { anonymiseExport } from '../../../src/node/dicom/anonymise';
import { PYDICOM_TEST_FILES } from '../../../src/node/components';
import { tempDir } from '../../support/tmp';
import { createSplitStorage } from '../../../src/node/split/split-storage';
import { openDatabase } from '../../../src/node/store/database';
import { dataSetOf, part10File } from '../../../src/node/pacs/part10';
import { parseDicomBytes } from '../../../src/node/dicom/parse';
import { encodePart10, kosDataset, readNaturalized } from '../../../src/node/keyimages';
import { measurementReportDataset } from '../../../src/node/measurements-sr';
import { dciodvfy, validate } from '../../support/dciodvfy';


/** Warnings reviewed in docs/conformance.md ("Reviewed validator warnings"): each a regex over dciodvfy's line. */
const REVIEWED_WARNINGS: [RegExp, string][] = [
  [/would be needed to build DICOMDIR - (Patient ID|Study Date|Study Time|Study ID)$/, 'anonymised: the Basic Profile empties these Type 2 identifiers (action Z); the export writes no DICOMDIR'],
  [/attribute <Laterality>$/, "inherited: the source file's Laterality is empty; anonymisation does not invent clinical values"],
  [/\(0x0008,0x1070\) PN Operators' Name .*<ANONYMOUS> - Retired Person Name form$/, 'anonymised: the dummy Person Name is one component, which is valid PN; dciodvfy guesses the retired form'],
];

function unreviewed(warnings: string[]): string[] {
  return warnings.filter((w) => !REVIEWED_WARNINGS.some(([re]) => re.test(w)));
}
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.dcm'))
    .map((e) => join(e.parentPath, e.name));
}

describe.skipIf(!dciodvfy)('IOD validation of every kind of file the app writes (dciodvfy)', () => {
  const tmp = tempDir('medimg-iod-');
  afterAll(() => tmp.cleanup());

  it('generated samples (medimgshr sample): CT and MR slices', async () => {
    for (const kind of ['ct', 'mr'] as const) {
      const s = await writeSampleSeries({ outDir: join(tmp.path, `sample-${kind}`), slices: 2, kind, seed: 11 });
      for (const f of s.files) {
        const v = validate(f);
        expect(v.errors, `${kind} ${f}`).toEqual([]);
        expect(unreviewed(v.warnings), `${kind} ${f}`).toEqual([]);
      }
    }
  });

  it('anonymised exports of generated series and of real CT/MR files', async () => {
    const sample = await writeSampleSeries({ outDir: join(tmp.path, 'anon-src'), slices: 2, kind: 'ct', seed: 12 });
    const real = ['CT_small.dcm', 'MR_small.dcm'].map((f) => join(PYDICOM_TEST_FILES, f)).filter((f) => existsSync(f));
    if (process.env.CI) expect(real).toHaveLength(2);
    const out = join(tmp.path, 'anon-out');
    const report = await anonymiseExport({ files: [...sample.files, ...real], outDir: out });
    expect(report.skipped).toEqual([]);
    const written = filesUnder(out);
    expect(written).toHaveLength(sample.files.length + real.length);
    for (const f of written) {
      const v = validate(f);
      expect(v.errors, f).toEqual([]);
      expect(unreviewed(v.warnings), f).toEqual([]);
    }
  });

  /**
   * Files the app writes from someone else's: a rebuilt original (split storage) and a copy received over DIMSE
   * (our file meta group around the data set as it arrived). Generated series: 0 errors. Real files: the validator
   * says exactly what it says of the original — the app adds no error and hides none.
   */
  const sources = async (name: string) => {
    const sample = await writeSampleSeries({ outDir: join(tmp.path, `${name}-src`), slices: 2, kind: 'ct', seed: 14 });
    const real = ['CT_small.dcm', 'MR_small.dcm', 'JPEG2000.dcm', 'MR_small_RLE.dcm'].map((f) => join(PYDICOM_TEST_FILES, f)).filter((f) => existsSync(f));
    if (process.env.CI) expect(real).toHaveLength(4);
    return { generated: sample.files, real };
  };
  const sameVerdict = (copy: string, original: string) => {
    const a = validate(copy);
    const b = validate(original);
    expect(a.errors, copy).toEqual(b.errors);
    expect(a.warnings, copy).toEqual(b.warnings);
  };

  it('rebuilt originals (split storage): byte-identical, and the validator says of each what it says of its original', async () => {
    const { generated, real } = await sources('rebuilt');
    const files = [...generated, ...real];
    mkdirSync(join(tmp.path, 'rebuilt'));
    // MR_small and MR_small_RLE share a SOP Instance UID (one instance, two encodings): a storage each
    for (const [n, f] of files.entries()) {
      const db = openDatabase(':memory:');
      const split = createSplitStorage({ db, home: join(tmp.path, `split-home-${n}`), durable: false });
      const run = await split.splitFiles([f]);
      expect(run.errors, f).toEqual([]);
      const sop = parseDicomBytes(readFileSync(f)).dataSet.string('x00080018')!.replace(/\0+$/, '');
      const out = join(tmp.path, 'rebuilt', `${n}.dcm`);
      const bytes = await split.rebuildBytes(sop);
      db.close();
      expect(Buffer.compare(bytes, readFileSync(f)), f).toBe(0);
      writeFileSync(out, bytes);
      if (generated.includes(f)) {
        expect(validate(out).errors, f).toEqual([]);
        expect(unreviewed(validate(out).warnings), f).toEqual([]);
      } else sameVerdict(out, f);
    }
  });

  it('copies received over DIMSE (the Storage SCP and C-GET/C-MOVE write our file meta group around the data set)', async () => {
    const { generated, real } = await sources('received');
    mkdirSync(join(tmp.path, 'received'));
    for (const f of [...generated, ...real]) {
      const original = readFileSync(f);
      const ds = dataSetOf(original)!;
      const p = parseDicomBytes(original).dataSet;
      const uid = (t: string) => p.string(t)!.replace(/\0+$/, '');
      const out = join(tmp.path, 'received', `${uid('x00080018')}.dcm`);
      writeFileSync(out, part10File(ds.bytes, { sopClassUid: uid('x00080016'), sopInstanceUid: uid('x00080018'), transferSyntaxUid: ds.transferSyntaxUid, sourceAet: 'ORTHANC' }));
      if (generated.includes(f)) {
        expect(validate(out).errors, f).toEqual([]);
        expect(unreviewed(validate(out).warnings), f).toEqual([]);
      } else sameVerdict(out, f);
    }
  });

  it('Key Object Selection documents (key images) of a generated series and of real CT/MR files', async () => {
    // as keyImages.save writes them: the study's attributes read from one of its images, references to its images
    const sample = await writeSampleSeries({ outDir: join(tmp.path, 'kos-src'), slices: 3, kind: 'mr', seed: 13 });
    const real = ['CT_small.dcm', 'MR_small.dcm'].map((f) => join(PYDICOM_TEST_FILES, f)).filter((f) => existsSync(f));
    if (process.env.CI) expect(real).toHaveLength(2);
    const studies = [sample.files, ...real.map((f) => [f])];
    for (const [n, files] of studies.entries()) {
      const images = files.map((f) => readNaturalized(readFileSync(f), { header: true }));
      const refs = images.map((d) => ({ seriesInstanceUid: String(d.SeriesInstanceUID), sopClassUid: String(d.SOPClassUID), sopInstanceUid: String(d.SOPInstanceUID) }));
      const file = join(tmp.path, `kos-${n}.dcm`);
      writeFileSync(file, encodePart10(kosDataset({ study: images[0]!, references: refs, title: '113004', description: 'conformance' })));
      const v = validate(file);
      expect(v.errors, files[0]).toEqual([]);
      expect(unreviewed(v.warnings), files[0]).toEqual([]);
    }
  });

  it('Measurement Reports (TID 1500 Enhanced SR) of a generated series and of real CT/MR files', async () => {
    // as measurements.sr.save writes them: a length, an angle, a rectangle and an ellipse ROI on each study's first image
    const sample = await writeSampleSeries({ outDir: join(tmp.path, 'sr-src'), slices: 2, kind: 'ct', seed: 17 });
    const real = ['CT_small.dcm', 'MR_small.dcm'].map((f) => join(PYDICOM_TEST_FILES, f)).filter((f) => existsSync(f));
    if (process.env.CI) expect(real).toHaveLength(2);
    for (const [n, f] of [sample.files[0]!, ...real].entries()) {
      const d = readNaturalized(readFileSync(f), { header: true });
      const image = {
        sopInstanceUid: String(d.SOPInstanceUID),
        sopClassUid: String(d.SOPClassUID),
        seriesInstanceUid: String(d.SeriesInstanceUID),
        frame: 0,
        pixelSpacing: (d.PixelSpacing as number[] | undefined) ?? null,
        modality: String(d.Modality),
      };
      const { dataset, written } = measurementReportDataset({
        study: d,
        observer: 'conformance^',
        measurements: [
          { ...image, kind: 'length', data: { handles: { start: { x: 5, y: 6 }, end: { x: 40, y: 50 } } }, stats: {} },
          { ...image, kind: 'angle', data: { handles: { start: { x: 5, y: 40 }, middle: { x: 30, y: 30 }, end: { x: 50, y: 5 } } }, stats: {} },
          { ...image, kind: 'rectangleRoi', data: { handles: { start: { x: 10, y: 10 }, end: { x: 30, y: 20 } } }, stats: { mean: 12.5 } },
          { ...image, kind: 'ellipticalRoi', data: { handles: { start: { x: 10, y: 10 }, end: { x: 20, y: 40 } } }, stats: { mean: -3 } },
        ],
      });
      expect(written, f).toHaveLength(4);
      const file = join(tmp.path, `sr-${n}.dcm`);
      writeFileSync(file, encodePart10(dataset));
      const v = validate(file);
      expect(v.errors, f).toEqual([]);
      expect(unreviewed(v.warnings), f).toEqual([]);
    }
  });
});
