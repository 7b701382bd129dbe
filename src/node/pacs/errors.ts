/**
 * One error type for everything the PACS code can report: a stable `reason` (what failed, for
 * scripts and tests), a plain message a clinician or an administrator can read, and what to do.
 * It is an AppError, so the bridge and the CLI show it like every other error.
 */
import { AppError, ErrorCode, type ApiError } from '../../shared/errors';

export const PacsReason = {
  /** The host name does not resolve. */
  DnsNotFound: 'DNS_NOT_FOUND',
  /** Nothing listens on that port (RST). */
  ConnectionRefused: 'CONNECTION_REFUSED',
  /** No answer within the time limit. */
  TimedOut: 'TIMED_OUT',
  /** The connection was cut half-way (reset, closed early). */
  ConnectionLost: 'CONNECTION_LOST',
  /** The server's certificate is not signed by a trusted (or the configured) authority. */
  TlsUntrusted: 'TLS_UNTRUSTED',
  /** The certificate is for another host name. */
  TlsHostnameMismatch: 'TLS_HOSTNAME_MISMATCH',
  /** Another TLS failure (expired certificate, protocol mismatch, …). */
  Tls: 'TLS',
  /** 401: no or wrong credentials. */
  Unauthorized: 'UNAUTHORIZED',
  /** 403: credentials accepted, access refused. */
  Forbidden: 'FORBIDDEN',
  /** 404 at the QIDO root, or a reply that is not DICOM JSON: the URL is not a DICOMweb root. */
  NotDicomWeb: 'NOT_DICOMWEB',
  /** 404 for a study / series / instance the server itself listed. */
  NotFoundOnPacs: 'NOT_FOUND_ON_PACS',
  /** Another HTTP error status. */
  HttpError: 'HTTP_ERROR',
  /** A multipart part (or a C-STORE) that is not a DICOM Part-10 object. */
  NotDicom: 'NOT_DICOM',
  /** The peer rejected the association (reason in the message). */
  AssociationRejected: 'ASSOCIATION_REJECTED',
  /** The peer aborted the association. */
  AssociationAborted: 'ASSOCIATION_ABORTED',
  /** The peer accepted the association, then aborted or ignored the operation (often: it does not know our AE title). */
  NotAnswered: 'NOT_ANSWERED',
  /** A DIMSE operation ended with a failure status. */
  DimseFailure: 'DIMSE_FAILURE',
  /** The connection has no DICOMweb / DIMSE part for this operation. */
  NotConfigured: 'NOT_CONFIGURED',
  /** Input the user gave is not acceptable (URL, AE title, port…). */
  Invalid: 'INVALID',
  Cancelled: 'CANCELLED',
  /** A chain record's storage URI names a store no connection is configured for (secondary access). */
  UnknownStore: 'UNKNOWN_STORE',
  /** A chain record's storage URI is not a PACS (a blob store: its files come as share packages). */
  NotAPacs: 'NOT_A_PACS',
} as const;
export type PacsReason = (typeof PacsReason)[keyof typeof PacsReason];

const codeOf: Record<PacsReason, ErrorCode> = {
  DNS_NOT_FOUND: ErrorCode.Unavailable,
  CONNECTION_REFUSED: ErrorCode.Unavailable,
  TIMED_OUT: ErrorCode.Unavailable,
  CONNECTION_LOST: ErrorCode.Unavailable,
  TLS_UNTRUSTED: ErrorCode.Unavailable,
  TLS_HOSTNAME_MISMATCH: ErrorCode.Unavailable,
  TLS: ErrorCode.Unavailable,
  UNAUTHORIZED: ErrorCode.Denied,
  FORBIDDEN: ErrorCode.Denied,
  NOT_DICOMWEB: ErrorCode.InvalidArgument,
  NOT_FOUND_ON_PACS: ErrorCode.NotFound,
  HTTP_ERROR: ErrorCode.Unavailable,
  NOT_DICOM: ErrorCode.NotDicom,
  ASSOCIATION_REJECTED: ErrorCode.Denied,
  ASSOCIATION_ABORTED: ErrorCode.Unavailable,
  NOT_ANSWERED: ErrorCode.Denied,
  DIMSE_FAILURE: ErrorCode.Unavailable,
  NOT_CONFIGURED: ErrorCode.InvalidArgument,
  INVALID: ErrorCode.InvalidArgument,
  CANCELLED: ErrorCode.Cancelled,
  UNKNOWN_STORE: ErrorCode.NotFound,
  NOT_A_PACS: ErrorCode.InvalidArgument,
};

