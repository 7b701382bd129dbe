import type { Migration } from './index';

/**
 * Chain sync and local anchors (docs/ledger.md).
 *
 * Synced chain events: every MedImgShr event is read from the chain incrementally (getLogs from the
 * last synced block), decoded with the generated ABI and upserted by (chain_id, tx_hash, log_index),
 * so a re-read never duplicates a row. Each row keeps its block number and hash: when the chain
 * forgets blocks (an embedded node restored from an older state, a reorg) every row above the fork
 * point is deleted and the range is read again. Addresses are EIP-55 checksummed, bytes32 values
 * 0x-lowercase, times unix seconds (the block's timestamp). No table here holds personal data: the
 * chain never carries any.
 *
 * - chain_events: every event, generic (name + all arguments as JSON; ints as decimal strings).
 * - one decoded table per family, for the histories the UI draws:
 *     chain_records (StudyAnchored + StudySuperseded), chain_storage (StorageRegistered),
 *     chain_consents (ConsentGranted / ConsentRevoked), chain_accesses (AccessGranted / AccessDenied),
 *     chain_reports (IntegrityConfirmed / MismatchReported / ReportRuled), chain_scores (ScoreChanged),
 *     chain_roles (institution / clinician / patient registrations, suspensions, role grants).
 * - chain_sync_state: per (chain id, contract address) the last block fully synced and its hash.
 * - chain_blocks: hashes of recent synced blocks and of every block with events (fork detection).
 *
 * Local anchors: what this workstation anchored (or queued to anchor): the study's root, leaf
 * count, storage URI, pseudonymous patient account, the manifest (per-instance digests and proofs)
 * and, once mined, the transaction and block. The outbox (migration 006) is the truth for delivery.
 */
