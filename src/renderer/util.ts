import { BridgeError } from './bridge';

/** A user-readable message (and hint) from a failed call. */
export function errText(e: unknown): string {
  if (e instanceof BridgeError) return e.error.hint ? `${e.error.message} ${e.error.hint}` : e.error.message;
  return e instanceof Error ? e.message : String(e);
}

export function errCode(e: unknown): string | null {
  return e instanceof BridgeError ? e.error.code : null;
}

/** 0x1234…abcd */
export function short(addr: string | null | undefined, n = 6): string {
  if (!addr) return '—';
  return addr.length > 2 * n + 2 ? `${addr.slice(0, n)}…${addr.slice(-4)}` : addr;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A tiny external store for useSyncExternalStore. */
export class Store<T> {
  private listeners = new Set<() => void>();
  constructor(private value: T) {}
  get = (): T => this.value;
  set(next: T | ((prev: T) => T)): void {
    this.value = typeof next === 'function' ? (next as (p: T) => T)(this.value) : next;
    for (const l of [...this.listeners]) l();
  }
  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
}

/** Triggers a browser download of a text file. */
export function download(fileName: string, text: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
