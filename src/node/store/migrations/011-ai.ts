import type { Migration } from './index';

/**
 * AI findings (src/node/ai, docs/ai.md). ai_models: the installed models, content-addressed (id =
 * SHA-256 of the model's and the card's SHA-256s); the files live in <app data>/ai-models/<id>/.
 * ai_results: one row per instance and model with the provenance that binds the finding to the
 * exact image (pixel digest) and the exact model (model and card SHA-256, preprocessing id). No
 * foreign key to ai_models: a result outlives its model's removal and is then reported stale.
 */
export const m011Ai: Migration = {
  version: 11,
  name: 'ai findings',
  up: `
    CREATE TABLE ai_models (
      id TEXT PRIMARY KEY,               -- sha256(model_sha256 || '\\n' || card_sha256), hex
      name TEXT NOT NULL,
      version TEXT NOT NULL,
      model_sha256 TEXT NOT NULL,
      card_sha256 TEXT NOT NULL,
      card_json TEXT NOT NULL,           -- card.json as installed (its bytes hash to card_sha256)
      model_bytes INTEGER NOT NULL,
      source_folder TEXT,                -- where it was installed from (for the settings screen)
      installed_at TEXT NOT NULL
    );

    CREATE TABLE ai_results (
      id INTEGER PRIMARY KEY,
      sop_instance_uid TEXT NOT NULL,
      study_instance_uid TEXT,
      series_instance_uid TEXT,
      file_path TEXT NOT NULL,
      model_id TEXT NOT NULL,
      model_name TEXT NOT NULL,
      model_version TEXT NOT NULL,
      model_sha256 TEXT NOT NULL,
      card_sha256 TEXT NOT NULL,
      preprocessing TEXT NOT NULL,       -- e.g. medimgshr-ai-preprocess/1
      window_json TEXT NOT NULL,         -- the window applied: {center, width, source}, inverted
      pixel_sha256 TEXT NOT NULL,        -- the instance's pixel digest (fingerprint spec) at run time
      pixel_source TEXT NOT NULL,        -- 'fingerprint' (from fingerprint_files) | 'computed'
      findings_json TEXT NOT NULL,       -- [{label, probability, threshold, present}]
      output_json TEXT NOT NULL,         -- the raw output tensor values
      heat_map BLOB,                     -- deflated 8-bit map, see heat_map_json
      heat_map_json TEXT,                -- {width, height, min, max, encoding, label}
      record_sha256 TEXT NOT NULL,       -- SHA-256 of the canonical result record (the Merkle leaf's last field)
      created_at TEXT NOT NULL,
      UNIQUE (sop_instance_uid, model_id)
    );
    CREATE INDEX ai_results_study ON ai_results (study_instance_uid);
    CREATE INDEX ai_results_model ON ai_results (model_id);
  `,
};
