/** Writes to the library index: a batch of scanned files, and removal of patients / studies / series. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Db } from '../store/database';
import { AppError, ErrorCode } from '../../shared/errors';
import type { IndexRecord } from './extract';
import type { LibraryQueries } from './queries';

/** A scanned file waiting to be written to the index. */
export interface Pending {
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string | null;
  record: IndexRecord;
  /** Where the file came from: 'local' (default), 'pacs:<connection>', 'scp:<calling AE title>'. */
  source?: string;
}

export class IndexWrites {
  constructor(
    private readonly db: Db,
    private readonly queries: LibraryQueries,
  ) {}

  private stmts?: ReturnType<IndexWrites['prepare']>;
  private prepare() {
    const db = this.db;
    return {
      byPath: db.prepare('SELECT id, sop_uid, sha256, series_ref, file_size, file_mtime FROM instances WHERE file_path = ?'),
      // the library's instance of a SOP Instance UID (one), and the copies other sources returned of it
      bySop: db.prepare('SELECT id, file_path, sha256, series_ref, source FROM instances WHERE sop_uid = ? AND copy_of IS NULL'),
      copies: db.prepare('SELECT id, file_path, sha256, source FROM instances WHERE copy_of = ?'),
      dropCopy: db.prepare('DELETE FROM instances WHERE copy_of = ? AND source = ?'),
      touch: db.prepare('UPDATE instances SET file_size = ?, file_mtime = ? WHERE id = ?'),
      setHash: db.prepare('UPDATE instances SET sha256 = ? WHERE id = ?'),
      patient: db.prepare(
        `INSERT INTO patients (patient_key, patient_id, name, birth_date, sex) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(patient_key) DO UPDATE SET birth_date = COALESCE(excluded.birth_date, birth_date), sex = COALESCE(excluded.sex, sex)
         RETURNING id`,
      ),
      study: db.prepare(
        `INSERT INTO studies (patient_ref, study_uid, study_id, study_date, study_time, description, accession, referring, synthetic)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(study_uid) DO UPDATE SET
           study_id = COALESCE(study_id, excluded.study_id), study_date = COALESCE(study_date, excluded.study_date),
           study_time = COALESCE(study_time, excluded.study_time), description = COALESCE(description, excluded.description),
           accession = COALESCE(accession, excluded.accession), referring = COALESCE(referring, excluded.referring),
           synthetic = MAX(synthetic, excluded.synthetic)
         RETURNING id`,
      ),
      series: db.prepare(
        `INSERT INTO series (study_ref, series_uid, modality, number, description, body_part, series_date) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(series_uid) DO UPDATE SET
           modality = COALESCE(modality, excluded.modality), number = COALESCE(number, excluded.number),
           description = COALESCE(description, excluded.description), body_part = COALESCE(body_part, excluded.body_part),
           series_date = COALESCE(series_date, excluded.series_date)
         RETURNING id, study_ref`,
      ),
      insert: db.prepare(
        `INSERT INTO instances (series_ref, sop_uid, sop_class, number, frames, rows, columns, bits_allocated, photometric,
           image_position, image_orientation, pixel_spacing, slice_thickness, slice_location, transfer_syntax,
           window_center, window_width, rescale_slope, rescale_intercept, has_pixels, file_path, file_size, file_mtime, sha256, indexed_at, source, copy_of)
         VALUES (@series_ref, @sop_uid, @sop_class, @number, @frames, @rows, @columns, @bits_allocated, @photometric,
           @image_position, @image_orientation, @pixel_spacing, @slice_thickness, @slice_location, @transfer_syntax,
           @window_center, @window_width, @rescale_slope, @rescale_intercept, @has_pixels, @file_path, @file_size, @file_mtime, @sha256, @indexed_at, @source, @copy_of)`,
      ),
      update: db.prepare(
        `UPDATE instances SET series_ref=@series_ref, sop_uid=@sop_uid, sop_class=@sop_class, number=@number, frames=@frames, rows=@rows,
           columns=@columns, bits_allocated=@bits_allocated, photometric=@photometric, image_position=@image_position,
           image_orientation=@image_orientation, pixel_spacing=@pixel_spacing, slice_thickness=@slice_thickness,
           slice_location=@slice_location, transfer_syntax=@transfer_syntax, window_center=@window_center, window_width=@window_width,
           rescale_slope=@rescale_slope, rescale_intercept=@rescale_intercept, has_pixels=@has_pixels, file_size=@file_size,
           file_mtime=@file_mtime, sha256=@sha256, indexed_at=@indexed_at, file_path=@file_path
         WHERE id = @id`,
      ),
    };
  }

