/**
 * Split storage for one institution: splits instances into sealed metadata parts (app data) and
 * encrypted pixel blobs (a pixel store), records them in the index, rebuilds them byte-identical,
 * and collects garbage. Collaborators come in through the constructor as narrow interfaces;
 * `createSplitStorage` wires the defaults for the composition root.
 *
 * Order of a split (crash safety): for each instance of a batch, the blob is written (created
 * exclusively under its address) and the metadata part sealed in memory; the batch's blobs are then
 * made durable together (fdatasync of each, concurrently, and one fsync of the store's folder:
 * PendingSync), and only then does one SQLite transaction record the whole batch — each row with
 * its sealed metadata part (since stop 26; before, each part was a file of its own, fdatasync'ed
 * too). A crash before the commit leaves the batch's instances unsplit (no row) with at most
 * unreferenced blobs, which garbage collection removes; after it, every row names a blob that exists
 * and is complete, and holds its metadata part. The source files are never modified.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MetadataHeader } from '../../core/split/format';
import { ErrorCode } from '../../shared/errors';
import type { Logger } from '../log';
import { SplitError } from './errors';
import { FolderPixelStore, PendingSync, ReadBuffer, writeFileAtomicSync } from './folder-store';
import { collectGarbage, type AnchoredBlobs, type GcReport } from './gc';
import { deriveInstanceKey, deriveSealKey, FileInstitutionSecret, type InstitutionSecretProvider } from './keys';
import type { PixelStore } from './pixel-store';
import { SPLIT_BATCH, SplitPool } from './pool';
import { rebuildFromParts, rebuildPieces, type RebuildOptions } from './rebuild';
import type { openMetadataPart } from './seal';
import type { cutInstance, KnownFingerprint } from './split';
import { IN_INDEX, SplitIndex, type Db, type SplitRow } from './split-index';
import { errorOf, fromWire, headerOf, missingBlob, openSealed, rebuiltName, splitToParts, type RebuildTarget, type SplitFileError, type SplitParts, type WorkContext } from './work';

export type { SplitFileError } from './work';

/** Below this many instances a call does its work inline: starting the worker threads costs more. */
const POOL_MIN = 16;

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
  /** Worker threads that split files of this run (0: all were done in the calling thread). */
  threads: number;
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

export class SplitStorage {
  /** Sealed metadata parts of instances split before stop 26 (one file each; later ones are in the index). */
  readonly metadataDir: string;
  private sealKeyCache: Buffer | null = null;
  private readonly madeDirs = new Set<string>();
  private readonly reader = new ReadBuffer();
  /** undefined: not started yet; null: no worker bundle (work is done inline). */
  private pool: SplitPool | null | undefined = undefined;

  constructor(private readonly d: SplitStorageDeps) {
    this.metadataDir = join(resolve(d.home), 'split', 'metadata');
    // Folders are made when a split writes, never by opening the storage to read.
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


  /** The work context of the calling thread (the worker threads build their own from the same secret). */
  private workContext(): WorkContext {
    const store = this.d.store;
    return {
      secret: this.d.secret.secret(),
      sealKey: this.sealKey(),
      durable: this.d.durable ?? true,
      home: resolve(this.d.home),
      madeDirs: this.madeDirs,
      reader: this.reader,
      putBlob: (pieces, address, pending) => {
        if (store instanceof FolderPixelStore) store.putSync(pieces, address, pending);
        else throw new Error('putBlob is synchronous: only the folder store takes it');
      },
      getBlob: (address) => {
        if (store instanceof FolderPixelStore) return store.getSync(address, this.reader);
        throw new Error('getBlob is synchronous: only the folder store takes it');
      },
    };
  }

  /** The worker pool for `n` instances: only for the folder store (workers write into it) and enough work to pay for the threads. */
  private poolFor(n: number): SplitPool | null {
    const store = this.d.store;
    if (n < POOL_MIN || !(store instanceof FolderPixelStore)) return null;
    if (this.pool === undefined) {
      this.pool = SplitPool.create({ secret: this.d.secret.secret(), storeRoot: store.root, storeDurable: store.durable, durable: this.d.durable ?? true, home: resolve(this.d.home) });
    }
    return this.pool;
  }

  /**
   * Starts the worker threads ahead of the work and resolves once they have loaded (the app keeps
   * one storage, and so one pool, per store; a CLI run starts it with its first call anyway).
   */
  async startWorkers(): Promise<void> {
    await this.poolFor(POOL_MIN)?.ready();
  }

  /** Worker threads running now (0: not started, none available, or closed). */
  get workerThreads(): number {
    return this.pool?.size ?? 0;
  }

  /** Stops the worker threads (idle ones never keep the process alive; this frees them). */
  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    await p?.close();
  }

