/**
 * The embedded pixel store: a folder in app data, one file per blob, `<root>/<address>` (stores
 * written before stop 24 used `<root>/<aa>/<bb>/<address>`; those blobs are still found, listed and
 * deleted). One flat folder: a new blob costs one create, never a mkdir, and a batch of blobs one
 * folder fsync (ext4 indexes large folders; a store of 10⁶ blobs is one folder of 10⁶ names).
 *
 * A new blob is created under its address exclusively (O_EXCL: never over another writer's file)
 * and written whole. Durability either per blob (`put`: fsync'ed with its folder before it is
 * reported stored) or per batch (`putSync` with a PendingSync: the writer flushes the batch's
 * files together and the folder once, before any index row names them) — so an index row never
 * names a blob that is not complete. A crash mid-write can leave a short file under an address no
 * row names: the next put of that address finds it short and replaces it atomically (temporary
 * file + rename), and garbage collection removes it if nothing does.
 *
 * Pack files (since stop 27): a split's worker thread writes the blobs of one message (a few
 * instances) back to back into one pack file, `<root>/packs/<random>.pack`, and makes it durable
 * with one fdatasync — on this kind of disk one flush per small file (a journal commit each) cost
 * more than the bytes (docs/split-storage.md §9, stop 27). A blob is still named, found and checked
 * by the SHA-256 of its bytes: the pack ends in a footer listing (address, offset, length) of each
 * blob, with the footer's own SHA-256, so a pack cut short by a crash has no valid footer and holds,
 * to every reader, no blob at all (garbage collection removes it after the grace period). Loose
 * blobs (one file each: `put`, an inline split) and packed blobs are read, listed and collected alike;
 * collecting a packed blob rewrites its pack without it (compaction: the new pack durable before
 * the old one is removed), never touching a blob that is still named.
 */
import { randomBytes } from 'node:crypto';
import { close, closeSync, fdatasync, fdatasyncSync, fsync, fsyncSync, mkdirSync, open, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync, writevSync, fstatSync } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { blobAddress, checkAddress, isAddress, type PixelStore, type StoredBlob } from './pixel-store';

export interface FolderStoreOptions {
  /** fsync each blob and its folder before reporting it stored (default true). */
  durable?: boolean;
}

export class FolderPixelStore implements PixelStore {
  readonly location: string;
  private readonly tmp: string;
  readonly durable: boolean;
  private readonly made = new Set<string>();
  readonly packDir: string;
  /** Complete packs seen so far (name → entries, mtime) and where each packed blob is. */
  private readonly packs = new Map<string, { mtimeMs: number; entries: PackEntry[] }>();
  private readonly packed = new Map<string, { pack: string; offset: number; length: number }>();
  private packsScanned = false;

  constructor(readonly root: string, opts: FolderStoreOptions = {}) {
    this.location = pathToFileURL(root).href;
    this.tmp = join(root, '.tmp');
    this.packDir = join(root, 'packs');
    this.durable = opts.durable ?? true;
    // Folders are made by the first write (opening a store to read from it makes nothing).
  }

  pathOf(address: string): string {
    checkAddress(address);
    return join(this.root, address);
  }

  /** Where a store written before stop 24 kept the blob (two levels of folders). */
  legacyPathOf(address: string): string {
    checkAddress(address);
    return join(this.root, address.slice(0, 2), address.slice(2, 4), address);
  }

  /** The store's folder, made on first write (with the folder of temporaries); a new folder's entry is made durable in its parent. */
  private folder(): string {
    if (!this.made.has(this.root)) {
      const existed = isDir(this.root);
      mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
      makeDir(this.packDir);
      if (!existed && this.durable) {
        fsyncPath(this.root);
        fsyncPath(dirname(this.root));
      }
      this.made.add(this.root);
    }
    return this.root;
  }

  async put(blob: Uint8Array, address?: string): Promise<string> {
    return this.putSync(blob, address);
  }

