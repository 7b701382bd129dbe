/**
 * The embedded pixel store: a folder in app data, `<root>/<aa>/<bb>/<address>`. A new blob is
 * created under its address exclusively (O_EXCL: never over another writer's file), written whole,
 * fsync'ed with its folder when durable, and only then reported stored — so an index row never
 * names a blob that is not complete. A crash mid-write can leave a short file under an address no
 * row names: the next put of that address finds it short and replaces it atomically (temporary
 * file + rename), and garbage collection removes it if nothing does. (One create per blob instead
 * of a create and a rename: on a busy disk each namespace operation costs about a millisecond.)
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, writevSync } from 'node:fs';
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
    return join(this.root, address.slice(0, 2), address.slice(2, 4), address);
  }

  private dirOf(address: string): string {
    const d = join(this.root, address.slice(0, 2), address.slice(2, 4));
    if (!this.made.has(d)) {
      if (!this.made.has(this.tmp)) {
        mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
        this.made.add(this.tmp);
      }
      const parent = dirname(d);
      if (!this.made.has(parent)) {
        makeDir(parent);
        this.made.add(parent);
      }
      makeDir(d);
      this.made.add(d);
    }
    return d;
  }

  async put(blob: Uint8Array, address?: string): Promise<string> {
    return this.putSync(blob, address);
  }

  /**
   * Synchronous put (a split runs in its own thread or process; sync I/O avoids thread-pool hops).
   * `blob` may be the blob's pieces in order (written with one writev, never joined); then `address` is required.
   */
  putSync(blob: Uint8Array | Uint8Array[], address?: string): string {
    if (Array.isArray(blob) && !address) throw new Error('a blob given in pieces needs its address');
    const a = address ?? blobAddress(blob as Uint8Array);
    checkAddress(a);
    const path = join(this.dirOf(a), a);
    if (writeNewFileSync(path, blob, this.durable)) return a;
    // There already: the same address holds the same bytes, unless a crash cut that file short.
    const size = Array.isArray(blob) ? blob.reduce((n, p) => n + p.length, 0) : blob.length;
    try {
      if (statSync(path).size === size) return a;
    } catch {
      // removed meanwhile: write it below
    }
    writeFileAtomicSync(path, blob, { tmpDir: this.tmp, durable: this.durable });
    return a;
  }

  async get(address: string): Promise<Buffer | null> {
    return this.getSync(address);
  }

  /** One blob per call: a synchronous read avoids a thread-pool round trip. */
  getSync(address: string): Buffer | null {
    try {
      return readFileSync(this.pathOf(address));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async has(address: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(address))).isFile();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async delete(address: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(address));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async *list(): AsyncIterable<StoredBlob> {
    const hex2 = /^[0-9a-f]{2}$/;
    let top: string[];
    try {
      top = await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // an empty store never written to
      throw err;
    }
    for (const a of top.filter((n) => hex2.test(n)).sort()) {
      for (const b of (await readdir(join(this.root, a))).filter((n) => hex2.test(n)).sort()) {
        for (const name of (await readdir(join(this.root, a, b))).sort()) {
          if (!isAddress(name)) continue;
          try {
            const st = await stat(join(this.root, a, b, name));
            yield { address: name, size: st.size, modifiedMs: st.mtimeMs };
          } catch {
            // removed meanwhile
          }
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
 * Creates `path` exclusively and writes `bytes` (fsync'ed, and its folder, when durable). False,
 * writing nothing, when the file exists already. A failed write removes what it created.
 */
export function writeNewFileSync(path: string, bytes: Uint8Array | Uint8Array[], durable: boolean, opts: { mode?: number; syncFolder?: boolean } = {}): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', opts.mode ?? 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeAll(fd, bytes);
    if (durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(path);
    throw err;
  }
  closeSync(fd);
  if (durable && (opts.syncFolder ?? true)) fsyncPath(dirname(path));
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
