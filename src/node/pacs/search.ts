/**
 * Study and series search on a PACS: QIDO-RS for DICOMweb, C-FIND (Study Root) for DIMSE, both
 * answered as one normalised study summary. Paged (limit / offset): QIDO-RS pages on the server;
 * C-FIND has no paging, so at most `cap` matches are read (CFIND_CAP by default) and paged here; a
 * search with more matches says so ("first N of more: narrow the search").
 */
import { PacsError, PacsReason } from './errors';
import type { DicomJson, DicomWebClient } from './dicomweb';
import { jsonValue, jsonValues } from './dicomweb';
import type { DimseClient } from './dimse';

export interface StudyQuery {
  /** Patient name; `*` and `?` are wildcards (e.g. "DOE^*"). */
  patientName?: string;
  patientId?: string;
  /** YYYY-MM-DD or YYYYMMDD; either end may be missing. */
  dateFrom?: string;
  dateTo?: string;
  modality?: string;
  accession?: string;
  studyInstanceUid?: string;
  limit?: number;
  offset?: number;
}

export interface PacsStudy {
  studyInstanceUid: string;
  patientName: string;
  patientId: string;
  patientBirthDate: string | null;
  /** YYYY-MM-DD */
  date: string | null;
  time: string | null;
  accession: string | null;
  description: string | null;
  modalities: string[];
  seriesCount: number | null;
  instanceCount: number | null;
}

export interface PacsSeries {
  seriesInstanceUid: string;
  modality: string | null;
  number: number | null;
  description: string | null;
  instanceCount: number | null;
}

export interface StudyPage {
  studies: PacsStudy[];
  offset: number;
  limit: number;
  /** More matches exist after this page. */
  more: boolean;
  /**
   * C-FIND only: the PACS had more matches than are read (this many), so pages end there; null when
   * every match can be paged to. (QIDO-RS pages on the server: always null.)
   */
  capped: number | null;
}

/** C-FIND has no paging: at most this many study matches are read per search. */
export const CFIND_CAP = 500;

export const MAX_PAGE = 1000;

const isoDate = (d: string | null): string | null => (d && /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d || null);
const num = (v: string | null): number | null => (v === null || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));

function dicomDate(d: string | undefined, what: string): string {
  if (!d) return '';
  const c = d.replace(/-/g, '');
  if (!/^\d{8}$/.test(c)) throw new PacsError(PacsReason.Invalid, `${what} "${d}" is not a date.`, 'Write dates as YYYY-MM-DD.');
  return c;
}

export function dateRange(q: StudyQuery): string {
  const from = dicomDate(q.dateFrom, 'The start date');
  const to = dicomDate(q.dateTo, 'The end date');
  if (!from && !to) return '';
  if (from && to && from === to) return from;
  return `${from}-${to}`;
}

function checkPaging(q: StudyQuery): { limit: number; offset: number } {
  const limit = q.limit ?? 100;
  const offset = q.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new PacsError(PacsReason.Invalid, `A page holds 1 to ${MAX_PAGE} studies (asked: ${limit}).`);
  if (!Number.isInteger(offset) || offset < 0) throw new PacsError(PacsReason.Invalid, 'The offset must be 0 or more.');
  return { limit, offset };
}

export function studyFromJson(o: DicomJson): PacsStudy {
  return {
    studyInstanceUid: jsonValue(o, '0020000D') ?? '',
    patientName: jsonValue(o, '00100010') ?? '',
    patientId: jsonValue(o, '00100020') ?? '',
    patientBirthDate: isoDate(jsonValue(o, '00100030')),
    date: isoDate(jsonValue(o, '00080020')),
    time: jsonValue(o, '00080030'),
    accession: jsonValue(o, '00080050'),
    description: jsonValue(o, '00081030'),
    modalities: jsonValues(o, '00080061'),
    seriesCount: num(jsonValue(o, '00201206')),
    instanceCount: num(jsonValue(o, '00201208')),
  };
}

/** A value from a dcmjs naturalised data set (person names as strings or {Alphabetic}). */
function dsValue(o: Record<string, unknown>, key: string): string | null {
  let v = o[key];
  if (Array.isArray(v)) v = v[0];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'object') return ((v as { Alphabetic?: string }).Alphabetic ?? null) || null;
  return String(v);
}
function dsValues(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (v === undefined || v === null || v === '') return [];
  return (Array.isArray(v) ? v : String(v).split('\\')).map(String).filter(Boolean);
}

export function studyFromDataset(o: Record<string, unknown>): PacsStudy {
  return {
    studyInstanceUid: dsValue(o, 'StudyInstanceUID') ?? '',
    patientName: dsValue(o, 'PatientName') ?? '',
    patientId: dsValue(o, 'PatientID') ?? '',
    patientBirthDate: isoDate(dsValue(o, 'PatientBirthDate')),
    date: isoDate(dsValue(o, 'StudyDate')),
    time: dsValue(o, 'StudyTime'),
    accession: dsValue(o, 'AccessionNumber'),
    description: dsValue(o, 'StudyDescription'),
    modalities: dsValues(o, 'ModalitiesInStudy'),
    seriesCount: num(dsValue(o, 'NumberOfStudyRelatedSeries')),
    instanceCount: num(dsValue(o, 'NumberOfStudyRelatedInstances')),
  };
}


