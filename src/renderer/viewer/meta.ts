/**
 * What the overlays, orientation markers and measurement units need from an image's header,
 * taken once when the image loads. The loader's parsed copy of the whole file can then be
 * dropped (for single-frame instances), so the memory held per slice is its pixels.
 */
import type { DicomDataSet } from './cornerstone';
import { dicomDate, personName } from '../format';

export interface ImageMeta {
  patient: string;
  patientId: string;
  study: string;
  studyDate: string;
  series: string;
  modality: string;
  position: string;
  thickness: string;
  iop: number[];
  unit: string;
  /** Pixel Spacing (0028,0030): [row, column] mm, null when absent or unusable. */
  pixelSpacing: number[] | null;
  /** "54 Y · M": Patient's Age (else from the birth and study dates) and Sex; '' when neither. */
  ageSex: string;
  /** "120 kVp · 250 mAs" where the header has them (CT, X-ray); '' else. */
  exposure: string;
}

/** Patient's Age "054Y" → "54 Y"; else the whole years between birth date and study date. */
export function ageOf(age: string | undefined, birth: string | undefined, study: string | undefined): string {
  const m = /^(\d{1,3})([DWMY])$/i.exec((age ?? '').trim());
  if (m) return `${Number(m[1])} ${m[2]!.toUpperCase()}`;
  const d = (s: string | undefined) => (s && /^\d{8}$/.test(s.trim()) ? { y: +s.slice(0, 4), m: +s.slice(4, 6), d: +s.slice(6, 8) } : null);
  const b = d(birth);
  const t = d(study);
  if (!b || !t) return '';
  const years = t.y - b.y - (t.m < b.m || (t.m === b.m && t.d < b.d) ? 1 : 0);
  return years >= 0 && years < 150 ? `${years} Y` : '';
}

/** kVp (0018,0060) and mAs: Exposure (0018,1152), else Exposure in µAs (0018,1153), else tube current × exposure time. */
export function exposureOf(ds: { string(tag: string): string | undefined }): string {
  const n = (tag: string) => {
    const v = Number((ds.string(tag) ?? '').split('\\')[0]);
    return (ds.string(tag) ?? '').trim() !== '' && Number.isFinite(v) ? v : null;
  };
  const kvp = n('x00180060');
  let mas = n('x00181152');
  if (mas === null && n('x00181153') !== null) mas = n('x00181153')! / 1000;
  if (mas === null && n('x00181151') !== null && n('x00181150') !== null) mas = (n('x00181151')! * n('x00181150')!) / 1000;
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  return [kvp !== null ? `${fmt(kvp)} kVp` : '', mas !== null ? `${fmt(mas)} mAs` : ''].filter(Boolean).join(' · ');
}

const DECODERS = new Map<string, TextDecoder>();
function decoderFor(charset: string): TextDecoder {
  const cs = charset.split('\\').pop()!.trim().toUpperCase();
  const label =
    cs === 'ISO_IR 192'
      ? 'utf-8'
      : cs === 'ISO_IR 101'
        ? 'iso-8859-2'
        : cs === 'ISO_IR 144'
          ? 'iso-8859-5'
          : cs === 'ISO_IR 126'
            ? 'iso-8859-7'
            : cs === 'GB18030'
              ? 'gb18030'
              : 'windows-1252';
  let d = DECODERS.get(label);
  if (!d) DECODERS.set(label, (d = new TextDecoder(label)));
  return d;
}

/** A text element decoded with the data set's Specific Character Set (dicom-parser reads bytes as Latin-1). */
function text(ds: DicomDataSet, tag: string): string | undefined {
  const el = ds.elements[tag];
  if (!el || el.length <= 0) return undefined;
  const bytes = ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
  return decoderFor(ds.string('x00080005') ?? '').decode(bytes).replace(/[\0 ]+$/, '').trim();
}
function numbers(ds: DicomDataSet, tag: string): number[] {
  const s = ds.string(tag);
  return s ? s.split('\\').map(Number) : [];
}

function spacing(ps: number[]): number[] | null {
  return ps.length >= 2 && ps.slice(0, 2).every((n) => Number.isFinite(n) && n > 0) ? ps.slice(0, 2) : null;
}

export function metaFromDataSet(ds: DicomDataSet): ImageMeta {
  const ipp = numbers(ds, 'x00200032');
  const loc = ds.string('x00201041');
  const t = ds.string('x00180050');
  const modality = ds.string('x00080060') ?? '';
  return {
    patient: personName(text(ds, 'x00100010')) || 'Unnamed patient',
    patientId: ds.string('x00100020') ?? '',
    study: text(ds, 'x00081030') ?? '',
    studyDate: dicomDate(ds.string('x00080020')),
    series: [ds.string('x00200011') ? `Se ${ds.string('x00200011')}` : '', text(ds, 'x0008103e') ?? ''].filter(Boolean).join(' · '),
    modality,
    position: loc && Number.isFinite(Number(loc)) ? `Loc ${Number(loc).toFixed(1)} mm` : ipp.length === 3 && ipp.every(Number.isFinite) ? `Pos ${ipp.map((n) => n.toFixed(1)).join(', ')}` : '',
    thickness: t && Number.isFinite(Number(t)) ? `Thk ${Number(t).toFixed(1)} mm` : '',
    iop: numbers(ds, 'x00200037'),
    // CT: HU; PET: Units (0054,1001), e.g. BQML; else Rescale Type (0028,1054) when given.
    unit: modality === 'CT' ? 'HU' : (ds.string('x00541001') || ds.string('x00281054') || '').trim(),
    pixelSpacing: spacing(numbers(ds, 'x00280030')),
    ageSex: [ageOf(ds.string('x00101010'), ds.string('x00100030'), ds.string('x00080020')), (ds.string('x00100040') ?? '').trim().toUpperCase()].filter(Boolean).join(' · '),
    exposure: exposureOf(ds),
  };
}

const metas = new Map<string, ImageMeta>();

/**
 * Called with the data set of every file the loader has just parsed: what the overlay shows is the
 * header of the file on screen, replaced whenever the file behind an instance is read again (e.g.
 * a PACS copy that replaced the local one, with its own PatientName), never an earlier read.
 */
export function rememberMeta(imageId: string, ds: DicomDataSet | undefined): void {
  if (ds) metas.set(imageId, metaFromDataSet(ds));
}

export function forgetMeta(imageId: string): void {
  metas.delete(imageId);
}

export function metaOf(imageId: string): ImageMeta | undefined {
  return metas.get(imageId);
}
