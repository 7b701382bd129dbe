import type { Migration } from './index';

/**
 * Measurements drawn in the viewer, per instance. Keyed by SOP Instance UID (not the index row
 * id) so they survive removing a study from the index and importing it again.
 */
export const m004Measurements: Migration = {
  version: 4,
  name: 'measurements',
  up: `
    CREATE TABLE measurements (
      id INTEGER PRIMARY KEY,
      sop_uid TEXT NOT NULL,
      frame INTEGER NOT NULL DEFAULT 0,
      kind TEXT NOT NULL,
      data TEXT NOT NULL,      -- JSON: the tool's own state
      stats TEXT NOT NULL,     -- JSON: computed statistics as shown
      label TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX measurements_sop ON measurements(sop_uid);
  `,
};
