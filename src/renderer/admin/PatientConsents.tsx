/** The patient console's consents: every consent the patient gave, for all studies, each active one revocable by the patient. */
import { useCallback, useEffect, useState } from 'react';
import type { ConsentView } from '../../shared/api';
import { call } from '../bridge';
import { errText } from '../errors';
import { partyName } from '../format';
import { dateInWords } from '../../shared/words';
import { RevokeConsentButton, revokedText } from '../trust/RevokeConsent';

export function PatientConsents({ address, tick }: { address: string; tick: number }) {
  const [list, setList] = useState<ConsentView[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const load = useCallback(() => {
    call('share.patientConsents', { patient: address }).then(
      (r) => setList(r.consents),
      (e) => setErr(errText(e)),
    );
  }, [address]);
  useEffect(() => load(), [load, tick]);
  if (err) return <p className="console__note">{err}</p>;
  if (!list) return <p className="console__note">Reading your consents from the chain…</p>;
  return (
    <div data-testid="patient-consents">
      <h4 className="console__sub">Your consents</h4>
      {done && (
        <p className="form-ok" role="status" data-testid="consent-revoked">
          {done}
        </p>
      )}
      {list.length === 0 ? (
        <p className="console__note">You have not allowed any institution to receive your images.</p>
      ) : (
        <table className="console__table">
          <thead>
            <tr>
              <th>Institution</th>
              <th>Covers</th>
              <th>Valid</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.granted.txHash} data-state={c.state} data-testid="patient-consent-row">
                <td title={c.institution.address}>{partyName(c.institution)}</td>
                <td>{c.scope === 'all' ? 'all your studies' : 'one study'}</td>
                <td>{c.state === 'revoked' ? `revoked ${dateInWords(c.revokedAt) ?? ''}` : c.state === 'expired' ? `ended ${dateInWords(c.expiresAt) ?? ''}` : `until ${dateInWords(c.expiresAt) ?? '?'}`}</td>
                <td>
                  <RevokeConsentButton
                    consent={c}
                    patient={address}
                    what={c.scope === 'all' ? 'all your studies' : 'the study it names'}
                    onDone={(r) => {
                      setDone(revokedText(r, partyName(c.institution)));
                      load();
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
