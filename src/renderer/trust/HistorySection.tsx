/** The study's unified history on chain (records, consents, accesses, scores, reports): filter, table, CSV / PDF export. */
import { useEffect, useMemo, useState } from 'react';
import type { HistoryEntry, HistoryFilter, HistoryKind, TrustPanel as Panel } from '../../shared/api';
import { call } from '../bridge';
import { errorText } from '../errors';
import { joinPath } from '../files';
import { fileStamp, partyName, tinyHash } from '../format';
import { When } from '../When';
import { NamedText, namesOfPanel } from './Named';
import type { OpenStudy } from './hooks';

const KINDS: { kind: HistoryKind; label: string }[] = [
  { kind: 'record', label: 'Records' },
  { kind: 'consent', label: 'Consents' },
  { kind: 'access', label: 'Accesses' },
  { kind: 'score', label: 'Scores' },
  { kind: 'report', label: 'Reports' },
];

export function HistorySection({ open, panel }: { open: OpenStudy; panel: Panel }) {
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
  const named = useMemo(() => namesOfPanel(panel), [panel]);
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
                <td className="nowrap"><When iso={h.time} /></td>
                <td className={`kind kind--${h.kind}${/denied|mismatch|upheld|revoked/i.test(h.title) ? ' kind--bad' : ''}`}>{h.title}</td>
                <td className="wrap-any">
                  <NamedText text={h.detail} names={named.names} labels={named.labels} />
                </td>
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
