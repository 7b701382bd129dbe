/**
 * The library: imports files / folders / DICOMDIRs into the SQLite index and answers the study
 * browser's and the viewer's questions. One per app, built by the composition root (src/node/services.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Db } from '../store/database';
import type { Logger } from '../log';
import type { Task } from '../tasks';
import { AppError, ErrorCode } from '../../shared/errors';
import type {
  ImportReport,
  InstanceSummary,
  Measurement,
  MeasurementKind,
  PatientSummary,
  RejectedFile,
  SeriesSummary,
  SortKey,
  SortOrder,
  StudySummary,
  TagNode,
} from '../../shared/api/library';
import { readDicomFile } from '../dicom/parse';
import { transferSyntaxName } from '../dicom/transfer-syntaxes';
import { tagTree } from '../dicom/tags';
import type { IndexRecord } from './extract';
import { scanMany, type ScanJob, type ScanOutcome } from './scan';
import { ScanPool } from './scan-pool';

/** How many files are written per transaction. */
const BATCH = 256;
/** Read headers in the worker pool instead of in-process (see import()). */
const scanInWorkers = (): boolean => process.env.MEDIMG_SCAN_IN_WORKERS === '1';

interface Pending {
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string | null;
  record: IndexRecord;
}

export interface ImportOptions {
  /** Called with the task once it started (so callers learn its id). */
  onStart?: (task: Task) => void;
}

type Row = Record<string, unknown>;

function parseJsonNums(v: unknown): number[] | null {
  if (typeof v !== 'string') return null;
  try {
    const a = JSON.parse(v) as unknown;
    return Array.isArray(a) && a.every((x) => typeof x === 'number') ? (a as number[]) : null;
  } catch {
    return null;
  }
}

function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
}

export class Library {
  /** Import workers, started on the first large import and kept until `close()`. */
  private pool: ScanPool | null = null;

  constructor(
    private readonly db: Db,
    private readonly log?: Logger,
  ) {}

  private closed = false;

  /** Stops background hashing (after its current chunk) and the import workers. */
  async close(): Promise<void> {
    this.closed = true;
    await this.whenHashed();
    const p = this.pool;
    this.pool = null;
    await p?.close();
  }

  // ------------------------------------------------------------------ import

