import { z } from 'zod';
import { Path, Uid } from './primitives';

/**
 * The PACS domain (docs/pacs.md): connections (DICOMweb and / or DIMSE), connection test, study
 * search (paged), series lists, retrieve into the library (a task: progress events of kind
 * "pacs-retrieve", cancel with `task.cancel`), send (STOW-RS / C-STORE, a result per instance).
 *
 * Secrets go in (password / token), never come out: a connection as the renderer sees it carries
 * only `hasPassword` / `hasToken`.
 */

// ---------------------------------------------------------------- shared pieces

/** Why a PACS operation failed (src/node/pacs/errors.ts PacsReason), for the UI to pick its words and tests to assert. */
export const PacsFailureReason = z.enum([
  'DNS_NOT_FOUND',
  'CONNECTION_REFUSED',
  'TIMED_OUT',
  'CONNECTION_LOST',
  'TLS_UNTRUSTED',
  'TLS_HOSTNAME_MISMATCH',
  'TLS',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_DICOMWEB',
  'NOT_FOUND_ON_PACS',
  'HTTP_ERROR',
  'NOT_DICOM',
  'ASSOCIATION_REJECTED',
  'ASSOCIATION_ABORTED',
  'DIMSE_FAILURE',
  'NOT_CONFIGURED',
  'INVALID',
  'CANCELLED',
]);
export type PacsFailureReason = z.infer<typeof PacsFailureReason>;

/** A PACS failure as it crosses the bridge: the app's error shape plus the precise reason. */
export const PacsFailure = z.object({
  code: z.string(),
  reason: PacsFailureReason,
  message: z.string(),
  hint: z.string().optional(),
});
export type PacsFailure = z.infer<typeof PacsFailure>;

export const PacsAuth = z.enum(['none', 'basic', 'bearer']);
export type PacsAuth = z.infer<typeof PacsAuth>;

const AeTitle = z.string().trim().min(1).max(16);

/** A connection as the renderer sees it: no password, no token. */
export const PacsConnectionInfo = z.object({
  id: z.number().int(),
  name: z.string(),
  dicomweb: z
    .object({
      url: z.string(),
      auth: PacsAuth,
      username: z.string().nullable(),
      /** A password (basic) is stored, sealed. */
      hasPassword: z.boolean(),
      /** A token (bearer) is stored, sealed. */
      hasToken: z.boolean(),
      /** Subject of the extra CA certificate trusted for this server, when one is set. */
      caSubject: z.string().nullable(),
    })
    .nullable(),
  dimse: z.object({ host: z.string(), port: z.number().int(), calledAet: z.string(), callingAet: z.string() }).nullable(),
  timeoutMs: z.number().int(),
  updatedAt: z.string(),
});
export type PacsConnectionInfo = z.infer<typeof PacsConnectionInfo>;

/** What the settings form sends (add, update). */
export const PacsConnectionForm = z
  .object({
    name: z.string().trim().min(1).max(64),
    dicomweb: z
      .object({
        url: z.string().trim().min(1).max(2000),
        auth: PacsAuth,
        username: z.string().max(200).nullable().optional(),
        /**
         * Password (basic) or token (bearer). On update, leave it out to keep the stored one
         * (same authentication kind); it is never sent back.
         */
        secret: z.string().min(1).max(8192).optional(),
        /** A PEM file with the CA certificate(s) trusted for this server, read by the main process. */
        caPath: Path.nullable().optional(),
        /** On update without a new caPath: keep the stored CA (default) or drop it. */
        keepCa: z.boolean().optional(),
      })
      .strict()
      .nullable()
      .optional(),
    dimse: z
      .object({ host: z.string().trim().min(1).max(255), port: z.number().int().min(1).max(65535), calledAet: AeTitle, callingAet: AeTitle.optional() })
      .strict()
      .nullable()
      .optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
  })
  .strict();
export type PacsConnectionForm = z.infer<typeof PacsConnectionForm>;

const PartResult = z.union([
  z.object({ ok: z.literal(true), ms: z.number(), studiesSeen: z.number().int().optional() }),
  z.object({ ok: z.literal(false), ms: z.number(), error: PacsFailure }),
]);

export const PacsTestResult = z.object({
  connection: z.string(),
  /** QIDO-RS (limit 1); null when the connection has no DICOMweb part. */
  dicomweb: PartResult.nullable(),
  /** C-ECHO; null when the connection has no DIMSE part. */
  dimse: PartResult.nullable(),
  ok: z.boolean(),
});
export type PacsTestResult = z.infer<typeof PacsTestResult>;

