import { PatientConsents } from './PatientConsents';
import { useEffect, useState } from 'react';
import type { AdminAction, AdminResult, ChainRoles, RecordEvidence } from '../../shared/api';
import { call } from '../bridge';
import { RoleChips } from '../identity/RoleChips';
import { refreshMe, useSession } from '../identity/session';
import { errText } from '../errors';
import { short, whenSeconds } from '../format';
import { WalletPanel } from '../identity/WalletPanel';

const ADDR = /^0x[0-9a-fA-F]{40}$/;

const ACTION_TEXT: Record<AdminAction, string> = {
  registerInstitution: 'Register institution',
  suspendInstitution: 'Suspend',
  reinstateInstitution: 'Reinstate',
  grantClinician: 'Grant clinician',
  removeClinician: 'Remove clinician',
  registerPatientFor: 'Register verified patient',
  registerPatient: 'Register myself as patient',
};

/** One address field and the role actions on it; each action is one signed transaction. */
function AddressActions({ label, actions, testId, onDone }: { label: string; actions: AdminAction[]; testId: string; onDone?(): void }) {
  const [addr, setAddr] = useState('');
  const [busy, setBusy] = useState<AdminAction | null>(null);
  const [res, setRes] = useState<{ ok: true; r: AdminResult } | { ok: false; text: string } | null>(null);
  const valid = ADDR.test(addr.trim());
  return (
    <div className="console__form" data-testid={testId}>
      <label className="field">
        <span>{label}</span>
        <input value={addr} onChange={(e) => setAddr(e.target.value)} placeholder="0x… account address" aria-label={label} className="mono" spellCheck={false} />
      </label>
      <div className="console__buttons">
        {actions.map((a) => (
          <button
            key={a}
            type="button"
            className={`btn btn--small${a.startsWith('suspend') || a.startsWith('remove') ? ' btn--warn' : ''}`}
            disabled={!valid || busy !== null}
            onClick={async () => {
              setBusy(a);
              setRes(null);
              try {
                const r = await call('ledger.admin', { action: a, account: addr.trim() });
                setRes({ ok: true, r });
                onDone?.();
              } catch (e) {
                setRes({ ok: false, text: errText(e) });
              } finally {
                setBusy(null);
              }
            }}
          >
            {busy === a ? 'Signing…' : ACTION_TEXT[a]}
          </button>
        ))}
      </div>
      {res && res.ok && (
        <div className="form-ok" role="status" data-testid={`${testId}-result`}>
          {ACTION_TEXT[res.r.action]} done in block {res.r.block ?? '?'} (tx <span className="mono">{short(res.r.txHash, 8)}</span>). {short(res.r.account)} now: <RoleChips roles={res.r.roles} testId={`${testId}-roles`} />
        </div>
      )}
      {res && !res.ok && (
        <p className="form-error" role="alert" data-testid={`${testId}-error`}>
          {res.text}
        </p>
      )}
    </div>
  );
}

