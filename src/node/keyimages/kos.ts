/**
 * The DICOM Key Object Selection (KOS) document: what it says (PS3.3 A.35.4, template TID 2010) and its
 * encoding, done by dcmjs (never by hand). A KOS names the key images of a study: a title from CID 7010,
 * one IMAGE content item per image, and the Current Requested Procedure Evidence Sequence listing every
 * referenced instance per series. It is a document of the study in a new series of its own (Modality KO).
 */
import { randomUUID } from 'node:crypto';
import dcmjs from 'dcmjs';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/implementation';
import { KOS_SOP_CLASS_UID, KOS_TITLES, type KosTitleCode } from '../../shared/api/keyimages';

type Naturalized = Record<string, unknown>;
interface DcmDictLike {
  dict: Record<string, unknown>;
  meta?: Record<string, unknown>;
  write(options?: Record<string, unknown>): ArrayBuffer;
}
const { DicomDict, DicomMessage, DicomMetaDictionary } = (
  dcmjs as unknown as {
    data: {
      DicomDict: new (meta: unknown) => DcmDictLike;
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { meta: Record<string, unknown>; dict: Record<string, unknown> } };
      DicomMetaDictionary: { denaturalizeDataset(d: unknown): Record<string, unknown>; naturalizeDataset(d: unknown): Naturalized };
    };
  }
).data;

const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** One referenced image: its series and its SOP Class / Instance UIDs. */
export interface KosReference {
  seriesInstanceUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
}

/**
 * The Patient and General Study module attributes, copied from an instance of the study (the KOS must
 * say exactly what its images say: a document whose Patient ID differs from its images' is a different patient's).
 */
export const PATIENT_STUDY_KEYWORDS = [
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'PatientBirthDate',
  'PatientSex',
  'OtherPatientIDsSequence',
  'PatientIdentityRemoved',
  'DeidentificationMethod',
  'DeidentificationMethodCodeSequence',
  'StudyInstanceUID',
  'StudyDate',
  'StudyTime',
  'ReferringPhysicianName',
  'StudyID',
  'AccessionNumber',
  'IssuerOfAccessionNumberSequence',
  'StudyDescription',
] as const;

/** Type 2 attributes of the Patient and General Study modules: present (maybe empty) in every KOS. */
const TYPE2 = ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber'];

export interface KosInput {
  /** Naturalized Patient / Study attributes of the study (PATIENT_STUDY_KEYWORDS; others are ignored). */
  study: Naturalized;
  references: KosReference[];
  title?: KosTitleCode;
  /** Free text shown with the title (TID 2010 Key Object Description), optional. */
  description?: string | null;
  /** Defaults to new UIDs / now (tests pass fixed ones). */
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  seriesNumber?: number;
  at?: Date;
  manufacturer?: string;
}

/** A new UID under 2.25 (from a random UUID: PS3.5 B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

function dicomDateTime(d: Date): { date: string; time: string } {
  const iso = d.toISOString();
  return { date: iso.slice(0, 10).replace(/-/g, ''), time: iso.slice(11, 19).replace(/:/g, '') };
}

export function titleOf(code: KosTitleCode | undefined): { CodeValue: string; CodingSchemeDesignator: 'DCM'; CodeMeaning: string } {
  const t = KOS_TITLES.find((x) => x.code === (code ?? '113000'));
  if (!t) throw new Error(`unknown KOS title code ${code}`);
  return { CodeValue: t.code, CodingSchemeDesignator: 'DCM', CodeMeaning: t.meaning };
}

/** The KOS data set (naturalized, as dcmjs takes it): every module of the Key Object Selection Document IOD. */
export function kosDataset(input: KosInput): Naturalized {
  if (input.references.length === 0) throw new Error('a Key Object Selection needs at least one image');
  const studyUid = input.study.StudyInstanceUID;
  if (typeof studyUid !== 'string' || !studyUid) throw new Error('the study has no Study Instance UID');
  const at = dicomDateTime(input.at ?? new Date());
  const bySeries = new Map<string, KosReference[]>();
  for (const r of input.references) bySeries.set(r.seriesInstanceUid, [...(bySeries.get(r.seriesInstanceUid) ?? []), r]);
  const sopRef = (r: KosReference) => ({ ReferencedSOPClassUID: r.sopClassUid, ReferencedSOPInstanceUID: r.sopInstanceUid });

  const study: Naturalized = {};
  for (const k of PATIENT_STUDY_KEYWORDS) if (input.study[k] !== undefined) study[k] = input.study[k];
  for (const k of TYPE2) if (study[k] === undefined || study[k] === null) study[k] = '';
  // Type 1C: the method is required when identity removal is YES; without one the flag cannot be copied alone.
  if (study.PatientIdentityRemoved === 'YES' && !study.DeidentificationMethod && !study.DeidentificationMethodCodeSequence) delete study.PatientIdentityRemoved;

  const content: Naturalized[] = [];
  if (input.description?.trim()) {
    content.push({
      RelationshipType: 'CONTAINS',
      ValueType: 'TEXT',
      ConceptNameCodeSequence: [{ CodeValue: '113012', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Key Object Description' }],
      TextValue: input.description.trim().slice(0, 1024),
    });
  }
  for (const r of input.references) content.push({ RelationshipType: 'CONTAINS', ValueType: 'IMAGE', ReferencedSOPSequence: [sopRef(r)] });

  const sop = input.sopInstanceUid ?? newUid();
  return {
    // SOP Common
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: KOS_SOP_CLASS_UID,
    SOPInstanceUID: sop,
    InstanceCreationDate: at.date,
    InstanceCreationTime: at.time,
    // Patient, General Study
    ...study,
    // Key Object Document Series
    Modality: 'KO',
    SeriesInstanceUID: input.seriesInstanceUid ?? newUid(),
    SeriesNumber: String(input.seriesNumber ?? 999),
    SeriesDate: at.date,
    SeriesTime: at.time,
    SeriesDescription: `Key images: ${titleOf(input.title).CodeMeaning}`,
    ReferencedPerformedProcedureStepSequence: [],
    // General Equipment
    Manufacturer: input.manufacturer ?? 'MedImgShr',
    // Key Object Document
    InstanceNumber: '1',
    ContentDate: at.date,
    ContentTime: at.time,
    CurrentRequestedProcedureEvidenceSequence: [
      {
        StudyInstanceUID: studyUid,
        ReferencedSeriesSequence: [...bySeries].map(([seriesUid, refs]) => ({ SeriesInstanceUID: seriesUid, ReferencedSOPSequence: refs.map(sopRef) })),
      },
    ],
    // SR Document Content (TID 2010 Key Object Selection)
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [titleOf(input.title)],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '2010' }],
    ContentSequence: content,
  };
}