  /** An instance already split from this very file (its fingerprint known): nothing to do. */
  private alreadyFromKnown(path: string, known: KnownFingerprint | undefined): SplitResult | null {
    if (!known?.sopInstanceUid) return null;
    const e = this.d.index.get(known.sopInstanceUid);
    if (!e || e.fileSha256 !== known.file) return null;
    return {
      path, sopInstanceUid: e.sopInstanceUid, studyInstanceUid: e.studyInstanceUid, transferSyntaxUid: e.transferSyntaxUid, layout: e.layout,
      fileSha256: e.fileSha256, fileSize: e.fileSize, metadataSize: e.metadataSize, pixelSize: e.pixelSize, blobAddress: e.blobAddress, blobSize: e.blobSize, already: true,
    };
  }

  /**
   * Splits files, `batchSize` instances per index transaction. A file that cannot be read is
   * reported with the same error as the import, and the others go on. From POOL_MIN files on, the
   * files are read, cut, encrypted and stored by worker threads (one per core, ./pool.ts), which
   * answer once the parts are durable; this thread checks each against the index, moves its sealed
   * metadata part into place when it could not be written there, and records the rows — a batch's
   * folders fsync'ed once, then one transaction, while the workers go on with the next instances.
   * Results come back in the order of `paths`.
   */
  async splitFiles(paths: string[], opts: { batchSize?: number; known?: Map<string, KnownFingerprint>; onProgress?: (p: SplitProgress) => void } = {}): Promise<SplitRun> {
    const batchSize = Math.max(1, opts.batchSize ?? 32);
    const durable = this.d.durable ?? true;
    let pending = new PendingSync(); // the batch's blobs and the store's folder not yet durable
    const run: SplitRun = { store: this.d.store.location, instances: [], errors: [], threads: 0 };
    const threads = new Set<number>();
    const slots = new Array<{ result?: SplitResult; error?: SplitFileError }>(paths.length);
    let rows: SplitRow[] = [];
    const accepted = new Map<string, string>(); // SOP Instance UID → file SHA-256, accepted in this run
    // Commits run one after another, in order, while the next batch is being checked.
    let committing: Promise<void> = Promise.resolve();
    const flush = () => {
      const batch = rows;
      const sync = pending;
      rows = [];
      pending = new PendingSync();
      committing = committing.then(async () => {
        if (durable && !sync.empty) await sync.flush();
        this.d.index.insertMany(batch);
      });
      return committing;
    };
    let done = 0;
    const settle = (i: number, parts: SplitParts | null, error?: SplitFileError) => {
      const path = paths[i]!;
      if (!parts && !error) {
        opts.onProgress?.({ done: ++done, total: paths.length }); // already split (known): slot filled
        return;
      }
      if (parts) {
        if (parts.thread !== undefined) threads.add(parts.thread);
        try {
          const r = this.accept(parts, accepted, pending);
          if (r.row) {
            rows.push(r.row);
            accepted.set(r.row.sopInstanceUid, r.row.fileSha256);
          }
          slots[i] = { result: r.result };
        } catch (err) {
          slots[i] = { error: errorOf(path, err) };
        }
      } else slots[i] = { error };
      if (rows.length >= batchSize) void flush().catch(() => undefined); // the failure is awaited below
      opts.onProgress?.({ done: ++done, total: paths.length });
    };
    const pool = this.d.store instanceof FolderPixelStore ? this.poolFor(paths.length) : null;
    try {
      if (pool) {
        // Workers finish out of order; results are checked against the index in the order given (as
        // inline: of two files with one SOP Instance UID, the first listed is split, the second refused).
        const arrived = new Array<{ parts: SplitParts | null; error?: SplitFileError } | undefined>(paths.length);
        let next = 0;
        const drain = () => {
          for (; next < paths.length && arrived[next]; next++) {
            const a = arrived[next]!;
            arrived[next] = undefined;
            settle(next, a.parts, a.error);
          }
        };
        // At most `window` instances handed out and not yet checked (so a kill leaves at most that many
        // plus the unrecorded batch behind, and a long run holds no promise per file).
        const window = pool.size * 2 * SPLIT_BATCH;
        let submitted = 0;
        await new Promise<void>((finish, fail) => {
          committing.catch(fail);
          const start = async (i: number) => {
            await null; // never nested in submit's loop
            const path = paths[i]!;
            try {
              const known = opts.known?.get(path);
              const already = this.alreadyFromKnown(path, known);
              if (already) {
                slots[i] = { result: already };
                arrived[i] = { parts: null };
              } else {
                const r = await pool.run({ kind: 'split', path, ...(known ? { known } : {}) });
                arrived[i] = r.ok ? { parts: r.value as SplitParts } : { parts: null, error: { ...(r.error as SplitFileError), path } };
              }
            } catch (err) {
              arrived[i] = { parts: null, error: errorOf(path, err) };
            }
            try {
              drain();
              committing.catch(fail); // a failed commit stops the run, as inline
              submit();
            } catch (err) {
              fail(err);
            }
          };
          const submit = () => {
            while (submitted < paths.length && submitted < next + window) void start(submitted++);
            if (next >= paths.length) finish();
          };
          submit();
        });
      } else {
        const ctx = this.d.store instanceof FolderPixelStore ? this.workContext() : null;
        for (let i = 0; i < paths.length; i++) {
          const path = paths[i]!;
          const known = opts.known?.get(path);
          const already = this.alreadyFromKnown(path, known);
          if (already) {
            slots[i] = { result: already };
            opts.onProgress?.({ done: ++done, total: paths.length });
            continue;
          }
          try {
            settle(i, ctx ? await splitToParts(ctx, path, known, pending) : await this.splitToPartsAsync(path, known));
          } catch (err) {
            settle(i, null, errorOf(path, err));
          }
          await committing;
        }
      }
      await flush();
    } catch (err) {
      pending.discard();
      await committing.catch(() => undefined);
      throw err;
    }
    for (const s of slots) {
      if (s?.result) run.instances.push(s.result);
      else if (s?.error) run.errors.push(s.error);
    }
    run.threads = threads.size;
    return run;
  }

