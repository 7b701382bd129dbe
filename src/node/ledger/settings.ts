import type { Db } from '../store/database';

/**
 * Which ledger the app talks to, as the user chose it in the settings (or with
 * `medimgshr connect`): the embedded local chain, or any EVM JSON-RPC endpoint (a consortium chain)
 * with the MedImgShr contract's address and the chain id.
 */
export type SavedLedgerEndpoint =
  | { mode: 'embedded' }
  | { mode: 'remote'; rpcUrl: string; chainId: number; contractAddress: string };

const ENDPOINT = 'endpoint';

/** The ledger domain's saved settings, all in one table (ledger_settings; migrations 005 and 008). */
export class LedgerSettings {
  constructor(private readonly db: Db) {}

  get(key: string): string | null {
    const r = this.db.prepare('SELECT value FROM ledger_settings WHERE key = ?').get(key) as { value: string } | undefined;
    return r?.value ?? null;
  }

  set(key: string, value: string | null): void {
    if (value === null) {
      this.db.prepare('DELETE FROM ledger_settings WHERE key = ?').run(key);
      return;
    }
    this.db
      .prepare('INSERT INTO ledger_settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(key, value, new Date().toISOString());
  }

  /** All settings whose key starts with `prefix` (e.g. the key cards, `keycard:`). */
  withPrefix(prefix: string): { key: string; value: string }[] {
    return this.db.prepare("SELECT key, value FROM ledger_settings WHERE substr(key, 1, length(?)) = ? ORDER BY key").all(prefix, prefix) as { key: string; value: string }[];
  }

  /** The saved endpoint, or null when none was saved or it cannot be read (then the default applies). */
  endpoint(): SavedLedgerEndpoint | null {
    const raw = this.get(ENDPOINT);
    if (!raw) return null;
    try {
      const v = JSON.parse(raw) as SavedLedgerEndpoint;
      if (v.mode === 'embedded') return v;
      if (v.mode === 'remote' && typeof v.rpcUrl === 'string' && Number.isInteger(v.chainId) && typeof v.contractAddress === 'string') return v;
    } catch {
      // an unreadable setting falls back to the default
    }
    return null;
  }

  saveEndpoint(ep: SavedLedgerEndpoint): void {
    this.set(ENDPOINT, JSON.stringify(ep));
  }
}

/** The endpoint given in the environment (MEDIMG_RPC_URL, or MEDIMG_LEDGER_URL), which overrides the saved one. */
export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env): string | null {
  return env.MEDIMG_RPC_URL ?? env.MEDIMG_LEDGER_URL ?? null;
}