export async function searchStudiesWeb(c: DicomWebClient, q: StudyQuery, signal?: AbortSignal): Promise<StudyPage> {
  const { limit, offset } = checkPaging(q);
  const rows = await c.searchStudies(
    {
      PatientName: q.patientName,
      PatientID: q.patientId,
      StudyDate: dateRange(q) || undefined,
      ModalitiesInStudy: q.modality,
      AccessionNumber: q.accession,
      StudyInstanceUID: q.studyInstanceUid,
      // Only StudyDescription is outside QIDO-RS's default study attributes (PS3.18 table 6.7.1-2); one
      // value, because a comma travels as %2C, which Orthanc 1.10 does not decode (the list is then ignored).
      includefield: '00081030',
      limit: limit + 1,
      offset,
    },
    signal,
  );
  return { studies: rows.slice(0, limit).map(studyFromJson), offset, limit, more: rows.length > limit, capped: null };
}

export async function searchStudiesDimse(c: DimseClient, q: StudyQuery, signal?: AbortSignal, cap = CFIND_CAP): Promise<StudyPage> {
  const { limit, offset } = checkPaging(q);
  if (offset >= cap) {
    throw new PacsError(PacsReason.Invalid, `A C-FIND search has no pages: only its first ${cap} matches can be shown.`, 'Narrow the search (patient name, ID, date range, modality or accession), or search over DICOMweb.');
  }
  const keys = {
    PatientName: q.patientName ?? '',
    PatientID: q.patientId ?? '',
    PatientBirthDate: '',
    StudyDate: dateRange(q),
    StudyTime: '',
    AccessionNumber: q.accession ?? '',
    ModalitiesInStudy: q.modality ?? '',
    StudyDescription: '',
    StudyInstanceUID: q.studyInstanceUid ?? '',
    NumberOfStudyRelatedSeries: '',
    NumberOfStudyRelatedInstances: '',
  };
  const all = await c.find('STUDY', keys, { max: cap + 1, signal });
  const capped = all.length > cap;
  const rows = all.slice(0, cap);
  return { studies: rows.slice(offset, offset + limit).map(studyFromDataset), offset, limit, more: rows.length > offset + limit, capped: capped ? cap : null };
}

export async function searchSeriesWeb(c: DicomWebClient, study: string, signal?: AbortSignal): Promise<PacsSeries[]> {
  const rows = await c.searchSeries(study, { includefield: '0008103E,00080060,00200011,00201209,0020000E' }, signal);
  return rows
    .map((o) => ({
      seriesInstanceUid: jsonValue(o, '0020000E') ?? '',
      modality: jsonValue(o, '00080060'),
      number: num(jsonValue(o, '00200011')),
      description: jsonValue(o, '0008103E'),
      instanceCount: num(jsonValue(o, '00201209')),
    }))
    .sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
}

export async function searchSeriesDimse(c: DimseClient, study: string, signal?: AbortSignal): Promise<PacsSeries[]> {
  const rows = await c.find('SERIES', { StudyInstanceUID: study, SeriesInstanceUID: '', Modality: '', SeriesNumber: '', SeriesDescription: '', NumberOfSeriesRelatedInstances: '' }, { signal });
  return rows
    .map((o) => ({
      seriesInstanceUid: dsValue(o, 'SeriesInstanceUID') ?? '',
      modality: dsValue(o, 'Modality'),
      number: num(dsValue(o, 'SeriesNumber')),
      description: dsValue(o, 'SeriesDescription'),
      instanceCount: num(dsValue(o, 'NumberOfSeriesRelatedInstances')),
    }))
    .sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
}

/** The instances (study / series / SOP Instance UIDs) of a study or series: QIDO-RS pages of 1000. */
export async function listInstancesWeb(c: DicomWebClient, study: string, series: string | null, signal?: AbortSignal): Promise<{ study: string; series: string; sop: string }[]> {
  const out: { study: string; series: string; sop: string }[] = [];
  const PAGE = 1000;
  for (let offset = 0; ; offset += PAGE) {
    const rows = await c.searchInstances(study, series, { includefield: '0020000E,00080018', limit: PAGE, offset }, signal);
    for (const o of rows) {
      const sop = jsonValue(o, '00080018');
      const se = jsonValue(o, '0020000E') ?? series;
      if (sop && se) out.push({ study, series: se, sop });
    }
    if (rows.length < PAGE) break;
  }
  return out;
}

export async function listInstancesDimse(c: DimseClient, study: string, series: string | null, signal?: AbortSignal): Promise<{ study: string; series: string; sop: string }[]> {
  const rows = await c.find('IMAGE', { StudyInstanceUID: study, SeriesInstanceUID: series ?? '', SOPInstanceUID: '', InstanceNumber: '' }, { signal });
  return rows
    .map((o) => ({ study, series: dsValue(o, 'SeriesInstanceUID') ?? series ?? '', sop: dsValue(o, 'SOPInstanceUID') ?? '' }))
    .filter((r) => r.sop && r.series);
}
