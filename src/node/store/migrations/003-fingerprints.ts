import type { Migration } from './index';

/**
 * Fingerprints (docs/fingerprint-spec.md): one row per file path with its three digests, the
 * SOP Instance UID hash and the Merkle leaf; one row per study with its root and the
 * StandardMerkleTree dump (the manifest that travels with a shared study); one proof per leaf.
 * A file is fingerprinted again only when its size or modification time changed (and then its
 * pixels are decoded again only when its content changed).
 */
export const m003Fingerprints: Migration = {
  version: 3,
  name: 'fingerprints',
  up: `
    CREATE TABLE fingerprint_files (
      path TEXT PRIMARY KEY,
      size INTEGER,
      mtime_ms REAL,
      spec_version INTEGER NOT NULL,
      file_sha256 TEXT,
      pixel_sha256 TEXT,
      meta_sha256 TEXT,
      pixel_mode TEXT,
      transfer_syntax_uid TEXT,
      sop_instance_uid TEXT,
      sop_class_uid TEXT,
      series_instance_uid TEXT,
      study_instance_uid TEXT,
      uid_hash TEXT,
      leaf TEXT,
      frames INTEGER,
      error_code TEXT,
      error_message TEXT,
      computed_at TEXT NOT NULL
    );
    CREATE INDEX fingerprint_files_study ON fingerprint_files (study_instance_uid);
    CREATE INDEX fingerprint_files_sop ON fingerprint_files (sop_instance_uid);
    CREATE INDEX fingerprint_files_file ON fingerprint_files (file_sha256);

    CREATE TABLE fingerprint_studies (
      study_instance_uid TEXT PRIMARY KEY,
      spec_version INTEGER NOT NULL,
      root TEXT NOT NULL,
      leaf_count INTEGER NOT NULL,
      conflicts INTEGER NOT NULL DEFAULT 0,
      tree_json TEXT NOT NULL,
      computed_at TEXT NOT NULL
    );

    CREATE TABLE fingerprint_proofs (
      study_instance_uid TEXT NOT NULL REFERENCES fingerprint_studies (study_instance_uid) ON DELETE CASCADE,
      leaf TEXT NOT NULL,
      sop_instance_uid TEXT NOT NULL,
      pixel_sha256 TEXT NOT NULL,
      meta_sha256 TEXT NOT NULL,
      uid_hash TEXT NOT NULL,
      proof_json TEXT NOT NULL,
      PRIMARY KEY (study_instance_uid, leaf)
    );
    CREATE INDEX fingerprint_proofs_sop ON fingerprint_proofs (sop_instance_uid);
  `,
};
