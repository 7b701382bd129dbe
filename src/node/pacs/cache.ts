/**
 * The content-addressed cache of instances from a PACS (`<app data>/cache/pacs/ab/abcdef….dcm`,
 * named by the SHA-256 of the file) and the per-instance state in `pacs_instances` (migration 009),
 * which makes a retrieve resumable: an instance whose SOP Instance UID is cached (and whose file is
 * still there) is not fetched again.
 */
import { hash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import type { Db } from '../store/database';
import { readFileMeta } from './part10';
import { writeCacheFile, type WrittenFile } from './cache-file';

/** Used by the DIMSE and WADO threads (written there, recorded here by put). */
export { writeCacheFile, type WrittenFile };

type Statement = ReturnType<Db['prepare']> & { run(...params: unknown[]): unknown; get(...params: unknown[]): unknown };

export type ArrivalVia = 'wado-rs' | 'c-get' | 'c-move' | 'c-store';

export interface CachedInstance {
  sopInstanceUid: string;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  sha256: string;
  path: string;
  size: number;
  state: 'cached' | 'imported' | 'import-failed';
  verification: string | null;
  message: string | null;
}

interface Row {
  sop_instance_uid: string;
  study_instance_uid: string | null;
  series_instance_uid: string | null;
  sha256: string;
  path: string;
  size: number;
  state: CachedInstance['state'];
  verification: string | null;
  message: string | null;
}

const toCached = (r: Row): CachedInstance => ({
  sopInstanceUid: r.sop_instance_uid,
  studyInstanceUid: r.study_instance_uid,
  seriesInstanceUid: r.series_instance_uid,
  sha256: r.sha256,
  path: r.path,
  size: r.size,
  state: r.state,
  verification: r.verification,
  message: r.message,
});

export class InstanceCache {
  constructor(
    private readonly db: Db,
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The cached instance of this SOP Instance UID, if its file is still there. */
  get(sopInstanceUid: string): CachedInstance | null {
    const r = this.stmt('SELECT * FROM pacs_instances WHERE sop_instance_uid = ?').get(sopInstanceUid) as Row | undefined;
    if (!r) return null;
    if (!existsSync(r.path)) return null;
    return toCached(r);
  }

  /** Which of these SOP Instance UIDs are cached already. */
  cachedSet(sops: string[]): Set<string> {
    const out = new Set<string>();
    for (const s of sops) if (this.get(s)) out.add(s);
    return out;
  }

  /** Whether any instance of this study (or series) was cached before (a retrieve then asks only for what is missing). */
  hasAnyOf(studyInstanceUid: string, seriesInstanceUid: string | null): boolean {
    const r = seriesInstanceUid
      ? this.db.prepare('SELECT 1 FROM pacs_instances WHERE study_instance_uid = ? AND series_instance_uid = ? LIMIT 1').get(studyInstanceUid, seriesInstanceUid)
      : this.db.prepare('SELECT 1 FROM pacs_instances WHERE study_instance_uid = ? LIMIT 1').get(studyInstanceUid);
    return r !== undefined;
  }

  ofStudy(studyInstanceUid: string): CachedInstance[] {
    return (this.db.prepare('SELECT * FROM pacs_instances WHERE study_instance_uid = ? ORDER BY series_instance_uid, sop_instance_uid').all(studyInstanceUid) as Row[]).map(toCached);
  }

  /** Statements prepared once (preparing one per arrival cost more than running it). */
  private readonly stmts = new Map<string, Statement>();
  private stmt(sql: string): Statement {
    let st = this.stmts.get(sql);
    if (!st) this.stmts.set(sql, (st = this.db.prepare(sql)));
    return st;
  }
  /**
   * Writes a Part-10 file into the cache (atomically: temp file + rename) and records it. A second
   * copy of the same SOP Instance UID replaces the first record (the PACS may have changed it).
   * The write goes through libuv's thread pool: this thread only hashes the bytes (for the name)
   * and records the row, so it goes back to reading the next image from the network at once.
   * (A WADO-RS series streamed in the WADO thread arrives written already: wado-stream.worker.ts.)
   * `durable`: the file and its folder entry are flushed to the disk (fsync) before the row is
   * written, for an instance nobody else will send again (a push to our Storage SCP); a retrieve's
   * arrivals need not be (a retrieve resumed after a crash fetches what has no cached file).
   * `file` may also be one a DIMSE thread wrote into this cache already (writeCacheFile): then only its row is written.
   */
  async put(
    file: Uint8Array | WrittenFile,
    m: { sopInstanceUid: string; /** the file's SHA-256 (hex) when known already */ sha256?: string; studyInstanceUid?: string | null; seriesInstanceUid?: string | null; connectionId: number | null; via: ArrivalVia; callingAet?: string | null; durable?: boolean },
  ): Promise<CachedInstance> {
    let sha256: string;
    let path: string;
    let size: number;
    let ts: string | null;
    if (file instanceof Uint8Array) {
      // the name is the file's SHA-256: computed by the DIMSE threads as the image arrives, else here
      // (WebCrypto's "asynchronous" digest held this thread longer than the hash itself: it copies the bytes first)
      sha256 = m.sha256 ?? hash('sha256', file, 'hex');
      path = await writeCacheFile(this.dir, file, sha256, m.durable);
      size = file.byteLength;
      ts = readFileMeta(file).get(0x0010) ?? null;
    } else {
      ({ sha256, path, size } = file);
      ts = file.transferSyntaxUid;
    }
    const row: Row = {
      sop_instance_uid: m.sopInstanceUid,
      study_instance_uid: m.studyInstanceUid ?? null,
      series_instance_uid: m.seriesInstanceUid ?? null,
      sha256,
      path,
      size,
      state: 'cached',
      verification: null,
      message: null,
    };
    const stored = this.stmt(
      `INSERT INTO pacs_instances (sop_instance_uid, study_instance_uid, series_instance_uid, sha256, path, size, transfer_syntax_uid, connection_id, via, calling_aet, state, received_at)
         VALUES (@sop, @study, @series, @sha, @path, @size, @ts, @conn, @via, @aet, 'cached', @now)
         ON CONFLICT (sop_instance_uid) DO UPDATE SET study_instance_uid = COALESCE(excluded.study_instance_uid, study_instance_uid),
           series_instance_uid = COALESCE(excluded.series_instance_uid, series_instance_uid), sha256 = excluded.sha256, path = excluded.path, size = excluded.size,
           transfer_syntax_uid = excluded.transfer_syntax_uid, connection_id = excluded.connection_id, via = excluded.via, calling_aet = excluded.calling_aet,
           state = 'cached', verification = NULL, message = NULL, received_at = excluded.received_at
         RETURNING study_instance_uid, series_instance_uid`,
    ).get({
      sop: m.sopInstanceUid,
      study: row.study_instance_uid,
      series: row.series_instance_uid,
      sha: sha256,
      path,
      size,
      ts,
      conn: m.connectionId,
      via: m.via,
      aet: m.callingAet ?? null,
      now: new Date().toISOString(),
    }) as { study_instance_uid: string | null; series_instance_uid: string | null };
    return toCached({ ...row, ...stored });
  }

  setState(path: string, state: CachedInstance['state'], message: string | null = null): void {
    this.stmt('UPDATE pacs_instances SET state = ?, message = ? WHERE path = ?').run(state, message, path);
  }

  setVerification(path: string, verification: string, message: string | null): void {
    this.stmt('UPDATE pacs_instances SET verification = ?, message = ? WHERE path = ?').run(verification, message, path);
  }

  /** Fills in study / series UIDs learnt later (C-GET and C-STORE deliver only the SOP Instance UID). */
  setUids(sopInstanceUid: string, study: string | null, series: string | null): void {
    this.stmt('UPDATE pacs_instances SET study_instance_uid = COALESCE(study_instance_uid, ?), series_instance_uid = COALESCE(series_instance_uid, ?) WHERE sop_instance_uid = ?').run(study, series, sopInstanceUid);
  }
}