export interface PacsApiError extends ApiError {
  reason: PacsReason;
}

export class PacsError extends AppError {
  constructor(
    readonly reason: PacsReason,
    message: string,
    hint?: string,
    /** Technical detail for the log (never shown as the message). */
    readonly detail?: string,
  ) {
    super(codeOf[reason], message, hint);
    this.name = 'PacsError';
  }
  override toJSON(): PacsApiError {
    return { ...super.toJSON(), reason: this.reason };
  }
}

/** Is this one of the failures after which no further request to the same server can succeed? */
export function isFatalForServer(e: PacsError): boolean {
  return (
    e.reason === PacsReason.DnsNotFound ||
    e.reason === PacsReason.ConnectionRefused ||
    e.reason === PacsReason.Unauthorized ||
    e.reason === PacsReason.Forbidden ||
    e.reason.startsWith('TLS') ||
    e.reason === PacsReason.AssociationRejected ||
    e.reason === PacsReason.NotAnswered ||
    e.reason === PacsReason.Cancelled
  );
}

/**
 * A Node socket / TLS error (by its `code`, or its message when a library kept only the message)
 * as a PacsError naming the host and port. `what` names the service ("the DICOMweb server").
 */
export function networkError(err: unknown, where: { host: string; port: number | string; what: string }): PacsError {
  const code = String((err as { code?: unknown })?.code ?? '');
  const msg = err instanceof Error ? err.message : String(err);
  const has = (c: string) => code === c || msg.includes(c);
  const at = `${where.host}:${where.port}`;
  if (has('ENOTFOUND') || has('EAI_AGAIN') || has('EAI_NONAME')) {
    return new PacsError(
      PacsReason.DnsNotFound,
      `The host name "${where.host}" of ${where.what} was not found.`,
      'Check the spelling of the host name, or use its IP address; ask IT whether the name is known on this network.',
      msg,
    );
  }
  if (has('ECONNREFUSED')) {
    return new PacsError(
      PacsReason.ConnectionRefused,
      `${cap(where.what)} at ${at} refused the connection: nothing is listening on that port.`,
      'Check the port number, and that the PACS service is running.',
      msg,
    );
  }
  if (has('ETIMEDOUT') || has('ESOCKETTIMEDOUT') || /timed? ?out/i.test(msg)) {
    return new PacsError(
      PacsReason.TimedOut,
      `${cap(where.what)} at ${at} did not answer in time.`,
      'Check that the host and port are right and that a firewall lets this workstation through; the server may also be overloaded.',
      msg,
    );
  }
  if (has('ERR_TLS_CERT_ALTNAME_INVALID') || /Hostname\/IP does not match/i.test(msg)) {
    return new PacsError(
      PacsReason.TlsHostnameMismatch,
      `The TLS certificate of ${where.what} is for another host name than "${where.host}".`,
      'Use the host name the certificate was issued for (ask the PACS administrator), not an IP address or an alias.',
      msg,
    );
  }
  if (
    has('SELF_SIGNED_CERT_IN_CHAIN') ||
    has('DEPTH_ZERO_SELF_SIGNED_CERT') ||
    has('UNABLE_TO_VERIFY_LEAF_SIGNATURE') ||
    has('UNABLE_TO_GET_ISSUER_CERT_LOCALLY') ||
    has('UNABLE_TO_GET_ISSUER_CERT') ||
    /self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer/i.test(msg)
  ) {
    return new PacsError(
      PacsReason.TlsUntrusted,
      `The TLS certificate of ${where.what} is not signed by an authority this workstation trusts.`,
      "Add the hospital's CA certificate (PEM) to this connection, after checking with the PACS administrator that it is theirs.",
      msg,
    );
  }
  if (has('CERT_HAS_EXPIRED') || has('EPROTO') || /SSL|TLS|certificate/i.test(msg)) {
    return new PacsError(PacsReason.Tls, `A secure (TLS) connection to ${where.what} could not be set up: ${msg}.`, 'Show this message to the PACS administrator.', msg);
  }
  if (has('ECONNRESET') || has('EPIPE') || /socket hang up|closed/i.test(msg)) {
    return new PacsError(
      PacsReason.ConnectionLost,
      `The connection to ${where.what} at ${at} was cut.`,
      'Try again; what was already received is kept and will not be fetched twice.',
      msg,
    );
  }
  return new PacsError(PacsReason.ConnectionLost, `${cap(where.what)} at ${at} could not be reached: ${msg}.`, 'Check the address and the network.', msg);
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Association-reject reasons (PS3.8 Table 9-21), by source: what it means and what to do. */
export function associationRejected(r: { result?: number; source?: number; reason?: number }, where: { calledAet: string; callingAet: string; host: string; port: number }): PacsError {
  const permanent = r.result !== 2;
  const src = r.source ?? 1;
  const reason = r.reason ?? 1;
  let why: string;
  let hint: string;
  if (src === 1) {
    // service user
    if (reason === 3) {
      why = `the PACS does not know our AE title "${where.callingAet}" (calling AE title not recognised)`;
      hint = `Ask the PACS administrator to add AE title "${where.callingAet}" with this workstation's address, or correct "our AE title" in the connection.`;
    } else if (reason === 7) {
      why = `the PACS is not "${where.calledAet}" (called AE title not recognised)`;
      hint = 'Correct the called AE title of the connection (ask the PACS administrator for it).';
    } else if (reason === 2) {
      why = 'the application context is not supported';
      hint = 'This peer does not speak DICOM as expected; check host and port.';
    } else {
      why = 'no reason was given';
      hint = `Check the AE titles ("${where.callingAet}" → "${where.calledAet}") with the PACS administrator.`;
    }
  } else if (src === 2) {
    why = 'protocol version not supported';
    hint = 'Show this message to the PACS administrator.';
  } else {
    why = reason === 1 ? 'temporary congestion' : reason === 2 ? 'a local limit was exceeded' : 'the presentation layer rejected it';
    hint = 'The PACS is busy; try again in a moment.';
  }
  return new PacsError(
    PacsReason.AssociationRejected,
    `The PACS at ${where.host}:${where.port} rejected the association${permanent ? '' : ' (for now)'}: ${why}.`,
    hint,
    JSON.stringify(r),
  );
}

/** HTTP status of a DICOMweb call as a PacsError. `level` says what was asked (root query vs a listed object). */
/**
 * A DIMSE operation the peer accepted the association for, then aborted (A-ABORT) or left without
 * any answer: Orthanc does this to a calling AE title missing from its DicomModalities.
 */
export function notAnswered(operation: string, callingAet: string): PacsError {
  return new PacsError(
    PacsReason.NotAnswered,
    `The PACS did not answer the ${operation}; it may not know this workstation's AE title ${callingAet}: ask its administrator to add it.`,
    `The PACS administrator adds AE title ${callingAet} with this workstation's address (and our Storage SCP port for C-MOVE); meanwhile WADO-RS may work.`,
  );
}

export function httpStatusError(status: number, url: string, level: 'probe' | 'root' | 'object', bodySnippet = ''): PacsError {
  if (status === 401) {
    return new PacsError(PacsReason.Unauthorized, `The DICOMweb server refused the credentials (401) for ${url}.`, 'Check the user name and password, or renew the token, in the connection settings.', bodySnippet);
  }
  if (status === 403) {
    return new PacsError(PacsReason.Forbidden, `The DICOMweb server accepted the credentials but refused access (403) to ${url}.`, 'Ask the PACS administrator to grant this account access to these studies.', bodySnippet);
  }
  // the connection test asks only `?limit=1`, which any DICOMweb root answers: 400 / 404 / 405 mean another kind of server
  if ((status === 404 && level === 'root') || (level === 'probe' && (status === 400 || status === 404 || status === 405))) {
    return new PacsError(
      PacsReason.NotDicomWeb,
      `${url} is not a DICOMweb endpoint (${status}).`,
      'Check that the URL ends at the DICOMweb root (for Orthanc: …/dicom-web; for dcm4chee: …/dcm4chee-arc/aets/<AET>/rs).',
      bodySnippet,
    );
  }
  if (status === 404) {
    return new PacsError(PacsReason.NotFoundOnPacs, `The PACS no longer has ${url} (404), although it listed it.`, 'It may have been deleted or moved on the PACS; search again.', bodySnippet);
  }
  return new PacsError(PacsReason.HttpError, `The DICOMweb server answered ${status} for ${url}.`, status >= 500 ? 'The server had an internal problem; try again later or tell its administrator.' : 'Show this message to the PACS administrator.', bodySnippet);
}

export function toPacsError(err: unknown): PacsError {
  if (err instanceof PacsError) return err;
  if (err instanceof AppError && err.code === ErrorCode.Cancelled) return new PacsError(PacsReason.Cancelled, err.message);
  return new PacsError(PacsReason.ConnectionLost, err instanceof Error ? err.message : String(err));
}
