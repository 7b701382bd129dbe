import { z } from 'zod';

/**
 * The library domain: import, the Patient / Study / Series / Instance index, the tag inspector,
 * and measurements stored per instance. Binary data is served by URL, never through the bridge:
 *   - `/dicom/<instanceId>`     → the instance's Part-10 bytes (application/dicom), indexed instances only
 *   - `/thumbnail/<seriesId>.png` → a PNG thumbnail of the series' middle instance (cached on disk)
 * Ids are the index's integer row ids (stable while the item stays in the index).
 */

// ---------------------------------------------------------------- shared pieces

export const SortKey = z.enum(['name', 'id', 'date', 'modality']);
export type SortKey = z.infer<typeof SortKey>;
export const SortOrder = z.enum(['asc', 'desc']);
export type SortOrder = z.infer<typeof SortOrder>;

/** Why a file was not indexed (the error codes of src/shared/errors.ts plus import-specific ones). */
export const RejectCode = z.enum([
  'NOT_DICOM', // not a DICOM file at all (text, PNG, random bytes)
  'COMPRESSED_ARCHIVE', // a zip / gzip archive: unzip it first
  'TRUNCATED', // the file ends in the middle of an element
  'UNSUPPORTED_TRANSFER_SYNTAX', // a transfer syntax this app cannot read (e.g. unknown UID)
  'MALFORMED', // bad VR, impossible lengths, …
  'MISSING_UIDS', // parsable but without SOP Instance / Series / Study Instance UID
  'DUPLICATE_SOP_INSTANCE_UID', // same SOP Instance UID already indexed from different content
  'UNREADABLE', // I/O error (permissions, vanished file)
  'TOO_LARGE', // above the import size cap
  'DICOMDIR_REFERENCE_MISSING', // a DICOMDIR points at a file that is not there
]);
export type RejectCode = z.infer<typeof RejectCode>;

export const RejectedFile = z.object({
  path: z.string(),
  code: RejectCode,
  /** One plain sentence, e.g. "The file ends in the middle of element (7FE0,0010) (truncated)." */
  reason: z.string(),
});
export type RejectedFile = z.infer<typeof RejectedFile>;

export const ImportReport = z.object({
  taskId: z.string(),
  /** True when the user cancelled; the counts say how far it got (what was indexed stays). */
  cancelled: z.boolean(),
  /** Files looked at (after expanding folders and DICOMDIRs; DICOMDIR files themselves not counted). */
  scanned: z.number().int().nonnegative(),
  /** Newly indexed instances. */
  added: z.number().int().nonnegative(),
  /** Known path whose content changed: re-indexed. */
  updated: z.number().int().nonnegative(),
  /** Already indexed with the same content: nothing to do. */
  unchanged: z.number().int().nonnegative(),
  rejected: z.array(RejectedFile),
  /** DICOMDIR files that were read (their referenced files are in `scanned`). */
  dicomdirs: z.array(z.string()),
  /** Files whose SOP Instance UID is already indexed from another path with identical content (counted in `unchanged`). */
  identicalCopies: z.array(z.object({ path: z.string(), of: z.string() })),
  /** Paths that were re-indexed because their content changed. */
  updatedPaths: z.array(z.string()),
  /** Instance ids indexed or updated by this import (not `unchanged` ones). */
  instanceIds: z.array(z.number().int()),
  /** Studies touched by this import (ids), so the browser can open the first. */
  studyIds: z.array(z.number().int()),
  seconds: z.number().nonnegative(),
  /** Files per second over the whole import. */
  rate: z.number().nonnegative(),
});
export type ImportReport = z.infer<typeof ImportReport>;

export const PatientSummary = z.object({
  id: z.number().int(),
  patientId: z.string(), // (0010,0020); '' when absent
  name: z.string(), // (0010,0010) as stored, e.g. "DOE^JANE"; '' when absent
  birthDate: z.string().nullable(), // YYYYMMDD
  sex: z.string().nullable(),
  studyCount: z.number().int(),
  seriesCount: z.number().int(),
  instanceCount: z.number().int(),
});
export type PatientSummary = z.infer<typeof PatientSummary>;

export const StudySummary = z.object({
  id: z.number().int(),
  patient: z.object({ id: z.number().int(), patientId: z.string(), name: z.string(), birthDate: z.string().nullable(), sex: z.string().nullable() }),
  studyInstanceUid: z.string(),
  studyId: z.string().nullable(), // (0020,0010)
  date: z.string().nullable(), // YYYYMMDD
  time: z.string().nullable(),
  description: z.string().nullable(),
  accessionNumber: z.string().nullable(),
  referringPhysician: z.string().nullable(),
  /** Distinct modalities of its series, e.g. ["CT","SR"]. */
  modalities: z.array(z.string()),
  seriesCount: z.number().int(),
  instanceCount: z.number().int(),
  /** True when the study is marked synthetic (generated sample data). */
  synthetic: z.boolean(),
});
export type StudySummary = z.infer<typeof StudySummary>;

