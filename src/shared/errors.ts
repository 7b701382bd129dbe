/**
 * Error codes that cross the bridge. Every error a user can act on carries a `hint`
 * saying what to do; stack traces never leave the main process.
 */
export const ErrorCode = {
  InvalidArgument: 'INVALID_ARGUMENT',
  ForbiddenSender: 'FORBIDDEN_SENDER',
  UnknownChannel: 'UNKNOWN_CHANNEL',
  NotFound: 'NOT_FOUND',
  Cancelled: 'CANCELLED',
  LedgerUnreachable: 'LEDGER_UNREACHABLE',
  NotDicom: 'NOT_DICOM',
  Truncated: 'TRUNCATED',
  UnsupportedTransferSyntax: 'UNSUPPORTED_TRANSFER_SYNTAX',
  Malformed: 'MALFORMED',
  Unreadable: 'UNREADABLE',
  Conflict: 'CONFLICT',
  Denied: 'DENIED',
  /** A keystore passphrase did not match (nothing is locked out, nothing is changed). */
  WrongPassphrase: 'WRONG_PASSPHRASE',
  /** No identity is unlocked for an action that must be signed. */
  Locked: 'LOCKED',
  Unavailable: 'UNAVAILABLE',
  Internal: 'INTERNAL',
  WrongKey: 'WRONG_KEY', // a share package opened with a key it was not encrypted for
  Tampered: 'TAMPERED', // authenticated data (share package manifest / ciphertext) does not verify
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The serialisable shape of an error as the renderer and the CLI see it. */
export interface ApiError {
  code: ErrorCode;
  message: string;
  hint?: string;
}

/** An error meant for the user: code + plain-language message + what to do about it. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.hint = hint;
  }
  toJSON(): ApiError {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

/** Every bridge call resolves to one of these; it never rejects with a raw Error. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ApiError).code === 'string' &&
    typeof (value as ApiError).message === 'string'
  );
}
