import { useCallback, useEffect, useState } from 'react';
import { createPortal } from 'react-dom';
import type { InboxItem, InboxList } from '../../shared/api';
import { bridge, call } from '../bridge';
import { errText, errorText, type UserError } from '../errors';
import { ErrorNotice } from '../settings/SettingsDialog';
import { RecordOpener } from './RecordOpener';
import './inbox.css';

const who = (p: { address: string; label: string | null }) => p.label ?? `${p.address.slice(0, 8)}…${p.address.slice(-4)}`;
const size = (n: number) => (n > 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} kB`);

function stateText(it: InboxItem): string {
  if (it.state === 'received') return it.result?.verified ? 'verified · imported' : 'received · NOT verified';
  if (it.state === 'failed') return 'failed';
  return 'new';
}

/** One package: who sent it, for whom, and what receiving it gave (verification per image, the access on chain). */
function PackageDetail({ it, list, onChanged }: { it: InboxItem; list: InboxList; onChanged: (it: InboxItem) => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [target, setTarget] = useState(list.connections[0] ?? '');
  const run = async (what: string, f: () => Promise<InboxItem>) => {
    setBusy(what);
    setError(null);
    try {
      onChanged(await f());
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };
  const r = it.result;
  const canReceive = it.state !== 'received' && list.signedIn?.address.toLowerCase() === it.recipient.address.toLowerCase();
  return (
    <div className="inbox__detail" data-testid="inbox-detail" data-state={it.state}>
      <dl>
        <dt>From</dt>
        <dd title={it.sender.address}>
          {it.sender.label ? `${it.sender.label} · ` : ''}
          <span className="mono">{it.sender.address}</span>
        </dd>
        <dt>For</dt>
        <dd title={it.recipient.address}>
          {who(it.recipient)}
          {!it.recipient.here && ' (not an identity on this workstation)'}
        </dd>
        <dt>Sent</dt>
        <dd>{new Date(it.created).toLocaleString()}</dd>
        <dt>Contents</dt>
        <dd>
          {it.instances} image(s), {size(it.size)}, encrypted for the recipient
        </dd>
        {it.pixelStore && (
          <>
            <dt>Pixels</dt>
            <dd data-testid="inbox-pixel-store">
              Shared by metadata: the images are rebuilt from their encrypted Pixel Data in the pixel store <span className="mono">{it.pixelStore}</span> when received
              (add it in Settings → Storage if this workstation does not know it yet).
            </dd>
          </>
        )}
        <dt>Study root</dt>
        <dd className="mono">{it.studyRoot}</dd>
      </dl>
      {it.state !== 'received' && (
        <div className="inbox__actions">
          <button type="button" className="btn btn--primary" disabled={!canReceive || busy !== null} onClick={() => void run('receive', () => call('inbox.receive', { address: it.address }))} data-testid="inbox-receive">
            {busy === 'receive' ? 'Verifying against the ledger…' : 'Receive: verify and import'}
          </button>
          {!canReceive && (
            <span className="modal__note">
              {it.recipient.here ? `Sign in as ${who(it.recipient)} to open it.` : 'Only the recipient institution can open it.'}
            </span>
          )}
        </div>
      )}
      {it.error && (
        <ErrorNotice error={it.error} />
      )}
      {r && (
        <>
          <p className="inbox__verdict" data-testid="inbox-verdict" data-verified={String(r.verified)}>
            {r.verified
              ? `Verified: all ${r.instances.length} image(s) match the record on the ledger. ${r.indexed} image(s) added to the library.`
              : `NOT verified: ${r.instances.filter((x) => !x.verified).length} of ${r.instances.length} image(s) do not match the record. Nothing was imported.`}
          </p>
          <dl>
            <dt>Access on chain</dt>
            <dd>
              {r.access.granted ? 'recorded (granted)' : 'denied'} — {r.access.text}
              <div className="mono modal__note" title={r.access.txHash}>tx {r.access.txHash.slice(0, 18)}…</div>
            </dd>
            <dt>Integrity</dt>
            <dd>{r.integrityConfirmed ? 'confirmed on chain' : 'not confirmed'}</dd>
          </dl>
          {r.instances.some((x) => !x.verified) && (
            <table className="inbox__images">
              <tbody>
                {r.instances.map((x) => (
                  <tr key={x.file}>
                    <td>{x.file}</td>
                    <td data-ok={String(x.verified)}>{x.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {r.verified && r.folder && (
            <div className="inbox__actions">
              <label htmlFor="inbox-send-target">Send on to</label>
              <select id="inbox-send-target" value={target} onChange={(e) => setTarget(e.target.value)} disabled={list.connections.length === 0}>
                {list.connections.length === 0 && <option value="">no PACS connection</option>}
                {list.connections.map((c) => (
                  <option key={c} value={c}>{c}</option>
                ))}
              </select>
              <button type="button" className="btn" disabled={!target || busy !== null} onClick={() => void run('send', () => call('inbox.sendOn', { address: it.address, connection: target }))} data-testid="inbox-send-on">
                {busy === 'send' ? 'Sending…' : 'Send to the PACS'}
              </button>
              {it.sentOn && <span className="modal__note" data-testid="inbox-sent-on">{it.sentOn.message}</span>}
            </div>
          )}
        </>
      )}
      {error && (
        <ErrorNotice error={error} testId="inbox-error" />
      )}
    </div>
  );
}

export function InboxDialog({ onClose }: { onClose: () => void }) {
  const [list, setList] = useState<InboxList | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [tab, setTab] = useState<'packages' | 'record'>('packages');
  const [note, setNote] = useState<string | null>(null);
  const refresh = useCallback(() => {
    call('inbox.list', {}).then((l) => {
      setList(l);
      setSelected((s) => s ?? l.items[0]?.address ?? null);
    }, () => undefined);
  }, []);
  useEffect(refresh, [refresh]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  const add = async () => {
    try {
      const r = await call('inbox.add', {});
      setNote(r.rejected.length ? r.rejected.map((x) => `${x.path}: ${x.message}`).join(' ') : r.added.length ? `${r.added.length} package(s) added.` : null);
      refresh();
    } catch (e) {
      setNote(errText(e));
    }
  };
  const it = list?.items.find((i) => i.address === selected) ?? null;
  return (
    <div className="modal" role="dialog" aria-modal="true" aria-label="Inbox" data-testid="inbox">
      <div className="inbox">
        <header className="modal__head">
          <h2>Inbox</h2>
          <button type="button" className="btn btn--ghost" onClick={onClose} aria-label="Close">✕</button>
        </header>
        <div className="inbox__tabs" role="tablist">
          <button type="button" role="tab" className="inbox__tab" aria-selected={tab === 'packages'} onClick={() => setTab('packages')}>
            Shared with us {list ? `(${list.items.length})` : ''}
          </button>
          <button type="button" role="tab" className="inbox__tab" aria-selected={tab === 'record'} onClick={() => setTab('record')} data-testid="inbox-tab-record">
            Open a record from its store
          </button>
        </div>
        {tab === 'record' ? (
          <RecordOpener />
        ) : (
          <>
            <div className="inbox__actions">
              <button type="button" className="btn" onClick={() => void add()} data-testid="inbox-add">Add a package…</button>
              <button type="button" className="btn btn--ghost" onClick={refresh}>Refresh</button>
              <span className="modal__note">
                {list?.signedIn ? `Signed in as ${list.signedIn.displayName}.` : 'Nobody is signed in: packages can be listed, not opened.'} Packages dropped into{' '}
                <span className="mono">{list?.folder}</span> appear here.
              </span>
              {note && <span className="modal__note" role="status">{note}</span>}
            </div>
            <div className="inbox__body">
              <div className="inbox__list" role="listbox" aria-label="Received packages">
                {list && list.items.length === 0 && <p className="inbox__empty">No share packages have arrived.</p>}
                {list?.items.map((i) => (
                  <button
                    type="button"
                    role="option"
                    key={i.address}
                    className="inbox__row"
                    aria-selected={i.address === selected}
                    onClick={() => setSelected(i.address)}
                    data-testid="inbox-row"
                    data-state={i.state}
                  >
                    <span className="inbox__state" data-state={i.state === 'received' && i.result && !i.result.verified ? 'altered' : i.state}>
                      {stateText(i)}
                    </span>
                    {who(i.sender)}
                    <small>
                      {i.instances} image(s) · {new Date(i.created).toLocaleString()} · for {who(i.recipient)}
                    </small>
                  </button>
                ))}
              </div>
              {it && list ? <PackageDetail key={it.address} it={it} list={list} onChanged={() => refresh()} /> : <div />}
            </div>
          </>
        )}
      </div>
    </div>
  );
}

/** The top bar's Inbox button (count of packages not yet received). */
export function InboxButton() {
  const [open, setOpen] = useState(false);
  const [count, setCount] = useState(0);
  useEffect(() => {
    const load = () => call('inbox.list', {}).then((l) => setCount(l.items.filter((i) => i.state === 'new').length), () => undefined);
    if (!open) load();
    try {
      return bridge().on((e) => {
        if (e.type === 'share') load();
      });
    } catch {
      return undefined;
    }
  }, [open]);
  return (
    <>
      <button type="button" className="tbtn tbtn--text inbox-btn" onClick={() => setOpen(true)} data-testid="inbox-open" title="Share packages received from other institutions; open a chain record from its store">
        Inbox{count > 0 && <span className="inbox-btn__count" data-testid="inbox-count">{count}</span>}
      </button>
      {open && createPortal(<InboxDialog onClose={() => setOpen(false)} />, document.body)}
    </>
  );
}