  /** The split of one file into a store that is not a folder (WebDAV: the blob goes up asynchronously). */
  private async splitToPartsAsync(path: string, known: KnownFingerprint | undefined): Promise<SplitParts> {
    let upload: Promise<string> | null = null;
    const ctx: WorkContext = {
      ...this.workContext(),
      putBlob: (pieces, address) => {
        upload = this.d.store.put(Buffer.concat(pieces), address);
      },
    };
    const parts = await splitToParts(ctx, path, known);
    await upload;
    return parts;
  }

  /**
   * Checks a split file against the index (an instance split before from the same file is left as it
   * was; from another file, refused) and returns the row to record, with its sealed metadata part.
   * Nothing is recorded here.
   */
  private accept(p: SplitParts, pending: Map<string, string>, sync: PendingSync): { result: SplitResult; row: SplitRow | null } {
    const sop = p.sopInstanceUid;
    const existing = this.d.index.get(sop);
    const earlier = existing?.fileSha256 ?? pending.get(sop);
    if (earlier !== undefined) {
      // Its sealed metadata part is dropped with it (it was never written anywhere).
      if (earlier !== p.fileSha256) {
        throw new SplitError(
          'ALREADY_SPLIT_DIFFERENTLY',
          ErrorCode.Conflict,
          `Instance ${sop} is already split from a different file (SHA-256 ${earlier.slice(0, 16)}…, this one ${p.fileSha256.slice(0, 16)}…); it was not split again.`,
          sop,
          'Two files carry the same SOP Instance UID with different content: check which one is the original.',
        );
      }
      const e = existing;
      return {
        result: {
          path: p.path, sopInstanceUid: sop, studyInstanceUid: p.studyInstanceUid, transferSyntaxUid: p.transferSyntaxUid, layout: p.layout,
          fileSha256: p.fileSha256, fileSize: p.fileSize, metadataSize: e?.metadataSize ?? 0, pixelSize: p.pixelSize,
          blobAddress: e?.blobAddress ?? '', blobSize: e?.blobSize ?? 0, already: true,
        },
        row: null,
      };
    }
    if (this.d.store instanceof FolderPixelStore) {
      // The blob's name (its own file, or its pack's) durable with the batch.
      sync.dir(this.d.store.root);
      sync.dir(this.d.store.packDir);
    }
    const sealed = p.sealed;
    const row: SplitRow = {
      sopInstanceUid: sop,
      studyInstanceUid: p.studyInstanceUid,
      seriesInstanceUid: p.seriesInstanceUid,
      transferSyntaxUid: p.transferSyntaxUid,
      layout: p.layout,
      sourcePath: resolve(p.path),
      fileSha256: p.fileSha256,
      fileSize: p.fileSize,
      meta: p.meta,
      pixel: p.pixel,
      leaf: p.leaf,
      metadataPath: IN_INDEX,
      metadataSealed: sealed,
      metadataSize: p.metadataSize,
      blobAddress: p.blobAddress,
      blobSize: p.blobSize,
      pixelSize: p.pixelSize,
      store: this.d.store.location,
      state: 'split',
      splitAt: new Date().toISOString(),
    };
    return {
      result: {
        path: p.path, sopInstanceUid: sop, studyInstanceUid: p.studyInstanceUid, transferSyntaxUid: p.transferSyntaxUid, layout: p.layout,
        fileSha256: p.fileSha256, fileSize: p.fileSize, metadataSize: p.metadataSize, pixelSize: p.pixelSize,
        blobAddress: p.blobAddress, blobSize: p.blobSize, already: false,
      },
      row,
    };
  }

