import type { Db } from './store/database';

/**
 * Which ledger the app talks to, as the user chose it in the settings (or with
 * `medimgshr connect`): the embedded local chain, or any EVM JSON-RPC endpoint (a consortium chain)
 * with the MedImgShr contract's address and the chain id. Kept in the app `settings` table.
 */
export type SavedLedgerEndpoint =
  | { mode: 'embedded' }
  | { mode: 'remote'; rpcUrl: string; chainId: number; contractAddress: string };

const KEY = 'ledger.endpoint';

export function readSavedEndpoint(db: Db): SavedLedgerEndpoint | null {
  const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(KEY) as { value: string } | undefined;
  if (!row) return null;
  try {
    const v = JSON.parse(row.value) as SavedLedgerEndpoint;
    if (v.mode === 'embedded') return v;
    if (v.mode === 'remote' && typeof v.rpcUrl === 'string' && Number.isInteger(v.chainId) && typeof v.contractAddress === 'string') return v;
  } catch {
    // an unreadable setting falls back to the default
  }
  return null;
}

export function saveEndpoint(db: Db, ep: SavedLedgerEndpoint): void {
  db.prepare(
    'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  ).run(KEY, JSON.stringify(ep), new Date().toISOString());
}

/** The endpoint given in the environment (MEDIMG_RPC_URL, or MEDIMG_LEDGER_URL), which overrides the saved one. */
export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env): string | null {
  return env.MEDIMG_RPC_URL ?? env.MEDIMG_LEDGER_URL ?? null;
}
