/** PACS failures in the words a radiologist or a clinic administrator can act on. */
import type { PacsFailure } from '../../shared/api';
import { BridgeError } from '../bridge';

/** A short title per reason; the main process's message says what happened, its hint what to do. */
const TITLE: Record<PacsFailure['reason'], string> = {
  DNS_NOT_FOUND: 'Host name not found',
  CONNECTION_REFUSED: 'Connection refused',
  TIMED_OUT: 'No answer (timed out)',
  CONNECTION_LOST: 'Connection lost',
  TLS_UNTRUSTED: 'Certificate not trusted',
  TLS_HOSTNAME_MISMATCH: 'Certificate is for another host',
  TLS: 'Secure connection (TLS) failed',
  UNAUTHORIZED: 'Sign-in refused (401)',
  FORBIDDEN: 'Access refused (403)',
  NOT_DICOMWEB: 'Not a DICOMweb address',
  NOT_FOUND_ON_PACS: 'Not on the PACS any more',
  HTTP_ERROR: 'The PACS answered with an error',
  NOT_DICOM: 'Not a DICOM object',
  ASSOCIATION_REJECTED: 'Association rejected',
  ASSOCIATION_ABORTED: 'Association aborted',
  DIMSE_FAILURE: 'The PACS reported a failure',
  NOT_CONFIGURED: 'Not set up',
  INVALID: 'Check the settings',
  CANCELLED: 'Cancelled',
};

export interface PacsProblem {
  reason: string;
  title: string;
  message: string;
  hint: string | null;
}

export function pacsProblem(e: unknown): PacsProblem {
  if (e instanceof BridgeError) {
    const reason = (e.error as { reason?: string }).reason ?? e.error.code;
    return { reason, title: TITLE[reason as PacsFailure['reason']] ?? 'The request failed', message: e.error.message, hint: e.error.hint ?? null };
  }
  if (e && typeof e === 'object' && 'reason' in e && 'message' in e) {
    const f = e as PacsFailure;
    return { reason: f.reason, title: TITLE[f.reason] ?? 'The request failed', message: f.message, hint: f.hint ?? null };
  }
  return { reason: 'INTERNAL', title: 'The request failed', message: e instanceof Error ? e.message : String(e), hint: null };
}

export function ProblemBox({ problem, testId = 'pacs-error', onDismiss }: { problem: PacsProblem; testId?: string; onDismiss?: () => void }) {
  return (
    <div className="pacs-problem" role="alert" data-testid={testId} data-reason={problem.reason}>
      <div className="pacs-problem__head">
        <strong>{problem.title}</strong>
        {onDismiss && (
          <button type="button" className="btn btn--link" onClick={onDismiss} aria-label="Dismiss">
            ×
          </button>
        )}
      </div>
      <p>{problem.message}</p>
      {problem.hint && <p className="pacs-problem__hint">What to do: {problem.hint}</p>}
    </div>
  );
}
