/**
 * The local audit log: every export, override (with its typed reason), consent, share and receive;
 * filter by action, actor, study and time; the hash chain re-checked on open; export as CSV or JSON.
 */
import { Fragment, useCallback, useEffect, useMemo, useState } from 'react';
import type { AuditEntryView } from '../../shared/api';
import { bridge, call } from '../bridge';
import { errorText } from '../errors';
import { joinPath } from '../files';
import { fileStamp, short, shortHash, whenSeconds } from '../format';

interface Props {
  onClose(): void;
  /** Pre-fill the study filter (the open study). */
  study?: string | null;
}

const ACTIONS = ['', 'export.anonymised', 'export.original', 'export.png', 'export.failed', 'override', 'consent.collected', 'share', 'receive'];
const PAGE = 200;

type ChainReport = { ok: boolean; checked: number; lastSeq: number; problems: { seq: number; kind: string; message: string }[] };

function subjectText(e: AuditEntryView): string {
  const s = e.subject;
  const parts: string[] = [];
  if (s.study) parts.push(`study …${s.study.slice(-10)}`);
  if (s.series) parts.push(`series …${s.series.slice(-8)}`);
  if (s.instances?.length) parts.push(`${s.instances.length} image(s)`);
  if (s.package) parts.push(`package ${shortHash(s.package)}`);
  return parts.join(' · ') || '—';
}

function detailText(e: AuditEntryView): string {
  const d = e.details as Record<string, unknown>;
  const bits: string[] = [];
  if (typeof d.written === 'number') bits.push(`${d.written} written`);
  if (typeof d.skipped === 'number' && d.skipped) bits.push(`${d.skipped} skipped`);
  if (d.overridden === true) bits.push('overridden');
  if (typeof d.rule === 'string') bits.push(d.rule);
  if (typeof d.recipient === 'string') bits.push(`to ${short(d.recipient)}`);
  if (typeof d.sender === 'string') bits.push(`from ${short(d.sender)}`);
  if (typeof d.error === 'string') bits.push(d.error);
  if (typeof d.format === 'string' && !e.action.startsWith('export.')) bits.push(d.format);
  return bits.join(' · ');
}