  private row(sop: string): SplitRow {
    const row = this.d.index.get(sop);
    if (!row) throw notSplit(sop);
    return row;
  }

  private target(row: SplitRow): RebuildTarget {
    const inIndex = row.metadataPath === IN_INDEX;
    return {
      sopInstanceUid: row.sopInstanceUid,
      metadataAbs: inIndex ? '' : join(resolve(this.d.home), row.metadataPath),
      metadataRel: row.metadataPath,
      ...(inIndex ? { sealed: this.d.index.sealedMetadata(row.sopInstanceUid) } : {}),
      blobAddress: row.blobAddress,
      fileSha256: row.fileSha256,
    };
  }

  /** A rebuild's target read with one index lookup (null: not split). */
  private targetOf(sop: string): RebuildTarget | null {
    const t = this.d.index.rebuildTarget(sop);
    if (!t) return null;
    const inIndex = t.metadataPath === IN_INDEX;
    return {
      sopInstanceUid: sop,
      metadataAbs: inIndex ? '' : join(resolve(this.d.home), t.metadataPath),
      metadataRel: t.metadataPath,
      ...(inIndex ? { sealed: t.sealed } : {}),
      blobAddress: t.blobAddress,
      fileSha256: t.fileSha256,
    };
  }

  /** The plain metadata part of a split instance (what a share by metadata would send). */
  openMetadata(sop: string, row: SplitRow = this.row(sop)): ReturnType<typeof openMetadataPart> {
    return openSealed(this.sealKey(), this.target(row));
  }

  /** The original file of a split instance, in memory; every check passes before it is returned. `row`: its index row when the caller has it. */
  async rebuildBytes(sop: string, opts: RebuildOptions = {}, row?: SplitRow): Promise<Buffer> {
    const { header, metadata } = this.openMetadata(sop, row);
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
    const path = join(outDir, rebuiltName(sop));
    this.writeInFolder(path, pieces, { tmpDir: outDir, durable: false, mode: 0o644 });
    return { sopInstanceUid: sop, path, sha256: header.fileSha256, size: header.fileLength, matchesOriginal: true };
  }

