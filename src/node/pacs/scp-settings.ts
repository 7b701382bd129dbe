/**
 * The Storage SCP's settings (migration 012, one row): off by default, AE title, port, the address
 * it binds to (loopback by default: only programs on this workstation can send until an
 * administrator opens it), the allow-list of calling AE titles, and whether what arrives is
 * anchored on the ledger by the unlocked clinician (off by default).
 */
import { isIP } from 'node:net';
import type { Db } from '../store/database';
import { checkAeTitle } from './connections';
import { PacsError, PacsReason } from './errors';

export interface StorageScpSettings {
  enabled: boolean;
  aeTitle: string;
  port: number;
  /** 127.0.0.1 (default), ::1, 0.0.0.0 (every interface) or one of this machine's addresses. */
  bindAddress: string;
  allowedCallingAets: string[];
  anchorArrivals: boolean;
}

export const DEFAULT_SCP_SETTINGS: StorageScpSettings = {
  enabled: false,
  aeTitle: 'MEDIMGSHR',
  port: 11112,
  bindAddress: '127.0.0.1',
  allowedCallingAets: [],
  anchorArrivals: false,
};

interface Row {
  enabled: number;
  ae_title: string;
  port: number;
  bind_address: string;
  allowed_aets_json: string;
  anchor_arrivals: number;
}

const invalid = (message: string, hint: string) => new PacsError(PacsReason.Invalid, message, hint);

/** Checks and normalises a settings patch over the current settings; throws PacsError INVALID with what to do. */
export function checkScpSettings(s: StorageScpSettings): StorageScpSettings {
  const aeTitle = checkAeTitle(s.aeTitle, 'The Storage SCP AE title');
  if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw invalid(`The port ${s.port} is not a TCP port.`, 'Use a number from 1 to 65535 (104 and 11112 are the usual DICOM ports).');
  const bindAddress = s.bindAddress.trim();
  if (!isIP(bindAddress)) throw invalid(`The bind address "${s.bindAddress}" is not an IP address.`, 'Use 127.0.0.1 (this workstation only), 0.0.0.0 (every network interface) or one address of this machine.');
  const allowed = [...new Set(s.allowedCallingAets.map((a) => checkAeTitle(a, 'An allowed calling AE title')))];
  return { enabled: Boolean(s.enabled), aeTitle, port: s.port, bindAddress, allowedCallingAets: allowed, anchorArrivals: Boolean(s.anchorArrivals) };
}

export class StorageScpSettingsStore {
  constructor(private readonly db: Db) {}

  get(): StorageScpSettings {
    const r = this.db.prepare('SELECT enabled, ae_title, port, bind_address, allowed_aets_json, anchor_arrivals FROM storage_scp_settings WHERE id = 1').get() as Row | undefined;
    if (!r) return { ...DEFAULT_SCP_SETTINGS, allowedCallingAets: [] };
    let allowed: string[] = [];
    try {
      const v = JSON.parse(r.allowed_aets_json) as unknown;
      if (Array.isArray(v)) allowed = v.filter((x): x is string => typeof x === 'string');
    } catch {
      // a damaged list allows nobody
    }
    return { enabled: r.enabled === 1, aeTitle: r.ae_title, port: r.port, bindAddress: r.bind_address, allowedCallingAets: allowed, anchorArrivals: r.anchor_arrivals === 1 };
  }

  update(patch: Partial<StorageScpSettings>): StorageScpSettings {
    const next = checkScpSettings({ ...this.get(), ...patch });
    this.db
      .prepare(
        `INSERT INTO storage_scp_settings (id, enabled, ae_title, port, bind_address, allowed_aets_json, anchor_arrivals, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, ae_title = excluded.ae_title, port = excluded.port, bind_address = excluded.bind_address,
           allowed_aets_json = excluded.allowed_aets_json, anchor_arrivals = excluded.anchor_arrivals, updated_at = excluded.updated_at`,
      )
      .run(next.enabled ? 1 : 0, next.aeTitle, next.port, next.bindAddress, JSON.stringify(next.allowedCallingAets), next.anchorArrivals ? 1 : 0, new Date().toISOString());
    return next;
  }
}
