/**
 * The fingerprint engine of the main process: expands paths, skips files that did not change,
 * fingerprints the rest on the worker pool, stores digests in SQLite and rebuilds the Merkle tree
 * of every study it touched. One per app, built by the composition root (src/node/services.ts).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildStudyTree, compareFingerprints, FINGERPRINT_SPEC_VERSION, leafValue, warmUpStudyTree, type Bytes32, type LeafValue, type StudyTree } from '../../core/fingerprint';
import type { FingerprintComparison, FingerprintFileError, FingerprintRun, InstanceFingerprint, StudyFingerprint } from '../../shared/api/fingerprint';
import { ErrorCode } from '../../shared/errors';
import type { Db } from '../store/database';
import type { Task } from '../tasks';
import { FingerprintPool } from './pool';
import type { FileOutcome, RecordedFileDigest } from './compute';

interface Row {
  path: string;
  size: number | null;
  mtime_ms: number | null;
  spec_version: number;
  file_sha256: string | null;
  pixel_sha256: string | null;
  meta_sha256: string | null;
  pixel_mode: string | null;
  transfer_syntax_uid: string | null;
  sop_instance_uid: string | null;
  sop_class_uid: string | null;
  series_instance_uid: string | null;
  study_instance_uid: string | null;
  uid_hash: string | null;
  leaf: string | null;
  frames: number | null;
  error_code: string | null;
  error_message: string | null;
  computed_at: string;
}

export interface EngineOptions {
  /** Worker threads; default: one per core. 0 = fingerprint in the calling thread. */
  threads?: number;
}

export interface RunOptions {
  task?: Task;
  /** Recompute even when size and modification time are unchanged. */
  force?: boolean;
  /**
   * The study trees are not rebuilt by this run: the UIDs of the studies it touched are added here,
   * and the caller rebuilds each once (rebuildStudy) after its last run. A retrieve fingerprints
   * each batch as it comes; rebuilding the growing tree (and rewriting all its proofs) after every
   * batch cost more of the main thread than the rest of the batch.
   */
  studyTrees?: Set<string>;
}

function rowToInstance(r: Row, cached: boolean): InstanceFingerprint {
  return {
    path: r.path,
    specVersion: r.spec_version,
    file: r.file_sha256!,
    pixel: r.pixel_sha256!,
    meta: r.meta_sha256!,
    pixelMode: r.pixel_mode as InstanceFingerprint['pixelMode'],
    transferSyntaxUid: r.transfer_syntax_uid ?? '',
    sopInstanceUid: r.sop_instance_uid,
    sopClassUid: r.sop_class_uid,
    seriesInstanceUid: r.series_instance_uid,
    studyInstanceUid: r.study_instance_uid,
    uidHash: r.uid_hash,
    leaf: r.leaf,
    size: r.size ?? 0,
    frames: r.frames ?? 0,
    cached,
    computedAt: r.computed_at,
  };
}

/** The upsert's positional parameters, in its column order. */
function rowParams(r: Row): unknown[] {
  return [r.path, r.size, r.mtime_ms, r.spec_version, r.file_sha256, r.pixel_sha256, r.meta_sha256, r.pixel_mode, r.transfer_syntax_uid, r.sop_instance_uid,
    r.sop_class_uid, r.series_instance_uid, r.study_instance_uid, r.uid_hash, r.leaf, r.frames, r.error_code, r.error_message, r.computed_at];
}

function rowToError(r: Row): FingerprintFileError {
  const [code, reject] = (r.error_code ?? ErrorCode.Internal).split('/');
  return { path: r.path, code: code!, ...(reject ? { reject } : {}), message: r.error_message ?? 'unknown error' };
}