  writeBatch(batch: Pending[]): {
    path: string;
    kind: 'added' | 'updated' | 'unchanged' | 'duplicate';
    reason: string;
    instanceId?: number;
    studyId?: number;
    copyOf?: string;
  }[] {
    const st = (this.stmts ??= this.prepare());
    const now = new Date().toISOString();
    const seriesCache = new Map<string, { id: number; study: number }>();
    const run = this.db.transaction(() =>
      batch.map((p) => {
        const rec = p.record;
        const atPath = st.byPath.get(p.path) as
          | { id: number; sop_uid: string; sha256: string | null; series_ref: number; file_size: number; file_mtime: number }
          | undefined;
        // Same content (hash known), or the same file seen by a concurrent import (same size and mtime).
        const same = atPath && (p.sha256 !== null ? atPath.sha256 === p.sha256 : atPath.file_size === p.size && atPath.file_mtime === p.mtimeMs);
        if (atPath && same) {
          st.touch.run(p.size, p.mtimeMs, atPath.id);
          return { path: p.path, kind: 'unchanged' as const, reason: '' };
        }
        const source = p.source ?? 'local';
        const sameSop = st.bySop.get(rec.instance.sopUid) as { id: number; file_path: string; sha256: string | null; series_ref: number; source: string } | undefined;
        // A PACS copy whose bytes differ from the library's instance: indexed as a copy of it (its
        // own row, file and verification), in the same series, one per source; never refused.
        let copy: { of: number; seriesRef: number; replaces: number | null } | null = null;
        if (sameSop && sameSop.file_path !== p.path) {
          // The same SOP Instance UID from another file. Compare contents now.
          p.sha256 ??= hashFileSync(p.path);
          if (sameSop.sha256 === null) {
            sameSop.sha256 = hashFileSync(sameSop.file_path);
            if (sameSop.sha256) st.setHash.run(sameSop.sha256, sameSop.id);
          }
          if (sameSop.sha256 === p.sha256) {
            // this source now returns the library's bytes: an earlier differing copy from it is gone
            if (source !== 'local') st.dropCopy.run(sameSop.id, source);
            return { path: p.path, kind: 'unchanged' as const, reason: '', copyOf: sameSop.file_path };
          }
          const copies = st.copies.all(sameSop.id) as { id: number; file_path: string; sha256: string | null; source: string }[];
          const identical = copies.find((c) => c.sha256 !== null && c.sha256 === p.sha256);
          if (identical && (identical.source === source || source === 'local')) return { path: p.path, kind: 'unchanged' as const, reason: '', copyOf: identical.file_path };
          if (source === 'local') {
            return {
              path: p.path,
              kind: 'duplicate' as const,
              reason: `Another file with the same SOP Instance UID (${rec.instance.sopUid}) but different content is already indexed: ${sameSop.file_path}.`,
            };
          }
          copy = { of: sameSop.id, seriesRef: sameSop.series_ref, replaces: copies.find((c) => c.source === source)?.id ?? null };
        }
        if (copy) {
          const studyRef = (this.db.prepare('SELECT study_ref FROM series WHERE id = ?').get(copy.seriesRef) as { study_ref: number }).study_ref;
          const values = instanceValues(rec, p, now, copy.seriesRef, source, copy.of);
          if (copy.replaces !== null) {
            st.update.run({ ...values, id: copy.replaces });
            return { path: p.path, kind: 'updated' as const, reason: '', instanceId: copy.replaces, studyId: studyRef };
          }
          const r = st.insert.run(values);
          return { path: p.path, kind: 'added' as const, reason: '', instanceId: Number(r.lastInsertRowid), studyId: studyRef };
        }
        let series = seriesCache.get(rec.series.uid);
        if (!series) {
          const pkey = `${rec.patient.patientId}\u001f${rec.patient.name}`;
          const patient = st.patient.get(pkey, rec.patient.patientId, rec.patient.name, rec.patient.birthDate, rec.patient.sex) as { id: number };
          const s = rec.study;
          const study = st.study.get(patient.id, s.uid, s.studyId, s.date, s.time, s.description, s.accession, s.referring, s.synthetic ? 1 : 0) as { id: number };
          const se = rec.series;
          const row = st.series.get(study.id, se.uid, se.modality, se.number, se.description, se.bodyPart, se.date) as { id: number; study_ref: number };
          series = { id: row.id, study: row.study_ref };
          seriesCache.set(rec.series.uid, series);
        }
        const values = instanceValues(rec, p, now, series.id, source, null);
        if (atPath) {
          st.update.run({ ...values, id: atPath.id });
          return { path: p.path, kind: 'updated' as const, reason: '', instanceId: atPath.id, studyId: series.study };
        }
        const r = st.insert.run(values);
        return { path: p.path, kind: 'added' as const, reason: '', instanceId: Number(r.lastInsertRowid), studyId: series.study };
      }),
    );
    return run();
  }

