/**
 * Split storage as the app and the CLI use it (Services.split): the saved settings (split on import,
 * which pixel store, other institutions' stores this workstation may read), one SplitStorage per
 * pixel store, the rebuild-on-demand cache behind the viewer's file path, and the store a received
 * share by metadata names. Collaborators come in through the constructor.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../shared/errors';
import type { Logger } from '../log';
import { SplitError } from './errors';
import type { PixelStore } from './pixel-store';
import { createSplitStorage, type SplitRun, type SplitStorage } from './split-storage';
import { SplitIndex, type Db, type SplitRow } from './split-index';
import { pixelStoreFrom, storeUri } from './stores';
import { rebuildSplitShare, splitShareFiles, type ChosenInstance, type ProgressSink } from './share-parts';

export interface KnownPixelStore {
  /** The store's location URI as a share names it. */
  uri: string;
  /** How this workstation reaches it (a folder or a URL; often the URI itself). */
  at: string;
  addedAt: string;
}

export interface SplitSettings {
  /** Split every imported instance (the viewer then rebuilds it on demand). */
  onImport: boolean;
  /** The pixel store: a folder or a WebDAV URL; null = the folder blobs/split in the app-data folder. */
  store: string | null;
  /** Other institutions' pixel stores a share by metadata may name. */
  knownStores: KnownPixelStore[];
}

/** The pins one share holds on pixel blobs. */
export interface SharePin {
  reason: string;
  packageAddress: string;
  recipient: string | null;
  root: string | null;
  blobs: number;
}

export interface StoreTest {
  ok: boolean;
  location: string;
  message: string;
  hint: string | null;
}

const SETTINGS_KEY = 'split.storage';
const DEFAULTS: SplitSettings = { onImport: false, store: null, knownStores: [] };

export interface SplitServiceDeps {
  db: Db & { prepare: Db['prepare'] };
  /** The app-data folder. */
  home: string;
  /** Where rebuilt files are cached for the viewer. */
  cacheDir: string;
  logger?: Logger;
}

export class SplitService {
  private storages = new Map<string, SplitStorage>();
  private own: SplitStorage | null = null;
  /** The index without a storage behind it: the viewer's lookups neither open a store nor make folders. */
  readonly index: SplitIndex;
  private readonly cacheDirsMade = new Set<string>();

  constructor(private readonly d: SplitServiceDeps) {
    this.index = new SplitIndex(d.db);
  }

  /** Stops the split worker threads of every storage opened (Services closes this). */
  async close(): Promise<void> {
    await Promise.all([...this.storages.values(), ...(this.own ? [this.own] : [])].map((s) => s.close()));
  }

  settings(): SplitSettings {
    const r = this.d.db.prepare('SELECT value FROM settings WHERE key = ?').get(SETTINGS_KEY) as { value: string } | undefined;
    if (!r) return { ...DEFAULTS, knownStores: [] };
    try {
      const v = JSON.parse(r.value) as Partial<SplitSettings>;
      return { onImport: Boolean(v.onImport), store: typeof v.store === 'string' && v.store ? v.store : null, knownStores: Array.isArray(v.knownStores) ? v.knownStores : [] };
    } catch {
      return { ...DEFAULTS, knownStores: [] };
    }
  }

  /** Saves the settings; a changed store takes effect for the next split (earlier rows keep naming theirs). */
  saveSettings(patch: Partial<Pick<SplitSettings, 'onImport' | 'store'>>): SplitSettings {
    const next = { ...this.settings(), ...patch };
    if (next.store !== null) {
      next.store = next.store.trim() || null;
      if (next.store && !/^(https?|file):\/\//i.test(next.store) && !next.store.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(next.store)) {
        throw new SplitError('STORE_UNAVAILABLE', ErrorCode.InvalidArgument, `"${next.store}" is neither an absolute folder path nor a WebDAV URL.`, null, 'Give a folder such as /srv/pixel-store or a URL such as https://store.region.example/blobs/.');
      }
    }
    this.write(next);
    this.own = null;
    return next;
  }

  /** Lets this workstation read the pixel store `uri` (named by a share) through `at` (default: the URI itself). */
  addKnownStore(uri: string, at?: string): SplitSettings {
    const u = storeUri(uri);
    const s = this.settings();
    const knownStores = [...s.knownStores.filter((k) => k.uri !== u), { uri: u, at: at?.trim() || u, addedAt: new Date().toISOString() }];
    this.write({ ...s, knownStores });
    return { ...s, knownStores };
  }

