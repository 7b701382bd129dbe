import type { Migration } from './index';

/**
 * The library index: Patient / Study / Series / Instance with what the study browser and the
 * viewer need. Files stay where they are; an instance row points at its file by path and keeps
 * size, mtime and a SHA-256 of the file (computed in the background right after
 * import) to detect changes. Removing from the index never touches files.
 */
export const m002Library: Migration = {
  version: 2,
  name: 'library index',
  up: `
    CREATE TABLE patients (
      id INTEGER PRIMARY KEY,
      patient_key TEXT NOT NULL UNIQUE,      -- PatientID + '\\u001f' + PatientName (both may be empty)
      patient_id TEXT NOT NULL,
      name TEXT NOT NULL,
      birth_date TEXT,
      sex TEXT
    );
    CREATE TABLE studies (
      id INTEGER PRIMARY KEY,
      patient_ref INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
      study_uid TEXT NOT NULL UNIQUE,
      study_id TEXT,
      study_date TEXT,
      study_time TEXT,
      description TEXT,
      accession TEXT,
      referring TEXT,
      synthetic INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX studies_patient ON studies(patient_ref);
    CREATE TABLE series (
      id INTEGER PRIMARY KEY,
      study_ref INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
      series_uid TEXT NOT NULL UNIQUE,
      modality TEXT,
      number INTEGER,
      description TEXT,
      body_part TEXT,
      series_date TEXT
    );
    CREATE INDEX series_study ON series(study_ref);
    CREATE TABLE instances (
      id INTEGER PRIMARY KEY,
      series_ref INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
      sop_uid TEXT NOT NULL UNIQUE,
      sop_class TEXT,
      number INTEGER,
      frames INTEGER NOT NULL DEFAULT 1,
      rows INTEGER,
      columns INTEGER,
      bits_allocated INTEGER,
      photometric TEXT,
      image_position TEXT,       -- JSON [x,y,z]
      image_orientation TEXT,    -- JSON [6 numbers]
      pixel_spacing TEXT,        -- JSON [row, column]
      slice_thickness REAL,
      slice_location REAL,
      transfer_syntax TEXT NOT NULL,
      window_center REAL,
      window_width REAL,
      rescale_slope REAL,
      rescale_intercept REAL,
      has_pixels INTEGER NOT NULL DEFAULT 0,
      file_path TEXT NOT NULL UNIQUE,
      file_size INTEGER NOT NULL,
      file_mtime REAL NOT NULL,
      sha256 TEXT,               -- SHA-256 of the whole file; filled in by the background hashing task after import
      indexed_at TEXT NOT NULL
    );
    CREATE INDEX instances_series ON instances(series_ref);
    CREATE INDEX instances_sha ON instances(sha256);
  `,
};
