/**
 * The embedded pixel store: a folder in app data, `<root>/<aa>/<bb>/<address>`. Writes are
 * atomic and durable: the blob goes to `<root>/.tmp/<random>`, is fsync'ed, renamed into place and
 * its folder fsync'ed, so a crash leaves either the whole blob under its address or a stray
 * temporary file (removed by garbage collection), never a partial blob under a real address.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, writevSync } from 'node:fs';
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
  private readonly durable: boolean;
  private readonly made = new Set<string>();

  constructor(readonly root: string, opts: FolderStoreOptions = {}) {
    this.location = pathToFileURL(root).href;
    this.tmp = join(root, '.tmp');
    this.durable = opts.durable ?? true;
    mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
  }

  pathOf(address: string): string {
    checkAddress(address);
    return join(this.root, address.slice(0, 2), address.slice(2, 4), address);
  }

  private dirOf(address: string): string {
    const d = join(this.root, address.slice(0, 2), address.slice(2, 4));
    if (!this.made.has(d)) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      this.made.add(d);
    }
    return d;
  }

  async put(blob: Uint8Array, address?: string): Promise<string> {
    return this.putSync(blob, address);
  }

  /** Synchronous put (a split runs in its own thread or process; sync I/O avoids thread-pool hops). */
  putSync(blob: Uint8Array, address?: string): string {
    const a = address ?? blobAddress(blob);
    checkAddress(a);
    writeFileAtomicSync(join(this.dirOf(a), a), blob, { tmpDir: this.tmp, durable: this.durable });
    return a;
  }

  async get(address: string): Promise<Buffer | null> {
    try {
      return readFileSync(this.pathOf(address)); // one blob per call: a synchronous read avoids a thread-pool round trip
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
    for (const a of (await readdir(this.root)).filter((n) => hex2.test(n)).sort()) {
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
    for (const name of await readdir(this.tmp)) {
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


/**
 * Writes a file all or nothing: a temporary file in `tmpDir` (same file system), fsync'ed when
 * `durable`, renamed over `path`, then the folder fsync'ed. A crash leaves the old file or the new
 * one under `path`, and at most a stray temporary file.
 */
export function writeFileAtomicSync(path: string, bytes: Uint8Array | Uint8Array[], opts: { tmpDir: string; durable: boolean; mode?: number }): void {
  const tmp = join(opts.tmpDir, `${basename(path).slice(0, 24)}.${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o600);
  try {
    const pieces = Array.isArray(bytes) ? bytes : [bytes];
    const total = pieces.reduce((n, p) => n + p.length, 0);
    let written = pieces.length > 1 ? writevSync(fd, pieces) : 0;
    if (written < total) {
      const all = Buffer.concat(pieces); // a short writev: finish the rest plainly
      while (written < total) written += writeSync(fd, all, written, total - written);
    }
    if (opts.durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  if (opts.durable) {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}
