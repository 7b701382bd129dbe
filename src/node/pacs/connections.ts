/**
 * PACS connections in SQLite (migration 009). Each has a DICOMweb part (root URL, auth, CA), a DIMSE
 * part (host, port, called / calling AE title), or both. Passwords and tokens are sealed by the
 * SecretBox; list() and get() never return them (only `hasSecret`), `credentials()` is for the
 * clients in the main process alone.
 */
import { X509Certificate } from 'node:crypto';
import type { Db } from '../store/database';
import { PacsError, PacsReason } from './errors';
import type { SecretBox } from './secret-box';

export type PacsAuth = 'none' | 'basic' | 'bearer';

export interface DicomWebSettings {
  url: string;
  auth: PacsAuth;
  username: string | null;
  /** PEM of extra CA certificate(s) trusted for this server (besides the system's). */
  caPem: string | null;
}

export interface DimseSettings {
  host: string;
  port: number;
  calledAet: string;
  callingAet: string;
}

/** What list/get return: no secret, only whether one is stored. */
export interface PacsConnection {
  id: number;
  name: string;
  dicomweb: (DicomWebSettings & { hasSecret: boolean }) | null;
  dimse: DimseSettings | null;
  timeoutMs: number;
  createdAt: string;
  updatedAt: string;
}

export interface ConnectionInput {
  name: string;
  dicomweb?: { url: string; auth?: PacsAuth; username?: string | null; /** password (basic) or token (bearer) */ secret?: string | null; caPem?: string | null } | null;
  dimse?: { host: string; port: number; calledAet: string; callingAet?: string } | null;
  timeoutMs?: number;
}

/** The unsealed credentials of a connection (main process only). */
export interface Credentials {
  auth: PacsAuth;
  username: string | null;
  secret: string | null;
}

interface Row {
  id: number;
  name: string;
  dicomweb_url: string | null;
  auth: PacsAuth;
  username: string | null;
  secret: Buffer | null;
  ca_pem: string | null;
  timeout_ms: number;
  dimse_host: string | null;
  dimse_port: number | null;
  called_aet: string | null;
  calling_aet: string | null;
  created_at: string;
  updated_at: string;
}

export const DEFAULT_CALLING_AET = 'MEDIMGSHR';
const invalid = (msg: string, hint?: string) => new PacsError(PacsReason.Invalid, msg, hint);

/** AE titles: 1–16 characters of the default repertoire, no backslash, not only spaces (PS3.5 6.2). */
export function checkAeTitle(aet: string, what: string): string {
  const t = aet.trim();
  if (t.length === 0 || t.length > 16 || !/^[\x20-\x5b\x5d-\x7e]+$/.test(t)) {
    throw invalid(`${what} "${aet}" is not a valid AE title.`, 'Use 1 to 16 letters, digits, spaces or punctuation (no backslash), as the PACS administrator configured it.');
  }
  return t;
}

export function checkDicomWebUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(`"${url}" is not a URL.`, 'Write the DICOMweb root in full, e.g. https://pacs.example.org/dicom-web');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(`"${url}" is not an http(s) URL.`, 'DICOMweb runs over http or https.');
  if (u.username || u.password) throw invalid('Do not put the user name or password in the URL.', 'Choose "basic" authentication and enter them in their own fields; they are then stored encrypted.');
  if (u.search || u.hash) throw invalid(`"${url}" has a query or fragment.`, 'Give only the DICOMweb root, e.g. https://pacs.example.org/dicom-web');
  return u.toString().replace(/\/+$/, '');
}

function checkCaPem(pem: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw invalid('The CA certificate is not in PEM form.', 'Paste the certificate text that starts with -----BEGIN CERTIFICATE-----.');
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch {
      throw invalid('The CA certificate cannot be read.', 'Ask the PACS administrator for the CA certificate in PEM form.');
    }
  }
  return blocks.join('\n') + '\n';
}