  removeKnownStore(uri: string): boolean {
    const u = storeUri(uri);
    const s = this.settings();
    const knownStores = s.knownStores.filter((k) => k.uri !== u);
    this.write({ ...s, knownStores });
    return knownStores.length !== s.knownStores.length;
  }

  private write(v: SplitSettings): void {
    this.d.db
      .prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(SETTINGS_KEY, JSON.stringify(v), new Date().toISOString());
  }

  /** Split storage on the configured pixel store (what a split writes to). */
  get storage(): SplitStorage {
    if (!this.own) {
      const spec = this.settings().store;
      this.own = spec ? this.storageAt(spec) : this.storageOf(createSplitStorage({ db: this.d.db, home: this.d.home, logger: this.d.logger }));
    }
    return this.own;
  }

  /** Split storage on another store (`spec`: folder or URL), e.g. the one an index row names. */
  storageAt(spec: string, opts: { durable?: boolean } = {}): SplitStorage {
    const key = `${storeUri(spec)}|${opts.durable ?? true}`;
    let s = this.storages.get(key);
    if (!s) {
      s = createSplitStorage({ db: this.d.db, home: this.d.home, store: pixelStoreFrom(spec, opts), logger: this.d.logger, durable: opts.durable });
      this.storages.set(key, s);
    }
    return s;
  }

  private storageOf(s: SplitStorage): SplitStorage {
    this.storages.set(`${s.store.location}|true`, s);
    return s;
  }

  /** The configured storage, or the one `store` names; `durable: false` skips fsync (the CLI's --no-fsync). */
  storageWith(o: { store?: string | null; durable?: boolean } = {}): SplitStorage {
    if (!o.store && o.durable !== false) return this.storage;
    return this.storageAt(o.store ?? this.settings().store ?? join(resolve(this.d.home), 'blobs', 'split'), { durable: o.durable });
  }

  /** The storage that holds a split instance's blob (the store its index row names; `row` when the caller has it). */
  storageFor(sop: string, row: SplitRow | null = this.index.get(sop)): SplitStorage {
    if (!row || row.store === this.storage.store.location) return this.storage;
    return this.storageAt(row.store);
  }

  splitFiles(paths: string[], opts: Parameters<SplitStorage['splitFiles']>[1] = {}): Promise<SplitRun> {
    return this.storage.splitFiles(paths, opts);
  }

  /** The files of a study as the library indexed them (series, then instance order). */
  studyFiles(studyInstanceUid: string): string[] {
    return (
      this.d.db
        .prepare('SELECT i.file_path AS p FROM instances i JOIN series s ON i.series_ref = s.id JOIN studies st ON s.study_ref = st.id WHERE st.study_uid = ? AND i.copy_of IS NULL ORDER BY s.number, i.number, i.file_path')
        .all(studyInstanceUid) as { p: string }[]
    ).map((r) => r.p);
  }

  /** Splits the files of library studies (split on import); what cannot be split is logged and left whole. */
  async splitStudies(studyInstanceUids: string[], task?: { progress(u: { done?: number; total?: number | null; label?: string | null }, force?: boolean): void }): Promise<SplitRun> {
    const files = studyInstanceUids.flatMap((u) => this.studyFiles(u));
    task?.progress({ total: files.length, done: 0, label: 'splitting images into metadata and encrypted pixels' }, true);
    const run = await this.splitFiles(files, { onProgress: (p) => task?.progress({ done: p.done }) });
    for (const e of run.errors) this.d.logger?.warn('an imported image was not split (it stays whole)', { path: e.path, error: e.message });
    return run;
  }

  /**
   * The bytes the viewer gets for a library file that was split: rebuilt on demand (cached). Null
   * when the file is not the one that was split (same SOP Instance UID, other file), so an altered
   * copy is never hidden behind the original's rebuild.
   */
  async servedBytes(sop: string, file: { path: string; sha256: string | null }): Promise<Buffer | null> {
    return this.servedRow(this.index.get(sop), file);
  }

  /**
   * servedBytes for a library instance by its id: the /dicom/ hot path. One indexed lookup (the
   * library row joined to the split row); nothing else is read for an instance kept whole.
   */
  async servedBytesOfInstance(instanceId: number, file: { path: string; sha256: string | null }): Promise<Buffer | null> {
    return this.servedRow(this.index.forLibraryInstance(instanceId), file);
  }

