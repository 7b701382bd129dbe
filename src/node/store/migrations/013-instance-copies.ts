import type { Migration } from './index';

/**
 * A PACS copy of an instance next to the local original (docs/pacs.md § PACS copies). Until now
 * `instances.sop_uid` was UNIQUE, so a retrieved copy whose bytes differ from the library's
 * instance was refused as a duplicate and the viewer went on showing the local original as
 * verified. Now:
 *   - `source` says where the row's file came from: 'local' (imported files), 'pacs:<connection>'
 *     (retrieved), 'scp:<calling AE title>' (received by our Storage SCP);
 *   - `copy_of` is NULL for the library's instance of a SOP Instance UID (exactly one: a partial
 *     unique index), and for a copy that differs from it, the id of that instance. A copy shares
 *     its series (it is the same instance, as another source returned it); one copy per source.
 * Every query that means "the instances of the study" keeps meaning one per SOP Instance UID by
 * reading `copy_of IS NULL`; the viewer and the verifier reach a copy by its own id and file.
 * The table is rebuilt (SQLite cannot drop a column's UNIQUE); nothing refers to instances(id).
 */
export const m013InstanceCopies: Migration = {
  version: 13,
  name: 'instances: source and PACS copies (no UNIQUE sop_uid)',
  up: `
    CREATE TABLE instances_new (
      id INTEGER PRIMARY KEY,
      series_ref INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
      sop_uid TEXT NOT NULL,
      sop_class TEXT,
      number INTEGER,
      frames INTEGER NOT NULL DEFAULT 1,
      rows INTEGER,
      columns INTEGER,
      bits_allocated INTEGER,
      photometric TEXT,
      image_position TEXT,
      image_orientation TEXT,
      pixel_spacing TEXT,
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
      sha256 TEXT,
      indexed_at TEXT NOT NULL,
      source TEXT NOT NULL DEFAULT 'local',      -- local | pacs:<connection name> | scp:<calling AE title>
      copy_of INTEGER REFERENCES instances_new(id) ON DELETE CASCADE  -- NULL: the library's instance of this SOP UID
    );
    INSERT INTO instances_new (id, series_ref, sop_uid, sop_class, number, frames, rows, columns, bits_allocated, photometric,
      image_position, image_orientation, pixel_spacing, slice_thickness, slice_location, transfer_syntax, window_center,
      window_width, rescale_slope, rescale_intercept, has_pixels, file_path, file_size, file_mtime, sha256, indexed_at, source)
    SELECT i.id, i.series_ref, i.sop_uid, i.sop_class, i.number, i.frames, i.rows, i.columns, i.bits_allocated, i.photometric,
      i.image_position, i.image_orientation, i.pixel_spacing, i.slice_thickness, i.slice_location, i.transfer_syntax, i.window_center,
      i.window_width, i.rescale_slope, i.rescale_intercept, i.has_pixels, i.file_path, i.file_size, i.file_mtime, i.sha256, i.indexed_at,
      COALESCE((SELECT 'pacs:' || c.name FROM pacs_instances p JOIN pacs_connections c ON c.id = p.connection_id WHERE p.path = i.file_path),
               (SELECT 'scp:' || COALESCE(p.calling_aet, '') FROM pacs_instances p WHERE p.path = i.file_path AND p.connection_id IS NULL),
               'local')
    FROM instances i;
    DROP TABLE instances;
    ALTER TABLE instances_new RENAME TO instances;
    CREATE INDEX instances_series ON instances(series_ref);
    CREATE INDEX instances_sha ON instances(sha256);
    CREATE UNIQUE INDEX instances_one_per_sop ON instances(sop_uid) WHERE copy_of IS NULL;
    CREATE UNIQUE INDEX instances_copy_per_source ON instances(copy_of, source) WHERE copy_of IS NOT NULL;
  `,
};
