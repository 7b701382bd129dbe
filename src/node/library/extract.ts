/** What the index keeps of one parsed file. */
import type { DataSet } from 'dicom-parser';
import { ErrorCode } from '../../shared/errors';
import { DicomFileError, PIXEL_DATA_TAG, type ParsedDicom } from '../dicom/parse';

export interface IndexRecord {
  patient: { patientId: string; name: string; birthDate: string | null; sex: string | null };
  study: {
    uid: string;
    studyId: string | null;
    date: string | null;
    time: string | null;
    description: string | null;
    accession: string | null;
    referring: string | null;
    synthetic: boolean;
  };
  series: { uid: string; modality: string | null; number: number | null; description: string | null; bodyPart: string | null; date: string | null };
  instance: {
    sopUid: string;
    sopClass: string | null;
    number: number | null;
    frames: number;
    rows: number | null;
    columns: number | null;
    bitsAllocated: number | null;
    photometric: string | null;
    imagePosition: number[] | null;
    imageOrientation: number[] | null;
    pixelSpacing: number[] | null;
    sliceThickness: number | null;
    sliceLocation: number | null;
    transferSyntax: string;
    windowCenter: number | null;
    windowWidth: number | null;
    rescaleSlope: number | null;
    rescaleIntercept: number | null;
    hasPixels: boolean;
  };
}

function str(ds: DataSet, tag: string): string | null {
  if (!ds.elements[tag]) return null;
  try {
    const v = ds.string(tag);
    if (v === undefined) return null;
    const t = v.replace(/\0/g, '').trim();
    return t === '' ? null : t;
  } catch {
    return null;
  }
}

/** Whole multi-valued string (backslashes kept), trimmed. */
function text(ds: DataSet, tag: string): string | null {
  const el = ds.elements[tag];
  if (!el || el.length === 0 || el.length > 4096) return null;
  let s = '';
  const b = ds.byteArray;
  for (let i = el.dataOffset; i < el.dataOffset + el.length && i < b.length; i++) s += String.fromCharCode(b[i]!);
  // Names may be in UTF-8 or Latin-1; decode as UTF-8 when valid.
  try {
    s = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(el.dataOffset, el.dataOffset + el.length));
  } catch {
    /* keep the Latin-1 reading */
  }
  const t = s.replace(/\0/g, '').trim();
  return t === '' ? null : t;
}

function num(ds: DataSet, tag: string, index = 0): number | null {
  if (!ds.elements[tag]) return null;
  try {
    const v = ds.floatString(tag, index);
    return v === undefined || !Number.isFinite(v) ? null : v;
  } catch {
    return null;
  }
}

function int(ds: DataSet, tag: string): number | null {
  const v = num(ds, tag);
  return v === null ? null : Math.trunc(v);
}

function us(ds: DataSet, tag: string): number | null {
  const el = ds.elements[tag];
  if (!el || el.length < 2) return null;
  try {
    const v = ds.uint16(tag);
    return v === undefined ? null : v;
  } catch {
    return null;
  }
}

function nums(ds: DataSet, tag: string, count: number): number[] | null {
  if (!ds.elements[tag]) return null;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = num(ds, tag, i);
    if (v === null) return null;
    out.push(v);
  }
  return out;
}

export function extractRecord(parsed: ParsedDicom): IndexRecord {
  const ds = parsed.dataSet;
  const sopUid = str(ds, 'x00080018') ?? str(ds, 'x00020003');
  const studyUid = str(ds, 'x0020000d');
  const seriesUid = str(ds, 'x0020000e');
  const missing = [!sopUid && 'SOP Instance UID (0008,0018)', !studyUid && 'Study Instance UID (0020,000D)', !seriesUid && 'Series Instance UID (0020,000E)'].filter(Boolean);
  if (missing.length) {
    throw new DicomFileError(
      'MISSING_UIDS',
      ErrorCode.Malformed,
      `The file is DICOM but has no ${missing.join(', ')}, so it cannot be placed in a study.`,
      'Files without these identifiers are not images of a study (or were damaged); ask the sender for a complete export.',
    );
  }
  const comments = text(ds, 'x00204000') ?? '';
  const name = text(ds, 'x00100010') ?? '';
  const seriesDescription = text(ds, 'x0008103e');
  const synthetic = /SYNTHETIC/i.test(name) || /SYNTHETIC/i.test(comments) || /SYNTHETIC/i.test(seriesDescription ?? '');
  return {
    patient: { patientId: text(ds, 'x00100020') ?? '', name, birthDate: str(ds, 'x00100030'), sex: str(ds, 'x00100040') },
    study: {
      uid: studyUid!,
      studyId: text(ds, 'x00200010'),
      date: str(ds, 'x00080020'),
      time: str(ds, 'x00080030'),
      description: text(ds, 'x00081030'),
      accession: text(ds, 'x00080050'),
      referring: text(ds, 'x00080090'),
      synthetic,
    },
    series: {
      uid: seriesUid!,
      modality: str(ds, 'x00080060'),
      number: int(ds, 'x00200011'),
      description: seriesDescription,
      bodyPart: str(ds, 'x00180015'),
      date: str(ds, 'x00080021'),
    },
    instance: {
      sopUid: sopUid!,
      sopClass: str(ds, 'x00080016') ?? str(ds, 'x00020002'),
      number: int(ds, 'x00200013'),
      frames: Math.max(1, int(ds, 'x00280008') ?? 1),
      rows: us(ds, 'x00280010'),
      columns: us(ds, 'x00280011'),
      bitsAllocated: us(ds, 'x00280100'),
      photometric: str(ds, 'x00280004'),
      imagePosition: nums(ds, 'x00200032', 3),
      imageOrientation: nums(ds, 'x00200037', 6),
      pixelSpacing: nums(ds, 'x00280030', 2),
      sliceThickness: num(ds, 'x00180050'),
      sliceLocation: num(ds, 'x00201041'),
      transferSyntax: parsed.transferSyntaxUid,
      windowCenter: num(ds, 'x00281050'),
      windowWidth: num(ds, 'x00281051'),
      rescaleSlope: num(ds, 'x00281053'),
      rescaleIntercept: num(ds, 'x00281052'),
      hasPixels: Boolean(ds.elements[PIXEL_DATA_TAG] || ds.elements.x7fe00008 || ds.elements.x7fe00009),
    },
  };
}

/** Referenced file paths (relative, as path components) of every record of a DICOMDIR. */
export function dicomdirReferences(parsed: ParsedDicom): string[][] {
  const seq = parsed.dataSet.elements.x00041220;
  const out: string[][] = [];
  for (const item of seq?.items ?? []) {
    const ds = item.dataSet;
    if (!ds) continue;
    const ref = text(ds, 'x00041500');
    if (!ref) continue;
    const inUse = us(ds, 'x00041410');
    if (inUse === 0) continue; // record marked inactive
    out.push(ref.split('\\').map((p) => p.trim()).filter((p) => p !== ''));
  }
  return out;
}