export function AuditLogDialog({ onClose, study }: Props) {
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [onlyStudy, setOnlyStudy] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [entries, setEntries] = useState<AuditEntryView[]>([]);
  const [total, setTotal] = useState(0);
  const [limit, setLimit] = useState(PAGE);
  const [chain, setChain] = useState<ChainReport | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<number | null>(null);

  const filter = useMemo(() => {
    const f: { action?: string; actor?: string; study?: string; from?: string; to?: string } = {};
    if (action) f.action = action;
    if (actor.trim()) f.actor = actor.trim();
    if (onlyStudy && study) f.study = study;
    if (from) f.from = new Date(`${from}T00:00:00`).toISOString();
    if (to) f.to = new Date(new Date(`${to}T00:00:00`).getTime() + 86_400_000).toISOString();
    return f;
  }, [action, actor, onlyStudy, study, from, to]);

  const load = useCallback(async () => {
    try {
      const [list, verify] = await Promise.all([call('audit.list', { ...filter, order: 'desc', limit }), call('audit.verify', {})]);
      setEntries(list.entries);
      setTotal(list.total);
      setChain(verify);
      setErr(null);
    } catch (e) {
      setErr(errorText(e).message);
    }
  }, [filter, limit]);

  useEffect(() => {
    const t = window.setTimeout(() => void load(), 150);
    return () => window.clearTimeout(t);
  }, [load]);
  useEffect(() => bridge().on((e) => e.type === 'audit-appended' && void load()), [load]);

  const save = async (format: 'csv' | 'json') => {
    setSaved(null);
    setErr(null);
    try {
      const { paths } = await call('app.pickPaths', { mode: 'folder' });
      if (!paths[0]) return;
      const folder = paths[0];
      const name = `audit-log-${fileStamp()}.${format}`;
      const r = await call('audit.export', { format, path: joinPath(folder, name), ...(Object.keys(filter).length ? { filter } : {}) });
      setSaved(`Saved ${r.entries} entr${r.entries === 1 ? 'y' : 'ies'} as ${format.toUpperCase()} to ${r.path}`);
    } catch (e) {
      const t = errorText(e);
      setErr(`${t.message} ${t.hint ?? ''}`);
    }
  };

  return (
    <div className="tmodal" role="dialog" aria-modal="true" aria-label="Audit log" data-testid="audit-log">
      <div className="tmodal__body tmodal__body--single">
        <div className="tmodal__main">
          <header className="tmodal__head">
            <h2>Audit log</h2>
            <span className="trust__head-actions">
              <button type="button" className="btn btn--small" onClick={() => void load()} title="Re-read the log and re-hash the whole chain" data-testid="audit-verify">
                Verify chain again
              </button>
              <button type="button" className="btn btn--link" onClick={onClose} aria-label="Close audit log">
                ×
              </button>
            </span>
          </header>
          {chain && (
            <div className={`trust__ledger${chain.ok ? '' : ' trust__ledger--down'}`} data-testid="audit-chain" data-ok={String(chain.ok)} role={chain.ok ? undefined : 'alert'}>
              {chain.ok ? (
                <>
                  <span className="trust__dot" aria-hidden="true" />
                  Hash chain intact: {chain.checked} entr{chain.checked === 1 ? 'y' : 'ies'} re-hashed, each carries the hash of the one before (newest #{chain.lastSeq}).
                </>
              ) : (
                <>
                  <strong>Hash chain broken</strong>
                  <span>
                    {chain.problems
                      .slice(0, 5)
                      .map((p) => `#${p.seq} ${p.kind}: ${p.message}`)
                      .join(' · ')}
                    {chain.problems.length > 5 ? ` · and ${chain.problems.length - 5} more` : ''}
                  </span>
                </>
              )}
            </div>
          )}
          <div className="tfilters" data-testid="audit-filter">
            <label>
              Action
              <select aria-label="Action" value={action} onChange={(e) => setAction(e.target.value)}>
                {ACTIONS.map((a) => (
                  <option key={a} value={a}>
                    {a || 'All actions'}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Actor
              <input type="search" aria-label="Actor" placeholder="address" value={actor} onChange={(e) => setActor(e.target.value)} />
            </label>
            <label>
              From <input type="date" aria-label="Audit from" value={from} onChange={(e) => setFrom(e.target.value)} />
            </label>
            <label>
              To <input type="date" aria-label="Audit to" value={to} onChange={(e) => setTo(e.target.value)} />
            </label>
            {study && (
              <label className="tfilters__check">
                <input type="checkbox" checked={onlyStudy} onChange={(e) => setOnlyStudy(e.target.checked)} /> Open study only
              </label>
            )}
            <span className="trust__spacer" />
            <button type="button" className="btn btn--small" onClick={() => void save('csv')} data-testid="audit-csv">
              CSV…
            </button>
            <button type="button" className="btn btn--small" onClick={() => void save('json')} data-testid="audit-json">
              JSON…
            </button>
          </div>
          {saved && (
            <p className="trust__ok" data-testid="audit-saved">
              {saved}
            </p>
          )}
          {err && <p className="trust__err">{err}</p>}
          <div className="taudit__scroll">
            {entries.length === 0 ? (
              <p className="trust__none">{Object.keys(filter).length ? 'No entry matches the filter.' : 'Nothing recorded yet: exports, overrides, consents, shares and receipts appear here.'}</p>
            ) : (
              <table className="ttable ttable--audit" data-testid="audit-table">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Time</th>
                    <th>Action</th>
                    <th>Actor</th>
                    <th>Subject</th>
                    <th>Reason / details</th>
                    <th>Hash</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((e) => (
                    <Fragment key={e.seq}>
                      <tr data-testid="audit-row" data-action={e.action} className={expanded === e.seq ? 'open' : ''} onClick={() => setExpanded((x) => (x === e.seq ? null : e.seq))}>
                        <td className="mono">{e.seq}</td>
                        <td className="nowrap">{whenSeconds(e.at)}</td>
                        <td className={`nowrap action action--${e.action.split('.')[0]}`}>{e.action}</td>
                        <td className={/^0x[0-9a-fA-F]{40}$/.test(e.actor) ? 'mono' : ''} title={e.actor}>
                          {/^0x[0-9a-fA-F]{40}$/.test(e.actor) ? short(e.actor) : e.actor}
                        </td>
                        <td>{subjectText(e)}</td>
                        <td className="wrap-any">
                          {e.reason && <div className="taudit__reason">“{e.reason}”</div>}
                          <div className="trust__sub">{detailText(e)}</div>
                        </td>
                        <td className="mono" title={`hash ${e.hash}\nprevious ${e.prevHash}`}>
                          {e.hash.slice(0, 10)}
                        </td>
                      </tr>
                      {expanded === e.seq && (
                        <tr className="taudit__detail">
                          <td colSpan={7}>
                            <pre>{JSON.stringify({ subject: e.subject, details: e.details, prevHash: e.prevHash, hash: e.hash }, null, 2)}</pre>
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  ))}
                </tbody>
              </table>
            )}
            {total > entries.length && (
              <button type="button" className="btn btn--link" onClick={() => setLimit((l) => l + PAGE)}>
                Show more ({total - entries.length} older)
              </button>
            )}
          </div>
          <p className="trust__fine">
            {total} entr{total === 1 ? 'y' : 'ies'}
            {Object.keys(filter).length ? ' match the filter' : ''}. Click an entry for its full record. The log is append-only; editing or deleting an entry breaks the chain
            and is reported above.
          </p>
        </div>
      </div>
    </div>
  );
}