  /** Imports paths as a task of kind "import" on `tasks`; returns the report. */
  async import(paths: string[], task: Task): Promise<ImportReport> {
    const t0 = Date.now();
    const rejected: RejectedFile[] = [];
    const dicomdirs: string[] = [];
    const updatedPaths: string[] = [];
    const identicalCopies: { path: string; of: string }[] = [];
    const instanceIds: number[] = [];
    const studyIds = new Set<number>();
    let added = 0;
    let updated = 0;
    let unchanged = 0;
    let scanned = 0;
    let cancelled = false;

    // 1. Expand folders (recursively) into a de-duplicated, ordered list of files.
    const queue: string[] = [];
    const seen = new Set<string>();
    const enqueue = (p: string) => {
      const r = resolve(p);
      if (seen.has(r)) return;
      seen.add(r);
      queue.push(r);
    };
    for (const p of paths) {
      if (task.cancelled) break;
      const abs = resolve(p);
      let st;
      try {
        st = await stat(abs);
      } catch (err) {
        rejected.push({ path: abs, code: 'UNREADABLE', reason: `The path cannot be read: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : String((err as Error).message)}.` });
        continue;
      }
      if (st.isDirectory()) {
        for (const f of await this.walk(abs, rejected, task)) enqueue(f);
      } else if (st.isFile()) enqueue(abs);
      else rejected.push({ path: abs, code: 'UNREADABLE', reason: 'This is not a regular file (a pipe, socket or device), so it was not read.' });
    }
    task.progress({ total: queue.length, done: 0, label: 'reading files' }, true);

    // 2. Read headers (a few at a time), index in batches.
    const known = this.db.prepare('SELECT id, file_size, file_mtime FROM instances WHERE file_path = ?');
    const pending: Pending[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      const batch = pending.splice(0);
      const results = this.writeBatch(batch);
      for (const r of results) {
        if (r.kind === 'added') added++;
        else if (r.kind === 'updated') {
          updated++;
          updatedPaths.push(r.path);
        } else if (r.kind === 'unchanged') {
          unchanged++;
          if (r.copyOf) identicalCopies.push({ path: r.path, of: r.copyOf });
        }
        else rejected.push({ path: r.path, code: 'DUPLICATE_SOP_INSTANCE_UID', reason: r.reason });
        if (r.instanceId !== undefined && (r.kind === 'added' || r.kind === 'updated')) instanceIds.push(r.instanceId);
        if (r.studyId !== undefined) studyIds.add(r.studyId);
      }
    };

    // Headers are read in-process with async I/O (a 64 KB prefix per file; measured as fast as or
    // faster than worker threads, whose start-up and scheduling cost more than this small work),
    // overlapping the next chunk's reads with this chunk's SQLite batch. The heavy part, hashing
    // whole files, runs afterwards in worker threads (hashPending). MEDIMG_SCAN_IN_WORKERS=1 switches
    // header reading to the workers too.
    const pool = scanInWorkers() && queue.length >= 64 ? (this.pool ??= new ScanPool()) : null;
    pool?.ref();
    const scan = (jobs: ScanJob[]): Promise<ScanOutcome[]> =>
      pool && this.pool === pool
        ? pool.scan(jobs).catch((err: unknown) => {
            // a worker died: carry on in-process, start fresh workers next time
            this.log?.warn('import worker failed; continuing in-process', { error: String(err) });
            if (this.pool === pool) this.pool = null;
            void pool.close();
            return scanMany(jobs);
          })
        : scanMany(jobs);
    const jobsFor = (paths: string[]): ScanJob[] =>
      paths.map((path) => {
        const row = known.get(path) as { file_size: number; file_mtime: number } | undefined;
        return { path, known: row ? { size: row.file_size, mtimeMs: row.file_mtime } : null };
      });
    const CHUNK = pool ? 128 : 64;
    let i = 0;
    const take = () => {
      const chunk = queue.slice(i, i + CHUNK);
      i += chunk.length;
      return chunk.length ? scan(jobsFor(chunk)) : null;
    };
    try {
      let inflight = take();
      while (inflight) {
        const outcomes = await inflight;
        if (task.cancelled) {
          cancelled = true;
          break;
        }
        // DICOMDIRs may add files to the queue; start the next chunk after handling them.
        const dirsBefore = dicomdirs.length;
        let nextStarted = false;
        if (!outcomes.some((o) => o.kind === 'dicomdir')) {
          inflight = take();
          nextStarted = true;
        }
        for (const o of outcomes) {
          if (o.kind === 'same') {
            scanned++;
            unchanged++;
          } else if (o.kind === 'dicomdir') {
            dicomdirs.push(o.path);
            const base = dirname(o.path);
            for (const parts of o.refs) {
              const target = await resolveReference(base, parts);
              if (target) {
                if (!seen.has(target)) enqueue(target);
              } else {
                const p = join(base, ...parts);
                if (!seen.has(p)) {
                  seen.add(p);
                  rejected.push({ path: p, code: 'DICOMDIR_REFERENCE_MISSING', reason: `The DICOMDIR ${o.path} lists this file, but it is not there.` });
                }
              }
            }
          } else if (o.kind === 'rejected') {
            scanned++;
            rejected.push(o.rejected);
          } else if (o.kind === 'record') {
            scanned++;
            pending.push({ path: o.path, size: o.size, mtimeMs: o.mtimeMs, sha256: o.sha256, record: o.record });
          }
        }
        if (!nextStarted) inflight = take();
        if (pending.length >= BATCH) flush();
        task.progress({
          done: scanned + dicomdirs.length,
          failed: rejected.length,
          total: queue.length,
          label: dicomdirs.length > dirsBefore ? `DICOMDIR ${basename(dicomdirs[dicomdirs.length - 1]!)}` : basename(outcomes[outcomes.length - 1]?.path ?? ''),
        });
      }
      if (cancelled && inflight) await inflight.catch(() => undefined);
    } finally {
      pool?.unref();
    }
    flush();
    if (updated > 0) this.pruneEmpty();
    task.progress({ done: scanned + dicomdirs.length, failed: rejected.length }, true);
    const seconds = (Date.now() - t0) / 1000;
    return {
      taskId: task.id,
      cancelled,
      scanned,
      added,
      updated,
      unchanged,
      rejected,
      dicomdirs,
      identicalCopies,
      updatedPaths,
      instanceIds,
      studyIds: [...studyIds],
      seconds,
      rate: seconds > 0 ? scanned / seconds : 0,
    };
  }

  private hashing: Promise<number> | null = null;