/** A Part-10 file of a data set, encoded by dcmjs (Explicit VR Little Endian). */
export function encodePart10(dataset: Naturalized): Buffer {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_LE,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(dict.write());
}

/** Reads a Part-10 file with dcmjs (naturalized); `header` stops before Pixel Data. */
export function readNaturalized(bytes: Uint8Array, opts: { header?: boolean } = {}): Naturalized {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = DicomMessage.readFile(ab, { ignoreErrors: true, untilTag: opts.header ? '7FE00010' : null, includeUntilTagValue: false });
  return DicomMetaDictionary.naturalizeDataset(parsed.dict);
}

export interface KosContent {
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  title: { code: string; meaning: string };
  description: string | null;
  /** The selected images (IMAGE content items), in document order, each with its series from the evidence. */
  references: KosReference[];
}

const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : v && typeof v === 'object' ? [v as T] : []);

/** What a KOS (read with dcmjs) selects; throws in DICOM words when the file is not a usable KOS. */
export function kosContent(ds: Naturalized): KosContent {
  if (ds.SOPClassUID !== KOS_SOP_CLASS_UID) throw new Error(`not a Key Object Selection Document (SOP Class ${String(ds.SOPClassUID)})`);
  const seriesOf = new Map<string, string>();
  for (const st of asArray<Naturalized>(ds.CurrentRequestedProcedureEvidenceSequence)) {
    for (const se of asArray<Naturalized>(st.ReferencedSeriesSequence)) {
      for (const r of asArray<Naturalized>(se.ReferencedSOPSequence)) seriesOf.set(String(r.ReferencedSOPInstanceUID), String(se.SeriesInstanceUID));
    }
  }
  const refs: KosReference[] = [];
  let description: string | null = null;
  for (const item of asArray<Naturalized>(ds.ContentSequence)) {
    if (item.ValueType === 'TEXT') description ??= typeof item.TextValue === 'string' ? item.TextValue : null;
    if (item.ValueType !== 'IMAGE') continue;
    for (const r of asArray<Naturalized>(item.ReferencedSOPSequence)) {
      const uid = String(r.ReferencedSOPInstanceUID ?? '');
      const series = seriesOf.get(uid);
      // An image the evidence does not place in a series cannot be found again; the document is wrong there.
      if (!uid || !series) continue;
      if (!refs.some((x) => x.sopInstanceUid === uid)) refs.push({ seriesInstanceUid: series, sopClassUid: String(r.ReferencedSOPClassUID ?? ''), sopInstanceUid: uid });
    }
  }
  const title = asArray<Naturalized>(ds.ConceptNameCodeSequence)[0];
  return {
    sopInstanceUid: String(ds.SOPInstanceUID),
    studyInstanceUid: String(ds.StudyInstanceUID),
    seriesInstanceUid: String(ds.SeriesInstanceUID),
    title: { code: String(title?.CodeValue ?? ''), meaning: String(title?.CodeMeaning ?? '') },
    description,
    references: refs,
  };
}
