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
 */
import { randomBytes } from 'node:crypto';
import { close, closeSync, fdatasync, fsync, fsyncSync, mkdirSync, open, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync, writevSync, fstatSync } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
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

  constructor(readonly root: string, opts: FolderStoreOptions = {}) {
    this.location = pathToFileURL(root).href;
    this.tmp = join(root, '.tmp');
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
    return null;
  }

  async has(address: string): Promise<boolean> {
    for (const path of [this.pathOf(address), this.legacyPathOf(address)]) {
      try {
        if ((await stat(path)).isFile()) return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return false;
  }

  /** Removes the blob (in either layout); false when it was not there. */
  async delete(address: string): Promise<boolean> {
    let gone = false;
    for (const path of [this.pathOf(address), this.legacyPathOf(address)]) {
      try {
        await unlink(path);
        gone = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
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

  /** Temporary files older than `olderThanMs` (left by a crash mid-write); removed by garbage collection. */
  async removeStaleTemporaries(olderThanMs: number, now = Date.now()): Promise<number> {
    let n = 0;
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
