/** The trust panel's credit scores: the patient's (chart and every change) and the acting institution's (status and thresholds). */
import type { Threshold, TrustPanel as Panel } from '../../shared/api';
import { partyName, short, signed } from '../format';
import { When } from '../When';
import { ScoreChart, type ChartThreshold } from './ScoreChart';

function thresholdLines(ts: Threshold[], who: 'patient' | 'institution'): ChartThreshold[] {
  const pick = (k: Threshold['key']) => ts.find((t) => t.key === k);
  const out: ChartThreshold[] = [];
  const start = pick('startScore');
  if (start) out.push({ value: start.value, label: 'start', tone: 'neutral' });
  if (who === 'institution') {
    const r = pick('receiveThreshold');
    const a = pick('anchorThreshold');
    if (r) out.push({ value: r.value, label: 'may receive', tone: 'warn' });
    if (a) out.push({ value: a.value, label: 'may anchor', tone: 'bad' });
  }
  return out;
}

/** The patient's score: it gates nothing; it grows when consented studies are used. */
export function PatientScoreSection({ panel }: { panel: Panel }) {
  return (
    <section className="trust__section" aria-label="Patient credit score">
      <h3>Patient credit score</h3>
      {panel.patient ? (
        <>
          <div className="trust__score-line">
            <span className="score" data-testid="patient-score">
              {panel.patient.score ?? '—'}
            </span>
            <span className="trust__sub">
              pseudonymous account <span className="mono">{short(panel.patient.account)}</span>
              {panel.patient.party.label ? ` (${partyName(panel.patient.party)} on this workstation)` : ''} · a patient&apos;s score
              gates nothing; it grows when consented studies are used
            </span>
          </div>
          <ScoreChart
            history={panel.patient.history}
            current={panel.patient.score}
            thresholds={thresholdLines(panel.thresholds, 'patient')}
            label="Patient credit score"
            testId="patient-score-chart"
          />
          {panel.patient.history.length > 0 && (
            <table className="ttable" data-testid="score-changes">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Change</th>
                  <th>Reason</th>
                  <th>By</th>
                </tr>
              </thead>
              <tbody>
                {[...panel.patient.history].reverse().map((h, i) => (
                  <tr key={`${h.txHash}-${i}`} data-testid="score-change">
                    <td className="nowrap"><When iso={h.time} /></td>
                    <td className={`nowrap delta delta--${h.delta > 0 ? 'up' : h.delta < 0 ? 'down' : 'flat'}`}>
                      {signed(h.delta)} → {h.newScore}
                    </td>
                    <td>{h.reason}</td>
                    <td title={h.by.address}>{partyName(h.by)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : (
        <p className="trust__none">No patient account: the study has never been anchored and no account is linked to its patient.</p>
      )}
    </section>
  );
}

/** The acting institution's score and what it may do now. */
export function InstitutionSection({ panel }: { panel: Panel }) {
  return (
    <section className="trust__section" aria-label="Acting institution" data-testid="acting-institution">
      <h3>Your institution</h3>
      {panel.actingInstitution ? (
        <>
          <div className="trust__score-line">
            <span className="score score--small">{panel.actingInstitution.score ?? '—'}</span>
            <span>
              <strong>{partyName(panel.actingInstitution.institution)}</strong>{' '}
              <span className="trust__status">
                {panel.actingInstitution.suspended && <span className="chip chip--altered">suspended</span>}
                <span className={`chip ${panel.actingInstitution.canReceive ? 'chip--verified' : 'chip--altered'}`}>
                  {panel.actingInstitution.canReceive ? 'may share and receive' : 'may not receive'}
                </span>
                <span className={`chip ${panel.actingInstitution.canAnchor ? 'chip--verified' : 'chip--altered'}`}>
                  {panel.actingInstitution.canAnchor ? 'may anchor' : 'may not anchor'}
                </span>
              </span>
            </span>
          </div>
          <ScoreChart
            history={panel.actingInstitution.history}
            current={panel.actingInstitution.score}
            thresholds={thresholdLines(panel.thresholds, 'institution')}
            label="Institution credit score"
            testId="institution-score-chart"
            height={120}
          />
        </>
      ) : (
        <p className="trust__none">{panel.actingMessage ?? 'No institution identity is unlocked.'}</p>
      )}
      <p className="trust__fine">
        Thresholds from {panel.thresholdsFrom === 'contract' ? 'the contract' : 'the local copy of the policy (contract not reachable)'}:{' '}
        {panel.thresholds
          .filter((t) => t.key === 'receiveThreshold' || t.key === 'anchorThreshold')
          .map((t) => `${t.value} — ${t.meaning}`)
          .join('; ')}
        .
      </p>
    </section>
  );
}
