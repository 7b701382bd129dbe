import type { Migration } from './index';

/**
 * Local identities (the index of the encrypted keystores in home.keystores; never a key) and the
 * outbox: a durable queue of chain writes, idempotent by (kind, idem_key).
 */
export const m006IdentitiesOutbox: Migration = {
  version: 6,
  name: 'identities and outbox',
  up: `
    CREATE TABLE identities (
      address TEXT PRIMARY KEY,            -- EIP-55 checksummed account address
      display_name TEXT NOT NULL,
      role_hint TEXT,                      -- regulator | institution | clinician | patient (a hint; the chain decides)
      keystore_file TEXT NOT NULL UNIQUE,  -- file name inside home.keystores
      demo INTEGER NOT NULL DEFAULT 0,     -- 1 = created by the demo setup (weak scrypt allowed)
      created_at TEXT NOT NULL
    );

    CREATE TABLE outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL,                  -- e.g. 'anchor'
      idem_key TEXT NOT NULL,              -- e.g. the study's Merkle root
      payload TEXT NOT NULL,               -- JSON
      signer TEXT,                         -- address that must sign, or NULL = the current identity
      status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'confirmed', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      tx_hash TEXT,
      block_number INTEGER,
      block_hash TEXT,
      next_attempt_at INTEGER NOT NULL DEFAULT 0, -- ms since epoch
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      sent_at TEXT,
      confirmed_at TEXT,
      UNIQUE (kind, idem_key)
    );
    CREATE INDEX outbox_pending ON outbox (status, next_attempt_at) WHERE status IN ('queued', 'sent');
  `,
};
