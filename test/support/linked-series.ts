/**
 * Series for the linked-viewing tests, made from the project's sample generator (src/node/dicom/sample.ts):
 * an axial CT, its sagittal reformat in the same Frame of Reference (resliced from the axial pixels, so
 * the anatomy matches), and copies of a series re-labelled as another study of the same patient (a prior).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { writeSampleSeries } from '../../src/node/dicom/sample';

type Naturalized = Record<string, unknown>;
const { DicomDict, DicomMessage, DicomMetaDictionary } = (dcmjs as unknown as {
  data: {
    DicomDict: new (meta: unknown) => { dict: unknown; write(): ArrayBuffer };
    DicomMessage: { readFile(ab: ArrayBuffer, opts?: unknown): { meta: unknown; dict: unknown } };
    DicomMetaDictionary: { denaturalizeDataset(d: unknown): unknown; naturalizeDataset(d: unknown): Naturalized };
  };
}).data;

export function testUid(purpose: string): string {
  const h = createHash('sha256').update(`medimgshr-linked-test:${purpose}`).digest();
  return `2.25.${BigInt('0x' + h.subarray(0, 15).toString('hex')).toString()}`;
}

function read(path: string): { meta: Naturalized; ds: Naturalized } {
  const b = readFileSync(path);
  const parsed = DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  return { meta: DicomMetaDictionary.naturalizeDataset(parsed.meta), ds: DicomMetaDictionary.naturalizeDataset(parsed.dict) };
}

function write(path: string, meta: Naturalized, ds: Naturalized): void {
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset({ ...ds, _vrMap: { PixelData: 'OW' } });
  writeFileSync(path, Buffer.from(dict.write()));
}

export interface PlaneGeometry {
  frameOfReferenceUid: string;
  imagePositionPatient: [number, number, number];
  imageOrientationPatient: [number, number, number, number, number, number];
  pixelSpacing: [number, number];
  rows: number;
  columns: number;
}

export interface LinkedStudy {
  studyInstanceUid: string;
  frameOfReferenceUid: string;
  patientId: string;
  axial: { dir: string; files: string[]; planes: PlaneGeometry[] };
  sagittal: { dir: string; files: string[]; planes: PlaneGeometry[] };
}

/**
 * An axial CT of `slices` slices (matrix `matrix`²) and `sagittals` sagittal slices resliced from it (rows
 * running head → feet, columns anterior → posterior), one study and frame of reference.
 */
export async function writeLinkedStudy(root: string, o: { seed: number; slices: number; matrix?: number; sagittals: number }): Promise<LinkedStudy> {
  const axialDir = join(root, 'axial');
  const sagDir = join(root, 'sagittal');
  mkdirSync(sagDir, { recursive: true });
  const r = await writeSampleSeries({ outDir: axialDir, slices: o.slices, kind: 'ct', seed: o.seed, ...(o.matrix ? { matrix: o.matrix } : {}) });
  const first = read(r.files[0]!);
  const rows = first.ds.Rows as number;
  const cols = first.ds.Columns as number;
  const spacing = Number((first.ds.PixelSpacing as (string | number)[])[0]);
  const thickness = Number(first.ds.SliceThickness);
  const frameOfReferenceUid = String(first.ds.FrameOfReferenceUID);
  const planeOf = (ds: Naturalized): PlaneGeometry => ({
    frameOfReferenceUid,
    imagePositionPatient: (ds.ImagePositionPatient as (string | number)[]).map(Number) as PlaneGeometry['imagePositionPatient'],
    imageOrientationPatient: (ds.ImageOrientationPatient as (string | number)[]).map(Number) as PlaneGeometry['imageOrientationPatient'],
    pixelSpacing: (ds.PixelSpacing as (string | number)[]).map(Number) as [number, number],
    rows: ds.Rows as number,
    columns: ds.Columns as number,
  });
  // The axial volume: slice k's pixels are the file's last rows × cols × 2 bytes (the generator writes them last).
  const pixelBytes = rows * cols * 2;
  const axialPlanes: PlaneGeometry[] = [];
  const volume = r.files.map((f) => {
    const b = readFileSync(f);
    const px = new Int16Array(b.buffer.slice(b.byteOffset + b.length - pixelBytes, b.byteOffset + b.length));
    return px;
  });
  for (const f of r.files) axialPlanes.push(planeOf(read(f).ds));
  const ipp0 = axialPlanes[0]!.imagePositionPatient;
  const zTop = axialPlanes[axialPlanes.length - 1]!.imagePositionPatient[2];
  const seriesUid = testUid(`${o.seed}:sagittal`);
  const sagFiles: string[] = [];
  const sagPlanes: PlaneGeometry[] = [];
  for (let s = 0; s < o.sagittals; s++) {
    const col = Math.round(((s + 0.5) * cols) / o.sagittals);
    // Row i is axial slice (slices − 1 − i): the top slice first (head up); column j is axial row j (anterior → posterior).
    const px = new Int16Array(o.slices * rows);
    for (let i = 0; i < o.slices; i++) {
      const slice = volume[o.slices - 1 - i]!;
      for (let j = 0; j < rows; j++) px[i * rows + j] = slice[j * cols + col]!;
    }
    const sop = `${seriesUid}.${s + 1}`;
    const ds: Naturalized = {
      ...first.ds,
      SOPInstanceUID: sop,
      SeriesInstanceUID: seriesUid,
      SeriesNumber: '3',
      SeriesDescription: 'SYNTHETIC — sagittal reformat',
      ImageType: ['DERIVED', 'SECONDARY', 'REFORMATTED'],
      InstanceNumber: String(s + 1),
      ImagePositionPatient: [ipp0[0] + col * spacing, ipp0[1], zTop].map((v) => v.toFixed(4)),
      ImageOrientationPatient: ['0', '1', '0', '0', '0', '-1'],
      PixelSpacing: [String(thickness), String(spacing)],
      Rows: o.slices,
      Columns: rows,
      SliceLocation: (ipp0[0] + col * spacing).toFixed(4),
      PixelData: [px.buffer],
    };
    const file = join(sagDir, `SAG${String(s + 1).padStart(3, '0')}.dcm`);
    write(file, { ...first.meta, MediaStorageSOPInstanceUID: sop }, ds);
    sagFiles.push(file);
    sagPlanes.push(planeOf(ds));
  }
  return {
    studyInstanceUid: r.studyInstanceUid,
    frameOfReferenceUid,
    patientId: String(first.ds.PatientID),
    axial: { dir: axialDir, files: r.files, planes: axialPlanes },
    sagittal: { dir: sagDir, files: sagFiles, planes: sagPlanes },
  };
}