  /**
   * Computes the SHA-256 of every indexed file that has none yet (new files are indexed from their
   * header first, so the browser can show them at once). Runs in the import workers; returns how
   * many were hashed. Concurrent calls share one run.
   */
  hashPending(task: Task): Promise<number> {
    this.hashing ??= this.hashAll(task).finally(() => {
      this.hashing = null;
    });
    return this.hashing;
  }

  /** Resolves when no background hashing is running. */
  async whenHashed(): Promise<void> {
    while (this.hashing) await this.hashing.catch(() => undefined);
  }

  private async hashAll(task: Task): Promise<number> {
    const rows = this.db.prepare('SELECT id, file_path, file_size, file_mtime FROM instances WHERE sha256 IS NULL ORDER BY id').all() as {
      id: number;
      file_path: string;
      file_size: number;
      file_mtime: number;
    }[];
    task.progress({ total: rows.length, done: 0, label: 'computing file hashes' }, true);
    if (rows.length === 0) return 0;
    const pool = rows.length >= 64 ? (this.pool ??= new ScanPool()) : null;
    pool?.ref();
    const set = this.db.prepare('UPDATE instances SET sha256 = ? WHERE id = ? AND sha256 IS NULL AND file_size = ? AND file_mtime = ?');
    let done = 0;
    let failed = 0;
    try {
      for (let i = 0; i < rows.length; i += 128) {
        if (task.cancelled || this.closed) break;
        const chunk = rows.slice(i, i + 128);
        const jobs = chunk.map((r) => ({ path: r.file_path, known: null, mode: 'hash' as const }));
        const out = pool && this.pool === pool ? await pool.scan(jobs).catch(() => scanMany(jobs)) : await scanMany(jobs);
        if (this.closed || !this.db.open) break;
        this.db.transaction(() => {
          out.forEach((o, k) => {
            const r = chunk[k]!;
            if (o.kind === 'hash' && o.size === r.file_size && o.mtimeMs === r.file_mtime) set.run(o.sha256, r.id, r.file_size, r.file_mtime);
            else failed++; // changed or unreadable since indexing: the next import re-indexes it
          });
        })();
        done += chunk.length;
        task.progress({ done, failed });
      }
    } finally {
      pool?.unref();
    }
    return done - failed;
  }

