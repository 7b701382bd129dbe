import { useState } from 'react';
import type { IdentitySummary, RoleHint } from '../../shared/api';
import { call } from '../bridge';
import { refreshIdentities } from './session';
import { errText } from '../errors';
import { download } from '../files';

const ROLE_HINTS: { value: RoleHint | ''; label: string }[] = [
  { value: '', label: 'Not said' },
  { value: 'clinician', label: 'Clinician' },
  { value: 'institution', label: 'Institution admin' },
  { value: 'regulator', label: 'Regulator' },
  { value: 'patient', label: 'Patient' },
];

function RoleSelect({ value, onChange }: { value: RoleHint | ''; onChange(v: RoleHint | ''): void }) {
  return (
    <label className="field">
      <span>Used as</span>
      <select value={value} onChange={(e) => onChange(e.target.value as RoleHint | '')} aria-label="Used as">
        {ROLE_HINTS.map((r) => (
          <option key={r.value} value={r.value}>
            {r.label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function CreateIdentityForm({ onDone, onCancel }: { onDone(i: IdentitySummary): void; onCancel(): void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<RoleHint | ''>('');
  const [pass, setPass] = useState('');
  const [pass2, setPass2] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const mismatch = pass2.length > 0 && pass !== pass2;
  return (
    <form
      className="idform"
      aria-label="Create identity"
      onSubmit={async (e) => {
        e.preventDefault();
        if (pass !== pass2) return setError('The two passphrases differ.');
        setBusy(true);
        setError(null);
        try {
          const i = await call('identity.create', { displayName: name, passphrase: pass, roleHint: role || null });
          await refreshIdentities();
          onDone(i);
        } catch (err) {
          setError(errText(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h3>Create a new identity</h3>
      <p className="idform__note">A new key pair is made and stored encrypted (scrypt) on this workstation. The key never leaves the main process.</p>
      <label className="field">
        <span>Name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} aria-label="Identity name" required maxLength={80} />
      </label>
      <RoleSelect value={role} onChange={setRole} />
      <label className="field">
        <span>Passphrase</span>
        <input type="password" value={pass} onChange={(e) => setPass(e.target.value)} aria-label="New passphrase" minLength={8} required autoComplete="new-password" />
      </label>
      <label className="field">
        <span>Repeat</span>
        <input type="password" value={pass2} onChange={(e) => setPass2(e.target.value)} aria-label="Repeat passphrase" required autoComplete="new-password" />
      </label>
      {mismatch && <p className="form-error">The two passphrases differ.</p>}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="idform__actions">
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn--primary" disabled={busy || !name.trim() || pass.length < 8 || mismatch}>
          {busy ? 'Creating…' : 'Create'}
        </button>
      </div>
    </form>
  );
}

export function ImportIdentityForm({ onDone, onCancel }: { onDone(i: IdentitySummary): void; onCancel(): void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<RoleHint | ''>('');
  const [mode, setMode] = useState<'keystore' | 'key'>('keystore');
  const [json, setJson] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [key, setKey] = useState('');
  const [pass, setPass] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="idform"
      aria-label="Import identity"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          const i = await call('identity.import', {
            displayName: name,
            roleHint: role || null,
            passphrase: pass,
            ...(mode === 'keystore' ? { keystoreJson: json } : { privateKey: key.trim() }),
          });
          await refreshIdentities();
          onDone(i);
        } catch (err) {
          setError(errText(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h3>Import an identity</h3>
      <div className="seg" role="radiogroup" aria-label="Import from">
        <button type="button" role="radio" aria-checked={mode === 'keystore'} className={`seg__btn${mode === 'keystore' ? ' seg__btn--on' : ''}`} onClick={() => setMode('keystore')}>
          Keystore file (JSON)
        </button>
        <button type="button" role="radio" aria-checked={mode === 'key'} className={`seg__btn${mode === 'key' ? ' seg__btn--on' : ''}`} onClick={() => setMode('key')}>
          Private key
        </button>
      </div>
      <label className="field">
        <span>Name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} aria-label="Identity name" required maxLength={80} />
      </label>
      <RoleSelect value={role} onChange={setRole} />
      {mode === 'keystore' ? (
        <>
          <label className="field">
            <span>File</span>
            <input
              type="file"
              accept=".json,application/json"
              aria-label="Keystore file"
              onChange={async (e) => {
                const f = e.target.files?.[0];
                if (!f) return;
                setFileName(f.name);
                setJson(await f.text());
              }}
            />
          </label>
          <label className="field">
            <span>or paste</span>
            <textarea value={json} onChange={(e) => setJson(e.target.value)} aria-label="Keystore JSON" rows={3} placeholder='{"address": …, "crypto": …}' />
          </label>
          {fileName && <p className="idform__note">Read {fileName}.</p>}
          <label className="field">
            <span>Passphrase</span>
            <input type="password" value={pass} onChange={(e) => setPass(e.target.value)} aria-label="Keystore passphrase" required autoComplete="off" />
          </label>
        </>
      ) : (
        <>
          <label className="field">
            <span>Private key</span>
            <input type="password" value={key} onChange={(e) => setKey(e.target.value)} aria-label="Private key" placeholder="0x + 64 hex digits" required autoComplete="off" />
          </label>
          <label className="field">
            <span>New passphrase</span>
            <input type="password" value={pass} onChange={(e) => setPass(e.target.value)} aria-label="New passphrase" minLength={8} required autoComplete="new-password" />
          </label>
          <p className="idform__note">The key is encrypted with this passphrase and stored; it is not kept in the window.</p>
        </>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="idform__actions">
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn--primary" disabled={busy || !name.trim() || !pass || (mode === 'keystore' ? json.length < 2 : !key)}>
          {busy ? 'Importing…' : 'Import'}
        </button>
      </div>
    </form>
  );
}

/** Downloads the identity's encrypted keystore (never the raw key). */
export async function exportIdentity(address: string): Promise<string> {
  const r = await call('identity.export', { address });
  download(r.fileName, r.keystoreJson);
  return r.fileName;
}