function Institutions({ tick }: { tick: number }) {
  const [list, setList] = useState<{ address: string; label: string | null; score: number; suspended: boolean; active: boolean }[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    call('trust.institutions', {}).then(
      (r) => setList(r.institutions.map((i) => ({ address: i.party.address, label: i.party.label, score: i.score, suspended: i.suspended, active: i.active }))),
      (e) => setErr(errText(e)),
    );
  }, [tick]);
  if (err) return <p className="console__note">{err}</p>;
  if (!list) return <p className="console__note">Reading the registry…</p>;
  return (
    <table className="console__table" data-testid="institution-list">
      <thead>
        <tr>
          <th>Institution</th>
          <th>Score</th>
          <th>Status</th>
        </tr>
      </thead>
      <tbody>
        {list.map((i) => (
          <tr key={i.address}>
            <td title={i.address}>
              {i.label ?? <span className="mono">{short(i.address)}</span>}
            </td>
            <td>{i.score}</td>
            <td className={i.suspended ? 'txt-warn' : i.active ? 'txt-ok' : 'txt-dim'}>{i.suspended ? 'suspended' : i.active ? 'active' : 'removed'}</td>
          </tr>
        ))}
        {list.length === 0 && (
          <tr>
            <td colSpan={3}>No institution registered.</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

function Lookup() {
  const [addr, setAddr] = useState('');
  const [roles, setRoles] = useState<ChainRoles | null>(null);
  const [err, setErr] = useState<string | null>(null);
  return (
    <form
      className="console__form"
      onSubmit={async (e) => {
        e.preventDefault();
        setErr(null);
        try {
          setRoles(await call('ledger.roles', { address: addr.trim() }));
        } catch (x) {
          setRoles(null);
          setErr(errText(x));
        }
      }}
    >
      <label className="field">
        <span>Account</span>
        <input value={addr} onChange={(e) => setAddr(e.target.value)} placeholder="0x… any account" aria-label="Look up account" className="mono" spellCheck={false} />
      </label>
      <button type="submit" className="btn btn--small" disabled={!ADDR.test(addr.trim())}>
        Read roles from chain
      </button>
      {roles && <RoleChips roles={roles} testId="lookup-roles" />}
      {err && <p className="form-error">{err}</p>}
    </form>
  );
}

/** Right-side drawer with the consoles the identity's on-chain roles allow. */
export function ConsoleDrawer({ onClose }: { onClose(): void }) {
  const s = useSession();
  const [tick, setTick] = useState(0);
  const roles = s.me?.roles ?? null;
  const stale = !roles && !!s.lastRoles;
  const r = roles ?? s.lastRoles;
  const after = () => {
    setTick((t) => t + 1);
    void refreshMe();
  };
  return (
    <aside className="drawer" role="dialog" aria-label="Ledger console" data-testid="console">
      <header className="drawer__head">
        <h2>Ledger console</h2>
        <button type="button" className="btn btn--small" onClick={onClose} aria-label="Close console">
          ✕
        </button>
      </header>
      <div className="drawer__body">
        {!s.current ? (
          <p className="console__note">No identity is unlocked. Sign in to see what you may do on the ledger.</p>
        ) : (
          <section className="console__section">
            <div className="console__who">
              <strong>{s.current.displayName}</strong>
              {s.current.demo && <span className="tag tag--demo">DEMO</span>}
              <span className="mono console__addr" title={s.current.address}>
                {s.current.address}
              </span>
            </div>
            {r ? <RoleChips roles={r} stale={stale} testId="my-roles" /> : <p className="console__note">{s.me?.message ?? 'Roles not read yet.'}</p>}
            {stale && <p className="console__note txt-warn">The ledger is unreachable: these roles were read earlier; actions will fail until it is back.</p>}
            {r?.clinicianOf && (
              <p className="console__note">
                Clinician of <span className="mono">{short(r.clinicianOf)}</span>
              </p>
            )}
          </section>
        )}
        {r?.regulator && (
          <section className="console__section" data-testid="console-regulator">
            <h3>Regulator</h3>
            <AddressActions label="Institution account" actions={['registerInstitution', 'suspendInstitution', 'reinstateInstitution']} testId="regulator-form" onDone={after} />
            <Institutions tick={tick} />
          </section>
        )}
        {r?.institution && (
          <section className="console__section" data-testid="console-institution">
            <h3>Institution admin{r.suspended ? ' (suspended)' : ''}</h3>
            <AddressActions label="Clinician account" actions={['grantClinician', 'removeClinician']} testId="clinician-form" onDone={after} />
            <AddressActions label="Patient account (identity checked in person)" actions={['registerPatientFor']} testId="patient-form" onDone={after} />
          </section>
        )}
        {r?.clinician && (
          <section className="console__section" data-testid="console-clinician">
            <h3>Clinician</h3>
            <p className="console__note">Open a study and use “Anchor on ledger” in the top bar to record its fingerprints. Every displayed image is checked against the ledger.</p>
          </section>
        )}
        {r?.patient && (
          <section className="console__section" data-testid="console-patient">
            <h3>Patient</h3>
            <p className="console__note">Your credit score is {r.score ?? '—'}. The trust panel of a study shows its consents and sharing history.</p>
            <PatientRecords address={r.address} tick={tick} />
            <PatientConsents address={r.address} tick={tick} />
          </section>
        )}
        {s.current && r && !r.patient && !r.institution && !r.clinician && !r.regulator && (
          <section className="console__section" data-testid="console-none">
            <h3>No role yet</h3>
            <p className="console__note">This identity holds no role on the ledger. An institution can grant you the clinician role, or register you as a verified patient; you can also register yourself as a patient.</p>
            <SelfRegister onDone={after} />
          </section>
        )}
        <section className="console__section">
          <h3>Look up an account</h3>
          <Lookup />
        </section>
        <section className="console__section">
          <h3>Browser wallet</h3>
          <WalletPanel />
        </section>
      </div>
    </aside>
  );
}

function SelfRegister({ onDone }: { onDone(): void }) {
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        className="btn btn--small"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            const r = await call('ledger.admin', { action: 'registerPatient' });
            setMsg(`Registered as patient in block ${r.block ?? '?'}.`);
            onDone();
          } catch (e) {
            setMsg(errText(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        Register myself as patient
      </button>
      {msg && <p className="console__note">{msg}</p>}
    </>
  );
}

/** The patient's own records as the chain lists them (public data; institutions and clinicians as addresses). */
function PatientRecords({ address, tick }: { address: string; tick: number }) {
  const [list, setList] = useState<{ total: number; records: RecordEvidence[] } | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    call('ledger.patientRecords', { patient: address }).then(setList, (e) => setErr(errText(e)));
  }, [address, tick]);
  if (err) return <p className="console__note">{err}</p>;
  if (!list) return <p className="console__note">Reading your records from the chain…</p>;
  return (
    <>
      <p className="console__note" data-testid="patient-record-count" data-total={list.total}>
        {list.total === 0 ? 'No image record on chain names you yet.' : `${list.total} image record(s) on chain name you:`}
      </p>
      {list.total > 0 && (
        <table className="console__table" data-testid="patient-records">
          <thead>
            <tr>
              <th>Anchored</th>
              <th>Images</th>
              <th>Institution</th>
              <th>Block</th>
            </tr>
          </thead>
          <tbody>
            {list.records.map((r) => (
              <tr key={r.root} title={`root ${r.root}${r.supersededBy ? ` (superseded by ${r.supersededBy})` : ''}`}>
                <td>{whenSeconds(r.time)}</td>
                <td>
                  {r.leafCount}
                  {r.version > 1 ? ` (v${r.version})` : ''}
                </td>
                <td className="mono">{short(r.institution)}</td>
                <td>{r.block ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