  /**
   * Rebuilds many instances into `outDir` (as rebuildTo, each on its own: one failing writes nothing
   * for it and the others go on). From POOL_MIN instances on, worker threads do the reading,
   * decrypting, checking and writing. Results in the order of `sops`.
   */
  async rebuildManyTo(sops: string[], outDir: string, opts: RebuildOptions & { onProgress?: (p: SplitProgress) => void } = {}): Promise<{ rebuilt: RebuildResult[]; errors: { sopInstanceUid: string; error: Error }[] }> {
    const pool = this.poolFor(sops.length);
    const slots = new Array<{ r?: RebuildResult; e?: Error }>(sops.length);
    let done = 0;
    const tick = () => opts.onProgress?.({ done: ++done, total: sops.length });
    if (pool) {
      mkdirSync(outDir, { recursive: true, mode: 0o700 });
      const verify = opts.verifyDigest ?? true;
      // Handed out as the workers take them, at most `window` at a time: each instance's row is read
      // (one lookup) just before its job goes out, so the lookups overlap the workers' work — all of
      // them up front, two lookups each, kept both workers idle before the first job for 15–50 ms
      // per 1,000 instances (measured at 5,000; one lookup: 6–13 ms) — and a long run holds no
      // promise or sealed part per instance. The window is twice what the workers hold, so a full
      // message (the blobs of one pack) is always queued.
      const window = pool.size * 4 * SPLIT_BATCH;
      await new Promise<void>((finish) => {
        let next = 0;
        let inFlight = 0;
        const submit = (): void => {
          while (next < sops.length && inFlight < window) {
            const i = next++;
            const sop = sops[i]!;
            let target: RebuildTarget;
            try {
              const t = this.targetOf(sop);
              if (!t) {
                slots[i] = { e: notSplit(sop) };
                tick();
                continue;
              }
              target = t;
            } catch (err) {
              slots[i] = { e: err as Error };
              tick();
              continue;
            }
            inFlight++;
            void pool.run({ kind: 'rebuild', target, outDir, verify }).then((r) => {
              inFlight--;
              if (r.ok) {
                const v = r.value as { path: string; size: number; sha256: string };
                slots[i] = { r: { sopInstanceUid: sop, path: v.path, sha256: v.sha256, size: v.size, matchesOriginal: true } };
              } else slots[i] = { e: fromWire(r.error as Parameters<typeof fromWire>[0]) };
              tick();
              submit();
            });
          }
          if (next >= sops.length && inFlight === 0) finish();
        };
        submit();
      });
    } else {
      for (let i = 0; i < sops.length; i++) {
        try {
          slots[i] = { r: await this.rebuildTo(sops[i]!, outDir, opts) };
        } catch (err) {
          slots[i] = { e: err as Error };
        }
        tick();
      }
    }
    const rebuilt: RebuildResult[] = [];
    const errors: { sopInstanceUid: string; error: Error }[] = [];
    slots.forEach((s, i) => (s.r ? rebuilt.push(s.r) : errors.push({ sopInstanceUid: sops[i]!, error: s.e! })));
    return { rebuilt, errors };
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
    if (!blob) throw missingBlob(this.d.store.location, header);
    return blob;
  }

  collectGarbage(opts: { anchors?: AnchoredBlobs; graceMs?: number; dryRun?: boolean; now?: number } = {}): Promise<GcReport> {
    return collectGarbage({ store: this.d.store, index: this.d.index, metadataDir: this.metadataDir, home: resolve(this.d.home), ...opts });
  }
}

/** The metadata part's header for a cut instance whose Pixel Data was sealed into `blob` at `address` (one shape for the store and the fuzz harness). */
export function metadataHeaderOf(cut: Awaited<ReturnType<typeof cutInstance>>, key: Buffer, blob: { length: number }, address: string): MetadataHeader {
  return headerOf(cut, key, blob.length, address);
}

const notSplit = (sop: string) => new SplitError('NOT_SPLIT', ErrorCode.NotFound, `Instance ${sop} is not in the split index.`, sop, 'Split it first (medimgshr split <file>).');

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