export const PacsStudy = z.object({
  studyInstanceUid: z.string(),
  patientName: z.string(),
  patientId: z.string(),
  patientBirthDate: z.string().nullable(),
  /** YYYY-MM-DD */
  date: z.string().nullable(),
  time: z.string().nullable(),
  accession: z.string().nullable(),
  description: z.string().nullable(),
  modalities: z.array(z.string()),
  seriesCount: z.number().int().nullable(),
  instanceCount: z.number().int().nullable(),
});
export type PacsStudy = z.infer<typeof PacsStudy>;

export const PacsSeries = z.object({
  seriesInstanceUid: z.string(),
  modality: z.string().nullable(),
  number: z.number().int().nullable(),
  description: z.string().nullable(),
  instanceCount: z.number().int().nullable(),
});
export type PacsSeries = z.infer<typeof PacsSeries>;

const IsoDate = z.string().regex(/^\d{4}-?\d{2}-?\d{2}$/, 'a date as YYYY-MM-DD');
const Source = z.enum(['dicomweb', 'dimse']);

export const PacsStudyQuery = z
  .object({
    connectionId: z.number().int().positive(),
    /** `*` and `?` are wildcards, e.g. "DOE^*". */
    patientName: z.string().trim().max(200).optional(),
    patientId: z.string().trim().max(200).optional(),
    dateFrom: IsoDate.optional(),
    dateTo: IsoDate.optional(),
    modality: z.string().trim().max(16).optional(),
    accession: z.string().trim().max(64).optional(),
    studyInstanceUid: Uid.optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    offset: z.number().int().min(0).optional(),
    /** DICOMweb when the connection has it, else DIMSE (C-FIND). */
    source: Source.optional(),
  })
  .strict();
export type PacsStudyQuery = z.infer<typeof PacsStudyQuery>;

export const PacsVia = z.enum(['wado-rs', 'c-get', 'c-move']);
export type PacsVia = z.infer<typeof PacsVia>;

export const PacsRetrieveReport = z.object({
  taskId: z.string(),
  connection: z.string(),
  via: PacsVia,
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string().nullable(),
  listed: z.number().int(),
  alreadyCached: z.number().int(),
  received: z.number().int(),
  failed: z.number().int(),
  imported: z.number().int(),
  /** Verification of the retrieved instances against the ledger: state → count (empty without a ledger). */
  verification: z.record(z.string(), z.number().int()),
  /** Instances that failed or are not verified, at most 50, for the report. */
  problems: z.array(
    z.object({ sopInstanceUid: z.string(), arrival: z.enum(['cached-before', 'received', 'failed']), verification: z.string().nullable(), differs: z.array(z.string()), message: z.string().nullable(), reason: z.string().optional() }),
  ),
  /** Instances the library would not index (e.g. the same SOP Instance UID indexed from another file). */
  notIndexed: z.array(z.object({ sopInstanceUid: z.string(), message: z.string() })),
  bytes: z.number().int(),
  seconds: z.number(),
  imagesPerSecond: z.number(),
  mbPerSecond: z.number(),
  cancelled: z.boolean(),
  /** The failure that ended the retrieve early. */
  error: PacsFailure.nullable(),
  /** The study / series in the local library after the retrieve (null when nothing was indexed). */
  studyId: z.number().int().nullable(),
  seriesId: z.number().int().nullable(),
  /** The library source of this connection's copies ("pacs:<connection>"): open the series with it to see what the PACS returned. */
  source: z.string(),
  /** How many retrieved images differ from the library's instance of the same SOP Instance UID (kept as PACS copies, shown and verified on their own). */
  copies: z.number().int(),
});
export type PacsRetrieveReport = z.infer<typeof PacsRetrieveReport>;

/**
 * The study's newest anchor on this workstation and the store its record names (storage URI), with
 * the configured connection that URI resolves to (null: none here, `storeProblem` says why).
 */
export const PacsSendAnchor = z.object({
  root: z.string(),
  storageUri: z.string(),
  /** The connection the record's storage URI resolves to on this workstation, or null. */
  connectionId: z.number().int().nullable(),
  storeProblem: z.string().nullable(),
  /** Recorded on the chain (confirmed), or still queued / pending. */
  delivery: z.enum(['confirmed', 'pending']),
});
export type PacsSendAnchor = z.infer<typeof PacsSendAnchor>;

export const PacsSendPlan = z.object({
  studyId: z.number().int(),
  studyInstanceUid: z.string(),
  instances: z.number().int(),
  /** null: the study is not anchored on this workstation. */
  anchor: PacsSendAnchor.nullable(),
  /** The storage URI new anchors record (the ledger setting), null: this institution's blob store. */
  newAnchorStore: z.string().nullable(),
  /** The storage URI each connection would be recorded as (connection id → URI). */
  storeOf: z.record(z.string(), z.string()),
});
export type PacsSendPlan = z.infer<typeof PacsSendPlan>;

