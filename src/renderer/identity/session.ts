/**
 * The signed-in session as the renderer sees it: local identities, the unlocked one, its roles as
 * the chain reported them (never local hints), the demo status and the ledger info (sync, outbox).
 * One store for the whole window, kept live by pushed events.
 */
import { useSyncExternalStore } from 'react';
import type { ChainRoles, DemoStatus, IdentitySummary, LedgerIdentity, LedgerInfo } from '../../shared/api';
import { bridge, call } from '../bridge';
import { Store } from '../store';

export interface Session {
  loaded: boolean;
  identities: IdentitySummary[];
  current: IdentitySummary | null;
  me: LedgerIdentity | null;
  /** Roles last read from the chain for the current identity (kept while the ledger is down, marked stale). */
  lastRoles: ChainRoles | null;
  demo: DemoStatus | null;
  info: LedgerInfo | null;
  /** The user chose to continue without unlocking (view only) in this window. */
  viewOnly: boolean;
}

export const session = new Store<Session>({
  loaded: false,
  identities: [],
  current: null,
  me: null,
  lastRoles: null,
  demo: null,
  info: null,
  viewOnly: false,
});

function applyMe(me: LedgerIdentity) {
  session.set((s) => ({
    ...s,
    me,
    current: me.identity,
    lastRoles: me.roles && me.identity && me.roles.address === me.identity.address ? me.roles : me.identity && s.lastRoles?.address === me.identity.address ? s.lastRoles : null,
  }));
}

export async function refreshIdentities(): Promise<void> {
  const r = await call('identity.list', {});
  const current = r.identities.find((i) => i.address === r.current) ?? null;
  session.set((s) => ({ ...s, loaded: true, identities: r.identities, current }));
}

export async function refreshMe(): Promise<void> {
  applyMe(await call('ledger.me', {}));
}

export async function refreshInfo(): Promise<void> {
  const info = await call('ledger.info', {});
  session.set((s) => ({ ...s, info }));
}

export async function refreshDemo(): Promise<void> {
  const demo = await call('ledger.demoStatus', {}).catch(() => null);
  session.set((s) => ({ ...s, demo }));
}

export async function refreshAll(): Promise<void> {
  await Promise.all([refreshIdentities().catch(() => session.set((s) => ({ ...s, loaded: true }))), refreshMe().catch(() => undefined), refreshInfo().catch(() => undefined), refreshDemo()]);
}

let started = false;
/** Starts the session store once (listens to pushed events). */
export function startSession(): void {
  if (started) return;
  started = true;
  void refreshAll();
  let infoTimer: number | null = null;
  const infoSoon = () => {
    if (infoTimer !== null) return;
    infoTimer = window.setTimeout(() => {
      infoTimer = null;
      void refreshInfo().catch(() => undefined);
    }, 250);
  };
  bridge().on((e) => {
    if (e.type === 'ledger-identity') {
      applyMe(e.me);
      void refreshIdentities().catch(() => undefined);
    } else if (e.type === 'ledger-status') {
      infoSoon();
      void refreshMe().catch(() => undefined);
    } else if (e.type === 'demo') {
      // The DEMO was set up after this window first asked (first start): its identities and hint now.
      session.set((s) => ({ ...s, demo: e.status }));
      void refreshIdentities().catch(() => undefined);
    } else if (e.type === 'ledger-sync' || e.type === 'ledger-anchor') {
      infoSoon();
    }
  });
  // The outbox and sync move without events sometimes (retries): a slow poll keeps the status bar honest.
  window.setInterval(() => void refreshInfo().catch(() => undefined), 5000);
}

export function useSession(): Session {
  return useSyncExternalStore(session.subscribe, session.get);
}

export function setViewOnly(v: boolean): void {
  session.set((s) => ({ ...s, viewOnly: v }));
}

/** Whether the current identity may anchor, and if not, why (for the disabled button's tooltip). */
export function anchorPermission(s: Session): { ok: boolean; why: string } {
  if (!s.current) return { ok: false, why: 'Log in as a clinician to anchor (no identity is unlocked).' };
  const roles = s.me?.roles ?? s.lastRoles;
  if (!roles) return { ok: false, why: s.me?.message ?? 'The roles of this identity are not known yet.' };
  if (!roles.clinician) return { ok: false, why: `${s.current.displayName} is not a clinician on the ledger; only clinicians anchor studies.` };
  return { ok: true, why: s.me?.roles ? 'Anchor this study\'s fingerprints on the ledger' : 'The ledger is unreachable: the anchor will be queued and sent when it is back.' };
}
