import { z } from 'zod';
import { Bytes32, Hex64, Uid, Path } from './primitives';

// Channels of the fingerprint domain (request/response schemas). Owned by the fingerprint work; registered in ./index.ts.
// The digests are defined in docs/fingerprint-spec.md (spec version 1).

/** How `pixel` was computed: decoded/native pixels (transfer-syntax independent) or the stored lossy fragments. */
export const PixelMode = z.enum(['native', 'decoded', 'fragments', 'none']);

export const InstanceFingerprint = z.object({
  path: z.string(),
  specVersion: z.number().int(),
  /** SHA-256 of the whole file as read. */
  file: Hex64,
  /** SHA-256 of the normalised decoded pixels (or of the compressed fragments for lossy syntaxes). */
  pixel: Hex64,
  /** SHA-256 of the canonical metadata encoding (every element but Pixel Data, file meta, group lengths). */
  meta: Hex64,
  pixelMode: PixelMode,
  transferSyntaxUid: z.string(),
  sopInstanceUid: z.string().nullable(),
  sopClassUid: z.string().nullable(),
  seriesInstanceUid: z.string().nullable(),
  studyInstanceUid: z.string().nullable(),
  /** SHA-256 of the UTF-8 SOP Instance UID, the third field of the Merkle leaf. */
  uidHash: Hex64.nullable(),
  /** StandardMerkleTree leaf hash of [pixel, meta, uidHash]. */
  leaf: Bytes32.nullable(),
  size: z.number().int().nonnegative(),
  frames: z.number().int().nonnegative(),
  /** True when reused from the store because the file had not changed. */
  cached: z.boolean(),
  computedAt: z.string(),
});
export type InstanceFingerprint = z.infer<typeof InstanceFingerprint>;

/** A file that could not be fingerprinted; the rest of the batch goes on. */
export const FingerprintFileError = z.object({
  path: z.string(),
  code: z.string(),
  /** The import report's finer reason (NOT_DICOM, COMPRESSED_ARCHIVE, TRUNCATED, MALFORMED, …) when known. */
  reject: z.string().optional(),
  message: z.string(),
  hint: z.string().optional(),
});
export type FingerprintFileError = z.infer<typeof FingerprintFileError>;

export const InstanceProof = z.object({
  sopInstanceUid: z.string(),
  leaf: Bytes32,
  /** The leaf's values [pixel, meta, uidHash] as bytes32, as `verifyInstance` takes them. */
  value: z.tuple([Bytes32, Bytes32, Bytes32]),
  proof: z.array(Bytes32),
});
export type InstanceProof = z.infer<typeof InstanceProof>;

export const StudyFingerprint = z.object({
  studyInstanceUid: z.string(),
  specVersion: z.number().int(),
  root: Bytes32,
  leafCount: z.number().int().nonnegative(),
  /** SOP Instance UIDs seen with more than one distinct (pixel, meta): different files claim the same instance. */
  conflicts: z.array(z.string()),
  computedAt: z.string(),
  proofs: z.array(InstanceProof).optional(),
});
export type StudyFingerprint = z.infer<typeof StudyFingerprint>;

export const FingerprintRun = z.object({
  instances: z.array(InstanceFingerprint),
  errors: z.array(FingerprintFileError),
  studies: z.array(StudyFingerprint),
  cancelled: z.boolean(),
});
export type FingerprintRun = z.infer<typeof FingerprintRun>;

export const FingerprintComparison = z.object({
  pixel: z.boolean(),
  meta: z.boolean(),
  file: z.boolean(),
  sameSopInstanceUid: z.boolean(),
  verdict: z.enum([
    'identical',
    'same-image-different-encoding',
    'same-pixels-different-metadata',
    'same-metadata-different-pixels',
    'different',
    'pixels-not-comparable',
  ]),
  /** The meaning in words, e.g. "same pixels, different metadata: …". */
  meaning: z.string(),
});
export type FingerprintComparison = z.infer<typeof FingerprintComparison>;

export const fingerprintChannels = {
  /** Fingerprint files and folders (recursively) as a cancellable task; studies touched get a new Merkle tree. */
  'fingerprint.files': {
    request: z.object({ paths: z.array(Path).min(1).max(100_000), force: z.boolean().optional() }).strict(),
    response: FingerprintRun,
  },
  /** Re-check a study's known files (only changed ones are read again) and return its root, proofs and instances. */
  'fingerprint.study': {
    request: z.object({ studyInstanceUid: Uid }).strict(),
    response: z.object({ study: StudyFingerprint.nullable(), instances: z.array(InstanceFingerprint), errors: z.array(FingerprintFileError) }),
  },
  /** Stored fingerprints of a file and/or a study (nothing is read). */
  'fingerprint.get': {
    request: z
      .object({ path: Path.optional(), studyInstanceUid: Uid.optional(), proofs: z.boolean().optional() })
      .strict()
      .refine((r) => r.path !== undefined || r.studyInstanceUid !== undefined, { message: 'give a path or a studyInstanceUid' }),
    response: z.object({ instance: InstanceFingerprint.nullable(), error: FingerprintFileError.nullable(), study: StudyFingerprint.nullable() }),
  },
  /** Compare two files: which digests agree, and what that means in words. */
  'fingerprint.compare': {
    request: z.object({ a: Path, b: Path }).strict(),
    response: z.object({
      a: InstanceFingerprint.nullable(),
      b: InstanceFingerprint.nullable(),
      errors: z.array(FingerprintFileError),
      comparison: FingerprintComparison.nullable(),
    }),
  },
} as const satisfies Record<string, { request: z.ZodType; response: z.ZodType }>;
