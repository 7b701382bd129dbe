import { useEffect, useState } from 'react';
import type { PacsAuth, PacsConnectionForm, PacsConnectionInfo, PacsTestResult } from '../../shared/api';
import { call } from '../bridge';
import { refreshConnections, usePacsConnections } from './connections';
import { pacsProblem, ProblemBox, type PacsProblem } from './problems';
import './pacs.css';

interface FormState {
  name: string;
  useWeb: boolean;
  url: string;
  auth: PacsAuth;
  username: string;
  secret: string;
  caPath: string;
  dropCa: boolean;
  useDimse: boolean;
  host: string;
  port: string;
  calledAet: string;
  callingAet: string;
  timeoutS: string;
}

const EMPTY: FormState = { name: '', useWeb: true, url: '', auth: 'none', username: '', secret: '', caPath: '', dropCa: false, useDimse: false, host: '', port: '104', calledAet: '', callingAet: 'MEDIMGSHR', timeoutS: '30' };

function formOf(c: PacsConnectionInfo): FormState {
  return {
    ...EMPTY,
    name: c.name,
    useWeb: c.dicomweb !== null,
    url: c.dicomweb?.url ?? '',
    auth: c.dicomweb?.auth ?? 'none',
    username: c.dicomweb?.username ?? '',
    useDimse: c.dimse !== null,
    host: c.dimse?.host ?? '',
    port: c.dimse ? String(c.dimse.port) : '104',
    calledAet: c.dimse?.calledAet ?? '',
    callingAet: c.dimse?.callingAet ?? 'MEDIMGSHR',
    timeoutS: String(c.timeoutMs / 1000),
  };
}

function request(f: FormState, editing: PacsConnectionInfo | null): PacsConnectionForm {
  const keepSecret = editing?.dicomweb && editing.dicomweb.auth === f.auth && (editing.dicomweb.hasPassword || editing.dicomweb.hasToken) && !f.secret;
  return {
    name: f.name.trim(),
    dicomweb: f.useWeb
      ? {
          url: f.url.trim(),
          auth: f.auth,
          username: f.auth === 'basic' ? f.username.trim() : null,
          ...(f.auth !== 'none' && !keepSecret && f.secret ? { secret: f.secret } : {}),
          caPath: f.caPath.trim() || null,
          keepCa: !f.dropCa,
        }
      : null,
    dimse: f.useDimse ? { host: f.host.trim(), port: Number(f.port), calledAet: f.calledAet.trim(), callingAet: f.callingAet.trim() || undefined } : null,
    timeoutMs: Math.round(Number(f.timeoutS || '30') * 1000),
  };
}

function summary(c: PacsConnectionInfo): string[] {
  const out: string[] = [];
  if (c.dicomweb) {
    const auth = c.dicomweb.auth === 'basic' ? `user ${c.dicomweb.username ?? ''}${c.dicomweb.hasPassword ? ', password stored' : ''}` : c.dicomweb.auth === 'bearer' ? `token${c.dicomweb.hasToken ? ' stored' : ' missing'}` : 'no sign-in';
    out.push(`DICOMweb ${c.dicomweb.url} · ${auth}${c.dicomweb.caSubject ? ` · CA ${c.dicomweb.caSubject}` : ''}`);
  }
  if (c.dimse) out.push(`DIMSE ${c.dimse.calledAet} at ${c.dimse.host}:${c.dimse.port} · we are ${c.dimse.callingAet}`);
  return out;
}

function TestOutcome({ result }: { result: PacsTestResult }) {
  const part = (label: string, r: PacsTestResult['dicomweb']) => {
    if (!r) return null;
    if (r.ok) {
      const seen = r.studiesSeen === undefined ? '' : r.studiesSeen > 0 ? ' · studies seen on the PACS' : ' · no studies seen (the PACS is empty, or this account sees none)';
      return (
        <li className="pacs-test__ok" data-testid={`pacs-test-${label === 'DICOMweb' ? 'dicomweb' : 'dimse'}`} data-ok="true">
          <strong>{label}: OK</strong> — answered in {r.ms} ms{seen}
        </li>
      );
    }
    const p = pacsProblem(r.error);
    return (
      <li className="pacs-test__bad" data-testid={`pacs-test-${label === 'DICOMweb' ? 'dicomweb' : 'dimse'}`} data-ok="false" data-reason={p.reason}>
        <strong>
          {label}: {p.title}
        </strong>
        <p>{p.message}</p>
        {p.hint && <p className="pacs-problem__hint">What to do: {p.hint}</p>}
      </li>
    );
  };
  return (
    <ul className="pacs-test" data-testid="pacs-test-result" data-ok={result.ok}>
      {part('DICOMweb', result.dicomweb)}
      {part('DIMSE (C-ECHO)', result.dimse)}
    </ul>
  );
}

/**
 * Settings → PACS: the connections (DICOMweb and / or DIMSE), add / edit / remove, and a test that
 * says precisely what failed and what to do. Passwords and tokens go to the main process and are
 * never shown again (only "password stored").
 */