export class ConnectionStore {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
  ) {}

  list(): PacsConnection[] {
    return (this.db.prepare('SELECT * FROM pacs_connections ORDER BY name').all() as Row[]).map(toPublic);
  }

  get(idOrName: number | string): PacsConnection {
    return toPublic(this.row(idOrName));
  }

  /** Finds a connection by id, or name; throws a NOT_FOUND that lists the known names. */
  private row(idOrName: number | string): Row {
    const r = (
      typeof idOrName === 'number' || /^[0-9]+$/.test(idOrName)
        ? (this.db.prepare('SELECT * FROM pacs_connections WHERE id = ?').get(Number(idOrName)) ?? this.db.prepare('SELECT * FROM pacs_connections WHERE name = ?').get(String(idOrName)))
        : this.db.prepare('SELECT * FROM pacs_connections WHERE name = ?').get(idOrName)
    ) as Row | undefined;
    if (!r) {
      const names = this.list().map((c) => c.name);
      throw new PacsError(
        PacsReason.NotConfigured,
        `There is no PACS connection "${idOrName}".`,
        names.length ? `Known connections: ${names.join(', ')}.` : 'Add one first (Settings → PACS, or: medimgshr pacs add).',
      );
    }
    return r;
  }

  add(input: ConnectionInput): PacsConnection {
    const name = input.name.trim();
    if (!name || name.length > 64) throw invalid('A connection needs a name of 1 to 64 characters.');
    if (this.db.prepare('SELECT 1 FROM pacs_connections WHERE name = ?').get(name)) throw invalid(`A connection named "${name}" exists already.`, 'Choose another name, or remove the old one first.');
    if (!input.dicomweb && !input.dimse) throw invalid('A connection needs a DICOMweb URL, DIMSE settings (host, port, AE title), or both.');
    const now = new Date().toISOString();
    const v = this.validate(input);
    const info = this.db
      .prepare(
        `INSERT INTO pacs_connections (name, dicomweb_url, auth, username, secret, ca_pem, timeout_ms, dimse_host, dimse_port, called_aet, calling_aet, created_at, updated_at)
         VALUES (@name, @url, @auth, @username, @secret, @ca, @timeout, @host, @port, @called, @calling, @now, @now)`,
      )
      .run({ name, ...v, now });
    return this.get(Number(info.lastInsertRowid));
  }

  /**
   * Replaces a connection's settings. A password / token left out (`secret` undefined) keeps the one
   * stored, as long as the authentication kind stays the same; `null` or another kind drops it.
   */
  update(idOrName: number | string, input: ConnectionInput): PacsConnection {
    const r = this.row(idOrName);
    const name = input.name.trim();
    if (!name || name.length > 64) throw invalid('A connection needs a name of 1 to 64 characters.');
    if (name !== r.name && this.db.prepare('SELECT 1 FROM pacs_connections WHERE name = ? AND id <> ?').get(name, r.id)) throw invalid(`A connection named "${name}" exists already.`, 'Choose another name.');
    if (!input.dicomweb && !input.dimse) throw invalid('A connection needs a DICOMweb URL, DIMSE settings (host, port, AE title), or both.');
    const w = input.dicomweb ?? null;
    const keep = w && w.secret === undefined && (w.auth ?? 'none') !== 'none' && (w.auth ?? 'none') === r.auth && r.secret !== null;
    const v = this.validate(keep ? { ...input, dicomweb: { ...w, secret: '(kept)' } } : input);
    this.db
      .prepare(
        `UPDATE pacs_connections SET name = @name, dicomweb_url = @url, auth = @auth, username = @username, secret = @secret, ca_pem = @ca, timeout_ms = @timeout,
           dimse_host = @host, dimse_port = @port, called_aet = @called, calling_aet = @calling, updated_at = @now WHERE id = @id`,
      )
      .run({ ...v, secret: keep ? r.secret : v.secret, name, id: r.id, now: new Date().toISOString() });
    return this.get(r.id);
  }

  remove(idOrName: number | string): boolean {
    const r = this.row(idOrName);
    return this.db.prepare('DELETE FROM pacs_connections WHERE id = ?').run(r.id).changes === 1;
  }

  /** The unsealed credentials, for the DICOMweb client only. */
  credentials(idOrName: number | string): Credentials {
    const r = this.row(idOrName);
    return { auth: r.auth, username: r.username, secret: r.secret ? this.secrets.decrypt(r.secret) : null };
  }

  private validate(input: ConnectionInput) {
    const w = input.dicomweb ?? null;
    const d = input.dimse ?? null;
    const auth = w?.auth ?? 'none';
    if (!['none', 'basic', 'bearer'].includes(auth)) throw invalid(`Authentication "${auth}" is not one of none, basic, bearer.`);
    if (w && auth === 'basic' && !w.username) throw invalid('Basic authentication needs a user name.');
    if (w && auth !== 'none' && !w.secret) throw invalid(auth === 'basic' ? 'Basic authentication needs a password.' : 'Bearer authentication needs a token.');
    if (d && (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535)) throw invalid(`DIMSE port ${d.port} is not a port number (1–65535).`);
    if (d && !d.host.trim()) throw invalid('DIMSE needs a host name or address.');
    const timeout = input.timeoutMs ?? 30_000;
    if (!Number.isInteger(timeout) || timeout < 100 || timeout > 600_000) throw invalid('The time limit must be between 0.1 and 600 seconds.');
    return {
      url: w ? checkDicomWebUrl(w.url) : null,
      auth: w ? auth : 'none',
      username: w && auth === 'basic' ? w.username! : null,
      secret: w && auth !== 'none' ? this.secrets.encrypt(w.secret!) : null,
      ca: w?.caPem ? checkCaPem(w.caPem) : null,
      timeout,
      host: d ? d.host.trim() : null,
      port: d ? d.port : null,
      called: d ? checkAeTitle(d.calledAet, 'The called AE title') : null,
      calling: d ? checkAeTitle(d.callingAet ?? DEFAULT_CALLING_AET, 'Our AE title') : null,
    };
  }
}

function toPublic(r: Row): PacsConnection {
  return {
    id: r.id,
    name: r.name,
    dicomweb: r.dicomweb_url ? { url: r.dicomweb_url, auth: r.auth, username: r.username, caPem: r.ca_pem, hasSecret: r.secret !== null } : null,
    dimse: r.dimse_host && r.dimse_port && r.called_aet ? { host: r.dimse_host, port: r.dimse_port, calledAet: r.called_aet, callingAet: r.calling_aet ?? DEFAULT_CALLING_AET } : null,
    timeoutMs: r.timeout_ms,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