  private async walk(root: string, rejected: RejectedFile[], task: Task): Promise<string[]> {
    const out: string[] = [];
    const stack = [root];
    while (stack.length) {
      if (task.cancelled) break;
      const dir = stack.pop()!;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        rejected.push({ path: dir, code: 'UNREADABLE', reason: `The folder cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}).` });
        continue;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const subdirs: string[] = [];
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) subdirs.push(p);
        else if (e.isFile()) out.push(p);
        // symbolic links and special files are skipped (no loops, no devices)
      }
      stack.push(...subdirs.reverse());
    }
    return out;
  }

  private stmts?: ReturnType<Library['prepare']>;
  private prepare() {
    const db = this.db;
    return {
      byPath: db.prepare('SELECT id, sop_uid, sha256, series_ref, file_size, file_mtime FROM instances WHERE file_path = ?'),
      bySop: db.prepare('SELECT id, file_path, sha256, series_ref FROM instances WHERE sop_uid = ?'),
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
           window_center, window_width, rescale_slope, rescale_intercept, has_pixels, file_path, file_size, file_mtime, sha256, indexed_at)
         VALUES (@series_ref, @sop_uid, @sop_class, @number, @frames, @rows, @columns, @bits_allocated, @photometric,
           @image_position, @image_orientation, @pixel_spacing, @slice_thickness, @slice_location, @transfer_syntax,
           @window_center, @window_width, @rescale_slope, @rescale_intercept, @has_pixels, @file_path, @file_size, @file_mtime, @sha256, @indexed_at)`,
      ),
      update: db.prepare(
        `UPDATE instances SET series_ref=@series_ref, sop_uid=@sop_uid, sop_class=@sop_class, number=@number, frames=@frames, rows=@rows,
           columns=@columns, bits_allocated=@bits_allocated, photometric=@photometric, image_position=@image_position,
           image_orientation=@image_orientation, pixel_spacing=@pixel_spacing, slice_thickness=@slice_thickness,
           slice_location=@slice_location, transfer_syntax=@transfer_syntax, window_center=@window_center, window_width=@window_width,
           rescale_slope=@rescale_slope, rescale_intercept=@rescale_intercept, has_pixels=@has_pixels, file_size=@file_size,
           file_mtime=@file_mtime, sha256=@sha256, indexed_at=@indexed_at
         WHERE id = @id`,
      ),
    };
  }

  private writeBatch(batch: Pending[]): {
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
        const sameSop = st.bySop.get(rec.instance.sopUid) as { id: number; file_path: string; sha256: string | null } | undefined;
        if (sameSop && sameSop.file_path !== p.path) {
          // Rare: the same SOP Instance UID from another file. Compare contents now.
          p.sha256 ??= hashFileSync(p.path);
          if (sameSop.sha256 === null) {
            sameSop.sha256 = hashFileSync(sameSop.file_path);
            if (sameSop.sha256) st.setHash.run(sameSop.sha256, sameSop.id);
          }
          if (sameSop.sha256 === p.sha256) return { path: p.path, kind: 'unchanged' as const, reason: '', copyOf: sameSop.file_path };
          return {
            path: p.path,
            kind: 'duplicate' as const,
            reason: `Another file with the same SOP Instance UID (${rec.instance.sopUid}) but different content is already indexed: ${sameSop.file_path}.`,
          };
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
        const i = rec.instance;
        const values = {
          series_ref: series.id,
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
        };
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
  private pruneEmpty(): void {
    this.db.transaction(() => {
      this.db.exec(`DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.series_ref = series.id)`);
      this.db.exec(`DELETE FROM studies WHERE NOT EXISTS (SELECT 1 FROM series s WHERE s.study_ref = studies.id)`);
      this.db.exec(`DELETE FROM patients WHERE NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_ref = patients.id)`);
    })();
  }

  // ------------------------------------------------------------------ queries

  patients(q: { search?: string; sort?: SortKey; order?: SortOrder; limit?: number } = {}): { patients: PatientSummary[]; total: number } {
    const where = q.search ? `WHERE p.name LIKE @s ESCAPE '\\' OR p.patient_id LIKE @s ESCAPE '\\'` : '';
    const sortCol = { name: 'p.name', id: 'p.patient_id', date: 'MAX(st.study_date)', modality: 'MIN(se.modality)' }[q.sort ?? 'name'];
    const order = q.order ?? (q.sort === 'date' ? 'desc' : 'asc');
    const rows = this.db
      .prepare(
        `SELECT p.id, p.patient_id, p.name, p.birth_date, p.sex,
           COUNT(DISTINCT st.id) AS studies, COUNT(DISTINCT se.id) AS series, COUNT(i.id) AS instances
         FROM patients p LEFT JOIN studies st ON st.patient_ref = p.id LEFT JOIN series se ON se.study_ref = st.id
         LEFT JOIN instances i ON i.series_ref = se.id
         ${where} GROUP BY p.id ORDER BY ${sortCol} ${order === 'desc' ? 'DESC' : 'ASC'}, p.id LIMIT @limit`,
      )
      .all({ s: likePattern(q.search ?? ''), limit: q.limit ?? 1000 }) as Row[];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM patients p ${where}`).get({ s: likePattern(q.search ?? '') }) as { n: number }).n;
    return {
      total,
      patients: rows.map((r) => ({
        id: r.id as number,
        patientId: r.patient_id as string,
        name: r.name as string,
        birthDate: (r.birth_date as string | null) ?? null,
        sex: (r.sex as string | null) ?? null,
        studyCount: r.studies as number,
        seriesCount: r.series as number,
        instanceCount: r.instances as number,
      })),
    };
  }

  private studySelect(where: string, orderLimit = ''): string {
    return `SELECT st.*, p.id AS pid, p.patient_id AS ppid, p.name AS pname, p.birth_date AS pbirth, p.sex AS psex,
        (SELECT GROUP_CONCAT(DISTINCT se2.modality) FROM series se2 WHERE se2.study_ref = st.id) AS modalities,
        (SELECT COUNT(*) FROM series se3 WHERE se3.study_ref = st.id) AS series_count,
        (SELECT COUNT(*) FROM instances i JOIN series se4 ON i.series_ref = se4.id WHERE se4.study_ref = st.id) AS instance_count
      FROM studies st JOIN patients p ON p.id = st.patient_ref ${where} ${orderLimit}`;
  }

  private toStudy(r: Row): StudySummary {
    return {
      id: r.id as number,
      patient: { id: r.pid as number, patientId: r.ppid as string, name: r.pname as string, birthDate: (r.pbirth as string) ?? null, sex: (r.psex as string) ?? null },
      studyInstanceUid: r.study_uid as string,
      studyId: (r.study_id as string) ?? null,
      date: (r.study_date as string) ?? null,
      time: (r.study_time as string) ?? null,
      description: (r.description as string) ?? null,
      accessionNumber: (r.accession as string) ?? null,
      referringPhysician: (r.referring as string) ?? null,
      modalities: r.modalities ? String(r.modalities).split(',').filter((m) => m !== '').sort() : [],
      seriesCount: r.series_count as number,
      instanceCount: r.instance_count as number,
      synthetic: Boolean(r.synthetic),
    };
  }

  studies(q: { patientId?: number; search?: string; sort?: SortKey; order?: SortOrder; limit?: number } = {}): { studies: StudySummary[]; total: number } {
    const conds: string[] = [];
    if (q.patientId !== undefined) conds.push('st.patient_ref = @pid');
    if (q.search)
      conds.push(
        `(p.name LIKE @s ESCAPE '\\' OR p.patient_id LIKE @s ESCAPE '\\' OR st.description LIKE @s ESCAPE '\\' OR st.accession LIKE @s ESCAPE '\\'
          OR st.study_date LIKE @s ESCAPE '\\' OR EXISTS (SELECT 1 FROM series sx WHERE sx.study_ref = st.id AND (sx.modality LIKE @s ESCAPE '\\' OR sx.description LIKE @s ESCAPE '\\')))`,
      );
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    const sortCol = { name: 'p.name', id: 'p.patient_id', date: 'st.study_date', modality: 'modalities' }[q.sort ?? 'date'];
    const order = q.order ?? ((q.sort ?? 'date') === 'date' ? 'desc' : 'asc');
    const params = { pid: q.patientId ?? null, s: likePattern(q.search ?? ''), limit: q.limit ?? 1000 };
    const rows = this.db.prepare(this.studySelect(where, `ORDER BY ${sortCol} ${order === 'desc' ? 'DESC' : 'ASC'}, st.id LIMIT @limit`)).all(params) as Row[];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM studies st JOIN patients p ON p.id = st.patient_ref ${where}`).get(params) as { n: number }).n;
    return { studies: rows.map((r) => this.toStudy(r)), total };
  }

  study(studyId: number): StudySummary {
    const r = this.db.prepare(this.studySelect('WHERE st.id = ?')).get(studyId) as Row | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `Study ${studyId} is not in the library.`, 'Refresh the study list; it may have been removed.');
    return this.toStudy(r);
  }

  private toSeries(r: Row): SeriesSummary {
    return {
      id: r.id as number,
      studyId: r.study_ref as number,
      seriesInstanceUid: r.series_uid as string,
      modality: (r.modality as string) ?? null,
      number: (r.number as number) ?? null,
      description: (r.description as string) ?? null,
      bodyPart: (r.body_part as string) ?? null,
      date: (r.series_date as string) ?? null,
      instanceCount: r.instance_count as number,
      frameCount: (r.frame_count as number) ?? 0,
      thumbnailUrl: `/thumbnail/${r.id as number}.png`,
    };
  }

  private seriesSelect(where: string): string {
    return `SELECT se.*, (SELECT COUNT(*) FROM instances i WHERE i.series_ref = se.id) AS instance_count,
        (SELECT COALESCE(SUM(frames), 0) FROM instances i WHERE i.series_ref = se.id) AS frame_count
      FROM series se ${where}`;
  }

  series(studyId: number): { study: StudySummary; series: SeriesSummary[] } {
    const study = this.study(studyId);
    const rows = this.db.prepare(this.seriesSelect('WHERE se.study_ref = ? ORDER BY se.number IS NULL, se.number, se.id')).all(studyId) as Row[];
    return { study, series: rows.map((r) => this.toSeries(r)) };
  }

  oneSeries(seriesId: number): SeriesSummary {
    const r = this.db.prepare(this.seriesSelect('WHERE se.id = ?')).get(seriesId) as Row | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `Series ${seriesId} is not in the library.`, 'Refresh the study; it may have been removed.');
    return this.toSeries(r);
  }

  private toInstance(r: Row): InstanceSummary {
    return {
      id: r.id as number,
      seriesId: r.series_ref as number,
      sopInstanceUid: r.sop_uid as string,
      sopClassUid: (r.sop_class as string) ?? null,
      number: (r.number as number) ?? null,
      frames: r.frames as number,
      rows: (r.rows as number) ?? null,
      columns: (r.columns as number) ?? null,
      bitsAllocated: (r.bits_allocated as number) ?? null,
      photometric: (r.photometric as string) ?? null,
      geometry: {
        imagePositionPatient: parseJsonNums(r.image_position),
        imageOrientationPatient: parseJsonNums(r.image_orientation),
        pixelSpacing: parseJsonNums(r.pixel_spacing),
        sliceThickness: (r.slice_thickness as number) ?? null,
        sliceLocation: (r.slice_location as number) ?? null,
      },
      transferSyntaxUid: r.transfer_syntax as string,
      transferSyntaxName: transferSyntaxName(r.transfer_syntax as string),
      windowCenter: (r.window_center as number) ?? null,
      windowWidth: (r.window_width as number) ?? null,
      rescaleSlope: (r.rescale_slope as number) ?? null,
      rescaleIntercept: (r.rescale_intercept as number) ?? null,
      hasPixels: Boolean(r.has_pixels),
      filePath: r.file_path as string,
      fileSize: r.file_size as number,
      url: `/dicom/${r.id as number}`,
    };
  }

  /** Instances of a series in viewing order: instance number, then position along the slice normal. */
  instances(seriesId: number): { series: SeriesSummary; instances: InstanceSummary[] } {
    const series = this.oneSeries(seriesId);
    const rows = this.db.prepare('SELECT * FROM instances WHERE series_ref = ?').all(seriesId) as Row[];
    const list = rows.map((r) => this.toInstance(r));
    const along = (i: InstanceSummary): number => {
      const p = i.geometry.imagePositionPatient;
      const o = i.geometry.imageOrientationPatient;
      if (!p) return i.geometry.sliceLocation ?? 0;
      if (!o) return p[2]!;
      const n = [o[1]! * o[5]! - o[2]! * o[4]!, o[2]! * o[3]! - o[0]! * o[5]!, o[0]! * o[4]! - o[1]! * o[3]!];
      return p[0]! * n[0]! + p[1]! * n[1]! + p[2]! * n[2]!;
    };
    list.sort((a, b) => {
      const an = a.number ?? Number.MAX_SAFE_INTEGER;
      const bn = b.number ?? Number.MAX_SAFE_INTEGER;
      if (an !== bn) return an - bn;
      const d = along(a) - along(b);
      return d !== 0 ? d : a.id - b.id;
    });
    return { series, instances: list };
  }

  instance(instanceId: number): InstanceSummary {
    const r = this.db.prepare('SELECT * FROM instances WHERE id = ?').get(instanceId) as Row | undefined;
    if (!r) throw new AppError(ErrorCode.NotFound, `Instance ${instanceId} is not in the library.`, 'Refresh the series; it may have been removed.');
    return this.toInstance(r);
  }

  /** The file behind an indexed instance (the only paths /dicom/ ever serves). */
  instanceFile(instanceId: number): { path: string; size: number; mtimeMs: number; sha256: string | null } | null {
    const r = this.db.prepare('SELECT file_path, file_size, file_mtime, sha256 FROM instances WHERE id = ?').get(instanceId) as
      | { file_path: string; file_size: number; file_mtime: number; sha256: string | null }
      | undefined;
    return r ? { path: r.file_path, size: r.file_size, mtimeMs: r.file_mtime, sha256: r.sha256 } : null;
  }

  async tags(instanceId: number): Promise<{ instanceId: number; transferSyntaxUid: string; meta: TagNode[]; dataset: TagNode[] }> {
    const inst = this.instance(instanceId);
    const parsed = await readDicomFile(inst.filePath, { headerOnly: inst.fileSize > 64 * 1024 * 1024 });
    return { instanceId, transferSyntaxUid: parsed.transferSyntaxUid, meta: tagTree(parsed.dataSet, 'meta'), dataset: tagTree(parsed.dataSet, 'dataset') };
  }

  remove(target: { patientId?: number; studyId?: number; seriesId?: number }): { removedStudies: number; removedSeries: number; removedInstances: number; studyIds: number[] } {
    const db = this.db;
    let studyIds: number[];
    let seriesIds: number[];
    if (target.seriesId !== undefined) {
      this.oneSeries(target.seriesId);
      seriesIds = [target.seriesId];
      studyIds = [];
    } else if (target.studyId !== undefined) {
      this.study(target.studyId);
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

  // ------------------------------------------------------------------ measurements

  private toMeasurement(r: Row, instanceId: number): Measurement {
    return {
      id: r.id as number,
      instanceId,
      frame: r.frame as number,
      kind: r.kind as MeasurementKind,
      data: JSON.parse(r.data as string) as Record<string, unknown>,
      stats: JSON.parse(r.stats as string) as Record<string, number | string | null>,
      label: (r.label as string) ?? null,
      createdAt: r.created_at as string,
      updatedAt: r.updated_at as string,
    };
  }

  measurements(q: { instanceId?: number; seriesId?: number }): Measurement[] {
    if (q.instanceId === undefined && q.seriesId === undefined) throw new AppError(ErrorCode.InvalidArgument, 'Give an instanceId or a seriesId.');
    const rows = (
      q.instanceId !== undefined
        ? this.db.prepare('SELECT m.*, i.id AS iid FROM measurements m JOIN instances i ON i.sop_uid = m.sop_uid WHERE i.id = ? ORDER BY m.id').all(q.instanceId)
        : this.db.prepare('SELECT m.*, i.id AS iid FROM measurements m JOIN instances i ON i.sop_uid = m.sop_uid WHERE i.series_ref = ? ORDER BY m.id').all(q.seriesId)
    ) as Row[];
    return rows.map((r) => this.toMeasurement(r, r.iid as number));
  }

  saveMeasurement(m: {
    id?: number;
    instanceId: number;
    frame?: number;
    kind: MeasurementKind;
    data: Record<string, unknown>;
    stats?: Record<string, number | string | null>;
    label?: string | null;
  }): Measurement {
    const inst = this.instance(m.instanceId);
    const data = JSON.stringify(m.data);
    if (data.length > 1_000_000) throw new AppError(ErrorCode.InvalidArgument, 'This measurement is too large to store (over 1 MB of tool state).');
    const stats = JSON.stringify(m.stats ?? {});
    const now = new Date().toISOString();
    let id: number;
    if (m.id !== undefined) {
      const r = this.db
        .prepare('UPDATE measurements SET sop_uid = ?, frame = ?, kind = ?, data = ?, stats = ?, label = ?, updated_at = ? WHERE id = ?')
        .run(inst.sopInstanceUid, m.frame ?? 0, m.kind, data, stats, m.label ?? null, now, m.id);
      if (r.changes === 0) throw new AppError(ErrorCode.NotFound, `Measurement ${m.id} does not exist (any more).`);
      id = m.id;
    } else {
      const r = this.db
        .prepare('INSERT INTO measurements (sop_uid, frame, kind, data, stats, label, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(inst.sopInstanceUid, m.frame ?? 0, m.kind, data, stats, m.label ?? null, now, now);
      id = Number(r.lastInsertRowid);
    }
    const row = this.db.prepare('SELECT * FROM measurements WHERE id = ?').get(id) as Row;
    return this.toMeasurement(row, inst.id);
  }

  deleteMeasurement(id: number): boolean {
    return this.db.prepare('DELETE FROM measurements WHERE id = ?').run(id).changes > 0;
  }

  /** The middle instance of a series with pixels, for its thumbnail. */
  thumbnailSource(seriesId: number): InstanceSummary | null {
    const { instances } = this.instances(seriesId);
    const withPixels = instances.filter((i) => i.hasPixels);
    return withPixels[Math.floor(withPixels.length / 2)] ?? null;
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

/** Resolves a DICOMDIR ReferencedFileID under `base`, matching each component case-insensitively if needed. */
async function resolveReference(base: string, parts: string[]): Promise<string | null> {
  let cur = base;
  for (const part of parts) {
    if (part === '..' || part === '.' || part.includes('/')) return null; // stay inside the DICOMDIR's folder
    const exact = join(cur, part);
    try {
      await stat(exact);
      cur = exact;
      continue;
    } catch {
      /* try case-insensitively */
    }
    let entries: string[];
    try {
      entries = await readdir(cur);
    } catch {
      return null;
    }
    const found = entries.find((e) => e.toLowerCase() === part.toLowerCase());
    if (!found) return null;
    cur = join(cur, found);
  }
  try {
    return (await stat(cur)).isFile() ? resolve(cur) : null;
  } catch {
    return null;
  }
}