  /**
   * Synchronous put (a split runs in its own thread or process; sync I/O avoids thread-pool hops).
   * `blob` may be the blob's pieces in order (written with one writev, never joined); then `address` is required.
   * With `pending` (and a durable store) nothing is fsync'ed here: the new file's descriptor (or
   * the path of a blob found in place) and the folder go to `pending`, which the caller flushes
   * before recording anything that names the blob.
   */
  putSync(blob: Uint8Array | Uint8Array[], address?: string, pending?: PendingSync): string {
    if (Array.isArray(blob) && !address) throw new Error('a blob given in pieces needs its address');
    const a = address ?? blobAddress(blob as Uint8Array);
    checkAddress(a);
    const batch = this.durable ? pending : undefined;
    const path = join(this.folder(), a);
    batch?.dir(this.root);
    if (writeNewFileSync(path, blob, this.durable, { pending: batch })) return a;
    // There already: the same address holds the same bytes, unless a crash cut that file short.
    const size = Array.isArray(blob) ? blob.reduce((n, p) => n + p.length, 0) : blob.length;
    try {
      if (statSync(path).size === size) {
        batch?.file(path); // perhaps written by a run that crashed before flushing it
        return a;
      }
    } catch {
      // removed meanwhile: write it below
    }
    writeFileAtomicSync(path, blob, { tmpDir: this.tmp, durable: this.durable });
    return a;
  }

  async get(address: string): Promise<Buffer | null> {
    return this.getSync(address);
  }

