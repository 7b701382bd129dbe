import type { Migration } from './index';

/**
 * One home for the ledger's saved settings: the chosen endpoint used to sit in the app `settings`
 * table while everything else of the ledger sat in `ledger_settings`. It moves to
 * `ledger_settings` under the key `endpoint` (src/node/ledger/settings.ts).
 */
export const m008LedgerSettings: Migration = {
  version: 8,
  name: 'ledger endpoint in ledger_settings',
  up: `
    INSERT INTO ledger_settings (key, value, updated_at)
      SELECT 'endpoint', value, updated_at FROM settings WHERE key = 'ledger.endpoint'
      ON CONFLICT (key) DO NOTHING;
    DELETE FROM settings WHERE key = 'ledger.endpoint';
  `,
};
