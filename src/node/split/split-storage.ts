/**
 * Split storage for one institution: splits instances into sealed metadata parts (app data) and
 * encrypted pixel blobs (a pixel store), records them in the index, rebuilds them byte-identical,
 * and collects garbage. Collaborators come in through the constructor as narrow interfaces;
 * `createSplitStorage` wires the defaults for the composition root.
 *
 * Order of a split (crash safety): for each instance of a batch, the blob is stored durably, then
 * the sealed metadata part is written atomically (temp + fsync + rename); then one SQLite
 * transaction records the whole batch. A crash before the commit leaves the batch's instances
 * unsplit (no row) with at most unreferenced blobs/metadata files, which garbage collection
 * removes; after it, every row names parts that exist. The source files are never modified.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodeMetadataPart, type MetadataHeader, SPLIT_FORMAT_ID } from '../../core/split/format';
import { AppError, ErrorCode } from '../../shared/errors';
import { DicomFileError } from '../dicom/parse';
import type { Logger } from '../log';
import { SplitError } from './errors';
import { FolderPixelStore, writeFileAtomicSync } from './folder-store';
import { collectGarbage, type AnchoredBlobs, type GcReport } from './gc';
import { deriveInstanceKey, deriveSealKey, FileInstitutionSecret, keyCheckValue, type InstitutionSecretProvider } from './keys';
import { blobAddress, type PixelStore } from './pixel-store';
import { rebuildFromParts, rebuildPieces, type RebuildOptions } from './rebuild';
import { encryptPixelPart, openMetadataPart, sealMetadataPart } from './seal';
import { cutInstance, type KnownFingerprint } from './split';
import { SplitIndex, type Db, type SplitRow } from './split-index';

export interface SplitStorageDeps {
  index: SplitIndex;
  store: PixelStore;
  secret: InstitutionSecretProvider;
  /** The app-data folder: metadata paths in the index are relative to it. */
  home: string;
  logger?: Logger;
  /** fsync metadata parts before committing (default true). */
  durable?: boolean;
}

export interface SplitFileError {
  path: string;
  code: string;
  /** The import report's reject code (NOT_DICOM, TRUNCATED, …) or the split failure. */
  reject?: string;
  failure?: string;
  sopInstanceUid?: string;
  message: string;
  hint?: string;
}

export interface SplitResult {
  path: string;
  sopInstanceUid: string;
  studyInstanceUid: string | null;
  transferSyntaxUid: string;
  layout: SplitRow['layout'];
  fileSha256: string;
  fileSize: number;
  metadataSize: number;
  pixelSize: number;
  blobAddress: string;
  blobSize: number;
  /** true when it was split before (same file): nothing was written. */
  already: boolean;
}

export interface SplitRun {
  store: string;
  instances: SplitResult[];
  errors: SplitFileError[];
}

export interface RebuildResult {
  sopInstanceUid: string;
  path: string;
  sha256: string;
  size: number;
  matchesOriginal: boolean;
}

export interface SplitProgress {
  done: number;
  total: number;
}

function errorOf(path: string, err: unknown): SplitFileError {
  if (err instanceof SplitError) {
    const j = err.toJSON();
    return { path, code: j.code, failure: err.failure, ...(err.sopInstanceUid ? { sopInstanceUid: err.sopInstanceUid } : {}), message: j.message, ...(j.hint ? { hint: j.hint } : {}) };
  }
  if (err instanceof DicomFileError) return { path, ...err.toJSON(), reject: err.reject };
  if (err instanceof AppError) return { path, ...err.toJSON() };
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    return { path, code: ErrorCode.Unreadable, reject: 'UNREADABLE', message: `The file cannot be read: ${code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a folder' : 'permission denied'}.` };
  }
  return { path, code: ErrorCode.Internal, message: err instanceof Error ? err.message : String(err) };
}

