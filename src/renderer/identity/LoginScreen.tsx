import { useEffect, useRef, useState } from 'react';
import type { IdentitySummary } from '../../shared/api';
import { call } from '../bridge';
import { CreateIdentityForm, exportIdentity, ImportIdentityForm } from './IdentityForms';
import { refreshAll, setViewOnly, useSession } from './session';
import { errCode, errText } from '../errors';
import { short } from '../format';
import { WalletPanel } from './WalletPanel';
import { BrandMark } from '../shell/BrandMark';

const ROLE_TEXT: Record<string, string> = { regulator: 'Regulator', institution: 'Institution admin', clinician: 'Clinician', patient: 'Patient' };

/**
 * The first screen when identities exist and none is unlocked: choose one, enter its passphrase.
 * A wrong passphrase says so and changes nothing. Create / import / export identities here too.
 */
export function LoginScreen({ onClose, forced }: { onClose(): void; forced?: boolean }) {
  const s = useSession();
  const [selected, setSelected] = useState<string | null>(null);
  const [pass, setPass] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [mode, setMode] = useState<'login' | 'create' | 'import'>('login');
  const passRef = useRef<HTMLInputElement>(null);

  const ids = s.identities;
  const sel: IdentitySummary | null = ids.find((i) => i.address === selected) ?? null;

  useEffect(() => {
    if (!selected && ids.length) setSelected((ids.find((i) => i.roleHint === 'clinician') ?? ids[0]!).address);
  }, [ids, selected]);

  useEffect(() => {
    setPass('');
    setError(null);
    passRef.current?.focus();
  }, [selected]);

  async function unlock() {
    if (!sel) return;
    setBusy(true);
    setError(null);
    try {
      await call('identity.unlock', { address: sel.address, passphrase: pass });
      setPass('');
      await refreshAll();
      onClose();
    } catch (e) {
      setError(errCode(e) === 'WRONG_PASSPHRASE' ? `Wrong passphrase for ${sel.displayName}. Nothing was locked or changed — try again.` : errText(e));
      setPass('');
      passRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login" role="dialog" aria-modal="true" aria-label="Sign in" data-testid="login">
      <div className="login__card">
        <header className="login__head">
          <BrandMark size={32} />
          <div>
            <h1>MedImgShr</h1>
            <p>Sign in with an identity on this workstation to anchor, share and administer. Viewing needs no sign-in.</p>
          </div>
        </header>
        {mode === 'create' && <CreateIdentityForm onCancel={() => setMode('login')} onDone={(i) => (setMode('login'), setSelected(i.address), setNote(`Identity “${i.displayName}” created.`))} />}
        {mode === 'import' && <ImportIdentityForm onCancel={() => setMode('login')} onDone={(i) => (setMode('login'), setSelected(i.address), setNote(`Identity “${i.displayName}” imported.`))} />}
        {mode === 'login' && (
          <div className="login__body">
            <div className="login__list" role="radiogroup" aria-label="Identities on this workstation">
              {ids.length === 0 && <p className="login__empty">No identity on this workstation yet. Create or import one.</p>}
              {ids.map((i) => (
                <button
                  key={i.address}
                  type="button"
                  role="radio"
                  aria-checked={selected === i.address}
                  className={`idcard${selected === i.address ? ' idcard--on' : ''}`}
                  data-testid="identity-option"
                  data-address={i.address}
                  onClick={() => setSelected(i.address)}
                >
                  <span className="idcard__name">
                    {i.displayName}
                    {i.demo && <span className="tag tag--demo">DEMO</span>}
                    {i.unlocked && <span className="tag tag--on">unlocked</span>}
                  </span>
                  <span className="idcard__meta">
                    <span className="mono">{short(i.address)}</span>
                    {i.roleHint ? ` · ${ROLE_TEXT[i.roleHint]}` : ''}
                  </span>
                </button>
              ))}
            </div>
            <form
              className="login__unlock"
              onSubmit={(e) => {
                e.preventDefault();
                void unlock();
              }}
            >
              {sel ? (
                <>
                  <div className="login__who">
                    <span className="login__who-name">{sel.displayName}</span>
                    <span className="mono login__who-addr" title={sel.address}>
                      {sel.address}
                    </span>
                  </div>
                  <label className="field">
                    <span>Passphrase</span>
                    <input ref={passRef} type="password" value={pass} onChange={(e) => setPass(e.target.value)} aria-label="Passphrase" autoComplete="current-password" autoFocus />
                  </label>
                  {sel.demo && s.demo?.passphrase && (
                    <p className="login__demo" data-testid="demo-hint">
                      DEMO identity (synthetic data only, never for patients). Its published passphrase is <code>{s.demo.passphrase}</code>.
                    </p>
                  )}
                  {error && (
                    <p className="form-error" role="alert" data-testid="login-error">
                      {error}
                    </p>
                  )}
                  {note && !error && <p className="form-ok">{note}</p>}
                  <div className="login__actions">
                    <button type="submit" className="btn btn--primary" disabled={busy || !pass}>
                      {busy ? 'Unlocking…' : 'Unlock'}
                    </button>
                    <button
                      type="button"
                      className="btn"
                      title="Download the encrypted keystore file (the key stays encrypted with its passphrase)"
                      onClick={async () => {
                        try {
                          setNote(`Saved ${await exportIdentity(sel.address)} (encrypted keystore).`);
                        } catch (e) {
                          setError(errText(e));
                        }
                      }}
                    >
                      Export keystore
                    </button>
                  </div>
                </>
              ) : (
                <p className="login__empty">Choose an identity.</p>
              )}
            </form>
          </div>
        )}
        {mode === 'login' && (
          <footer className="login__foot">
            <div className="login__more">
              <button type="button" className="btn btn--small" onClick={() => setMode('create')}>
                Create identity
              </button>
              <button type="button" className="btn btn--small" onClick={() => setMode('import')}>
                Import keystore or key
              </button>
              <button
                type="button"
                className="btn btn--small btn--ghost"
                onClick={() => {
                  setViewOnly(true);
                  onClose();
                }}
              >
                {forced ? 'Continue without signing in (view only)' : 'Close'}
              </button>
            </div>
            <div className="login__wallet">
              <WalletPanel />
            </div>
          </footer>
        )}
      </div>
    </div>
  );
}
