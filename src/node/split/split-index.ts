/**
 * The split index in SQLite (migration 010): one row per split instance, plus pins (blob addresses
 * that something outside the index still names). Takes the database as a narrow collaborator.
 */
import type Database from 'better-sqlite3';

/** The slice of better-sqlite3 the index uses. */
export type Db = Pick<Database.Database, 'prepare' | 'transaction'>;

export interface SplitRow {
  sopInstanceUid: string;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  transferSyntaxUid: string;
  layout: 'cut' | 'deflated' | 'no-pixel-data';
  sourcePath: string | null;
  fileSha256: string;
  fileSize: number;
  meta: string;
  pixel: string;
  leaf: string;
  /**
   * The sealed metadata part's file, relative to the app-data folder; '' when the part is kept in
   * the row itself (splits since stop 26: `metadataSealed`, read with `sealedMetadata`).
   */
  metadataPath: string;
  metadataSize: number;
  blobAddress: string;
  blobSize: number;
  pixelSize: number;
  store: string;
  state: 'split';
  splitAt: string;
  /** Only when recording: the sealed metadata part, stored in the row (metadataPath ''). Never read back by get/all: see sealedMetadata. */
  metadataSealed?: Uint8Array | null;
}

/** metadataPath of a row whose sealed metadata part is in the index, not in a file. */
export const IN_INDEX = '';

const COLS: [keyof SplitRow, string][] = [
  ['sopInstanceUid', 'sop_instance_uid'],
  ['studyInstanceUid', 'study_instance_uid'],
  ['seriesInstanceUid', 'series_instance_uid'],
  ['transferSyntaxUid', 'transfer_syntax_uid'],
  ['layout', 'layout'],
  ['sourcePath', 'source_path'],
  ['fileSha256', 'file_sha256'],
  ['fileSize', 'file_size'],
  ['meta', 'meta'],
  ['pixel', 'pixel'],
  ['leaf', 'leaf'],
  ['metadataPath', 'metadata_path'],
  ['metadataSize', 'metadata_size'],
  ['blobAddress', 'blob_address'],
  ['blobSize', 'blob_size'],
  ['pixelSize', 'pixel_size'],
  ['store', 'store'],
  ['state', 'state'],
  ['splitAt', 'split_at'],
];
const SELECT = `SELECT ${COLS.map(([k, c]) => `${c} AS ${k}`).join(', ')} FROM split_instances`;
const SELECT_BY_LIBRARY_ID = `SELECT ${COLS.map(([k, c]) => `s.${c} AS ${k}`).join(', ')} FROM instances i JOIN split_instances s ON s.sop_instance_uid = i.sop_uid WHERE i.id = ?`;

export class SplitIndex {
  /** Prepared once per SQL text: preparing costs more than running these one-row statements. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Db) {}

  private st(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  get(sop: string): SplitRow | null {
    return (this.st(`${SELECT} WHERE sop_instance_uid = ?`).get(sop) as SplitRow | undefined) ?? null;
  }

  /**
   * The index row of a library instance that is kept split, by the library's instance id: one
   * lookup by primary key on each side (the /dicom/ path asks this for every image it serves).
   */
  forLibraryInstance(instanceId: number): SplitRow | null {
    return (this.st(SELECT_BY_LIBRARY_ID).get(instanceId) as SplitRow | undefined) ?? null;
  }

  byStudy(studyInstanceUid: string): SplitRow[] {
    return this.db.prepare(`${SELECT} WHERE study_instance_uid = ? ORDER BY series_instance_uid, sop_instance_uid`).all(studyInstanceUid) as SplitRow[];
  }

  all(): SplitRow[] {
    return this.db.prepare(`${SELECT} ORDER BY study_instance_uid, series_instance_uid, sop_instance_uid`).all() as SplitRow[];
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM split_instances').get() as { n: number }).n;
  }

  /** The sealed metadata part kept in an instance's row (null: none there — its part is a file, or no row). */
  sealedMetadata(sop: string): Buffer | null {
    return (this.st('SELECT metadata_sealed AS m FROM split_instances WHERE sop_instance_uid = ?').get(sop) as { m: Buffer | null } | undefined)?.m ?? null;
  }

  /**
   * What a rebuild needs of an instance's row, in one lookup: where its sealed metadata part is (the
   * part itself when it is in the row), its blob address and file digest. null: not split.
   */
  rebuildTarget(sop: string): { metadataPath: string; sealed: Buffer | null; blobAddress: string; fileSha256: string } | null {
    return (
      (this.st('SELECT metadata_path AS metadataPath, metadata_sealed AS sealed, blob_address AS blobAddress, file_sha256 AS fileSha256 FROM split_instances WHERE sop_instance_uid = ?').get(sop) as
        | { metadataPath: string; sealed: Buffer | null; blobAddress: string; fileSha256: string }
        | undefined) ?? null
    );
  }

  /**
   * Records a batch of instances whose pixel blobs are already durably stored, all or none — with
   * their sealed metadata parts, in the same transaction.
   */
  insertMany(rows: SplitRow[]): void {
    if (!rows.length) return;
    const ins = this.st(`INSERT INTO split_instances (${COLS.map(([, c]) => c).join(', ')}, metadata_sealed) VALUES (${COLS.map(([k]) => `@${k}`).join(', ')}, @metadataSealed)`);
    this.db.transaction(() => {
      for (const r of rows) {
        const m = r.metadataSealed;
        ins.run({ ...r, metadataSealed: m ? Buffer.from(m.buffer, m.byteOffset, m.byteLength) : null });
      }
    })();
  }

  remove(sop: string): boolean {
    return this.st('DELETE FROM split_instances WHERE sop_instance_uid = ?').run(sop).changes > 0;
  }

  /** Every blob address an index row names. */
  referencedBlobs(): Set<string> {
    return new Set((this.db.prepare('SELECT DISTINCT blob_address AS a FROM split_instances').all() as { a: string }[]).map((r) => r.a));
  }

  referencedMetadataPaths(): Set<string> {
    return new Set((this.db.prepare('SELECT metadata_path AS p FROM split_instances WHERE metadata_path <> \'\'').all() as { p: string }[]).map((r) => r.p));
  }

  pin(address: string, reason: string): void {
    this.st('INSERT OR IGNORE INTO split_pins (blob_address, reason, pinned_at) VALUES (?, ?, ?)').run(address, reason, new Date().toISOString());
  }

  unpin(address: string, reason: string): void {
    this.st('DELETE FROM split_pins WHERE blob_address = ? AND reason = ?').run(address, reason);
  }

  /** The reasons of the pins whose reason starts with `prefix`, with how many blobs each pins. */
  pinReasons(prefix: string): { reason: string; blobs: number }[] {
    return this.st("SELECT reason, COUNT(*) AS blobs FROM split_pins WHERE substr(reason, 1, length(?)) = ? GROUP BY reason ORDER BY reason").all(prefix, prefix) as { reason: string; blobs: number }[];
  }

  /** Removes every pin of one reason; how many. */
  unpinReason(reason: string): number {
    return this.st('DELETE FROM split_pins WHERE reason = ?').run(reason).changes;
  }

  pinnedBlobs(): Set<string> {
    return new Set((this.db.prepare('SELECT DISTINCT blob_address AS a FROM split_pins').all() as { a: string }[]).map((r) => r.a));
  }
}