export const SeriesSummary = z.object({
  id: z.number().int(),
  studyId: z.number().int(),
  seriesInstanceUid: z.string(),
  modality: z.string().nullable(),
  number: z.number().int().nullable(),
  description: z.string().nullable(),
  bodyPart: z.string().nullable(),
  date: z.string().nullable(),
  instanceCount: z.number().int(),
  /** Sum of frames over its instances. */
  frameCount: z.number().int(),
  /** `/thumbnail/<id>.png` (PNG; may be a neutral placeholder when the pixels cannot be decoded). */
  thumbnailUrl: z.string(),
  /**
   * Copies of its instances that a PACS returned with other bytes than the library's (one entry per
   * source, e.g. "pacs:Orthanc"): open them with `library.instances { seriesId, source }`. Empty
   * when every retrieved copy is byte-identical to the library's instance.
   */
  copies: z.array(z.object({ source: z.string(), instanceCount: z.number().int() })),
});
export type SeriesSummary = z.infer<typeof SeriesSummary>;

export const Geometry = z.object({
  imagePositionPatient: z.array(z.number()).length(3).nullable(),
  imageOrientationPatient: z.array(z.number()).length(6).nullable(),
  /** [row spacing, column spacing] in mm (PixelSpacing order). */
  pixelSpacing: z.array(z.number()).length(2).nullable(),
  sliceThickness: z.number().nullable(),
  sliceLocation: z.number().nullable(),
});
export type Geometry = z.infer<typeof Geometry>;

export const InstanceSummary = z.object({
  id: z.number().int(),
  seriesId: z.number().int(),
  sopInstanceUid: z.string(),
  sopClassUid: z.string().nullable(),
  number: z.number().int().nullable(), // (0020,0013)
  frames: z.number().int(), // (0028,0008), 1 when absent
  rows: z.number().int().nullable(),
  columns: z.number().int().nullable(),
  bitsAllocated: z.number().int().nullable(),
  photometric: z.string().nullable(),
  geometry: Geometry,
  transferSyntaxUid: z.string(),
  /** Human name of the transfer syntax, e.g. "JPEG Lossless, Non-Hierarchical, First-Order Prediction". */
  transferSyntaxName: z.string(),
  windowCenter: z.number().nullable(),
  windowWidth: z.number().nullable(),
  rescaleSlope: z.number().nullable(),
  rescaleIntercept: z.number().nullable(),
  /** True when the file has Pixel Data (SR, RT plans, … have none). */
  hasPixels: z.boolean(),
  filePath: z.string(),
  fileSize: z.number().int(),
  /** What the viewer loads: `/dicom/<id>` (with the wadouri: prefix for Cornerstone). */
  url: z.string(),
  /** Where its file came from: "local", "pacs:<connection>", "scp:<calling AE title>". */
  source: z.string(),
  /** Null for the library's instance of this SOP Instance UID; for a PACS copy with other bytes, that instance's id. */
  copyOf: z.number().int().nullable(),
});
export type InstanceSummary = z.infer<typeof InstanceSummary>;

/** One element of the tag tree (the tag inspector). */
export interface TagNode {
  /** "(0010,0010)" */
  tag: string;
  /** Keyword from the dictionary, e.g. "PatientName"; "" when private/unknown. */
  name: string;
  vr: string;
  /** Byte length of the value as stored (-1 for undefined length). */
  length: number;
  /** Printable preview, at most ~256 characters; binary values as "<n bytes>". */
  value: string;
  /** For SQ: the items, each a list of nodes. */
  items?: TagNode[][];
}
export const TagNode: z.ZodType<TagNode> = z.lazy(() =>
  z.object({
    tag: z.string(),
    name: z.string(),
    vr: z.string(),
    length: z.number().int(),
    value: z.string(),
    items: z.array(z.array(TagNode)).optional(),
  }),
);

export const MeasurementKind = z.enum(['length', 'angle', 'rectangleRoi', 'ellipticalRoi', 'probe', 'annotation']);
export type MeasurementKind = z.infer<typeof MeasurementKind>;