export class SplitStorage {
  readonly metadataDir: string;
  private readonly metadataTmp: string;
  private sealKeyCache: Buffer | null = null;
  private readonly madeDirs = new Set<string>();

  constructor(private readonly d: SplitStorageDeps) {
    this.metadataDir = join(resolve(d.home), 'split', 'metadata');
    this.metadataTmp = join(this.metadataDir, '.tmp');
    mkdirSync(this.metadataTmp, { recursive: true, mode: 0o700 });
  }

  get store(): PixelStore {
    return this.d.store;
  }

  get index(): SplitIndex {
    return this.d.index;
  }

  private sealKey(): Buffer {
    return (this.sealKeyCache ??= deriveSealKey(this.d.secret.secret()));
  }

  /** The instance key (what a recipient would be given, wrapped): HKDF(institution secret, meta). */
  instanceKey(meta: string): Buffer {
    return deriveInstanceKey(this.d.secret.secret(), meta);
  }

  private metadataRel(sop: string): string {
    const h = createHash('sha256').update(sop).digest('hex');
    return join('split', 'metadata', h.slice(0, 2), `${h}.msm`);
  }

  /**
   * Splits files, `batchSize` instances per index transaction. A file that cannot be read is
   * reported with the same error as the import, and the others go on.
   */
  async splitFiles(paths: string[], opts: { batchSize?: number; known?: Map<string, KnownFingerprint>; onProgress?: (p: SplitProgress) => void } = {}): Promise<SplitRun> {
    const batchSize = Math.max(1, opts.batchSize ?? 32);
    const run: SplitRun = { store: this.d.store.location, instances: [], errors: [] };
    let rows: SplitRow[] = [];
    const pending = new Map<string, string>(); // SOP Instance UID → file SHA-256, in this batch
    const flush = () => {
      this.d.index.insertMany(rows);
      rows = [];
      pending.clear();
    };
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i]!;
      try {
        const r = await this.splitOne(path, opts.known?.get(path), pending);
        if (r.row) {
          rows.push(r.row);
          pending.set(r.row.sopInstanceUid, r.row.fileSha256);
        }
        run.instances.push(r.result);
      } catch (err) {
        run.errors.push(errorOf(path, err));
      }
      if (rows.length >= batchSize) flush();
      opts.onProgress?.({ done: i + 1, total: paths.length });
    }
    flush();
    return run;
  }

  private async splitOne(path: string, known: KnownFingerprint | undefined, pending: Map<string, string>): Promise<{ result: SplitResult; row: SplitRow | null }> {
    const bytes = readFileSync(path);
    const cut = await cutInstance(bytes, known);
    const sop = cut.sopInstanceUid;
    const existing = this.d.index.get(sop);
    const earlier = existing?.fileSha256 ?? pending.get(sop);
    if (earlier !== undefined) {
      if (earlier !== cut.fileSha256) {
        throw new SplitError(
          'ALREADY_SPLIT_DIFFERENTLY',
          ErrorCode.Conflict,
          `Instance ${sop} is already split from a different file (SHA-256 ${earlier.slice(0, 16)}…, this one ${cut.fileSha256.slice(0, 16)}…); it was not split again.`,
          sop,
          'Two files carry the same SOP Instance UID with different content: check which one is the original.',
        );
      }
      const e = existing;
      return {
        result: {
          path, sopInstanceUid: sop, studyInstanceUid: cut.studyInstanceUid, transferSyntaxUid: cut.transferSyntaxUid, layout: cut.layout,
          fileSha256: cut.fileSha256, fileSize: cut.fileLength, metadataSize: e?.metadataSize ?? 0, pixelSize: cut.pixelPart.length,
          blobAddress: e?.blobAddress ?? '', blobSize: e?.blobSize ?? 0, already: true,
        },
        row: null,
      };
    }
    const key = this.instanceKey(cut.meta);
    const blob = encryptPixelPart(key, cut.leaf, cut.fileSha256, cut.pixelPart);
    const address = blobAddress(blob);
    await this.d.store.put(blob, address);
    const header = metadataHeaderOf(cut, key, blob, address);
    const sealed = sealMetadataPart(this.sealKey(), sop, encodeMetadataPart(header, cut.metadata));
    const rel = this.metadataRel(sop);
    const abs = join(resolve(this.d.home), rel);
    this.writeInFolder(abs, sealed, { tmpDir: this.metadataTmp, durable: this.d.durable ?? true, mode: 0o600 });
    const row: SplitRow = {
      sopInstanceUid: sop,
      studyInstanceUid: cut.studyInstanceUid,
      seriesInstanceUid: cut.seriesInstanceUid,
      transferSyntaxUid: cut.transferSyntaxUid,
      layout: cut.layout,
      sourcePath: resolve(path),
      fileSha256: cut.fileSha256,
      fileSize: cut.fileLength,
      meta: cut.meta,
      pixel: cut.pixel,
      leaf: cut.leaf,
      metadataPath: rel,
      metadataSize: sealed.length,
      blobAddress: address,
      blobSize: blob.length,
      pixelSize: cut.pixelPart.length,
      store: this.d.store.location,
      state: 'split',
      splitAt: new Date().toISOString(),
    };
    return {
      result: {
        path, sopInstanceUid: sop, studyInstanceUid: cut.studyInstanceUid, transferSyntaxUid: cut.transferSyntaxUid, layout: cut.layout,
        fileSha256: cut.fileSha256, fileSize: cut.fileLength, metadataSize: sealed.length, pixelSize: cut.pixelPart.length,
        blobAddress: address, blobSize: blob.length, already: false,
      },
      row,
    };
  }

  private row(sop: string): SplitRow {
    const row = this.d.index.get(sop);
    if (!row) throw new SplitError('NOT_SPLIT', ErrorCode.NotFound, `Instance ${sop} is not in the split index.`, sop, 'Split it first (medimgshr split <file>).');
    return row;
  }

  /** The plain metadata part of a split instance (what a share by metadata would send). */
  openMetadata(sop: string): ReturnType<typeof openMetadataPart> {
    const row = this.row(sop);
    let sealed: Buffer;
    try {
      sealed = readFileSync(join(resolve(this.d.home), row.metadataPath));
    } catch {
      throw new SplitError('METADATA_MISSING', ErrorCode.NotFound, `The sealed metadata part of instance ${sop} (${row.metadataPath}) is missing.`, sop, 'Restore the app-data folder (split/metadata) from a backup.');
    }
    const m = openMetadataPart(this.sealKey(), sealed, sop);
    if (m.header.blobAddress !== row.blobAddress || m.header.fileSha256 !== row.fileSha256) {
      throw new SplitError('METADATA_MISMATCH', ErrorCode.Tampered, `The index and the sealed metadata part of instance ${sop} disagree about its blob or file digest.`, sop);
    }
    return m;
  }

  /** The original file of a split instance, in memory; every check passes before it is returned. */
  async rebuildBytes(sop: string, opts: RebuildOptions = {}): Promise<Buffer> {
    const { header, metadata } = this.openMetadata(sop);
    return rebuildFromParts(header, metadata, this.instanceKey(header.meta), await this.blobOf(header), opts);
  }

  /**
   * Rebuilds into `outDir/<SOP Instance UID>.dcm` (atomic: a failed check writes nothing). With
   * `verifyDigest: false` the file's SHA-256 is not recomputed (`sha256` is then the recorded one
   * and `matchesOriginal` rests on the two authenticated parts).
   */
  async rebuildTo(sop: string, outDir: string, opts: RebuildOptions = {}): Promise<RebuildResult> {
    const { header, metadata } = this.openMetadata(sop);
    const blob = await this.blobOf(header);
    const pieces = rebuildPieces(header, metadata, this.instanceKey(header.meta), blob, opts);
    const path = join(outDir, `${sop.replace(/[^0-9A-Za-z.]/g, '_')}.dcm`);
    this.writeInFolder(path, pieces, { tmpDir: outDir, durable: false, mode: 0o644 });
    return { sopInstanceUid: sop, path, sha256: header.fileSha256, size: header.fileLength, matchesOriginal: true };
  }

  /**
   * An atomic write whose folder (and the temporary folder) is created on first use; a folder made
   * earlier and removed since (an emptied output folder) is made again.
   */
  private writeInFolder(path: string, bytes: Uint8Array | Uint8Array[], opts: { tmpDir: string; durable: boolean; mode: number }): void {
    const dir = join(path, '..');
    const make = () => {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      mkdirSync(opts.tmpDir, { recursive: true, mode: 0o700 });
      this.madeDirs.add(dir);
    };
    if (!this.madeDirs.has(dir)) make();
    try {
      writeFileAtomicSync(path, bytes, opts);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      make();
      writeFileAtomicSync(path, bytes, opts);
    }
  }

  private async blobOf(header: MetadataHeader): Promise<Buffer> {
    const blob = await this.d.store.get(header.blobAddress);
    if (!blob) {
      const sop = header.sopInstanceUid;
      throw new SplitError('BLOB_MISSING', ErrorCode.NotFound, `The pixel store ${this.d.store.location} has no blob ${header.blobAddress.slice(0, 16)}… for instance ${sop}: its Pixel Data cannot be restored.`, sop, 'Restore the pixel store from a backup, or check that the store the index names is reachable.');
    }
    return blob;
  }

  collectGarbage(opts: { anchors?: AnchoredBlobs; graceMs?: number; dryRun?: boolean; now?: number } = {}): Promise<GcReport> {
    return collectGarbage({ store: this.d.store, index: this.d.index, metadataDir: this.metadataDir, home: resolve(this.d.home), ...opts });
  }
}

