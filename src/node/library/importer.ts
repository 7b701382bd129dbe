/**
 * The import pipeline: walks files, folders and DICOMDIRs, reads each header (in worker threads for
 * large imports), writes the index in batches, and hashes the new files in the background.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Db } from '../store/database';
import type { Logger } from '../log';
import type { Task } from '../tasks';
import type { ImportReport, RejectedFile } from '../../shared/api/library';
import { scanMany, type ScanJob, type ScanOutcome } from './scan';
import { ScanPool } from './scan-pool';
import type { IndexWrites, Pending } from './index-writes';

/** How many files are written per transaction. */
const BATCH = 256;
/** Read headers in the worker pool instead of in-process (see import()). */
const scanInWorkers = (): boolean => process.env.MEDIMG_SCAN_IN_WORKERS === '1';

export interface ImportOptions {
  /** Called with the task once it started (so callers learn its id). */
  onStart?: (task: Task) => void;
}

export interface ImportFileOptions {
  /** Where the files came from: 'local' (default), 'pacs:<connection>', 'scp:<calling AE title>'. */
  source?: string;
  /**
   * The SHA-256 (hex) of files whose bytes the caller hashed as it wrote them (by absolute path: the
   * PACS cache names each file by it): recorded as the instance's hash instead of reading and hashing
   * the file again (for a copy of a known SOP Instance UID, and by the fingerprints, which take the
   * file digest from it).
   */
  sha256?: ReadonlyMap<string, string>;
}

export class Importer {
  /** Import workers, started on the first large import and kept until `close()`. */
  private pool: ScanPool | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly writes: IndexWrites,
    private readonly log?: Logger,
  ) {}

  /** Stops background hashing (after its current chunk) and the import workers. */
  async close(): Promise<void> {
    this.closed = true;
    await this.whenHashed();
    const p = this.pool;
    this.pool = null;
    await p?.close();
  }

  /**
   * Imports paths as a task of kind "import" on `tasks`; returns the report. `source` names where the
   * files came from (a PACS connection: 'pacs:<name>'); a file from a source other than 'local'
   * whose SOP Instance UID is indexed with other bytes becomes a copy of that instance.
   */
  async import(paths: string[], task: Task, opts: ImportFileOptions = {}): Promise<ImportReport> {
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
      const results = this.writes.writeBatch(batch);
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
            pending.push({ path: o.path, size: o.size, mtimeMs: o.mtimeMs, sha256: o.sha256 ?? opts.sha256?.get(o.path) ?? null, record: o.record, ...(opts.source ? { source: opts.source } : {}) });
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
    if (updated > 0) this.writes.pruneEmpty();
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
    // Asked again before each chunk: the fingerprint engine records the same digest (its `file`
    // digest) for the files it reads meanwhile (an anchor right after an import), and those are
    // not read and hashed a second time here.
    const stillPending = this.db.prepare<[string], { id: number }>('SELECT id FROM instances WHERE sha256 IS NULL AND id IN (SELECT value FROM json_each(?))');
    let done = 0;
    let failed = 0;
    try {
      for (let i = 0; i < rows.length; i += 128) {
        if (task.cancelled || this.closed) break;
        const next = rows.slice(i, i + 128);
        const pending = new Set(stillPending.all(JSON.stringify(next.map((r) => r.id))).map((r) => r.id));
        const chunk = next.filter((r) => pending.has(r.id));
        if (chunk.length === 0) {
          done += next.length;
          task.progress({ done, failed });
          continue;
        }
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
        done += next.length;
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