/** Files under the given paths (folders recursively, in name order); unreadable paths become errors. */
export function expandPaths(paths: string[]): { files: string[]; errors: FingerprintFileError[] } {
  const files: string[] = [];
  const errors: FingerprintFileError[] = [];
  const seen = new Set<string>();
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch (err) {
      errors.push({ path: dir, code: ErrorCode.Unreadable, message: `The folder cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}).` });
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !seen.has(p)) {
        seen.add(p);
        files.push(p);
      }
    }
  };
  for (const raw of paths) {
    const p = resolve(raw);
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      errors.push({
        path: p,
        code: ErrorCode.Unreadable,
        reject: 'UNREADABLE',
        message: code === 'ENOENT' ? 'The file does not exist.' : `The file cannot be read (${code ?? String(err)}).`,
      });
      continue;
    }
    if (st.isDirectory()) walk(p);
    else if (!seen.has(p)) {
      seen.add(p);
      files.push(p);
    }
  }
  return { files, errors };
}

/**
 * What fingerprint_studies.tree_json keeps: the tree's format and root, not the whole tree. The
 * whole StandardMerkleTree dump (every node and leaf value, ~330 kB of JSON for 1,000 slices) was
 * written on every rebuild and read by nothing; the leaves are the study's fingerprint_proofs rows
 * and every proof is a merkle_proofs row, from which the tree is rebuilt when needed.
 */
function treeHead(tree: StudyTree): string {
  return JSON.stringify({ format: tree.dump.format, leafEncoding: tree.dump.leafEncoding, root: tree.root, leafCount: tree.leafCount, leaves: 'fingerprint_proofs', proofs: 'merkle_proofs' });
}

export class FingerprintEngine {
  private pool: FingerprintPool | null = null;
  private readonly stmts;
  /** The trees rebuildStudy built last (a few studies), keyed by study, with their set of leaf values. */
  private readonly trees = new Map<string, { tree: StudyTree; keys: Set<string> }>();