/**
 * Copies a series as another study (or, given `studyInstanceUid`, another series of that study): new Study / Series / SOP Instance UIDs (from `key`), the patient and
 * dates given, optionally another Frame of Reference UID and Issuer of Patient ID, positions moved by `shiftZ` mm.
 */
export function writeAsStudy(
  files: string[],
  outDir: string,
  o: { key: string; patientId: string; studyDate: string; frameOfReferenceUid?: string; issuer?: string; shiftZ?: number; description?: string; seriesDescription?: string; seriesNumber?: string; studyInstanceUid?: string; sliceThickness?: string },
): string[] {
  mkdirSync(outDir, { recursive: true });
  const studyUid = o.studyInstanceUid ?? testUid(`${o.key}:study`);
  const seriesUid = testUid(`${o.key}:series`);
  return files.map((f, i) => {
    const { meta, ds } = read(f);
    const sop = `${seriesUid}.${i + 1}`;
    const ipp = (ds.ImagePositionPatient as (string | number)[]).map(Number);
    const next: Naturalized = {
      ...ds,
      StudyInstanceUID: studyUid,
      SeriesInstanceUID: seriesUid,
      SOPInstanceUID: sop,
      PatientID: o.patientId,
      StudyDate: o.studyDate,
      SeriesDate: o.studyDate,
      ContentDate: o.studyDate,
      AccessionNumber: `P${o.studyDate}`,
      ...(o.description ? { StudyDescription: o.description } : {}),
      ...(o.seriesDescription ? { SeriesDescription: o.seriesDescription } : {}),
      ...(o.seriesNumber ? { SeriesNumber: o.seriesNumber } : {}),
      ...(o.sliceThickness ? { SliceThickness: o.sliceThickness } : {}),
      ...(o.frameOfReferenceUid ? { FrameOfReferenceUID: o.frameOfReferenceUid } : {}),
      ...(o.issuer !== undefined ? { IssuerOfPatientID: o.issuer } : {}),
      ...(o.shiftZ ? { ImagePositionPatient: [ipp[0]!, ipp[1]!, ipp[2]! + o.shiftZ].map((v) => v.toFixed(4)), SliceLocation: (ipp[2]! + o.shiftZ).toFixed(4) } : {}),
    };
    const out = join(outDir, `PR${String(i + 1).padStart(4, '0')}.dcm`);
    write(out, { ...meta, MediaStorageSOPInstanceUID: sop }, next);
    return out;
  });
}
