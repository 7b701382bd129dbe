/** Small display helpers shared by the trust panel, the export / share dialogs and the audit log. */
import type { PartyRef } from '../shared/api';
import { BridgeError } from './bridge';

export function shortAddr(a: string | null | undefined): string {
  if (!a) return '—';
  return a.length > 14 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a;
}

export function shortHash(h: string | null | undefined): string {
  if (!h) return '—';
  return h.length > 18 ? `${h.slice(0, 10)}…${h.slice(-6)}` : h;
}

/** For narrow table columns: 0x26dc…b6e8 (the full value is in the cell's tooltip). */
export function tinyHash(h: string | null | undefined): string {
  if (!h) return '—';
  return h.length > 12 ? `${h.slice(0, 6)}…${h.slice(-4)}` : h;
}

/** "DEMO Partner Hospital" (label without the role suffix) or the short address. */
export function partyName(p: PartyRef | null | undefined): string {
  if (!p) return '—';
  if (p.label) return p.label.replace(/\s*\((institution|clinician|patient|regulator)\)\s*$/i, '');
  return `${p.role === 'unknown' ? 'account' : p.role} ${shortAddr(p.address)}`;
}

/** Local date and time, to the minute, in a fixed readable form: 2026-11-22 09:41. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function whenSeconds(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${when(iso)}:${String(d.getSeconds()).padStart(2, '0')}`;
}

/** "12 s ago", "4 min ago", "3 h ago", else the date. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return when(iso);
}

export function signed(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `−${Math.abs(n)}` : '±0';
}

export function errorText(e: unknown): { message: string; hint: string | null; code: string } {
  if (e instanceof BridgeError) return { message: e.error.message, hint: e.error.hint ?? null, code: e.error.code };
  return { message: e instanceof Error ? e.message : String(e), hint: null, code: 'INTERNAL' };
}

export const STATE_TEXT: Record<string, string> = {
  verified: 'verified',
  altered: 'altered',
  'not-registered': 'not registered',
  'ledger-unreachable': 'ledger unreachable',
  unreadable: 'unreadable',
};
