/**
 * Revoking a consent, for the patient: from the trust panel (the patient's identity is on this
 * workstation: the patient types their passphrase and signs the revocation; or the patient is the
 * signed-in identity) and from the patient console. What revoking does is said before it is done.
 */
import { useEffect, useState } from 'react';
import type { ConsentView, RevokeConsentResult } from '../../shared/api';
import { call } from '../bridge';
import { errorText } from '../errors';
import { partyName, shortHash } from '../format';
import { useSession } from '../identity/session';
import { dateInWords } from '../../shared/words';
import { detectWallet, signConsentInWallet, type Eip1193 } from '../identity/wallet';

interface Props {
  consent: ConsentView;
  /** The patient account of the consent. */
  patient: string;
  /** What the consent covers, in words ("CT chest of 22 November 2026" or "all their studies"). */
  what: string;
  studyInstanceUid?: string;
  onDone(r: RevokeConsentResult): void;
}

export function RevokeConsentButton({ consent, patient, what, studyInstanceUid, onDone }: Props) {
  const s = useSession();
  const [open, setOpen] = useState(false);
  const [pass, setPass] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [here, setHere] = useState<boolean | null>(null);
  const isPatient = s.current?.address.toLowerCase() === patient.toLowerCase();
  const [wallet, setWallet] = useState<Eip1193 | null>(null);
  useEffect(() => {
    let alive = true;
    if (open && !isPatient) void detectWallet().then((p) => alive && setWallet(p));
    return () => {
      alive = false;
    };
  }, [open, isPatient]);

  /** The patient signs the revocation in the browser wallet; the main process checks the signer, then submits. */
  const revokeInWallet = async () => {
    if (!wallet) return;
    setBusy(true);
    setError(null);
    try {
      const r = await signConsentInWallet(wallet, { kind: 'revocation', recipient: consent.institution.address, patient, study: consent.study, ...(studyInstanceUid ? { studyInstanceUid } : {}) });
      setOpen(false);
      onDone({ patient: r.patient, institution: r.institution, study: r.study, scope: consent.scope, txHash: r.txHash, block: r.block, submittedBy: r.submittedBy, bySignature: true });
    } catch (e) {
      const t = errorText(e);
      setError(`${t.message}${t.hint ? ` ${t.hint}` : ''}`);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (!open || isPatient) return;
    call('identity.list', {}).then(
      (r) => setHere(r.identities.some((i) => i.address.toLowerCase() === patient.toLowerCase())),
      () => setHere(false),
    );
  }, [open, isPatient, patient]);

  if (consent.state !== 'active') return null;
  const inst = partyName(consent.institution);
  const revoke = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await call('share.revokeConsent', {
        patient,
        institution: consent.institution.address,
        study: consent.study,
        ...(isPatient ? {} : { passphrase: pass }),
        ...(studyInstanceUid ? { studyInstanceUid } : {}),
      });
      setPass('');
      setOpen(false);
      onDone(r);
    } catch (e) {
      const t = errorText(e);
      setError(`${t.message}${t.hint ? ` ${t.hint}` : ''}`);
    } finally {
      setBusy(false);
    }
  };

  if (!open) {
    return (
      <button type="button" className="btn btn--small" onClick={() => setOpen(true)} data-testid="revoke-consent" aria-label={`Revoke the consent for ${inst}`}>
        Revoke…
      </button>
    );
  }
  return (
    <>
      <button type="button" className="btn btn--small" disabled aria-hidden="true">
        Revoke…
      </button>
      <div className="modal" role="dialog" aria-modal="true" aria-label={`Revoke the consent for ${inst}`} data-testid="revoke-step">
        <div className="modal__card trevoke">
          <header className="modal__head">
            <h2>Revoke consent</h2>
            <button type="button" className="btn btn--small" aria-label="Close" onClick={() => (setOpen(false), setError(null))} disabled={busy}>
              ✕
            </button>
          </header>
          <p className="modal__note" data-testid="revoke-text">
            The patient withdraws the consent for <strong>{inst}</strong> to receive <strong>{what}</strong> (granted until {dateInWords(consent.expiresAt) ?? 'its expiry'}).
            From now on every new share to {inst} and every access by it under this consent is refused, and the revocation is recorded on the ledger. Copies it has already
            received are not taken back.
          </p>
          {!isPatient && here === false && (
            <p className="modal__note">
              The patient&apos;s identity is not on this workstation: the patient revokes the consent from their own app (account <span className="mono">{patient}</span>).
            </p>
          )}
          {!isPatient && here && (
            <label className="field">
              <span>Patient&apos;s passphrase (the patient types it; their key signs the revocation here and never leaves the main process)</span>
              <input
                type="password"
                aria-label="Patient passphrase for revocation"
                autoComplete="off"
                value={pass}
                onChange={(e) => setPass(e.target.value)}
                onKeyDown={(e) => e.key === 'Enter' && pass && void revoke()}
              />
            </label>
          )}
          {isPatient && <p className="modal__note">You are signed in as the patient: your identity signs the revocation.</p>}
          {error && (
            <p className="form-error" role="alert" data-testid="revoke-error">
              {error}
            </p>
          )}
          <footer className="modal__actions">
            <button type="button" className="btn" onClick={() => (setOpen(false), setError(null))} disabled={busy}>
              Keep the consent
            </button>
            {wallet && !isPatient && (
              <button type="button" className="btn" disabled={busy} onClick={() => void revokeInWallet()} data-testid="wallet-revoke">
                Patient signs in browser wallet
              </button>
            )}
            <button type="button" className="btn btn--primary" disabled={busy || (!isPatient && (!here || !pass))} onClick={() => void revoke()} data-testid="confirm-revoke">
              {busy ? 'Revoking…' : 'Revoke consent'}
            </button>
          </footer>
        </div>
      </div>
    </>
  );
}

/** One line after a revocation. */
export function revokedText(r: RevokeConsentResult, inst: string): string {
  return `Consent revoked: ${inst} may no longer receive ${r.scope === 'all' ? "any of the patient's studies" : 'this study'}. Recorded on the ledger in block ${r.block} (transaction ${shortHash(r.txHash)}).`;
}