export const m005ChainSync: Migration = {
  version: 5,
  name: 'chain sync and anchors',
  up: `
    CREATE TABLE chain_sync_state (
      chain_id INTEGER NOT NULL,
      contract TEXT NOT NULL,              -- contract address (checksummed)
      from_block INTEGER NOT NULL,         -- first block synced (deployment block)
      last_block INTEGER NOT NULL,         -- every event up to and including this block is in the tables
      last_block_hash TEXT,
      synced_at TEXT,                      -- ISO time of the last successful sync pass
      resets INTEGER NOT NULL DEFAULT 0,   -- how often a fork/rollback was detected and resynced
      last_reset_at TEXT,
      last_reset_from INTEGER,             -- fork point of the last reset
      PRIMARY KEY (chain_id, contract)
    );

    CREATE TABLE chain_blocks (
      chain_id INTEGER NOT NULL,
      number INTEGER NOT NULL,
      hash TEXT NOT NULL,
      time INTEGER,                        -- unix seconds
      PRIMARY KEY (chain_id, number)
    );

    CREATE TABLE chain_events (
      chain_id INTEGER NOT NULL,
      contract TEXT NOT NULL,
      block_number INTEGER NOT NULL,
      block_hash TEXT NOT NULL,
      block_time INTEGER,
      tx_hash TEXT NOT NULL,
      log_index INTEGER NOT NULL,
      name TEXT NOT NULL,                  -- event name, e.g. StudyAnchored
      family TEXT NOT NULL,                -- record | storage | consent | access | report | score | role | admin
      args_json TEXT NOT NULL,
      PRIMARY KEY (chain_id, tx_hash, log_index)
    );
    CREATE INDEX chain_events_block ON chain_events (chain_id, block_number);
    CREATE INDEX chain_events_family ON chain_events (chain_id, family, block_number);

    CREATE TABLE chain_records (
      chain_id INTEGER NOT NULL, contract TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
      block_time INTEGER, tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL,
      root TEXT NOT NULL,
      study TEXT NOT NULL,                 -- root of the first version
      patient TEXT NOT NULL,               -- pseudonymous account
      institution TEXT NOT NULL,
      clinician TEXT NOT NULL,
      leaf_count INTEGER NOT NULL,
      version INTEGER NOT NULL,
      storage_id INTEGER NOT NULL,
      previous TEXT,                       -- NULL for a first version
      superseded_by TEXT,                  -- set from StudySuperseded
      PRIMARY KEY (chain_id, tx_hash, log_index)
    );
    CREATE INDEX chain_records_root ON chain_records (chain_id, root);
    CREATE INDEX chain_records_patient ON chain_records (chain_id, patient);
    CREATE INDEX chain_records_institution ON chain_records (chain_id, institution);

    CREATE TABLE chain_storage (
      chain_id INTEGER NOT NULL, contract TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
      block_time INTEGER, tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL,
      storage_id INTEGER NOT NULL,
      uri TEXT NOT NULL,
      PRIMARY KEY (chain_id, tx_hash, log_index)
    );
    CREATE INDEX chain_storage_id ON chain_storage (chain_id, contract, storage_id);

    CREATE TABLE chain_consents (
      chain_id INTEGER NOT NULL, contract TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
      block_time INTEGER, tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL,
      action TEXT NOT NULL CHECK (action IN ('granted', 'revoked')),
      patient TEXT NOT NULL,
      institution TEXT NOT NULL,
      study TEXT NOT NULL,                 -- study id, or 0x00…00 = all studies
      expiry INTEGER,                      -- unix seconds (granted only)
      by_signature INTEGER NOT NULL,
      PRIMARY KEY (chain_id, tx_hash, log_index)
    );
    CREATE INDEX chain_consents_patient ON chain_consents (chain_id, patient, block_number);
    CREATE INDEX chain_consents_study ON chain_consents (chain_id, study);

    CREATE TABLE chain_accesses (
      chain_id INTEGER NOT NULL, contract TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
      block_time INTEGER, tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('granted', 'denied')),
      access_id INTEGER,                   -- granted only
      study TEXT NOT NULL,
      root TEXT NOT NULL,
      recipient TEXT NOT NULL,             -- the institution
      patient TEXT NOT NULL,
      accessor TEXT NOT NULL,              -- the calling account (institution or its clinician)
      basis INTEGER,                       -- granted: 1 study consent, 2 all-studies consent, 3 own institution
      denial INTEGER,                      -- denied: 1 no consent, 2 expired, 3 revoked, 4 score too low, 5 suspended
      PRIMARY KEY (chain_id, tx_hash, log_index)
    );
    CREATE INDEX chain_accesses_patient ON chain_accesses (chain_id, patient, block_number);
    CREATE INDEX chain_accesses_study ON chain_accesses (chain_id, study);
    CREATE INDEX chain_accesses_recipient ON chain_accesses (chain_id, recipient);

    CREATE TABLE chain_reports (
      chain_id INTEGER NOT NULL, contract TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
      block_time INTEGER, tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL,
      action TEXT NOT NULL CHECK (action IN ('confirmed', 'reported', 'ruled')),
      access_id INTEGER NOT NULL,
      recipient TEXT,                      -- confirmed / reported
      anchoring_institution TEXT,          -- confirmed / reported
      reporter TEXT,                       -- reported
      upheld INTEGER,                      -- ruled
      regulator TEXT,                      -- ruled
      PRIMARY KEY (chain_id, tx_hash, log_index)
    );
    CREATE INDEX chain_reports_access ON chain_reports (chain_id, access_id);

    CREATE TABLE chain_scores (
      chain_id INTEGER NOT NULL, contract TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
      block_time INTEGER, tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL,
      account TEXT NOT NULL,               -- whose score changed
      by TEXT NOT NULL,                    -- who caused it (msg.sender)
      delta INTEGER NOT NULL,
      reason INTEGER NOT NULL,             -- CreditPolicy reason code
      new_score INTEGER NOT NULL,
      PRIMARY KEY (chain_id, tx_hash, log_index)
    );
    CREATE INDEX chain_scores_account ON chain_scores (chain_id, account, block_number);

    CREATE TABLE chain_roles (
      chain_id INTEGER NOT NULL, contract TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
      block_time INTEGER, tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL,
      event TEXT NOT NULL,                 -- InstitutionRegistered | InstitutionSuspended | InstitutionReinstated | ClinicianGranted
                                           -- | ClinicianRemoved | PatientRegistered | RoleGranted | RoleRevoked
      role TEXT,                           -- regulator | institution | clinician | patient | other
      account TEXT NOT NULL,
      institution TEXT,                    -- clinician events: the institution
      by TEXT,
      PRIMARY KEY (chain_id, tx_hash, log_index)
    );
    CREATE INDEX chain_roles_account ON chain_roles (chain_id, account, block_number);

    CREATE TABLE ledger_anchors (
      root TEXT PRIMARY KEY,               -- 0x Merkle root (the outbox idempotency key)
      study_instance_uid TEXT NOT NULL,
      leaf_count INTEGER NOT NULL,
      storage_uri TEXT NOT NULL,           -- carries no identity (blob store / PACS base URI)
      patient TEXT NOT NULL,               -- pseudonymous patient account
      clinician TEXT NOT NULL,             -- the signing identity
      previous TEXT,                       -- root this version supersedes (NULL = first version)
      manifest_json TEXT NOT NULL,         -- {specVersion, root, leafCount, instances:[{sopInstanceUid, pixel, meta, uidHash, leaf, proof}]}
      outbox_id INTEGER,
      chain_id INTEGER,
      contract TEXT,
      tx_hash TEXT,
      block_number INTEGER,
      block_hash TEXT,
      anchored_at INTEGER,                 -- chain time of the record (unix seconds)
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX ledger_anchors_study ON ledger_anchors (study_instance_uid, created_at);

    CREATE TABLE ledger_anchor_instances (
      root TEXT NOT NULL REFERENCES ledger_anchors (root) ON DELETE CASCADE,
      sop_instance_uid TEXT NOT NULL,
      pixel_sha256 TEXT NOT NULL,
      meta_sha256 TEXT NOT NULL,
      uid_hash TEXT NOT NULL,
      leaf TEXT NOT NULL,
      proof_json TEXT NOT NULL,
      PRIMARY KEY (root, leaf)
    );
    CREATE INDEX ledger_anchor_instances_sop ON ledger_anchor_instances (sop_instance_uid);

    CREATE TABLE ledger_patient_accounts (
      patient_key TEXT PRIMARY KEY,        -- the library's patient key (stays local)
      address TEXT NOT NULL,               -- pseudonymous account used on chain
      source TEXT NOT NULL CHECK (source IN ('identity', 'derived', 'assigned')),
      created_at TEXT NOT NULL
    );

    CREATE TABLE ledger_settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
  `,
};
