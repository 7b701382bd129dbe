import type { Migration } from './index';

/**
 * The receive side of the PACS (docs/pacs.md): the Storage SCP's settings (one row; off by
 * default, loopback, an allow-list of calling AE titles, "anchor what arrives" off), and the inbox
 * of received share packages (one row per package address: where it lies, what receiving it gave).
 */
export const m012PacsReceive: Migration = {
  version: 12,
  name: 'pacs receive: storage SCP settings, inbox',
  up: `
    CREATE TABLE storage_scp_settings (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      enabled INTEGER NOT NULL DEFAULT 0,
      ae_title TEXT NOT NULL DEFAULT 'MEDIMGSHR',
      port INTEGER NOT NULL DEFAULT 11112,
      bind_address TEXT NOT NULL DEFAULT '127.0.0.1',
      allowed_aets_json TEXT NOT NULL DEFAULT '[]',
      anchor_arrivals INTEGER NOT NULL DEFAULT 0,
      updated_at TEXT NOT NULL
    );

    CREATE TABLE inbox_packages (
      address TEXT PRIMARY KEY,          -- SHA-256 hex of the package file (its content address)
      path TEXT NOT NULL,                -- where it lies (the inbox folder or the blob store)
      state TEXT NOT NULL,               -- new | received | failed
      result_json TEXT,                  -- the ReceiveResult (received) or the error (failed)
      sent_on_json TEXT,                 -- the last "send on to a PACS" report
      added_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
  `,
};