export function PacsSettingsDialog({ onClose }: { onClose: () => void }) {
  const connections = usePacsConnections();
  const [editing, setEditing] = useState<PacsConnectionInfo | 'new' | null>(null);
  const [form, setForm] = useState<FormState>(EMPTY);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<PacsProblem | null>(null);
  const [tests, setTests] = useState<Map<number, PacsTestResult | 'running'>>(new Map());
  const [confirmRemove, setConfirmRemove] = useState<number | null>(null);

  useEffect(() => {
    void refreshConnections().catch(() => undefined);
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setForm((f) => ({ ...f, [k]: v }));

  async function test(id: number) {
    setTests((m) => new Map(m).set(id, 'running'));
    try {
      const r = await call('pacs.connections.test', { id });
      setTests((m) => new Map(m).set(id, r));
    } catch (e) {
      setTests((m) => {
        const n = new Map(m);
        n.delete(id);
        return n;
      });
      setProblem(pacsProblem(e));
    }
  }

  async function save(andTest: boolean) {
    setBusy(true);
    setProblem(null);
    try {
      const cur = editing === 'new' ? null : editing;
      const req = request(form, cur);
      const saved = cur ? await call('pacs.connections.update', { id: cur.id, ...req }) : await call('pacs.connections.add', req);
      await refreshConnections();
      setEditing(null);
      setForm(EMPTY);
      if (andTest) await test(saved.id);
    } catch (e) {
      setProblem(pacsProblem(e));
    } finally {
      setBusy(false);
    }
  }

  async function remove(id: number) {
    if (confirmRemove !== id) {
      setConfirmRemove(id);
      return;
    }
    setConfirmRemove(null);
    try {
      await call('pacs.connections.remove', { id });
      await refreshConnections();
    } catch (e) {
      setProblem(pacsProblem(e));
    }
  }

  async function chooseCa() {
    try {
      const r = await call('app.pickPaths', { mode: 'files' });
      if (r.paths[0]) set('caPath', r.paths[0]);
    } catch (e) {
      setProblem(pacsProblem(e));
    }
  }

  const cur = editing !== null && editing !== 'new' ? editing : null;
  const storedSecret = cur?.dicomweb && cur.dicomweb.auth === form.auth && (cur.dicomweb.hasPassword || cur.dicomweb.hasToken);
  const canSave = form.name.trim() && (form.useWeb || form.useDimse) && (!form.useWeb || form.url.trim()) && (!form.useDimse || (form.host.trim() && form.port && form.calledAet.trim()));

  return (
    <div className="modal" role="dialog" aria-modal="true" aria-label="PACS settings" data-testid="pacs-settings">
      <div className="modal__card pacs-settings">
        <header className="modal__head">
          <h2>PACS connections</h2>
          <button type="button" className="btn btn--ghost" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </header>
        <p className="modal__note">
          Search and retrieve studies from a PACS over DICOMweb (QIDO-RS / WADO-RS) or DICOM (C-FIND / C-GET). Passwords and tokens are stored
          encrypted and never shown again.
        </p>

        {editing === null && (
          <>
            <ul className="pacs-conns" data-testid="pacs-connections">
              {connections?.length === 0 && <li className="pacs-conns__none">No PACS connection yet.</li>}
              {connections?.map((c) => {
                const t = tests.get(c.id);
                return (
                  <li key={c.id} className="pacs-conn" data-testid="pacs-connection" data-name={c.name}>
                    <div className="pacs-conn__head">
                      <strong className="pacs-conn__name">{c.name}</strong>
                      <span className="pacs-conn__actions">
                        <button type="button" className="btn btn--small" onClick={() => void test(c.id)} disabled={t === 'running'}>
                          {t === 'running' ? 'Testing…' : 'Test'}
                        </button>
                        <button
                          type="button"
                          className="btn btn--small"
                          onClick={() => {
                            setEditing(c);
                            setForm(formOf(c));
                            setProblem(null);
                          }}
                        >
                          Edit
                        </button>
                        <button type="button" className={`btn btn--small${confirmRemove === c.id ? ' btn--warn' : ''}`} onClick={() => void remove(c.id)} onBlur={() => setConfirmRemove(null)}>
                          {confirmRemove === c.id ? 'Remove?' : 'Remove'}
                        </button>
                      </span>
                    </div>
                    {summary(c).map((line) => (
                      <div className="pacs-conn__line" key={line} title={line}>
                        {line}
                      </div>
                    ))}
                    {t && t !== 'running' && <TestOutcome result={t} />}
                  </li>
                );
              })}
            </ul>
            {problem && <ProblemBox problem={problem} onDismiss={() => setProblem(null)} />}
            <div className="modal__actions">
              <button type="button" className="btn" onClick={onClose}>
                Close
              </button>
              <button
                type="button"
                className="btn btn--primary"
                onClick={() => {
                  setEditing('new');
                  setForm(EMPTY);
                  setProblem(null);
                }}
              >
                Add a PACS…
              </button>
            </div>
          </>
        )}

        {editing !== null && (
          <form
            className="pacs-form"
            data-testid="pacs-form"
            onSubmit={(e) => {
              e.preventDefault();
              void save(true);
            }}
          >
            <div className="settings__grid">
              <label htmlFor="pacs-name">Name</label>
              <input id="pacs-name" value={form.name} onChange={(e) => set('name', e.target.value)} placeholder="e.g. Hospital PACS" maxLength={64} />
            </div>
            <fieldset className="pacs-form__part">
              <legend>
                <label>
                  <input type="checkbox" checked={form.useWeb} onChange={(e) => set('useWeb', e.target.checked)} /> DICOMweb
                </label>
              </legend>
              {form.useWeb && (
                <div className="settings__grid">
                  <label htmlFor="pacs-url">Base URL</label>
                  <input id="pacs-url" className="mono" value={form.url} onChange={(e) => set('url', e.target.value)} placeholder="https://pacs.example.org/dicom-web" spellCheck={false} />
                  <label htmlFor="pacs-auth">Sign-in</label>
                  <select id="pacs-auth" value={form.auth} onChange={(e) => set('auth', e.target.value as PacsAuth)}>
                    <option value="none">None</option>
                    <option value="basic">User name and password (basic)</option>
                    <option value="bearer">Token (bearer)</option>
                  </select>
                  {form.auth === 'basic' && (
                    <>
                      <label htmlFor="pacs-user">User name</label>
                      <input id="pacs-user" value={form.username} onChange={(e) => set('username', e.target.value)} autoComplete="off" spellCheck={false} />
                    </>
                  )}
                  {form.auth !== 'none' && (
                    <>
                      <label htmlFor="pacs-secret">{form.auth === 'basic' ? 'Password' : 'Token'}</label>
                      <input
                        id="pacs-secret"
                        type="password"
                        value={form.secret}
                        onChange={(e) => set('secret', e.target.value)}
                        autoComplete="new-password"
                        placeholder={storedSecret ? 'stored — leave empty to keep it' : ''}
                      />
                    </>
                  )}
                  <label htmlFor="pacs-ca">CA certificate</label>
                  <span className="pacs-form__ca">
                    <input id="pacs-ca" className="mono" value={form.caPath} onChange={(e) => set('caPath', e.target.value)} placeholder={cur?.dicomweb?.caSubject && !form.dropCa ? `kept: ${cur.dicomweb.caSubject}` : 'optional: PEM file of the hospital CA'} spellCheck={false} />
                    <button type="button" className="btn btn--small" onClick={() => void chooseCa()}>
                      Choose…
                    </button>
                    {cur?.dicomweb?.caSubject && (
                      <label className="pacs-form__drop">
                        <input type="checkbox" checked={form.dropCa} onChange={(e) => set('dropCa', e.target.checked)} /> remove
                      </label>
                    )}
                  </span>
                </div>
              )}
            </fieldset>
            <fieldset className="pacs-form__part">
              <legend>
                <label>
                  <input type="checkbox" checked={form.useDimse} onChange={(e) => set('useDimse', e.target.checked)} /> DICOM (DIMSE)
                </label>
              </legend>
              {form.useDimse && (
                <div className="settings__grid">
                  <label htmlFor="pacs-host">Host</label>
                  <input id="pacs-host" value={form.host} onChange={(e) => set('host', e.target.value)} placeholder="pacs.example.org or 10.0.0.5" spellCheck={false} />
                  <label htmlFor="pacs-port">Port</label>
                  <input id="pacs-port" value={form.port} onChange={(e) => set('port', e.target.value.replace(/\D/g, ''))} inputMode="numeric" />
                  <label htmlFor="pacs-called">PACS AE title</label>
                  <input id="pacs-called" className="mono" value={form.calledAet} onChange={(e) => set('calledAet', e.target.value)} maxLength={16} placeholder="called AE title" spellCheck={false} />
                  <label htmlFor="pacs-calling">Our AE title</label>
                  <input id="pacs-calling" className="mono" value={form.callingAet} onChange={(e) => set('callingAet', e.target.value)} maxLength={16} spellCheck={false} />
                </div>
              )}
            </fieldset>
            <div className="settings__grid">
              <label htmlFor="pacs-timeout">Time limit (s)</label>
              <input id="pacs-timeout" value={form.timeoutS} onChange={(e) => set('timeoutS', e.target.value.replace(/[^\d.]/g, ''))} inputMode="decimal" />
            </div>
            {problem && <ProblemBox problem={problem} onDismiss={() => setProblem(null)} />}
            <div className="modal__actions">
              <button
                type="button"
                className="btn"
                onClick={() => {
                  setEditing(null);
                  setProblem(null);
                }}
              >
                Cancel
              </button>
              <button type="button" className="btn" disabled={busy || !canSave} onClick={() => void save(false)}>
                Save
              </button>
              <button type="submit" className="btn btn--primary" disabled={busy || !canSave}>
                {busy ? 'Saving…' : 'Save and test'}
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}
