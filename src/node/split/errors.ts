/**
 * Split-storage failures, in DICOM terms: which instance (SOP Instance UID), which part, what failed.
 * Each carries the bridge error code and a finer `failure` the CLI and the tests read.
 */
import { AppError, type ErrorCode } from '../../shared/errors';

export type SplitFailure =
  /** The file cannot be read as DICOM: the same DicomFileError the import reports is rethrown instead. */
  | 'NO_SOP_INSTANCE_UID'
  /** The Pixel Data element's header is not where the parser says its value is (a damaged header). */
  | 'PIXEL_DATA_UNLOCATED'
  | 'ALREADY_SPLIT_DIFFERENTLY'
  | 'NOT_SPLIT'
  | 'WRONG_KEY'
  | 'BLOB_MISSING'
  | 'BLOB_TRUNCATED'
  | 'BLOB_SWAPPED'
  | 'BLOB_TAMPERED'
  | 'METADATA_MISSING'
  | 'METADATA_TAMPERED'
  | 'METADATA_MISMATCH'
  | 'REBUILD_MISMATCH'
  | 'SECRET_INVALID'
  | 'STORE_UNAVAILABLE'
  /** A received share names a pixel store this workstation has not been told about. */
  | 'STORE_UNKNOWN';

export class SplitError extends AppError {
  constructor(
    readonly failure: SplitFailure,
    code: ErrorCode,
    message: string,
    readonly sopInstanceUid: string | null = null,
    hint?: string,
  ) {
    super(code, message, hint);
    this.name = 'SplitError';
  }
  override toJSON() {
    return { ...super.toJSON(), failure: this.failure, ...(this.sopInstanceUid ? { sopInstanceUid: this.sopInstanceUid } : {}) };
  }
}

export const instanceLabel = (sop: string | null) => (sop ? `instance ${sop}` : 'the instance');