  /** One blob per call: a synchronous read avoids a thread-pool round trip. `into`: a reusable buffer to read into (the result is then a view of it). */
  getSync(address: string, into?: ReadBuffer): Buffer | null {
    for (const path of [this.pathOf(address), this.legacyPathOf(address)]) {
      try {
        return into ? into.read(path) : readFileSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    // Packed: where this store last saw it; a pack compacted or written since by another thread or
    // process is found by looking at the packs again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const at = this.packed.get(address) ?? (attempt === 0 ? null : undefined);
      if (at === undefined) return null;
      if (at) {
        try {
          return readRange(join(this.packDir, at.pack), at.offset, at.length, into);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      this.scanPacks();
    }
    return null;
  }

  /** Where a blob is: its own file, or a range of a pack (tests and tools that must reach the bytes). */
  locate(address: string): { path: string; offset: number; length: number } | null {
    for (const path of [this.pathOf(address), this.legacyPathOf(address)]) {
      try {
        return { path, offset: 0, length: statSync(path).size };
      } catch {
        // not a loose blob
      }
    }
    if (!this.packed.has(address)) this.scanPacks();
    const at = this.packed.get(address);
    return at ? { path: join(this.packDir, at.pack), offset: at.offset, length: at.length } : null;
  }

  /**
   * Reads the footers of packs not seen yet (and forgets packs that are gone). A pack without a
   * valid footer (being written, or cut short by a crash) is not remembered: it is looked at again
   * next time.
   */
  scanPacks(): void {
    this.packsScanned = true;
    let names: string[];
    try {
      names = readdirSync(this.packDir).filter((n) => n.endsWith(PACK_SUFFIX));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') names = [];
      else throw err;
    }
    const present = new Set(names);
    for (const name of [...this.packs.keys()]) if (!present.has(name)) this.forgetPack(name);
    for (const name of names) {
      if (this.packs.has(name)) continue;
      const p = readPackFooter(join(this.packDir, name));
      if (p) this.rememberPack(name, p.entries, p.mtimeMs);
    }
  }

  private rememberPack(name: string, entries: PackEntry[], mtimeMs: number): void {
    this.packs.set(name, { mtimeMs, entries });
    for (const e of entries) if (!this.packed.has(e.address)) this.packed.set(e.address, { pack: name, offset: e.offset, length: e.length });
  }

  private forgetPack(name: string): void {
    const p = this.packs.get(name);
    this.packs.delete(name);
    if (!p) return;
    for (const e of p.entries) {
      if (this.packed.get(e.address)?.pack !== name) continue;
      this.packed.delete(e.address);
      // Another pack may hold the same blob too.
      for (const [other, q] of this.packs) {
        const f = q.entries.find((x) => x.address === e.address);
        if (f) {
          this.packed.set(e.address, { pack: other, offset: f.offset, length: f.length });
          break;
        }
      }
    }
  }

  /**
   * A writer of one pack: a split worker's message of blobs, one file and one flush. Blobs this
   * store already has (loose or packed) are not written again; with `pending` they are flushed once
   * more (perhaps written by a run that crashed before flushing them).
   */
  packWriter(): PackWriter {
    this.folder();
    if (!this.packsScanned) this.scanPacks();
    return new PackWriter(this, (name, entries) => this.rememberPack(name, entries, Date.now()));
  }

  /** The file already holding `address` with `size` bytes (loose or a complete pack), or null. */
  holding(address: string, size: number): string | null {
    const loose = this.pathOf(address);
    try {
      if (statSync(loose).size === size) return loose;
    } catch {
      // not loose
    }
    const at = this.packed.get(address);
    return at && at.length === size ? join(this.packDir, at.pack) : null;
  }

  async has(address: string): Promise<boolean> {
    for (const path of [this.pathOf(address), this.legacyPathOf(address)]) {
      try {
        if ((await stat(path)).isFile()) return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.scanPacks();
    return this.packed.has(address);
  }

  /** Removes the blob (in any layout: loose, legacy, packed); false when it was not there. */
  async delete(address: string): Promise<boolean> {
    return (await this.deleteMany([address])).has(address);
  }

  /**
   * Removes blobs: loose files are unlinked; a pack holding any of them is rewritten without them
   * (the new pack fdatasync'ed and its name made durable before the old pack is removed, so a crash
   * leaves the old pack or both, never neither), or removed when nothing else is in it.
   * `modifiedBefore`: packs modified at or after it are not touched. Returns the addresses removed.
   */
  async deleteMany(addresses: Iterable<string>, opts: { modifiedBefore?: number } = {}): Promise<Set<string>> {
    const doomed = new Set([...addresses].map(checkAddress));
    const gone = new Set<string>();
    for (const a of doomed) {
      for (const path of [this.pathOf(a), this.legacyPathOf(a)]) {
        try {
          await unlink(path);
          gone.add(a);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
    this.scanPacks();
    let changed = false;
    for (const [name, p] of [...this.packs]) {
      if (!p.entries.some((e) => doomed.has(e.address))) continue;
      // A pack newer than the caller's cut-off (garbage collection's grace) is left whole: a split in
      // another process may have just packed a blob of the same address again, for a row it is recording.
      if (opts.modifiedBefore !== undefined && p.mtimeMs >= opts.modifiedBefore) continue;
      const keep = p.entries.filter((e) => !doomed.has(e.address));
      const old = join(this.packDir, name);
      if (keep.length) {
        const w = this.packWriter();
        try {
          for (const e of keep) w.add([readRange(old, e.offset, e.length)], e.address, undefined, true);
          w.finish();
        } catch (err) {
          w.abort();
          throw err;
        }
      }
      for (const e of p.entries) if (doomed.has(e.address)) gone.add(e.address);
      try {
        unlinkSync(old);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.forgetPack(name);
      changed = true;
    }
    if (changed && this.durable) fsyncPath(this.packDir);
    for (const a of gone) if (this.packed.has(a)) gone.delete(a); // still in a pack left whole
    return gone;
  }

  async *list(): AsyncIterable<StoredBlob> {
    const hex2 = /^[0-9a-f]{2}$/;
    let top: string[];
    try {
      top = (await readdir(this.root)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // an empty store never written to
      throw err;
    }
    const entry = async (path: string, name: string): Promise<StoredBlob | null> => {
      try {
        const st = await stat(path);
        return st.isFile() ? { address: name, size: st.size, modifiedMs: st.mtimeMs } : null;
      } catch {
        return null; // removed meanwhile
      }
    };
    for (const name of top) {
      if (isAddress(name)) {
        const b = await entry(join(this.root, name), name);
        if (b) yield b;
      }
    }
    // Packed blobs (each once, with its newest pack's time).
    this.scanPacks();
    const seen = new Map<string, StoredBlob>();
    for (const p of this.packs.values()) {
      for (const e of p.entries) {
        const had = seen.get(e.address);
        if (!had || had.modifiedMs < p.mtimeMs) seen.set(e.address, { address: e.address, size: e.length, modifiedMs: p.mtimeMs });
      }
    }
    for (const b of [...seen.values()].sort((x, y) => (x.address < y.address ? -1 : 1))) yield b;
    // Blobs of the earlier two-level layout.
    for (const a of top.filter((n) => hex2.test(n))) {
      let sub: string[];
      try {
        sub = (await readdir(join(this.root, a))).filter((n) => hex2.test(n)).sort();
      } catch {
        continue;
      }
      for (const b of sub) {
        for (const name of (await readdir(join(this.root, a, b))).sort()) {
          if (!isAddress(name)) continue;
          const blob = await entry(join(this.root, a, b, name), name);
          if (blob) yield blob;
        }
      }
    }
  }

  /** Temporary files and packs without a valid footer older than `olderThanMs` (left by a crash mid-write); removed by garbage collection. */
  async removeStaleTemporaries(olderThanMs: number, now = Date.now()): Promise<number> {
    let n = 0;
    let packNames: string[] = [];
    try {
      packNames = (await readdir(this.packDir)).filter((x) => x.endsWith(PACK_SUFFIX));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const name of packNames) {
      const path = join(this.packDir, name);
      try {
        if (now - (await stat(path)).mtimeMs < olderThanMs || readPackFooter(path)) continue;
        await unlink(path);
        n++;
      } catch {
        // gone already
      }
    }
    let names: string[];
    try {
      names = await readdir(this.tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0; // nothing was ever written
      throw err;
    }
    for (const name of names) {
      try {
        const st = await stat(join(this.tmp, name));
        if (now - st.mtimeMs >= olderThanMs) {
          await unlink(join(this.tmp, name));
          n++;
        }
      } catch {
        // gone already
      }
    }
    return n;
  }
}

/** mkdir of a folder whose parent usually exists: one call, the recursive walk only when the parent is missing. */
export function makeDir(d: string): void {
  try {
    mkdirSync(d, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw err;
    mkdirSync(d, { recursive: true, mode: 0o700 });
  }
}

/**
 * Creates `path` exclusively and writes `bytes` (fsync'ed, and its folder, when durable — unless
 * `pending` takes the open file to flush later with others). False, writing nothing, when the file
 * exists already. A failed write removes what it created.
 */
export function writeNewFileSync(path: string, bytes: Uint8Array | Uint8Array[], durable: boolean, opts: { mode?: number; syncFolder?: boolean; pending?: PendingSync } = {}): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', opts.mode ?? 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  const later = durable ? opts.pending : undefined;
  try {
    writeAll(fd, bytes);
    if (durable && !later) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(path);
    throw err;
  }
  if (later) later.adopt(fd);
  else closeSync(fd);
  if (durable && !later && (opts.syncFolder ?? true)) fsyncPath(dirname(path));
  return true;
}

function writeAll(fd: number, bytes: Uint8Array | Uint8Array[]): void {
  const pieces = Array.isArray(bytes) ? bytes : [bytes];
  const total = pieces.reduce((n, p) => n + p.length, 0);
  let written = pieces.length > 1 ? writevSync(fd, pieces) : 0;
  if (written < total) {
    const all = pieces.length > 1 ? Buffer.concat(pieces) : pieces[0]!; // a short writev: finish the rest plainly
    while (written < total) written += writeSync(fd, all, written, total - written);
  }
}

export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file all or nothing: a temporary file in `tmpDir` (same file system), fsync'ed when
 * `durable`, renamed over `path`, then the folder fsync'ed. A crash leaves the old file or the new
 * one under `path`, and at most a stray temporary file.
 */
export function writeFileAtomicSync(path: string, bytes: Uint8Array | Uint8Array[], opts: { tmpDir: string; durable: boolean; mode?: number }): void {
  const tmp = join(opts.tmpDir, `${basename(path).slice(0, 24)}.${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o600);
  try {
    writeAll(fd, bytes);
    if (opts.durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  if (opts.durable) fsyncPath(dirname(path));
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const call = <T>(f: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));

/** fsync (a folder) or fdatasync (a file) of a path, on the thread pool. */
async function syncPath(path: string, folder: boolean): Promise<void> {
  const fd = await call<number>((cb) => open(path, 'r', cb));
  try {
    await call<void>((cb) => (folder ? fsync : fdatasync)(fd, (err) => cb(err, undefined)));
  } finally {
    await call<void>((cb) => close(fd, (err) => cb(err, undefined)));
  }
}

/**
 * Files written without fsync (and the folders that name them) that must be durable before anything
 * names them: a split writes a batch of blobs and metadata parts, then flushes them all at once —
 * concurrently, on the thread pool, so the file system merges their journal commits — and only then
 * records the batch. One fsync per blob, one per folder per batch; not one wait per blob.
 */
export class PendingSync {
  private fds: number[] = [];
  private paths = new Set<string>();
  private dirs = new Set<string>();

  /** `folders: false`: files only — the folders are flushed by whoever records the batch (a worker thread's parts). */
  constructor(private readonly opts: { folders?: boolean } = {}) {}

  /** An open descriptor of a file just written: flushed and closed by flush() (or closed by discard()). */
  adopt(fd: number): void {
    this.fds.push(fd);
  }

  /** A file already in place (perhaps written by a run that crashed before flushing it). */
  file(path: string): void {
    this.paths.add(path);
  }

  /** A folder whose new entries must be durable. */
  dir(path: string): void {
    if (this.opts.folders !== false) this.dirs.add(path);
  }

  get empty(): boolean {
    return this.fds.length === 0 && this.paths.size === 0 && this.dirs.size === 0;
  }

  /** fdatasync every file, fsync every folder, close the adopted descriptors; resolves when all are durable. */
  async flush(): Promise<void> {
    const fds = this.fds.splice(0);
    const paths = [...this.paths];
    const dirs = [...this.dirs];
    this.paths.clear();
    this.dirs.clear();
    const closeFd = (fd: number) => call<void>((cb) => close(fd, (err) => cb(err, undefined)));
    const results = await Promise.allSettled([
      ...fds.map(async (fd) => {
        try {
          await call<void>((cb) => fdatasync(fd, (err) => cb(err, undefined)));
        } finally {
          await closeFd(fd);
        }
      }),
      ...paths.map((p) => syncPath(p, false)),
      ...dirs.map((d) => syncPath(d, true)),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Closes the adopted descriptors without flushing (the batch is abandoned). */
  discard(): void {
    for (const fd of this.fds.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // closed already
      }
    }
    this.paths.clear();
    this.dirs.clear();
  }
}

/**
 * Reads whole files into one growing buffer (one per thread): a split or rebuild reads a 0.5 MB
 * file per instance, and a fresh buffer each time costs page faults and a zero fill. The result is
 * a view of the buffer, valid until the next read.
 */
export class ReadBuffer {
  private buf = Buffer.allocUnsafeSlow(0);

  /** The buffer, at least `size` bytes long (its contents are not kept). */
  room(size: number): Buffer {
    if (this.buf.length < size) this.buf = Buffer.allocUnsafeSlow(Math.max(size, Math.ceil(this.buf.length * 1.25)));
    return this.buf;
  }

  read(path: string): Buffer {
    const fd = openSync(path, 'r');
    try {
      // As readFileSync: the size fstat gives (a file growing meanwhile is read up to it).
      const size = fstatSync(fd).size;
      if (this.buf.length < size) this.buf = Buffer.allocUnsafeSlow(Math.max(size, Math.ceil(this.buf.length * 1.25)));
      let n = 0;
      while (n < size) {
        const r = readSync(fd, this.buf, n, size - n, null);
        if (r === 0) break;
        n += r;
      }
      return this.buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }
}

export interface PackEntry {
  address: string;
  offset: number;
  length: number;
}

const PACK_SUFFIX = '.pack';
const PACK_MAGIC = Buffer.from('MISPACK1');
const PACK_ENTRY = 32 + 8 + 8;
/** count (4) ‖ SHA-256 of the entries, first 16 bytes ‖ magic (8). */
const PACK_TRAILER = 4 + 16 + 8;

/**
 * The layout of a pack: blob bytes back to back from offset 0, then one entry per blob (address 32
 * bytes ‖ offset u64 BE ‖ length u64 BE), then the trailer. Valid only when the file is exactly that
 * long, the entries' digest matches and every entry lies within the blob bytes.
 */
export function readPackFooter(path: string): { entries: PackEntry[]; mtimeMs: number } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (st.size < PACK_TRAILER) return null;
    const trailer = Buffer.alloc(PACK_TRAILER);
    if (readSync(fd, trailer, 0, PACK_TRAILER, st.size - PACK_TRAILER) !== PACK_TRAILER) return null;
    if (!trailer.subarray(20).equals(PACK_MAGIC)) return null;
    const n = trailer.readUInt32BE(0);
    const footerLen = n * PACK_ENTRY;
    const start = st.size - PACK_TRAILER - footerLen;
    if (n === 0 || start < 0) return null;
    const footer = Buffer.alloc(footerLen);
    if (readSync(fd, footer, 0, footerLen, start) !== footerLen) return null;
    if (!createHash('sha256').update(footer).digest().subarray(0, 16).equals(trailer.subarray(4, 20))) return null;
    const entries: PackEntry[] = [];
    for (let i = 0; i < n; i++) {
      const o = i * PACK_ENTRY;
      const offset = Number(footer.readBigUInt64BE(o + 32));
      const length = Number(footer.readBigUInt64BE(o + 40));
      if (offset + length > start) return null;
      entries.push({ address: footer.subarray(o, o + 32).toString('hex'), offset, length });
    }
    return { entries, mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** `length` bytes of a file from `offset` (into a reusable buffer when given). */
function readRange(path: string, offset: number, length: number, into?: ReadBuffer): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = into ? into.room(length) : Buffer.allocUnsafe(length);
    let n = 0;
    while (n < length) {
      const r = readSync(fd, buf, n, length - n, offset + n);
      if (r === 0) throw Object.assign(new Error(`pack ${path} is shorter than its footer says`), { code: 'EIO' });
      n += r;
    }
    return buf.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes one pack: blobs appended as they come (never held in memory), then the footer. The pack
 * exists under its final name from the start, but holds no blob to any reader until its footer is
 * written (and, for a durable split, no index row names its blobs until it is flushed).
 */
export class PackWriter {
  private fd: number | null = null;
  private name = '';
  private pos = 0;
  private readonly entries: PackEntry[] = [];
  private readonly inPack = new Set<string>();
  private failed = false;

  constructor(
    private readonly store: FolderPixelStore,
    private readonly done: (name: string, entries: PackEntry[]) => void,
  ) {}

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /**
   * Appends a blob (its pieces, in order) under `address`. Already in the store: not written again,
   * and with `pending` its file is flushed with the batch. `force`: written even then (compaction).
   */
  add(pieces: Uint8Array[], address: string, pending?: PendingSync, force = false): void {
    checkAddress(address);
    if (this.failed) throw new Error('the pack being written failed earlier');
    if (this.inPack.has(address)) return;
    const size = pieces.reduce((n, p) => n + p.length, 0);
    if (!force) {
      const there = this.store.holding(address, size);
      if (there) {
        if (this.store.durable) pending?.file(there);
        return;
      }
    }
    try {
      if (this.fd === null) {
        this.name = `${randomBytes(12).toString('hex')}${PACK_SUFFIX}`;
        this.fd = openSync(join(this.store.packDir, this.name), 'wx', 0o600);
      }
      writeAll(this.fd, pieces);
    } catch (err) {
      this.failed = true;
      throw err;
    }
    this.entries.push({ address, offset: this.pos, length: size });
    this.inPack.add(address);
    this.pos += size;
  }

  /**
   * Writes the footer. Durable store: with `pending` the open pack goes to it (flushed with the
   * batch; the caller makes the packs folder durable), without, it is fdatasync'ed with its folder
   * here. A failure removes the pack.
   */
  finish(pending?: PendingSync): void {
    if (this.fd === null) return;
    if (this.failed) {
      this.abort();
      throw new Error('the pack could not be written');
    }
    const fd = this.fd;
    const footer = Buffer.alloc(this.entries.length * PACK_ENTRY);
    this.entries.forEach((e, i) => {
      const o = i * PACK_ENTRY;
      Buffer.from(e.address, 'hex').copy(footer, o);
      footer.writeBigUInt64BE(BigInt(e.offset), o + 32);
      footer.writeBigUInt64BE(BigInt(e.length), o + 40);
    });
    const trailer = Buffer.alloc(PACK_TRAILER);
    trailer.writeUInt32BE(this.entries.length, 0);
    createHash('sha256').update(footer).digest().copy(trailer, 4, 0, 16);
    PACK_MAGIC.copy(trailer, 20);
    const later = this.store.durable ? pending : undefined;
    try {
      writeAll(fd, [footer, trailer]);
      if (this.store.durable && !later) fdatasyncSync(fd);
    } catch (err) {
      this.abort();
      throw err;
    }
    this.fd = null;
    if (later) later.adopt(fd);
    else closeSync(fd);
    if (this.store.durable && !later) fsyncPath(this.store.packDir);
    this.done(this.name, this.entries.slice());
  }

  /** Closes and removes the pack (nothing in it was recorded). */
  abort(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // closed already
    }
    this.fd = null;
    try {
      unlinkSync(join(this.store.packDir, this.name));
    } catch {
      // not there
    }
  }
}
