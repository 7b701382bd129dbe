import type { Migration } from './index';

/**
 * The PACS (src/node/pacs, docs/pacs.md): configured connections (secrets sealed by a SecretBox,
 * never in clear), and the per-instance state of retrieved / received instances, which makes a
 * retrieve resumable without duplicates (an instance whose SOP Instance UID is cached is skipped).
 */
export const m009Pacs: Migration = {
  version: 9,
  name: 'pacs',
  up: `
    CREATE TABLE pacs_connections (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL UNIQUE,
      dicomweb_url TEXT,                 -- DICOMweb root (QIDO/WADO/STOW), e.g. https://pacs/dicom-web
      auth TEXT NOT NULL DEFAULT 'none' CHECK (auth IN ('none', 'basic', 'bearer')),
      username TEXT,
      secret BLOB,                       -- password or token, sealed by the SecretBox
      ca_pem TEXT,                       -- extra CA certificate(s) trusted for this connection
      timeout_ms INTEGER NOT NULL DEFAULT 30000,
      dimse_host TEXT,
      dimse_port INTEGER,
      called_aet TEXT,                   -- the PACS's AE title
      calling_aet TEXT,                  -- our AE title
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );

    CREATE TABLE pacs_instances (
      sop_instance_uid TEXT PRIMARY KEY,
      study_instance_uid TEXT,
      series_instance_uid TEXT,
      sha256 TEXT NOT NULL,              -- of the cached file (its name in the cache)
      path TEXT NOT NULL,
      size INTEGER NOT NULL,
      transfer_syntax_uid TEXT,
      connection_id INTEGER,             -- where it came from (NULL: received by our Storage SCP)
      via TEXT NOT NULL,                 -- wado-rs | c-get | c-move | c-store
      calling_aet TEXT,                  -- for c-store / c-move: who sent it
      state TEXT NOT NULL,               -- cached | imported | import-failed
      verification TEXT,                 -- last verification state (verified, altered, …)
      message TEXT,
      received_at TEXT NOT NULL
    );
    CREATE INDEX pacs_instances_study ON pacs_instances (study_instance_uid);
    CREATE INDEX pacs_instances_sha ON pacs_instances (sha256);
  `,
};
