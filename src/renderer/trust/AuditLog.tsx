/**
 * The local audit log: every study viewing, sign-in and failed sign-in, export, override (with its typed
 * reason), consent, share and receive; accounts by name (address on hover), times in the one UI format;
 * filter by action, actor, study and time; the hash chain re-checked on open; export as CSV or JSON.
 */
import { Fragment, useCallback, useEffect, useMemo, useState } from 'react';
import type { AuditEntryView, CollectorStateView } from '../../shared/api';
import { bridge, call } from '../bridge';
import { errorText } from '../errors';
import { joinPath } from '../files';
import { accountName, fileStamp, personName, shortHash, workstationName } from '../format';
import { When } from '../When';
import { Account } from './Named';

interface Props {
  onClose(): void;
  /** Pre-fill the study filter (the open study). */
  study?: string | null;
}

const ACTIONS = ['', 'view', 'login', 'login.failed', 'logout', 'export.anonymised', 'export.original', 'export.png', 'export.failed', 'override', 'consent.collected', 'share', 'receive'];
const PAGE = 200;

type ChainReport = { ok: boolean; checked: number; lastSeq: number; problems: { seq: number; kind: string; message: string }[] };

type Names = Record<string, string>;

function subjectText(e: AuditEntryView): string {
  const s = e.subject;
  const parts: string[] = [];
  const patient = (e.details as { patient?: unknown }).patient;
  if (patient && typeof patient === 'object') {
    const p = patient as { id?: string; name?: string | null };
    parts.push(`patient ${p.id ?? '?'}${p.name ? ` (${personName(p.name)})` : ''}`);
  }
  if (s.study) parts.push(`study …${s.study.slice(-10)}`);
  if (s.series) parts.push(`series …${s.series.slice(-8)}`);
  if (s.instances?.length) parts.push(`${s.instances.length} image(s)`);
  if (s.package) parts.push(`package ${shortHash(s.package)}`);
  return parts.join(' · ') || '—';
}

function detailText(e: AuditEntryView, names: Names): string {
  const d = e.details as Record<string, unknown>;
  const bits: string[] = [];
  const w = d.workstation as { host?: string; osUser?: string } | undefined;
  if (w && typeof w === 'object' && w.host) bits.push(`workstation ${w.host}, OS user ${w.osUser ?? '?'}`);
  if (typeof d.written === 'number') bits.push(`${d.written} written`);
  if (typeof d.skipped === 'number' && d.skipped) bits.push(`${d.skipped} skipped`);
  if (d.overridden === true) bits.push('overridden');
  if (typeof d.rule === 'string') bits.push(d.rule);
  if (typeof d.recipient === 'string') bits.push(`to ${accountName(d.recipient, names)}`);
  if (typeof d.sender === 'string') bits.push(`from ${accountName(d.sender, names)}`);
  if (typeof d.institution === 'string' && e.action === 'consent.collected') bits.push(`for ${accountName(d.institution, names)}`);
  if (typeof d.error === 'string') bits.push(d.error);
  if (typeof d.format === 'string' && !e.action.startsWith('export.')) bits.push(d.format);
  return bits.join(' · ');
}

/** Who: the name of the identity (address on hover), or the workstation's OS user when nobody was signed in. */
function ActorCell({ actor, names }: { actor: string; names: Names }) {
  if (/^0x[0-9a-fA-F]{40}$/.test(actor)) return <Account address={actor} names={names} />;
  const ws = workstationName(actor);
  return <span title={actor}>{ws ?? actor}</span>;
}

const STATE_WORDS: Record<CollectorStateView['state'], string> = {
  off: 'off',
  misconfigured: 'not usable',
  idle: 'nothing waiting',
  sending: 'sending',
  retrying: 'collector not answering, retrying',
  failing: 'collector not answering',
};

