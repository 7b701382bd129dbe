/** The trust panel's tables read from chain events: the study's records, the patient's consents, and accesses with denied attempts. */
import { useState } from 'react';
import type { TrustPanel as Panel } from '../../shared/api';
import { partyName, shortHash, tinyHash } from '../format';
import { When } from '../When';

import { OpenFromStore } from './OpenFromStore';
import { RevokeConsentButton, revokedText } from './RevokeConsent';

/** Every version of the study's record on chain, newest superseding older ones. */
export function RecordsSection({ panel }: { panel: Panel }) {
  return (
    <section className="trust__section" aria-label="Record on chain">
      <h3>
        Record on chain <span className="trust__count">{panel.records.length}</span>
      </h3>
      {panel.records.length === 0 ? (
        <p className="trust__none">Not anchored: no record of this study on chain.</p>
      ) : (
        <table className="ttable" data-testid="record-versions">
          <thead>
            <tr>
              <th>Ver.</th>
              <th>Anchored</th>
              <th>By</th>
              <th>Root · tx</th>
            </tr>
          </thead>
          <tbody>
            {panel.records.map((r) => (
              <tr key={r.root} className={r.supersededBy ? 'superseded' : ''}>
                <td>
                  v{r.version}
                  {r.supersededBy ? ' (superseded)' : ''}
                </td>
                <td className="nowrap">
                  <When iso={r.time} />
                  <div className="trust__sub">
                    block {r.block} · {r.leafCount} images
                  </div>
                </td>
                <td>
                  <span title={r.institution.address}>{partyName(r.institution)}</span>
                  <div className="trust__sub" title={r.clinician.address}>
                    {partyName(r.clinician)}
                  </div>
                </td>
                <td className="mono" title={`root ${r.root}\ntx ${r.txHash}\nstorage ${r.storageUri ?? '—'}`}>
                  {shortHash(r.root)}
                  <div className="trust__sub">{shortHash(r.txHash)}</div>
                  <OpenFromStore root={r.root} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Consents of the patient to institutions, with expiry or revocation; an active one can be revoked by the patient. */
export function ConsentsSection({ panel, studyWords, onChanged }: { panel: Panel; studyWords?: string; onChanged?(): void }) {
  const [done, setDone] = useState<string | null>(null);
  const patient = panel.patient?.account ?? null;
  return (
    <section className="trust__section" aria-label="Consents">
      <h3>
        Consents <span className="trust__count">{panel.consents.length}</span>
      </h3>
      {done && (
        <p className="trust__ok trust__ok--text" role="status" data-testid="consent-revoked">
          {done}
        </p>
      )}
      {panel.consents.length === 0 ? (
        <p className="trust__none">The patient has not consented to any institution for this study.</p>
      ) : (
        <table className="ttable" data-testid="consents">
          <thead>
            <tr>
              <th>Institution</th>
              <th>Scope</th>
              <th>Granted</th>
              <th>Expires / revoked</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {panel.consents.map((c, i) => (
              <tr key={`${c.institution.address}-${i}`} data-state={c.state} data-testid="consent-row">
                <td title={c.institution.address}>{partyName(c.institution)}</td>
                <td>{c.scope === 'all' ? 'all studies' : 'this study'}</td>
                <td className="nowrap" title={`tx ${c.granted.txHash}`}>
                  <When iso={c.grantedAt} />
                  {c.bySignature && <div className="trust__sub">signed by the patient</div>}
                </td>
                <td className="nowrap">{c.revokedAt ? <When prefix="revoked " iso={c.revokedAt} /> : <When iso={c.expiresAt} />}</td>
                <td>
                  <span className={`chip chip--consent-${c.state}`}>{c.state}</span>
                  {onChanged && patient && c.state === 'active' && (
                    <div className="trevoke__cell">
                      <RevokeConsentButton
                        consent={c}
                        patient={patient}
                        what={c.scope === 'all' ? 'all their studies' : (studyWords ?? 'this study')}
                        studyInstanceUid={panel.studyInstanceUid}
                        onDone={(r) => {
                          setDone(revokedText(r, partyName(c.institution)));
                          onChanged();
                        }}
                      />
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Accesses by recipient institutions and denied attempts, newest first. */
export function AccessesSection({ panel }: { panel: Panel }) {
  return (
    <section className="trust__section" aria-label="Accesses">
      <h3>
        Accesses and denied attempts <span className="trust__count">{panel.accesses.length}</span>
      </h3>
      {panel.accesses.length === 0 ? (
        <p className="trust__none">No institution has accessed or tried to access this study.</p>
      ) : (
        <table className="ttable" data-testid="accesses">
          <thead>
            <tr>
              <th>When</th>
              <th>Institution</th>
              <th>Outcome</th>
              <th>Tx</th>
            </tr>
          </thead>
          <tbody>
            {[...panel.accesses].reverse().map((a, i) => (
              <tr key={`${a.txHash}-${i}`} data-outcome={a.outcome} data-testid="access-row">
                <td className="nowrap"><When iso={a.time} /></td>
                <td title={a.recipient.address}>{partyName(a.recipient)}</td>
                <td>
                  <span className={`chip ${a.outcome === 'granted' ? 'chip--verified' : 'chip--altered'}`}>{a.outcome}</span>{' '}
                  {a.detail}
                  {a.followUp !== 'none' && <div className="trust__sub">integrity: {a.followUp}</div>}
                </td>
                <td className="mono nowrap" title={`${a.txHash} · block ${a.block}`}>
                  {tinyHash(a.txHash)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
