/**
 * The syslog collector settings, in the app's `settings` table (migration 001) under one key,
 * `audit.syslog`. Off by default.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AppError, ErrorCode } from '../../shared/errors';
import type { Db } from '../store/database';
import type { SyslogTransport } from './sender';

export interface SyslogSettings {
  enabled: boolean;
  host: string;
  port: number;
  transport: SyslogTransport;
  /** PEM of the CA that signed the collector's certificate (TLS only). */
  caPem: string | null;
}

export const SYSLOG_SETTINGS_KEY = 'audit.syslog';
export const DEFAULT_SYSLOG_SETTINGS: SyslogSettings = { enabled: false, host: '', port: 6514, transport: 'tls', caPem: null };
/** IANA ports: 514/udp syslog, 6514/tcp syslog over TLS. */
export const DEFAULT_PORT: Record<SyslogTransport, number> = { udp: 514, tls: 6514 };

export function readSyslogSettings(db: Db): SyslogSettings {
  const r = db.prepare('SELECT value FROM settings WHERE key = ?').get(SYSLOG_SETTINGS_KEY) as { value: string } | undefined;
  if (!r) return { ...DEFAULT_SYSLOG_SETTINGS };
  try {
    const v = JSON.parse(r.value) as Partial<SyslogSettings>;
    return {
      enabled: v.enabled === true,
      host: typeof v.host === 'string' ? v.host : '',
      port: Number.isInteger(v.port) && v.port! > 0 && v.port! < 65536 ? v.port! : DEFAULT_SYSLOG_SETTINGS.port,
      transport: v.transport === 'udp' ? 'udp' : 'tls',
      caPem: typeof v.caPem === 'string' && v.caPem ? v.caPem : null,
    };
  } catch {
    return { ...DEFAULT_SYSLOG_SETTINGS };
  }
}

export function writeSyslogSettings(db: Db, s: SyslogSettings): void {
  db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(
    SYSLOG_SETTINGS_KEY,
    JSON.stringify(s),
    new Date().toISOString(),
  );
}

/** Why these settings cannot be used, or null. */
export function syslogSettingsProblem(s: SyslogSettings): string | null {
  if (!s.enabled) return null;
  if (!s.host.trim()) return 'a collector host is needed';
  if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(s.host)) return `"${s.host}" is not a host name or IP address`;
  if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) return 'the port must be 1–65535';
  if (s.caPem !== null && !/-----BEGIN CERTIFICATE-----/.test(s.caPem)) return 'the CA certificate is not a PEM certificate';
  return null;
}

/** The subject of the first certificate of a PEM (shown in the settings), or null when unreadable. */
export function caSubject(pem: string | null): string | null {
  if (!pem) return null;
  try {
    return new X509Certificate(pem).subject.replace(/\n/g, ', ');
  } catch {
    return null;
  }
}

/** Reads a CA certificate file (PEM) for the TLS collector; throws a plain-words error when it is not one. */
export function loadCaPem(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AppError(ErrorCode.InvalidArgument, `The CA certificate file cannot be read: ${(err as Error).message}.`, 'Give the path of the collector\'s CA certificate (PEM).');
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(text) || caSubject(text) === null) {
    throw new AppError(ErrorCode.InvalidArgument, `${path} is not a PEM certificate.`, 'Give the collector\'s CA certificate in PEM form (-----BEGIN CERTIFICATE-----).');
  }
  return text;
}

/** New settings from a request (settings screen or CLI): `caPath` undefined keeps the stored CA, null forgets it. */
export function settingsFromRequest(current: SyslogSettings, r: { enabled: boolean; host: string; port: number; transport: SyslogTransport; caPath?: string | null }): SyslogSettings {
  const next: SyslogSettings = {
    enabled: r.enabled,
    host: r.host.trim(),
    port: r.port,
    transport: r.transport,
    caPem: r.caPath === undefined ? current.caPem : r.caPath === null ? null : loadCaPem(r.caPath),
  };
  const problem = syslogSettingsProblem(next);
  if (problem) throw new AppError(ErrorCode.InvalidArgument, `The syslog collector settings were not saved: ${problem}.`, 'Correct the collector settings, or turn sending off.');
  return next;
}