export const Measurement = z.object({
  id: z.number().int(),
  instanceId: z.number().int(),
  /** Frame within a multi-frame instance (0-based). */
  frame: z.number().int().nonnegative(),
  kind: MeasurementKind,
  /** The tool's own state (cornerstone-tools handles etc.), opaque to the main process. */
  data: z.record(z.string(), z.unknown()),
  /** Computed statistics as shown, e.g. { mean, sd, min, max, area, length, angle, unit }. */
  stats: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
  label: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Measurement = z.infer<typeof Measurement>;

// ---------------------------------------------------------------- channels

const Id = z.number().int().positive();
const SearchText = z.string().max(200).optional();

export const libraryChannels = {
  /**
   * Import files, folders (recursively) and DICOMDIRs. Runs as a task: progress events of kind
   * "import" (counts + rate) arrive while it runs; `task.cancel` with their taskId stops it.
   * Resolves when finished (or cancelled) with the full report.
   */
  'library.import': {
    request: z.object({ paths: z.array(z.string().min(1).max(4096)).min(1).max(10_000) }).strict(),
    response: ImportReport,
  },
  'library.patients': {
    request: z
      .object({ search: SearchText, sort: SortKey.optional(), order: SortOrder.optional(), limit: z.number().int().min(1).max(5000).optional() })
      .strict(),
    response: z.object({ patients: z.array(PatientSummary), total: z.number().int() }),
  },
  /** Studies, optionally of one patient; search matches name, patient ID, description, accession, modality. */
  'library.studies': {
    request: z
      .object({
        patientId: Id.optional(),
        search: SearchText,
        sort: SortKey.optional(), // name = patient name, id = patient ID, date = study date, modality
        order: SortOrder.optional(),
        limit: z.number().int().min(1).max(5000).optional(),
      })
      .strict(),
    response: z.object({ studies: z.array(StudySummary), total: z.number().int() }),
  },
  'library.series': {
    request: z.object({ studyId: Id }).strict(),
    response: z.object({ study: StudySummary, series: z.array(SeriesSummary) }),
  },
  /** Instances of a series, in viewing order (instance number, then position along the normal). */
  'library.instances': {
    /** With `source` (e.g. "pacs:Orthanc"): the series as that source returned it (its copies in place of the library's instances). */
    request: z.object({ seriesId: Id, source: z.string().min(1).max(200).optional() }).strict(),
    response: z.object({ series: SeriesSummary, instances: z.array(InstanceSummary) }),
  },
  /**
   * What a viewport's stack needs of a series, in the order of `library.instances`: instance ids, images per
   * instance (frames; 1 for an instance without Pixel Data) and which are a source's copies. The first image
   * of a long series waits for this, not for the full list (≈ 720 bytes an instance).
   */
  'library.stack': {
    request: z.object({ seriesId: Id, source: z.string().min(1).max(200).optional() }).strict(),
    response: z.object({
      series: SeriesSummary,
      ids: z.array(z.number().int()),
      frames: z.array(z.number().int()),
      copies: z.array(z.object({ id: z.number().int(), source: z.string() })),
    }),
  },
  /** The full tag tree of one instance (pixel data shown as a length only). */
  'library.tags': {
    request: z.object({ instanceId: Id }).strict(),
    response: z.object({ instanceId: z.number().int(), transferSyntaxUid: z.string(), meta: z.array(TagNode), dataset: z.array(TagNode) }),
  },
  /** Remove a patient, study or series from the index. Files on disk are never touched. */
  'library.remove': {
    request: z
      .object({ patientId: Id.optional(), studyId: Id.optional(), seriesId: Id.optional() })
      .strict()
      .refine((r) => [r.patientId, r.studyId, r.seriesId].filter((x) => x !== undefined).length === 1, {
        message: 'give exactly one of patientId, studyId, seriesId',
      }),
    response: z.object({ removedStudies: z.number().int(), removedSeries: z.number().int(), removedInstances: z.number().int() }),
  },
  'measurements.list': {
    request: z.object({ instanceId: Id.optional(), seriesId: Id.optional() }).strict(),
    response: z.object({ measurements: z.array(Measurement) }),
  },
  /** Create (no id) or update (with id) a measurement. */
  'measurements.save': {
    request: z
      .object({
        id: Id.optional(),
        instanceId: Id,
        frame: z.number().int().nonnegative().max(100_000).optional(),
        kind: MeasurementKind,
        data: z.record(z.string(), z.unknown()),
        stats: z.record(z.string(), z.union([z.number(), z.string(), z.null()])).optional(),
        label: z.string().max(500).nullable().optional(),
      })
      .strict(),
    response: Measurement,
  },
  'measurements.delete': {
    request: z.object({ id: Id }).strict(),
    response: z.object({ deleted: z.boolean() }),
  },
} as const satisfies Record<string, { request: z.ZodType; response: z.ZodType }>;

/** Pushed after anything changed the index (import finished, remove), so open lists refresh. */
export const LibraryChangedEvent = z.object({
  type: z.literal('library-changed'),
  reason: z.enum(['import', 'remove']),
  studyIds: z.array(z.number().int()),
});
export type LibraryChangedEvent = z.infer<typeof LibraryChangedEvent>;