  /**
   * A readable file holding a split instance's original bytes (the rebuild cache, rebuilt first if
   * needed), for readers that take a path (tag inspector, thumbnail worker); null when the library
   * instance is not split, is another file than the one split, or cannot be cached.
   */
  async rebuiltPathOfInstance(instanceId: number, file: { path: string; sha256: string | null }): Promise<string | null> {
    const row = this.index.forLibraryInstance(instanceId);
    if (!(await this.servedRow(row, file))) return null;
    const path = this.cachePath(row!.sopInstanceUid);
    return existsSync(path) ? path : null;
  }

  private cachePath(sop: string): string {
    const name = createHash('sha256').update(sop).digest('hex');
    return join(this.d.cacheDir, name.slice(0, 2), `${name}.dcm`);
  }

  private async servedRow(row: SplitRow | null, file: { path: string; sha256: string | null }): Promise<Buffer | null> {
    if (!row) return null;
    if (row.sourcePath !== resolve(file.path) && row.fileSha256 !== file.sha256) return null;
    return this.rebuiltFile(row.sopInstanceUid, row);
  }

  // ---- share by metadata (./share-parts.ts); the share domain sees only these three ----

  /** The package files of a share by metadata (metadata parts + the key file) and its manifest entry. */
  sharePartsFor(chosen: ChosenInstance[], task?: ProgressSink): ReturnType<typeof splitShareFiles> {
    return splitShareFiles(this, chosen, task);
  }

  /** Rebuilds a received share by metadata in memory (fetching the blobs from the store it names). */
  rebuildShared(manifestSplit: unknown, files: { name: string; bytes: Uint8Array }[], recordStorageUri: string | null, onProgress?: (done: number) => void): ReturnType<typeof rebuildSplitShare> {
    return rebuildSplitShare(this, manifestSplit, files, recordStorageUri, onProgress);
  }

  /**
   * Spares the blobs a share names from garbage collection until the share ends. The pin's reason
   * names the package, and — to tell when the share has ended — the recipient and the record's root:
   * `share:<package>:<recipient>:<root>`.
   */
  pinForShare(addresses: string[], packageAddress: string, scope?: { recipient: string; root: string }): void {
    const reason = scope ? `share:${packageAddress}:${scope.recipient}:${scope.root}` : `share:${packageAddress}`;
    const pin = this.index;
    this.d.db.transaction(() => {
      for (const a of addresses) pin.pin(a, reason);
    })();
  }

  /** The shares that pin blobs (one entry per share; recipient and root null for pins made before they were recorded). */
  sharePins(): SharePin[] {
    return this.index.pinReasons('share:').map(({ reason, blobs }) => {
      const [, packageAddress, recipient, root] = reason.split(':');
      return { reason, packageAddress: packageAddress ?? '', recipient: recipient ?? null, root: root ?? null, blobs };
    });
  }

  /** Releases a share's pins (the share ended); garbage collection may then remove blobs nothing else names. */
  releaseSharePins(reason: string): number {
    const n = this.index.unpinReason(reason);
    if (n) this.d.logger?.info('split: the pins of an ended share were released', { reason, blobs: n });
    return n;
  }

  /**
   * The pixel store a new anchor of this study names (its location URI, no credentials): the store
   * its split instances are in, or — split on import being on — the configured store; null when the
   * study is kept whole (or split across several stores, which a share by metadata refuses anyway).
   */
  storeForAnchor(studyInstanceUid: string): string | null {
    const stores = (this.d.db.prepare('SELECT DISTINCT store FROM split_instances WHERE study_instance_uid = ?').all(studyInstanceUid) as { store: string }[]).map((r) => r.store);
    if (stores.length) return stores.length === 1 ? stores[0]! : null;
    return this.settings().onImport ? this.storage.store.location : null;
  }

  /** Studies with split instances and how many. */
  studies(): { studyInstanceUid: string; instances: number }[] {
    return (
      this.d.db.prepare('SELECT study_instance_uid AS studyInstanceUid, COUNT(*) AS instances FROM split_instances WHERE study_instance_uid IS NOT NULL GROUP BY study_instance_uid').all() as {
        studyInstanceUid: string;
        instances: number;
      }[]
    );
  }

  isSplit(sop: string): boolean {
    return this.index.get(sop) !== null;
  }