/** The syslog collector (IHE ATNA): its state, and a small form to set it. */
function CollectorSection() {
  const [state, setState] = useState<CollectorStateView | null>(null);
  const [editing, setEditing] = useState(false);
  const [form, setForm] = useState({ enabled: false, host: '', port: '6514', transport: 'tls' as 'udp' | 'tls', caPath: '' });
  const [err, setErr] = useState<string | null>(null);
  const refresh = useCallback(() => {
    call('audit.syslog.get', {}).then(setState, (e) => setErr(errorText(e).message));
  }, []);
  useEffect(() => {
    refresh();
    return bridge().on((e) => e.type === 'audit-appended' && window.setTimeout(refresh, 300));
  }, [refresh]);
  const edit = () => {
    if (state) setForm({ enabled: true, host: state.settings.host, port: String(state.settings.port), transport: state.settings.transport, caPath: '' });
    setErr(null);
    setEditing((x) => !x);
  };
  const save = async () => {
    setErr(null);
    try {
      const r = await call('audit.syslog.set', {
        enabled: form.enabled,
        host: form.host.trim(),
        port: Number(form.port) || (form.transport === 'udp' ? 514 : 6514),
        transport: form.transport,
        ...(form.caPath.trim() ? { caPath: form.caPath.trim() } : {}),
      });
      setState(r);
      setEditing(false);
    } catch (e) {
      const t = errorText(e);
      setErr(`${t.message} ${t.hint ?? ''}`);
    }
  };
  if (!state) return null;
  const st = state.settings;
  const bad = state.state === 'failing' || state.state === 'retrying' || state.state === 'misconfigured';
  return (
    <div className="taudit__collector" data-testid="audit-collector" data-state={state.state}>
      <span className={`trust__dot${bad ? ' trust__dot--down' : state.state === 'off' ? ' trust__dot--off' : ''}`} aria-hidden="true" />
      <span>
        Syslog collector (IHE ATNA):{' '}
        {st.enabled ? (
          <>
            <span className="mono">{`${st.transport}://${st.host}:${st.port}`}</span> ·{' '}
          </>
        ) : null}
        {STATE_WORDS[state.state]}
        {state.problem ? ` — ${state.problem}` : ''}
        {st.enabled ? ` · ${state.sent} sent${state.dropped ? ` · ${state.dropped} dropped` : ''}${state.queued ? ` · ${state.queued} waiting` : ''}` : ''}
        {state.lastError && bad ? ` · ${state.lastError}` : ''}
      </span>
      <button type="button" className="btn btn--small" onClick={edit} data-testid="audit-collector-edit" aria-expanded={editing}>
        Settings…
      </button>
      {editing && (
        <form
          className="taudit__collector-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <label className="tfilters__check">
            <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} /> Send every audit entry
          </label>
          <label>
            Host <input aria-label="Collector host" value={form.host} onChange={(e) => setForm({ ...form, host: e.target.value })} placeholder="syslog.clinic.example" spellCheck={false} />
          </label>
          <label>
            Port <input aria-label="Collector port" value={form.port} inputMode="numeric" size={6} onChange={(e) => setForm({ ...form, port: e.target.value.replace(/\D/g, '') })} />
          </label>
          <label>
            Transport
            <select aria-label="Collector transport" value={form.transport} onChange={(e) => setForm({ ...form, transport: e.target.value as 'udp' | 'tls', port: e.target.value === 'udp' ? '514' : '6514' })}>
              <option value="tls">TLS (RFC 5425)</option>
              <option value="udp">UDP (RFC 5426)</option>
            </select>
          </label>
          {form.transport === 'tls' && (
            <label>
              CA certificate file
              <input aria-label="Collector CA file" size={38} value={form.caPath} onChange={(e) => setForm({ ...form, caPath: e.target.value })} placeholder={st.caSubject ?? '/path/to/ca.pem'} spellCheck={false} />
            </label>
          )}
          <button type="submit" className="btn btn--small btn--primary" data-testid="audit-collector-save">
            Save
          </button>
          {err && <p className="trust__err">{err}</p>}
        </form>
      )}
    </div>
  );
}

export function AuditLogDialog({ onClose, study }: Props) {
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [onlyStudy, setOnlyStudy] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [entries, setEntries] = useState<AuditEntryView[]>([]);
  const [names, setNames] = useState<Names>({});
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
      setNames(list.names ?? {});
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
          <CollectorSection />
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
              <input type="search" aria-label="Actor" placeholder="address or workstation:…" title="An account address, or workstation:<OS user>@<host> for viewing without sign-in" value={actor} onChange={(e) => setActor(e.target.value)} />
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
              <p className="trust__none">{Object.keys(filter).length ? 'No entry matches the filter.' : 'Nothing recorded yet: viewings, sign-ins, exports, overrides, consents, shares and receipts appear here.'}</p>
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
                        <td className="nowrap">
                          <When iso={e.at} />
                        </td>
                        <td className={`nowrap action action--${e.action.split('.')[0]}`}>{e.action}</td>
                        <td data-testid="audit-actor">
                          <ActorCell actor={e.actor} names={names} />
                        </td>
                        <td>{subjectText(e)}</td>
                        <td className="wrap-any">
                          {e.reason && <div className="taudit__reason">“{e.reason}”</div>}
                          <div className="trust__sub">{detailText(e, names)}</div>
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
