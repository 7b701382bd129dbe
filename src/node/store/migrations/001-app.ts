import type { Migration } from './index';

export const m001App: Migration = {
  version: 1,
  name: 'app settings',
  up: `
    CREATE TABLE settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
  `,
};