  /**
   * The original file of a split instance for the viewer: rebuilt on first request (every check
   * passes first) and cached in the app's cache folder; a cached copy is served only while its
   * SHA-256 still equals the original's.
   */
  async rebuiltFile(sop: string, row: SplitRow | null = this.index.get(sop)): Promise<Buffer> {
    if (!row) throw new SplitError('NOT_SPLIT', ErrorCode.NotFound, `Instance ${sop} is not in the split index.`, sop);
    const path = this.cachePath(sop);
    try {
      const cached = readFileSync(path);
      if (createHash('sha256').update(cached).digest('hex') === row.fileSha256) return cached;
    } catch {
      // not cached yet
    }
    const bytes = await this.storageFor(sop, row).rebuildBytes(sop, {}, row);
    const dir = dirname(path);
    const write = () => {
      // The folder is made once per process (again only if the cache was emptied meanwhile).
      if (!this.cacheDirsMade.has(dir)) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        this.cacheDirsMade.add(dir);
      }
      const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(tmp, bytes, { mode: 0o600 });
      renameSync(tmp, path);
    };
    try {
      try {
        write();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.cacheDirsMade.delete(dir);
        write();
      }
    } catch (err) {
      this.d.logger?.warn('a rebuilt split instance could not be cached', { sop, error: err instanceof Error ? err.message : String(err) });
    }
    return bytes;
  }

  /** Writes, reads back and deletes a probe blob (Settings → Storage → Test). */
  async testStore(spec?: string | null): Promise<StoreTest> {
    const target = spec?.trim() || this.settings().store;
    let store: PixelStore;
    try {
      store = target ? pixelStoreFrom(target) : this.storage.store;
    } catch (err) {
      return { ok: false, location: target ?? '', message: `The pixel store "${target}" cannot be opened: ${(err as Error).message}.`, hint: 'Give an absolute folder path or an http(s) WebDAV URL.' };
    }
    const probe = randomBytes(64);
    try {
      const address = await store.put(probe);
      const back = await store.get(address);
      await store.delete(address);
      if (!back || !back.equals(probe)) return { ok: false, location: store.location, message: `The pixel store ${store.location} stored a test blob but returned different bytes.`, hint: 'Check the server or folder: it does not keep what it is given.' };
      return { ok: true, location: store.location, message: `The pixel store ${store.location} stored, returned and deleted a test blob.`, hint: null };
    } catch (err) {
      const e = err as SplitError;
      return { ok: false, location: store.location, message: e.message.includes(store.location) ? `Test failed: ${e.message}` : `The pixel store ${store.location} failed the test: ${e.message}`, hint: e.hint ?? 'Check that the folder is writable or that the WebDAV server runs and accepts PUT, GET and DELETE.' };
    }
  }

  /**
   * The pixel store a received share by metadata names, as this workstation reaches it: its own
   * store, or one added as known (Settings → Storage, `medimgshr split-store add`). Anything else is
   * refused with what to do: a package never makes this workstation contact a store on its own.
   */
  resolveStore(uri: string): PixelStore {
    const u = storeUri(uri);
    if (u === this.storage.store.location) return this.storage.store;
    const known = this.settings().knownStores.find((k) => k.uri === u);
    if (!known) {
      throw new SplitError(
        'STORE_UNKNOWN',
        ErrorCode.NotFound,
        `The images of this share are in the pixel store ${u}, which this workstation does not know; nothing was received.`,
        null,
        `Add the store (Settings → Storage → "Other institutions' pixel stores", or run: medimgshr split-store add ${u} [--at <folder or URL where this workstation reaches it>]), then receive the package again.`,
      );
    }
    if (/^file:\/\//i.test(known.at) || !/^https?:\/\//i.test(known.at)) {
      const folder = /^file:\/\//i.test(known.at) ? fileURLToPath(known.at) : resolve(known.at);
      if (!existsSync(folder) || !statSync(folder).isDirectory()) {
        throw new SplitError(
          'STORE_UNAVAILABLE',
          ErrorCode.Unavailable,
          `The pixel store ${u} is set to be reached at the folder ${folder}, which does not exist on this workstation; nothing was received.`,
          null,
          `Mount or copy the store there, or point it elsewhere: medimgshr split-store add ${u} --at <folder or URL>.`,
        );
      }
    }
    return pixelStoreFrom(known.at);
  }
}