  constructor(
    private readonly db: Db,
    private readonly opts: EngineOptions = {},
  ) {
    this.stmts = {
      byPath: db.prepare<[string], Row>('SELECT * FROM fingerprint_files WHERE path = ?'),
      // the stored rows of a whole batch in one query (a JSON array of paths) instead of one query per file
      byPaths: db.prepare<[string], Row>('SELECT * FROM fingerprint_files WHERE path IN (SELECT value FROM json_each(?))'),
      upsert: db.prepare<unknown[]>(`INSERT INTO fingerprint_files (path, size, mtime_ms, spec_version, file_sha256, pixel_sha256, meta_sha256, pixel_mode,
          transfer_syntax_uid, sop_instance_uid, sop_class_uid, series_instance_uid, study_instance_uid, uid_hash, leaf, frames, error_code, error_message, computed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, spec_version = excluded.spec_version,
          file_sha256 = excluded.file_sha256, pixel_sha256 = excluded.pixel_sha256, meta_sha256 = excluded.meta_sha256, pixel_mode = excluded.pixel_mode,
          transfer_syntax_uid = excluded.transfer_syntax_uid, sop_instance_uid = excluded.sop_instance_uid, sop_class_uid = excluded.sop_class_uid,
          series_instance_uid = excluded.series_instance_uid, study_instance_uid = excluded.study_instance_uid, uid_hash = excluded.uid_hash,
          leaf = excluded.leaf, frames = excluded.frames, error_code = excluded.error_code, error_message = excluded.error_message,
          computed_at = excluded.computed_at`),
      touch: db.prepare('UPDATE fingerprint_files SET size = ?, mtime_ms = ? WHERE path = ?'),
      // The library's whole-file SHA-256 (instances.sha256) is the fingerprint's \`file\` digest: every
      // byte of the file, hex, at a size and modification time. Each side takes it from the other
      // instead of reading and hashing the file a second time.
      recordedByPaths: db.prepare<[string], RecordedFileDigest & { path: string }>(
        'SELECT file_path AS path, sha256, file_size AS size, file_mtime AS mtimeMs FROM instances WHERE sha256 IS NOT NULL AND file_path IN (SELECT value FROM json_each(?))',
      ),
      recordInstanceHash: db.prepare('UPDATE instances SET sha256 = ? WHERE file_path = ? AND sha256 IS NULL AND file_size = ? AND file_mtime = ?'),
      // the five columns the tree needs (SELECT * converted 19 columns of every row to JS values)
      studyRows: db.prepare<[string, number], Pick<Row, 'pixel_sha256' | 'meta_sha256' | 'uid_hash' | 'leaf' | 'sop_instance_uid'>>(
        `SELECT pixel_sha256, meta_sha256, uid_hash, leaf, sop_instance_uid FROM fingerprint_files
         WHERE study_instance_uid = ? AND error_code IS NULL AND leaf IS NOT NULL AND spec_version = ? ORDER BY path`,
      ),
      studyFiles: db.prepare<[string], Row>('SELECT * FROM fingerprint_files WHERE study_instance_uid = ? ORDER BY path'),
      upsertStudy: db.prepare(`INSERT INTO fingerprint_studies (study_instance_uid, spec_version, root, leaf_count, conflicts, tree_json, computed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (study_instance_uid) DO UPDATE SET spec_version = excluded.spec_version, root = excluded.root,
        leaf_count = excluded.leaf_count, conflicts = excluded.conflicts, tree_json = excluded.tree_json, computed_at = excluded.computed_at`),
      deleteStudy: db.prepare('DELETE FROM fingerprint_studies WHERE study_instance_uid = ?'),
      touchStudy: db.prepare('UPDATE fingerprint_studies SET computed_at = ? WHERE study_instance_uid = ?'),
      studyHead: db.prepare<[string], { root: string; leaf_count: number; spec_version: number; conflicts: number }>(
        'SELECT root, leaf_count, spec_version, conflicts FROM fingerprint_studies WHERE study_instance_uid = ?',
      ),
      deleteProofs: db.prepare('DELETE FROM fingerprint_proofs WHERE study_instance_uid = ?'),
      insertProof: db.prepare(
        'INSERT INTO fingerprint_proofs (study_instance_uid, leaf, sop_instance_uid, pixel_sha256, meta_sha256, uid_hash) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // one proof per (root, leaf), shared with the anchors of that root (migration 022)
      insertMerkleProof: db.prepare('INSERT OR IGNORE INTO merkle_proofs (root, leaf, proof_json) VALUES (?, ?, ?)'),
      // a replaced tree's proofs go, unless an anchor of that root still refers to them
      dropMerkleProofs: db.prepare<[string, string]>('DELETE FROM merkle_proofs WHERE root = ? AND NOT EXISTS (SELECT 1 FROM ledger_anchors WHERE root = ?)'),
      study: db.prepare<[string], { study_instance_uid: string; spec_version: number; root: string; leaf_count: number; conflicts: number; tree_json: string; computed_at: string }>(
        'SELECT * FROM fingerprint_studies WHERE study_instance_uid = ?',
      ),
      proofs: db.prepare<[string], { sop_instance_uid: string; leaf: string; pixel_sha256: string; meta_sha256: string; uid_hash: string; proof_json: string }>(
        `SELECT p.sop_instance_uid, p.leaf, p.pixel_sha256, p.meta_sha256, p.uid_hash, m.proof_json FROM fingerprint_proofs p
         JOIN fingerprint_studies s ON s.study_instance_uid = p.study_instance_uid JOIN merkle_proofs m ON m.root = s.root AND m.leaf = p.leaf
         WHERE p.study_instance_uid = ? ORDER BY p.uid_hash, p.leaf`,
      ),
    };
  }

  /** Whether the worker threads have been started (by a first job, or by warmUp). */
  get started(): boolean {
    return this.pool !== null;
  }

  /**
   * Starts the worker threads (each compiles its code on a synthetic slice, warmup.ts) and, on
   * this thread once the current work is done, the study tree code on a synthetic tree.
   */
  warmUp(): void {
    void this.threads;
    setTimeout(() => warmUpStudyTree(), 0).unref();
  }

  /** Worker threads in use (0 = in the calling thread). Starts them if they are not yet. */
  get threads(): number {
    return this.getPool().size;
  }

  private getPool(): FingerprintPool {
    this.pool ??= new FingerprintPool(this.opts.threads);
    return this.pool;
  }

  /**
   * Fingerprints files and folders. Unchanged files (same path, size, modification time and spec
   * version) are taken from the store; a file whose time changed but whose bytes did not is not
   * decoded again. Every failure is reported per file and the batch goes on. Cancelling stops
   * reading new files; what was done is kept.
   */
  async fingerprintPaths(paths: string[], ro: RunOptions = {}): Promise<FingerprintRun> {
    const { files, errors } = expandPaths(paths);
    const task = ro.task;
    task?.progress({ total: files.length, done: 0, failed: errors.length }, true);
    const instances: InstanceFingerprint[] = [];
    const studies = new Set<string>();
    const pool = this.getPool();
    let done = 0;
    let cancelled = false;
    const onAbort = () => {
      cancelled = true;
      pool.cancelQueued();
    };
    if (task?.cancelled) onAbort();
    else task?.signal.addEventListener('abort', onAbort, { once: true });
    // Rows to store, written 256 at a time in one transaction each (positional parameters).
    const pendingRows: Row[] = [];
    const touches: [number, number, string][] = [];
    const flush = () => {
      if (pendingRows.length === 0 && touches.length === 0) return;
      const rows = pendingRows.splice(0);
      const touched = touches.splice(0);
      this.db.transaction(() => {
        for (const r of rows) {
          this.stmts.upsert.run(rowParams(r));
          if (r.file_sha256) this.stmts.recordInstanceHash.run(r.file_sha256, r.path, r.size, r.mtime_ms);
        }
        for (const t of touched) this.stmts.touch.run(...t);
      })();
    };
    const finishOne = (label: string) => {
      done++;
      if (pendingRows.length + touches.length >= 256) flush();
      task?.progress({ done, failed: errors.length, label });
    };
    // The stored rows of every file at once (one query, not one per file).
    const stored = new Map<string, Row>();
    for (let i = 0; i < files.length; i += 10_000) {
      for (const r of this.stmts.byPaths.all(JSON.stringify(files.slice(i, i + 10_000)))) stored.set(r.path, r);
    }
    // File digests the library recorded (not when asked to recompute everything).
    const recorded = new Map<string, RecordedFileDigest>();
    if (!ro.force) {
      for (let i = 0; i < files.length; i += 10_000) {
        for (const r of this.stmts.recordedByPaths.all(JSON.stringify(files.slice(i, i + 10_000)))) recorded.set(r.path, { sha256: r.sha256, size: r.size, mtimeMs: r.mtimeMs });
      }
    }

    const one = async (path: string): Promise<void> => {
      const prev = stored.get(path);
      const sameSpec = prev?.spec_version === FINGERPRINT_SPEC_VERSION && !prev.error_code && prev.file_sha256;
      if (prev) {
        // Only a stored file can be unchanged; a new one goes straight to a worker, which reads
        // (and stats) it anyway and names any read failure.
        let st;
        try {
          st = statSync(path);
        } catch (err) {
          errors.push({ path, code: ErrorCode.Unreadable, reject: 'UNREADABLE', message: `The file cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}).` });
          finishOne(path);
          return;
        }
        if (sameSpec && !ro.force && prev.size === st.size && prev.mtime_ms === st.mtimeMs) {
          instances.push(rowToInstance(prev, true));
          if (prev.study_instance_uid) studies.add(prev.study_instance_uid);
          finishOne(path);
          return;
        }
      }
      const outcome: FileOutcome = await pool.run(path, sameSpec && !ro.force ? prev.file_sha256! : undefined, recorded.get(path));
      if (outcome.ok && 'unchanged' in outcome) {
        touches.push([outcome.size, outcome.mtimeMs, path]);
        instances.push(rowToInstance({ ...prev!, size: outcome.size, mtime_ms: outcome.mtimeMs }, true));
        if (prev!.study_instance_uid) studies.add(prev!.study_instance_uid);
      } else if (outcome.ok) {
        const f = outcome.fingerprint;
        const row: Row = {
          path,
          size: f.size,
          mtime_ms: outcome.mtimeMs,
          spec_version: f.specVersion,
          file_sha256: f.file,
          pixel_sha256: f.pixel,
          meta_sha256: f.meta,
          pixel_mode: f.pixelMode,
          transfer_syntax_uid: f.transferSyntaxUid,
          sop_instance_uid: f.sopInstanceUid,
          sop_class_uid: f.sopClassUid,
          series_instance_uid: f.seriesInstanceUid,
          study_instance_uid: f.studyInstanceUid,
          uid_hash: f.uidHash,
          leaf: f.leaf,
          frames: f.frames,
          error_code: null,
          error_message: null,
          computed_at: new Date().toISOString(),
        };
        pendingRows.push(row);
        instances.push(rowToInstance(row, false));
        if (f.studyInstanceUid) studies.add(f.studyInstanceUid);
        if (prev?.study_instance_uid && prev.study_instance_uid !== f.studyInstanceUid) studies.add(prev.study_instance_uid);
      } else {
        if (outcome.error.code === ErrorCode.Cancelled || outcome.error.code === 'CANCELLED') return;
        const e: FingerprintFileError = { path, ...outcome.error };
        errors.push(e);
        // Keep the failure (a file that was fine and is now broken must not keep its old digests).
        pendingRows.push({
          path, size: outcome.size, mtime_ms: outcome.mtimeMs, spec_version: FINGERPRINT_SPEC_VERSION, file_sha256: null, pixel_sha256: null,
          meta_sha256: null, pixel_mode: null, transfer_syntax_uid: null, sop_instance_uid: null, sop_class_uid: null, series_instance_uid: null,
          study_instance_uid: null, uid_hash: null, leaf: null, frames: null,
          error_code: e.reject ? `${e.code}/${e.reject}` : e.code, error_message: e.message, computed_at: new Date().toISOString(),
        });
        if (prev?.study_instance_uid) studies.add(prev.study_instance_uid);
      }
      finishOne(path);
    };
    // A bounded number of files in flight (enough to keep every worker busy), so a huge batch
    // neither stats everything up front nor ignores a cancel.
    let next = 0;
    const runner = async () => {
      let sinceYield = 0;
      while (next < files.length && !cancelled && !task?.cancelled) {
        await one(files[next++]!);
        if (++sinceYield >= 256) {
          sinceYield = 0;
          await new Promise((r) => setImmediate(r));
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, pool.size * pool.depth * 2) }, runner));
    } finally {
      task?.signal.removeEventListener('abort', onAbort);
      flush();
    }
    const studyResults: StudyFingerprint[] = [];
    for (const uid of ro.studyTrees ? [] : [...studies].sort()) {
      const st = this.rebuildStudy(uid);
      if (st) studyResults.push(st);
    }
    for (const uid of ro.studyTrees ? studies : []) ro.studyTrees!.add(uid);
    task?.progress({ done, failed: errors.length, label: null }, true);
    instances.sort((a, b) => (a.path < b.path ? -1 : 1));
    return { instances, errors, studies: studyResults, cancelled: cancelled || Boolean(task?.cancelled) };
  }

  /** Rebuilds (and stores) the Merkle tree of a study from its stored fingerprints; null when it has none. */
  rebuildStudy(studyInstanceUid: string): StudyFingerprint | null {
    const rows = this.stmts.studyRows.all(studyInstanceUid, FINGERPRINT_SPEC_VERSION);
    if (rows.length === 0) {
      this.trees.delete(studyInstanceUid);
      const old = this.stmts.studyHead.get(studyInstanceUid);
      this.db.transaction(() => {
        this.stmts.deleteProofs.run(studyInstanceUid);
        this.stmts.deleteStudy.run(studyInstanceUid);
        if (old) this.stmts.dropMerkleProofs.run(old.root, old.root);
      })();
      return null;
    }
    const bySop = new Map<string, Set<string>>();
    const values: LeafValue[] = [];
    const sopOf = new Map<string, string>();
    const known = new Map<string, Bytes32>();
    for (const r of rows) {
      const v = leafValue(r.pixel_sha256!, r.meta_sha256!, r.uid_hash!);
      values.push(v);
      known.set(v.join(), r.leaf as Bytes32);
      sopOf.set(v.join(), r.sop_instance_uid!);
      const set = bySop.get(r.sop_instance_uid!) ?? new Set<string>();
      set.add(r.leaf!);
      bySop.set(r.sop_instance_uid!, set);
    }
    const conflicts = [...bySop.entries()].filter(([, s]) => s.size > 1).map(([k]) => k).sort();
    // The same leaves as the tree built last for this study (a re-check, a forced run): the same tree.
    const tree = this.builtTree(studyInstanceUid, values) ?? buildStudyTree(values, known);
    this.trees.delete(studyInstanceUid);
    this.trees.set(studyInstanceUid, { tree, keys: new Set(known.keys()) });
    if (this.trees.size > 4) this.trees.delete(this.trees.keys().next().value!);
    const computedAt = new Date().toISOString();
    const stored = this.stmts.studyHead.get(studyInstanceUid);
    if (stored && stored.root === tree.root && stored.leaf_count === tree.leafCount && stored.spec_version === FINGERPRINT_SPEC_VERSION && stored.conflicts === conflicts.length) {
      // Same root: the same set of leaves, so the stored tree and every stored proof are already
      // these (the layout depends only on the set). Rewriting 1,000 proofs cost more than the tree.
      this.stmts.touchStudy.run(computedAt, studyInstanceUid);
    } else this.db.transaction(() => {
      this.stmts.upsertStudy.run(studyInstanceUid, FINGERPRINT_SPEC_VERSION, tree.root, tree.leafCount, conflicts.length, treeHead(tree), computedAt);
      this.stmts.deleteProofs.run(studyInstanceUid);
      if (stored && stored.root !== tree.root) this.stmts.dropMerkleProofs.run(stored.root, stored.root);
      for (const l of tree.leaves) {
        this.stmts.insertProof.run(studyInstanceUid, l.leaf, sopOf.get(l.value.join())!, l.value[0].slice(2), l.value[1].slice(2), l.value[2].slice(2));
        this.stmts.insertMerkleProof.run(tree.root, l.leaf, JSON.stringify(l.proof));
      }
    })();
    return {
      studyInstanceUid,
      specVersion: FINGERPRINT_SPEC_VERSION,
      root: tree.root,
      leafCount: tree.leafCount,
      conflicts,
      computedAt,
      proofs: tree.leaves.map((l) => ({ sopInstanceUid: sopOf.get(l.value.join())!, leaf: l.leaf, value: l.value, proof: l.proof })),
    };
  }

  /**
   * The tree rebuildStudy last built for this study when it holds exactly these leaf values (in
   * any order, repeats ignored), else null: anchoring right after fingerprinting then builds the
   * study tree once, not twice.
   */
  builtTree(studyInstanceUid: string, values: LeafValue[]): StudyTree | null {
    const hit = this.trees.get(studyInstanceUid);
    if (!hit) return null;
    const seen = new Set<string>();
    for (const v of values) {
      const k = v.join();
      if (!hit.keys.has(k)) return null;
      seen.add(k);
    }
    return seen.size === hit.keys.size ? hit.tree : null;
  }

  /** The stored tree of a study (with proofs when asked), or null. */
  getStudy(studyInstanceUid: string, withProofs = true): StudyFingerprint | null {
    const s = this.stmts.study.get(studyInstanceUid);
    if (!s) return null;
    const proofRows = this.stmts.proofs.all(studyInstanceUid);
    const count = new Map<string, number>();
    for (const p of proofRows) count.set(p.sop_instance_uid, (count.get(p.sop_instance_uid) ?? 0) + 1);
    const conflicts = [...count.entries()].filter(([, n]) => n > 1).map(([k]) => k).sort();
    const out: StudyFingerprint = {
      studyInstanceUid,
      specVersion: s.spec_version,
      root: s.root,
      leafCount: s.leaf_count,
      conflicts,
      computedAt: s.computed_at,
    };
    if (withProofs) {
      out.proofs = proofRows.map((p) => ({
        sopInstanceUid: p.sop_instance_uid,
        leaf: p.leaf,
        value: [`0x${p.pixel_sha256}`, `0x${p.meta_sha256}`, `0x${p.uid_hash}`] as [string, string, string],
        proof: JSON.parse(p.proof_json) as string[],
      }));
    }
    return out;
  }

  /** The stored result for one file: its fingerprint, or the error it gave. */
  getFile(path: string): { instance: InstanceFingerprint | null; error: FingerprintFileError | null } {
    const r = this.stmts.byPath.get(resolve(path));
    if (!r) return { instance: null, error: null };
    return r.error_code ? { instance: null, error: rowToError(r) } : { instance: rowToInstance(r, true), error: null };
  }

  /** Re-checks the known files of a study (changed ones are read again) and returns its tree and instances. */
  async checkStudy(studyInstanceUid: string, task?: Task): Promise<{ study: StudyFingerprint | null; instances: InstanceFingerprint[]; errors: FingerprintFileError[] }> {
    const paths = this.stmts.studyFiles.all(studyInstanceUid).map((r) => r.path);
    if (paths.length === 0) return { study: this.getStudy(studyInstanceUid), instances: [], errors: [] };
    const run = await this.fingerprintPaths(paths, { task });
    const study = this.rebuildStudy(studyInstanceUid);
    return { study, instances: run.instances.filter((i) => i.studyInstanceUid === studyInstanceUid), errors: run.errors };
  }

  /** Fingerprints two files (without storing) and compares them. */
  async compare(a: string, b: string): Promise<{ a: InstanceFingerprint | null; b: InstanceFingerprint | null; errors: FingerprintFileError[]; comparison: FingerprintComparison | null }> {
    const pool = this.getPool();
    const [oa, ob] = await Promise.all([pool.run(resolve(a)), pool.run(resolve(b))]);
    const errors: FingerprintFileError[] = [];
    const toInstance = (path: string, o: FileOutcome): InstanceFingerprint | null => {
      if (o.ok && 'fingerprint' in o) {
        const { specVersion, file, pixel, meta, pixelMode, transferSyntaxUid, sopInstanceUid, sopClassUid, seriesInstanceUid, studyInstanceUid, uidHash, leaf, size, frames } = o.fingerprint;
        return { path, specVersion, file, pixel, meta, pixelMode, transferSyntaxUid, sopInstanceUid, sopClassUid, seriesInstanceUid, studyInstanceUid, uidHash, leaf, size, frames, cached: false, computedAt: new Date().toISOString() };
      }
      if (!o.ok) errors.push({ path, ...o.error });
      return null;
    };
    const fa = toInstance(resolve(a), oa);
    const fb = toInstance(resolve(b), ob);
    return { a: fa, b: fb, errors, comparison: fa && fb ? compareFingerprints(fa, fb) : null };
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    await p?.close();
  }
}
