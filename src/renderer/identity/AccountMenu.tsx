import { useEffect, useRef, useState } from 'react';
import { call } from '../bridge';
import { RoleChips } from './RoleChips';
import { refreshAll, setViewOnly, useSession } from './session';

/** The identity in the top bar: who is signed in, their on-chain roles, console, lock / switch. */
export function AccountMenu({ onConsole, onSignIn }: { onConsole(): void; onSignIn(): void }) {
  const s = useSession();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => ref.current && !ref.current.contains(e.target as Node) && setOpen(false);
    window.addEventListener('mousedown', close);
    return () => window.removeEventListener('mousedown', close);
  }, [open]);

  const lock = async () => {
    setOpen(false);
    await call('identity.lock', {}).catch(() => undefined);
    await refreshAll();
  };

  if (!s.current) {
    return (
      <div className="account">
        <button type="button" className="tbtn tbtn--text account__btn" data-testid="sign-in" onClick={() => (setViewOnly(false), onSignIn())} title="Sign in with an identity to anchor and administer">
          Sign in
        </button>
      </div>
    );
  }
  const roles = s.me?.roles ?? s.lastRoles;
  return (
    <div className="account" ref={ref}>
      <button type="button" className="tbtn tbtn--text account__btn" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((o) => !o)} data-testid="account" title={`${s.current.displayName} · ${s.current.address}${s.me?.roles ? '' : ' · roles last read from the ledger'}`}>
        <span className="account__name">{s.current.displayName}</span>
        {s.current.demo && <span className="tag tag--demo">DEMO</span>}
        {roles && <RoleChips roles={roles} stale={!s.me?.roles} testId="topbar-roles" brief />}
      </button>
      {open && (
        <div className="menu" role="menu">
          <div className="menu__head">
            <strong>{s.current.displayName}</strong>
            <span className="mono">{s.current.address}</span>
          </div>
          <button type="button" role="menuitem" className="menu__item" onClick={() => (setOpen(false), onConsole())}>
            Ledger console…
          </button>
          <button
            type="button"
            role="menuitem"
            className="menu__item"
            onClick={async () => {
              await lock();
              onSignIn();
            }}
          >
            Switch identity…
          </button>
          <button type="button" role="menuitem" className="menu__item" data-testid="lock" onClick={() => void lock()}>
            Lock
          </button>
        </div>
      )}
    </div>
  );
}
