import { useCallback, useEffect, useState } from 'react';
import { createPortal } from 'react-dom';
import type { StorageScpStatus } from '../../shared/api';
import { bridge, call } from '../bridge';
import { errorText, type UserError } from '../errors';
import { DialogActions, DialogOutcome, SettingsDialog } from './SettingsDialog';
import './storage-scp.css';

/**
 * Our Storage SCP (receive images from a modality or a PACS by C-STORE): on/off, AE title, port,
 * the address it listens on (this workstation only by default), the calling AE titles allowed to
 * send, and "anchor what arrives". Saved in SQLite; the main process starts / stops it to match.
 */
export function StorageScpSettings({ onClose }: { onClose: () => void }) {
  const [status, setStatus] = useState<StorageScpStatus | null>(null);
  const [aeTitle, setAeTitle] = useState('');
  const [port, setPort] = useState('');
  const [bind, setBind] = useState('127.0.0.1');
  const [allowed, setAllowed] = useState<string[]>([]);
  const [newAet, setNewAet] = useState('');
  const [anchor, setAnchor] = useState(false);
  const [enabled, setEnabled] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const load = useCallback((s: StorageScpStatus) => {
    setStatus(s);
    setAeTitle(s.settings.aeTitle);
    setPort(String(s.settings.port));
    setBind(s.settings.bindAddress);
    setAllowed(s.settings.allowedCallingAets);
    setAnchor(s.settings.anchorArrivals);
    setEnabled(s.settings.enabled);
  }, []);
  useEffect(() => {
    call('storageScp.status', {}).then(load, () => undefined);
  }, [load]);
  // Refresh the counts and recent arrivals when something arrives (the form keeps what is typed).
  useEffect(() => {
    try {
      return bridge().on((e) => {
        if (e.type === 'library-changed') call('storageScp.status', {}).then(setStatus, () => undefined);
      });
    } catch {
      return undefined;
    }
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const addAet = () => {
    const a = newAet.trim();
    if (a && !allowed.includes(a)) setAllowed([...allowed, a]);
    setNewAet('');
  };
  const save = async () => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const s = await call('storageScp.update', { enabled, aeTitle: aeTitle.trim(), port: Number(port), bindAddress: bind.trim(), allowedCallingAets: allowed, anchorArrivals: anchor });
      load(s);
      if (s.error) setError({ message: s.error, hint: 'Choose another port, or ask IT which program holds it.' });
      else setDone(s.listening ? `Listening as ${s.settings.aeTitle} on ${s.settings.bindAddress}:${s.port}.` : 'Saved. The Storage SCP is off.');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const loopback = bind.trim() === '127.0.0.1' || bind.trim() === '::1';

  return (
    <SettingsDialog title="Receive from a PACS or modality (Storage SCP)" label="Storage SCP settings" testId="storage-scp-settings" cardClassName="scp__card" onClose={onClose}>
        <p className="modal__note">
          Modalities and PACS send images here with C-STORE. What arrives is added to the library, fingerprinted and checked
          against the ledger. Only the AE titles you allow may send.
        </p>
        {status && (
          <p className="scp__state" data-testid="scp-state" data-listening={String(status.listening)} data-error={String(Boolean(status.error))}>
            <span className="scp__dot" aria-hidden="true" />
            {status.error
              ? `Not listening: ${status.error}`
              : status.listening
                ? `Listening as ${status.settings.aeTitle} on ${status.settings.bindAddress}:${status.port} — ${status.stats.stored} image(s) received, ${status.stats.rejected} caller(s) refused since start`
                : 'Off: nothing listens.'}
          </p>
        )}
        <label className="settings__choice">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} data-testid="scp-enabled" />
          <span>
            <strong>Receive images (Storage SCP on)</strong>
            <small>Off by default.</small>
          </span>
        </label>
        <div className="settings__grid">
          <label htmlFor="scp-aet">Our AE title</label>
          <input id="scp-aet" className="mono" value={aeTitle} maxLength={16} onChange={(e) => setAeTitle(e.target.value.toUpperCase())} spellCheck={false} />
          <label htmlFor="scp-port">Port</label>
          <input id="scp-port" value={port} onChange={(e) => setPort(e.target.value.replace(/\D/g, ''))} inputMode="numeric" />
          <label htmlFor="scp-bind">Listen on</label>
          <input id="scp-bind" className="mono" value={bind} onChange={(e) => setBind(e.target.value)} spellCheck={false} title="127.0.0.1: this workstation only; 0.0.0.0: every network interface" />
          <span />
          <small className="modal__note">{loopback ? 'This workstation only (loopback).' : 'Reachable from the network: tell IT to restrict it with the firewall too.'}</small>
          <label htmlFor="scp-new-aet">Allowed senders</label>
          <div>
            <div className="scp__aets" data-testid="scp-allowed">
              {allowed.length === 0 && <span className="modal__note">Nobody yet: every association is refused.</span>}
              {allowed.map((a) => (
                <span key={a} className="scp__aet" data-aet={a}>
                  {a}
                  <button type="button" className="btn btn--link" aria-label={`Remove ${a}`} onClick={() => setAllowed(allowed.filter((x) => x !== a))}>✕</button>
                </span>
              ))}
            </div>
            <div className="scp__add">
              <input
                id="scp-new-aet"
                className="mono"
                value={newAet}
                maxLength={16}
                placeholder="calling AE title, e.g. CT_SCANNER1"
                onChange={(e) => setNewAet(e.target.value.toUpperCase())}
                onKeyDown={(e) => e.key === 'Enter' && addAet()}
                spellCheck={false}
              />
              <button type="button" className="btn" onClick={addAet} disabled={!newAet.trim()}>Allow</button>
            </div>
          </div>
        </div>
        <label className="scp__check">
          <input type="checkbox" checked={anchor} onChange={(e) => setAnchor(e.target.checked)} data-testid="scp-anchor" />
          <span>
            Anchor what arrives on the ledger
            <small>Each study a sender delivers is recorded on chain by the clinician signed in here (off by default).</small>
          </span>
        </label>
        <DialogOutcome error={error} done={done} />
        {status && status.lastRejected && (
          <p className="modal__note" data-testid="scp-last-rejected">
            Last refused: {status.lastRejected.callingAet || '?'} from {status.lastRejected.remote} — {status.lastRejected.reason}.
          </p>
        )}
        {status && status.recent.length > 0 && (
          <>
            <h3 className="scp__section">Recently received</h3>
            <table className="scp__recent" data-testid="scp-recent">
              <thead>
                <tr><th>From</th><th>Image</th><th>State</th><th>Ledger</th></tr>
              </thead>
              <tbody>
                {status.recent.slice(0, 8).map((r) => (
                  <tr key={r.sopInstanceUid}>
                    <td>{r.callingAet ?? '—'}</td>
                    <td className="mono" title={r.sopInstanceUid}>…{r.sopInstanceUid.slice(-18)}</td>
                    <td>{r.state}</td>
                    <td data-v={r.verification ?? ''} title={r.message ?? ''}>{r.verification ?? 'not checked'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
        <DialogActions onClose={onClose}>
          <button type="button" className="btn btn--primary" data-testid="scp-save" disabled={busy || !aeTitle.trim() || !port} onClick={() => void save()}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </DialogActions>
    </SettingsDialog>
  );
}

/** The status-bar entry next to the ledger's: shows whether the Storage SCP listens, opens its settings. */
export function StorageScpStatusButton() {
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState<StorageScpStatus | null>(null);
  useEffect(() => {
    if (!open) call('storageScp.status', {}).then(setStatus, () => undefined);
  }, [open]);
  const text = status?.listening ? `Receiving as ${status.settings.aeTitle}:${status.port}` : 'Receive: off';
  return (
    <>
      <button type="button" className="scp-status" data-testid="scp-status" data-listening={String(status?.listening ?? false)} title="Storage SCP: receive images from a PACS or modality" onClick={() => setOpen(true)}>
        <span className="scp__dot" aria-hidden="true" />
        {text}
      </button>
      {open && createPortal(<StorageScpSettings onClose={() => setOpen(false)} />, document.body)}
    </>
  );
}
