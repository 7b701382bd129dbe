/**
 * The trust panel: for the open study's patient the credit score and its history (chart + every
 * change), the acting institution's score and status, the verification of every instance, the
 * study's records on chain, consents, accesses and denied attempts, and the unified history with a
 * filter and CSV / PDF export. It says when it was last synced and, when the chain does not answer,
 * "ledger unreachable" — never a cached "verified".
 */
import { useEffect, useMemo, useState } from 'react';
import type { HistoryEntry, HistoryFilter, HistoryKind, InstanceVerification, Threshold, TrustPanel as Panel } from '../../shared/api';
import { call } from '../bridge';
import type { OpenStudy, TrustState } from './hooks';
import { ScoreChart, type ChartThreshold } from './ScoreChart';
import { errorText } from '../errors';
import { joinPath } from '../files';
import { ago, fileStamp, partyName, short, shortHash, signed, STATE_TEXT, tinyHash, when } from '../format';
import { ErrorBox } from './ErrorBox';

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

const KINDS: { kind: HistoryKind; label: string }[] = [
  { kind: 'record', label: 'Records' },
  { kind: 'consent', label: 'Consents' },
  { kind: 'access', label: 'Accesses' },
  { kind: 'score', label: 'Scores' },
  { kind: 'report', label: 'Reports' },
];

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
          {l.message ??
            `The chain did not answer. What follows is the copy synced ${l.lastSyncedAt ? ago(l.lastSyncedAt) : 'never'}${l.lastSyncedBlock !== null ? ` (block ${l.lastSyncedBlock})` : ''}.`}{' '}
          No image is shown as verified.
        </span>
      </div>
    );
  }
  return (
    <div className="trust__ledger" data-testid="trust-ledger" data-reachable="true" title={`chain ${l.chainId ?? '?'} · contract ${l.contract ?? '?'}`}>
      <span className="trust__dot" aria-hidden="true" />
      Ledger connected · synced {ago(l.lastSyncedAt)}
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

function HistorySection({ open, panel }: { open: OpenStudy; panel: Panel }) {
  const [kinds, setKinds] = useState<HistoryKind[]>([]);
  const [text, setText] = useState('');
  const [institution, setInstitution] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const filter = useMemo<HistoryFilter>(() => {
    const f: HistoryFilter = {};
    if (kinds.length) f.kinds = kinds;
    if (text.trim()) f.text = text.trim();
    if (institution) f.institution = institution;
    if (from) f.from = new Date(`${from}T00:00:00`).toISOString();
    if (to) f.to = new Date(new Date(`${to}T00:00:00`).getTime() + 86_400_000).toISOString();
    return f;
  }, [kinds, text, institution, from, to]);
  const filtered = Object.keys(filter).length > 0;
  const uid = open.study.studyInstanceUid;

  useEffect(() => {
    if (!filtered) {
      setEntries(null);
      return;
    }
    let alive = true;
    setEntries(null);
    const t = window.setTimeout(() => {
      call('trust.history', { studyInstanceUid: uid, filter }).then(
        (r) => alive && setEntries(r.entries),
        (e) => alive && setErr(errorText(e).message),
      );
    }, 200);
    return () => {
      alive = false;
      window.clearTimeout(t);
    };
  }, [filter, filtered, uid, panel]);

  const rows = (filtered ? entries : panel.history) ?? [];
  const institutions = useMemo(() => {
    const m = new Map<string, string>();
    for (const c of panel.consents) m.set(c.institution.address, partyName(c.institution));
    for (const a of panel.accesses) m.set(a.recipient.address, partyName(a.recipient));
    for (const r of panel.records) m.set(r.institution.address, partyName(r.institution));
    return [...m];
  }, [panel]);

  const save = async (format: 'csv' | 'pdf') => {
    setErr(null);
    setSaved(null);
    try {
      const { paths } = await call('app.pickPaths', { mode: 'folder' });
      if (!paths.length) return;
      setBusy(true);
      const path = joinPath(paths[0]!, `trust-history-${fileStamp()}.${format}`);
      const r = await call('trust.exportHistory', { studyInstanceUid: uid, format, path, ...(filtered ? { filter } : {}) });
      setSaved(`Saved ${r.entries} entr${r.entries === 1 ? 'y' : 'ies'} as ${format.toUpperCase()} to ${r.path}`);
    } catch (e) {
      const t = errorText(e);
      setErr(t.hint ? `${t.message} ${t.hint}` : t.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="trust__section" aria-label="History">
      <h3>
        History <span className="trust__count">{rows.length}</span>
      </h3>
      <div className="trust__filter" data-testid="history-filter">
        <div className="trust__kinds" role="group" aria-label="Kinds">
          {KINDS.map((k) => {
            const on = kinds.includes(k.kind);
            return (
              <button
                key={k.kind}
                type="button"
                className={`pill${on ? ' pill--on' : ''}`}
                aria-pressed={on}
                onClick={() => setKinds((ks) => (on ? ks.filter((x) => x !== k.kind) : [...ks, k.kind]))}
              >
                {k.label}
              </button>
            );
          })}
        </div>
        <div className="trust__filter-row">
          <input type="search" placeholder="Search history" aria-label="Search history" value={text} onChange={(e) => setText(e.target.value)} />
          <select aria-label="Institution" value={institution} onChange={(e) => setInstitution(e.target.value)}>
            <option value="">All institutions</option>
            {institutions.map(([a, n]) => (
              <option key={a} value={a}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div className="trust__filter-row">
          <label>
            From <input type="date" aria-label="From date" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label>
            To <input type="date" aria-label="To date" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
          <span className="trust__spacer" />
          <button type="button" className="btn btn--small" disabled={busy} onClick={() => void save('csv')} data-testid="history-csv">
            CSV…
          </button>
          <button type="button" className="btn btn--small" disabled={busy} onClick={() => void save('pdf')} data-testid="history-pdf">
            PDF report…
          </button>
        </div>
      </div>
      {saved && (
        <p className="trust__ok" data-testid="history-saved">
          {saved}
        </p>
      )}
      {err && <p className="trust__err">{err}</p>}
      {filtered && entries === null ? (
        <p className="trust__none">Filtering…</p>
      ) : rows.length === 0 ? (
        <p className="trust__none" data-testid="history-empty">
          {filtered ? 'Nothing matches the filter.' : 'Nothing on chain for this study yet.'}
        </p>
      ) : (
        <table className="ttable ttable--history" data-testid="history-table">
          <thead>
            <tr>
              <th>When</th>
              <th>What</th>
              <th>Detail</th>
              <th>Tx</th>
            </tr>
          </thead>
          <tbody>
            {[...rows].reverse().map((h, i) => (
              <tr key={`${h.txHash}-${i}`} data-kind={h.kind} data-testid="history-row">
                <td className="nowrap">{when(h.time)}</td>
                <td className={`kind kind--${h.kind}${/denied|mismatch|upheld|revoked/i.test(h.title) ? ' kind--bad' : ''}`}>{h.title}</td>
                <td className="wrap-any">{h.detail}</td>
                <td className="mono nowrap" title={`${h.txHash} · block ${h.block}`}>
                  {tinyHash(h.txHash)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
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
                            <td className="nowrap">{when(h.time)}</td>
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

            <section className="trust__section" aria-label="Verification">
              <h3>Images</h3>
              <VerificationSummary panel={panel} />
              {panel.verification && <InstanceList instances={panel.verification.instances} />}
            </section>

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
                          {when(r.time)}
                          <div className="trust__sub">
                            block {r.block} · {r.leafCount} images
                          </div>
                        </td>
                        <td>
                          {partyName(r.institution)}
                          <div className="trust__sub">{partyName(r.clinician)}</div>
                        </td>
                        <td className="mono" title={`root ${r.root}\ntx ${r.txHash}\nstorage ${r.storageUri ?? '—'}`}>
                          {shortHash(r.root)}
                          <div className="trust__sub">{shortHash(r.txHash)}</div>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>

            <section className="trust__section" aria-label="Consents">
              <h3>
                Consents <span className="trust__count">{panel.consents.length}</span>
              </h3>
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
                          {when(c.grantedAt)}
                          {c.bySignature && <div className="trust__sub">signed by the patient</div>}
                        </td>
                        <td className="nowrap">{c.revokedAt ? `revoked ${when(c.revokedAt)}` : when(c.expiresAt)}</td>
                        <td>
                          <span className={`chip chip--consent-${c.state}`}>{c.state}</span>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>

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
                        <td className="nowrap">{when(a.time)}</td>
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

            <HistorySection open={open} panel={panel} />
          </>
        )}
      </div>
    </aside>
  );
}
