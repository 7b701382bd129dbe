/**
 * The trust panel: for the open study's patient the credit score and its history (chart + every
 * change), the acting institution's score and status, the verification of every instance, the
 * study's records on chain, consents, accesses and denied attempts, and the unified history with a
 * filter and CSV / PDF export. It says when it was last synced and, when the chain does not answer,
 * "ledger unreachable" — never a cached "verified".
 */
import { useEffect, useState } from 'react';
import type { InstanceVerification, TrustPanel as Panel } from '../../shared/api';
import type { OpenStudy, TrustState } from './hooks';
import { ago, isoTitle, ledgerDetail, STATE_TEXT } from '../format';
import { AccessesSection, ConsentsSection, RecordsSection } from './ChainSections';
import { HistorySection } from './HistorySection';
import { InstitutionSection, PatientScoreSection } from './ScoreSections';
import { ErrorBox } from './ErrorBox';
import { studyInWords } from '../../shared/words';

interface Props {
  open: OpenStudy;
  trust: TrustState;
  /** Drawer: a close button; embedded (in a dialog): none. */
  onClose?(): void;
  onExport?(): void;
  onShare?(): void;
  onAudit?(): void;
  embedded?: boolean;
}

export function LedgerLine({ panel, loadedAt }: { panel: Panel; loadedAt: string | null }) {
  const l = panel.ledger;
  const [, tick] = useState(0);
  useEffect(() => {
    const t = window.setInterval(() => tick((n) => n + 1), 15_000);
    return () => window.clearInterval(t);
  }, []);
  if (!l.reachable) {
    return (
      <div className="trust__ledger trust__ledger--down" role="alert" data-testid="trust-ledger" data-reachable="false">
        <strong>Ledger unreachable</strong>
        <span>
          {(l.message ? ledgerDetail(l.message) : null) ??
            `The chain did not answer. What follows is the copy synced ${l.lastSyncedAt ? ago(l.lastSyncedAt) : 'never'}${l.lastSyncedBlock !== null ? ` (block ${l.lastSyncedBlock})` : ''}.`}{' '}
          No image is shown as verified.
        </span>
      </div>
    );
  }
  return (
    <div className="trust__ledger" data-testid="trust-ledger" data-reachable="true" title={`chain ${l.chainId ?? '?'} · contract ${l.contract ?? '?'}`}>
      <span className="trust__dot" aria-hidden="true" />
      Ledger connected · synced <time title={isoTitle(l.lastSyncedAt)}>{ago(l.lastSyncedAt)}</time>
      {l.lastSyncedBlock !== null ? ` · block ${l.lastSyncedBlock}` : ''}
      {l.head !== null && l.head !== l.lastSyncedBlock ? ` of ${l.head}` : ''}
      {loadedAt ? ` · checked ${ago(loadedAt)}` : ''}
    </div>
  );
}

export function VerificationSummary({ panel }: { panel: Panel }) {
  const v = panel.verification;
  if (!v) return <p className="trust__none">Not checked.</p>;
  const c = v.counts;
  return (
    <div className="trust__counts" data-testid="verification-counts" data-state={v.state}>
      <span className={`vstate vstate--${v.state}`}>{STATE_TEXT[v.state]}</span>
      {(['verified', 'altered', 'not-registered', 'ledger-unreachable', 'unreadable'] as const)
        .filter((k) => c[k] > 0)
        .map((k) => (
          <span key={k} className={`chip chip--${k}`} data-count={k}>
            {c[k]} {STATE_TEXT[k]}
          </span>
        ))}
      <span className="trust__sub">{v.message}</span>
    </div>
  );
}

function InstanceList({ instances }: { instances: InstanceVerification[] }) {
  const [all, setAll] = useState(false);
  const notOk = instances.filter((i) => i.state !== 'verified');
  // One line per image that is not verified, but a whole study that is unreachable says it once (above).
  const sameForAll = notOk.length === instances.length && new Set(notOk.map((i) => i.state)).size === 1;
  const shown = all ? instances : sameForAll ? [] : notOk.slice(0, 20);
  return (
    <div className="trust__instances">
      {shown.length > 0 && (
        <table className="ttable" data-testid="instance-states">
          <tbody>
            {shown.map((i, n) => (
              <tr key={`${i.path}-${n}`} data-state={i.state}>
                <td>
                  <span className={`vstate vstate--${i.state}`}>{STATE_TEXT[i.state]}</span>
                </td>
                <td className="mono" title={i.sopInstanceUid ?? i.path}>
                  {i.sopInstanceUid ? `…${i.sopInstanceUid.slice(-14)}` : i.path.split(/[\\/]/).pop()}
                </td>
                <td>{i.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {sameForAll && !all && notOk[0] && <p className="trust__sub">Every image: {notOk[0].message}</p>}
      {instances.length > 0 && (
        <button type="button" className="btn btn--link" onClick={() => setAll((v) => !v)}>
          {all ? 'Show only images that are not verified' : `Show all ${instances.length} images`}
        </button>
      )}
    </div>
  );
}

export function TrustPanelView({ open, trust, onClose, onExport, onShare, onAudit, embedded }: Props) {
  const { panel, loading, error, loadedAt, refresh } = trust;
  const patientName = open.study.patient.name.replace(/\^/g, ' ').trim() || open.study.patient.patientId || 'Unknown patient';
  return (
    <aside className={`trust${embedded ? ' trust--embedded' : ''}`} aria-label="Trust panel" data-testid="trust-panel" data-loading={loading ? 'true' : 'false'}>
      <header className="trust__head">
        <div>
          <h2>Trust</h2>
          <div className="trust__study" title={open.study.studyInstanceUid}>
            {patientName} · {open.study.description ?? 'study'} {open.study.date ? `· ${open.study.date.replace(/(\d{4})(\d\d)(\d\d)/, '$1-$2-$3')}` : ''}
          </div>
        </div>
        <div className="trust__head-actions">
          <button type="button" className="btn btn--small" onClick={refresh} disabled={loading} title="Sync and verify again">
            {loading ? 'Checking…' : 'Refresh'}
          </button>
          {onClose && (
            <button type="button" className="btn btn--link" onClick={onClose} aria-label="Close trust panel" title="Close (U or Esc)">
              ×
            </button>
          )}
        </div>
      </header>
      <div className="trust__scroll">
        {error && <ErrorBox title="Could not read the trust data" error={error} />}
        {!panel && !error && <p className="trust__none">Reading the chain and verifying every image…</p>}
        {panel && (
          <>
            <LedgerLine panel={panel} loadedAt={loadedAt} />
            {(onExport || onShare || onAudit) && (
              <div className="trust__actions">
                {onExport && (
                  <button type="button" className="btn" onClick={onExport}>
                    Export…
                  </button>
                )}
                {onShare && (
                  <button type="button" className="btn" onClick={onShare}>
                    Share…
                  </button>
                )}
                {onAudit && (
                  <button type="button" className="btn" onClick={onAudit}>
                    Audit log
                  </button>
                )}
              </div>
            )}
            <PatientScoreSection panel={panel} />
            <InstitutionSection panel={panel} />

            <section className="trust__section" aria-label="Verification">
              <h3>Images</h3>
              <VerificationSummary panel={panel} />
              {panel.verification && <InstanceList instances={panel.verification.instances} />}
            </section>

            <RecordsSection panel={panel} />
            <ConsentsSection panel={panel} studyWords={studyInWords(open.study)} onChanged={refresh} />
            <AccessesSection panel={panel} />

            <HistorySection open={open} panel={panel} />
          </>
        )}
      </div>
    </aside>
  );
}
