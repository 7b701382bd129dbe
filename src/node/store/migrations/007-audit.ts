import type { Migration } from './index';

/**
 * The local, hash-chained audit log (src/node/audit): one row per export / share / override /
 * receive; each row carries the SHA-256 of the previous row's canonical encoding. Triggers make the
 * table append-only for the app; anyone who bypasses them is caught by AuditLog.verifyChain().
 * audit_head remembers the newest entry so a deleted tail is detected too.
 */
export const m007Audit: Migration = {
  version: 7,
  name: 'audit log',
  up: `
    CREATE TABLE audit_log (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,                  -- ISO 8601 UTC
      actor TEXT NOT NULL,               -- account address or local identity id
      action TEXT NOT NULL,              -- export.original | export.anonymised | export.png | share | override | receive | …
      subject TEXT NOT NULL,             -- canonical JSON {study?, series?, instances?, package?}
      study TEXT,                        -- subject.study, for filtering
      details TEXT NOT NULL,             -- canonical JSON
      reason TEXT,                       -- typed reason (required for overrides)
      prev_hash TEXT NOT NULL,           -- hex SHA-256 of the previous entry's canonical encoding
      hash TEXT NOT NULL                 -- hex SHA-256 of this entry's canonical encoding
    );
    CREATE INDEX audit_log_action ON audit_log (action, seq);
    CREATE INDEX audit_log_study ON audit_log (study, seq);
    CREATE INDEX audit_log_actor ON audit_log (actor, seq);

    CREATE TABLE audit_head (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seq INTEGER NOT NULL,
      hash TEXT NOT NULL
    );

    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
};