/** The metadata part's header for a cut instance whose Pixel Data was sealed into `blob` at `address` (one shape for the store and the fuzz harness). */
export function metadataHeaderOf(cut: Awaited<ReturnType<typeof cutInstance>>, key: Buffer, blob: Uint8Array, address: string): MetadataHeader {
  return {
    format: SPLIT_FORMAT_ID,
    sopInstanceUid: cut.sopInstanceUid,
    studyInstanceUid: cut.studyInstanceUid,
    seriesInstanceUid: cut.seriesInstanceUid,
    transferSyntaxUid: cut.transferSyntaxUid,
    layout: cut.layout,
    cutAt: cut.cutAt,
    pixelLength: cut.pixelPart.length,
    fileLength: cut.fileLength,
    fileSha256: cut.fileSha256,
    meta: cut.meta,
    pixel: cut.pixel,
    leaf: cut.leaf,
    blobAddress: address,
    blobSize: blob.length,
    keyCheck: keyCheckValue(key).toString('hex'),
  };
}

export interface CreateSplitStorageOptions {
  db: Db;
  /** The app-data folder (AppHome.root). */
  home: string;
  /** A pixel store; default: the folder `<home>/blobs/split`. */
  store?: PixelStore;
  /** Default: the file `<home>/split/institution.key` (created 0600 on first use). */
  secret?: InstitutionSecretProvider;
  logger?: Logger;
  durable?: boolean;
}

/** Wires split storage with its defaults (for the composition root and the CLI). */
export function createSplitStorage(o: CreateSplitStorageOptions): SplitStorage {
  const home = resolve(o.home);
  return new SplitStorage({
    index: new SplitIndex(o.db),
    store: o.store ?? new FolderPixelStore(join(home, 'blobs', 'split'), { durable: o.durable }),
    secret: o.secret ?? new FileInstitutionSecret(join(home, 'split', 'institution.key')),
    home,
    logger: o.logger,
    durable: o.durable,
  });
}

