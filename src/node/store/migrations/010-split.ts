import type { Migration } from './index';

/**
 * Split storage (src/node/split, docs/split-storage.md): one row per split instance — where its
 * sealed metadata part is (a path under app data), which blob in which pixel store holds its
 * encrypted Pixel Data, its fingerprint and sizes. A row is written in the same transaction as
 * nothing else: only after the blob and the sealed metadata part are durably stored, so a row always
 * names parts that exist. split_pins lists blob addresses that something outside the index (an
 * anchor's storage manifest, a share in flight) still names: garbage collection spares them.
 */
export const m010Split: Migration = {
  version: 10,
  name: 'split storage',
  up: `
    CREATE TABLE split_instances (
      sop_instance_uid TEXT PRIMARY KEY,
      study_instance_uid TEXT,
      series_instance_uid TEXT,
      transfer_syntax_uid TEXT NOT NULL,
      layout TEXT NOT NULL CHECK (layout IN ('cut', 'deflated', 'no-pixel-data')),
      source_path TEXT,                  -- the file it was split from (left in place)
      file_sha256 TEXT NOT NULL,         -- what a rebuild reproduces
      file_size INTEGER NOT NULL,
      meta TEXT NOT NULL,                -- fingerprint spec v1 digests and leaf
      pixel TEXT NOT NULL,
      leaf TEXT NOT NULL,
      metadata_path TEXT NOT NULL,       -- sealed metadata part, relative to the app-data folder
      metadata_size INTEGER NOT NULL,
      blob_address TEXT NOT NULL,        -- SHA-256 of the encrypted pixel part
      blob_size INTEGER NOT NULL,
      pixel_size INTEGER NOT NULL,
      store TEXT NOT NULL,               -- the pixel store's location URI
      state TEXT NOT NULL DEFAULT 'split' CHECK (state IN ('split')),
      split_at TEXT NOT NULL
    );
    CREATE INDEX split_instances_blob ON split_instances (blob_address);
    CREATE INDEX split_instances_study ON split_instances (study_instance_uid);

    CREATE TABLE split_pins (
      blob_address TEXT NOT NULL,
      reason TEXT NOT NULL,              -- e.g. 'anchor:<study root>'
      pinned_at TEXT NOT NULL,
      PRIMARY KEY (blob_address, reason)
    );
  `,
};