export const PacsSendReport = z.object({
  taskId: z.string(),
  connection: z.string(),
  via: z.enum(['stow-rs', 'c-store']),
  sent: z.number().int(),
  failed: z.number().int(),
  results: z.array(z.object({ sopInstanceUid: z.string().nullable(), ok: z.boolean(), message: z.string() })),
  bytes: z.number().int(),
  seconds: z.number(),
  cancelled: z.boolean(),
  error: PacsFailure.nullable(),
  /** The study's anchor, and whether its record names the store of the connection sent to. */
  anchor: PacsSendAnchor.nullable(),
  anchorNamesThisPacs: z.boolean(),
});
export type PacsSendReport = z.infer<typeof PacsSendReport>;

// ---------------------------------------------------------------- channels

const ConnId = z.number().int().positive();

export const pacsChannels = {
  'pacs.connections.list': { request: z.object({}).strict(), response: z.object({ connections: z.array(PacsConnectionInfo) }) },
  'pacs.connections.add': { request: PacsConnectionForm, response: PacsConnectionInfo },
  'pacs.connections.update': { request: PacsConnectionForm.extend({ id: ConnId }).strict(), response: PacsConnectionInfo },
  'pacs.connections.remove': { request: z.object({ id: ConnId }).strict(), response: z.object({ removed: z.boolean() }) },
  /** QIDO-RS and / or C-ECHO; a failed test is an answer (ok false, reason per part), not an error. */
  'pacs.connections.test': { request: z.object({ id: ConnId }).strict(), response: PacsTestResult },
  /** One page of studies; `more` says whether a next page exists. */
  'pacs.search': {
    request: PacsStudyQuery,
    /** `capped` (C-FIND, which has no paging): only the first N matches are read; the search had more — narrow it. */
    response: z.object({ studies: z.array(PacsStudy), offset: z.number().int(), limit: z.number().int(), more: z.boolean(), capped: z.number().int().nullable() }),
  },
  'pacs.series': {
    request: z.object({ connectionId: ConnId, studyInstanceUid: Uid, source: Source.optional() }).strict(),
    response: z.object({ series: z.array(PacsSeries) }),
  },
  /**
   * Retrieve a study or one series into the library, verifying it against the ledger while it
   * arrives. Progress events of kind "pacs-retrieve" (done / total images; label "x images/s,
   * y MB/s"); a `pacs-retrieve` event as soon as the first image is indexed; resolves at the end.
   */
  'pacs.retrieve': {
    request: z.object({ connectionId: ConnId, studyInstanceUid: Uid, seriesInstanceUid: Uid.optional(), via: PacsVia.optional(), refetch: z.boolean().optional() }).strict(),
    response: PacsRetrieveReport,
  },
  /**
   * Send a study (or one series) of the local library (STOW-RS or C-STORE); progress events of kind
   * "pacs-send" and a `pacs-send` event per instance result; cancel with `task.cancel`.
   */
  'pacs.send': {
    request: z.object({ connectionId: ConnId, studyId: z.number().int().positive(), seriesId: z.number().int().positive().optional(), via: z.enum(['stow-rs', 'c-store']).optional() }).strict(),
    response: PacsSendReport,
  },
  /** What "Send to PACS" needs to offer: the instance count, the anchor and the store its record names. */
  'pacs.sendPlan': {
    request: z.object({ studyId: z.number().int().positive(), seriesId: z.number().int().positive().optional() }).strict(),
    response: PacsSendPlan,
  },
  /** The store new anchors record (ledger setting "storage-uri"): a connection, or null for this institution's blob store. */
  'pacs.anchorStore.set': {
    request: z.object({ connectionId: ConnId.nullable() }).strict(),
    response: z.object({ storageUri: z.string().nullable() }),
  },
} as const satisfies Record<string, { request: z.ZodType; response: z.ZodType }>;

/** Pushed while a retrieve runs: the first image (of the asked series) is in the library and can be shown. */
export const PacsRetrieveEvent = z.object({
  type: z.literal('pacs-retrieve'),
  taskId: z.string(),
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string().nullable(),
  studyId: z.number().int(),
  seriesId: z.number().int(),
  /** The library source of the retrieved copies ("pacs:<connection>"). */
  source: z.string(),
});
export type PacsRetrieveEvent = z.infer<typeof PacsRetrieveEvent>;

/** Pushed while a send runs: one instance's result (stored, or failed with the reason in DICOM terms). */
export const PacsSendEvent = z.object({
  type: z.literal('pacs-send'),
  taskId: z.string(),
  index: z.number().int(),
  total: z.number().int(),
  sopInstanceUid: z.string().nullable(),
  ok: z.boolean(),
  message: z.string(),
});
export type PacsSendEvent = z.infer<typeof PacsSendEvent>;
