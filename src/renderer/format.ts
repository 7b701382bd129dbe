/**
 * How the UI writes values: dates and times, addresses and hashes, DICOM names and dates,
 * verification states, score changes, rates and sizes. One place, so every screen says it the same way.
 */
import type { PartyRef, VerificationState } from '../shared/api';

/** The start and end of a long value with an ellipsis; "—" when there is none. */
function abbreviate(s: string | null | undefined, head: number, tail: number, longerThan: number): string {
  if (!s) return '—';
  return s.length > longerThan ? `${s.slice(0, head)}…${s.slice(-tail)}` : s;
}

/** 0x1234…abcd (an address; `n` leading characters for longer values such as roots and UIDs). */
export function short(value: string | null | undefined, n = 6): string {
  return abbreviate(value, n, 4, 2 * n + 2);
}

/** A hash in a table cell: 0x26dc1f0a…c0b6e8. */
export function shortHash(h: string | null | undefined): string {
  return abbreviate(h, 10, 6, 18);
}

/** For narrow table columns: 0x26dc…b6e8 (the full value is in the cell's tooltip). */
export function tinyHash(h: string | null | undefined): string {
  return abbreviate(h, 6, 4, 12);
}

/** "DEMO Partner Hospital" (label without the role suffix) or the short address. */
export function partyName(p: PartyRef | null | undefined): string {
  if (!p) return '—';
  if (p.label) return p.label.replace(/\s*\((institution|clinician|patient|regulator)\)\s*$/i, '');
  return `${p.role === 'unknown' ? 'account' : p.role} ${short(p.address)}`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * THE time format of the UI: local date and time to the second, 2026-11-22 09:41:07. Every screen
 * writes a moment with this function (the <When> component adds the ISO time on hover).
 */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** The same function under its older name (one format: to the second). */
export const whenSeconds = when;

/** The hover text of a time: the ISO 8601 value in UTC. */
export function isoTitle(iso: string | null | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString();
}

/** A ledger problem without a leading "Ledger unreachable:" (for text under a "Ledger unreachable" heading). */
export function ledgerDetail(message: string | null | undefined): string {
  return (message ?? '').replace(/^\s*ledger unreachable\s*[:.-]?\s*/i, '');
}

/** An account as a name: the name this workstation knows for it, else 0x1234…abcd (the address goes in the hover). */
export function accountName(address: string, names: Record<string, string> | null | undefined): string {
  return names?.[address] ?? names?.[address.toLowerCase()] ?? short(address);
}

/** A workstation actor (workstation:<OS user>@<host>) in words: "jdoe on reading-room-2". */
export function workstationName(actor: string): string | null {
  const m = /^workstation:(.*)@([^@]*)$/.exec(actor);
  return m ? `${m[1]} on ${m[2]} (not signed in)` : null;
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

/** Local time for a file name, sortable: 20261122-094107. */
export function fileStamp(d = new Date()): string {
  return `${d.getFullYear()}${pad2(d.getMonth() + 1)}${pad2(d.getDate())}-${pad2(d.getHours())}${pad2(d.getMinutes())}${pad2(d.getSeconds())}`;
}

/** A DICOM date (DA, YYYYMMDD) as 2026-11-22; anything else as it came. */
export function dicomDate(d: string | null | undefined): string {
  return d && /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : (d ?? '');
}

/** A DICOM person name (PN) as read aloud: "DOE^JANE" → "DOE JANE"; only the alphabetic group. */
export function personName(n: string | null | undefined): string {
  return (n ?? '').split('=')[0]!.replace(/\^+/g, ' ').trim();
}

/** A score change: +12, −30, ±0. */
export function signed(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `−${Math.abs(n)}` : '±0';
}

/** Import speed: "1234 files/s", "12.5 files/s"; nothing when unknown. */
export function filesPerSecond(r: number | null | undefined): string {
  if (!r || !Number.isFinite(r)) return '';
  return r >= 100 ? `${Math.round(r)} files/s` : `${r.toFixed(1)} files/s`;
}

/** A size in bytes as "3.4 MB" (MiB, one decimal). */
export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A verification state in words, as badges and the trust panel show it. */
export const STATE_TEXT: Record<VerificationState, string> = {
  verified: 'verified',
  altered: 'altered',
  'not-registered': 'not registered',
  'ledger-unreachable': 'ledger unreachable',
  unreadable: 'unreadable',
};
