import type { Db } from '../store/database';

/** Small key/value settings of the ledger domain (table ledger_settings, migration 005). */
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
}