  /** Removes series, studies and patients left without instances. */
  pruneEmpty(): void {
    this.db.transaction(() => {
      this.db.exec(`DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.series_ref = series.id)`);
      this.db.exec(`DELETE FROM studies WHERE NOT EXISTS (SELECT 1 FROM series s WHERE s.study_ref = studies.id)`);
      this.db.exec(`DELETE FROM patients WHERE NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_ref = patients.id)`);
    })();
  }

  remove(target: { patientId?: number; studyId?: number; seriesId?: number }): { removedStudies: number; removedSeries: number; removedInstances: number; studyIds: number[] } {
    const db = this.db;
    let studyIds: number[];
    let seriesIds: number[];
    if (target.seriesId !== undefined) {
      this.queries.oneSeries(target.seriesId);
      seriesIds = [target.seriesId];
      studyIds = [];
    } else if (target.studyId !== undefined) {
      this.queries.study(target.studyId);
      studyIds = [target.studyId];
      seriesIds = (db.prepare('SELECT id FROM series WHERE study_ref = ?').all(target.studyId) as { id: number }[]).map((r) => r.id);
    } else {
      const pid = target.patientId!;
      if (!db.prepare('SELECT 1 FROM patients WHERE id = ?').get(pid)) throw new AppError(ErrorCode.NotFound, `Patient ${pid} is not in the library.`);
      studyIds = (db.prepare('SELECT id FROM studies WHERE patient_ref = ?').all(pid) as { id: number }[]).map((r) => r.id);
      seriesIds = studyIds.flatMap((s) => (db.prepare('SELECT id FROM series WHERE study_ref = ?').all(s) as { id: number }[]).map((r) => r.id));
    }
    const touchedStudies = new Set<number>(studyIds);
    let removedInstances = 0;
    try {
      db.transaction(() => {
        for (const sid of seriesIds) {
          const st = db.prepare('SELECT study_ref FROM series WHERE id = ?').get(sid) as { study_ref: number } | undefined;
          if (st) touchedStudies.add(st.study_ref);
          removedInstances += db.prepare('DELETE FROM instances WHERE series_ref = ?').run(sid).changes;
          db.prepare('DELETE FROM series WHERE id = ?').run(sid);
        }
      })();
    } catch (err) {
      if (/FOREIGN KEY/i.test(String((err as Error).message))) {
        throw new AppError(ErrorCode.Conflict, 'These images cannot be removed from the index: other records (e.g. fingerprints) still refer to them.');
      }
      throw err;
    }
    const before = (db.prepare('SELECT COUNT(*) AS n FROM studies').get() as { n: number }).n;
    this.pruneEmpty();
    const after = (db.prepare('SELECT COUNT(*) AS n FROM studies').get() as { n: number }).n;
    return { removedStudies: before - after, removedSeries: seriesIds.length, removedInstances, studyIds: [...touchedStudies] };
  }
}

/** SHA-256 of a file read synchronously (only for the rare SOP Instance UID collisions), or null if unreadable. */
function hashFileSync(path: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return null;
  }
}

/** The row of an instance as written (the library's instance, or a copy of one). */
function instanceValues(rec: IndexRecord, p: Pending, now: string, seriesRef: number, source: string, copyOf: number | null) {
  const i = rec.instance;
  return {
    series_ref: seriesRef,
    sop_uid: i.sopUid,
    sop_class: i.sopClass,
    number: i.number,
    frames: i.frames,
    rows: i.rows,
    columns: i.columns,
    bits_allocated: i.bitsAllocated,
    photometric: i.photometric,
    image_position: i.imagePosition ? JSON.stringify(i.imagePosition) : null,
    image_orientation: i.imageOrientation ? JSON.stringify(i.imageOrientation) : null,
    pixel_spacing: i.pixelSpacing ? JSON.stringify(i.pixelSpacing) : null,
    slice_thickness: i.sliceThickness,
    slice_location: i.sliceLocation,
    transfer_syntax: i.transferSyntax,
    window_center: i.windowCenter,
    window_width: i.windowWidth,
    rescale_slope: i.rescaleSlope,
    rescale_intercept: i.rescaleIntercept,
    has_pixels: i.hasPixels ? 1 : 0,
    file_path: p.path,
    file_size: p.size,
    file_mtime: p.mtimeMs,
    sha256: p.sha256,
    indexed_at: now,
    source,
    copy_of: copyOf,
  };
}
