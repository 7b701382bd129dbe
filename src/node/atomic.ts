/**
 * The one way the app replaces files and folders so that a reader, or a crash, sees either the old
 * content or the complete new one: single files (keystores, the embedded chain's state copies,
 * reports, packages, thumbnails) and whole folders (exports, anonymised sets, received studies).
 *
 * Folders: all-or-nothing exports. The writer fills a hidden staging folder next to the destination; only
 * when it returns without error is the staging folder renamed to the destination (one rename on the
 * same file system, so a reader sees either nothing or the complete export). A failure, a crash or a
 * cancellation leaves no folder under the destination name; the staging folder is removed (and a
 * leftover one from a crash is recognisable by its `.partial-` name and swept on the next export).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError, ErrorCode } from '../shared/errors';

export interface AtomicExportOptions {
  /** Replace an existing destination (it is moved aside first and removed only after the swap). */
  replace?: boolean;
  signal?: AbortSignal;
  /** fsync every file before the rename (default true). */
  durable?: boolean;
}

const PARTIAL = '.partial-';

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(p);
    else if (entry.isFile()) {
      const fh = await open(p, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  }
}

/** Removes staging folders left by an export that crashed (name `.<dest>.partial-<random>`). */
export async function sweepPartials(parent: string, destName: string): Promise<number> {
  let n = 0;
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return 0;
  }
  for (const name of entries) {
    if (name.startsWith(`.${destName}${PARTIAL}`)) {
      await rm(join(parent, name), { recursive: true, force: true });
      n++;
    }
  }
  return n;
}

/**
 * Runs `write(stagingDir)` and moves the result into `dest` only when it succeeds.
 * Returns whatever `write` returns.
 */
export async function atomicExport<T>(
  dest: string,
  write: (staging: string, signal?: AbortSignal) => Promise<T>,
  opts: AtomicExportOptions = {},
): Promise<T> {
  const target = resolve(dest);
  const parent = dirname(target);
  const name = basename(target);
  if (!opts.replace && (await exists(target))) {
    throw new AppError(ErrorCode.Conflict, `The export folder ${target} already exists.`, 'Choose a new folder name, or allow replacing the existing export.');
  }
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw new AppError(ErrorCode.Unavailable, `The export folder cannot be created: ${(err as Error).message}.`, 'Choose a folder you may write to.');
  }
  await sweepPartials(parent, name);
  const staging = join(parent, `.${name}${PARTIAL}${randomBytes(6).toString('hex')}`);
  await mkdir(staging, { mode: 0o700 });
  try {
    const result = await write(staging, opts.signal);
    if (opts.signal?.aborted) throw new AppError(ErrorCode.Cancelled, 'The export was cancelled; nothing was written.');
    if (opts.durable !== false) await fsyncTree(staging);
    if (opts.replace && (await exists(target))) {
      const aside = join(parent, `.${name}${PARTIAL}old-${randomBytes(6).toString('hex')}`);
      await rename(target, aside);
      try {
        await rename(staging, target);
      } catch (err) {
        await rename(aside, target).catch(() => undefined);
        throw err;
      }
      await rm(aside, { recursive: true, force: true });
    } else {
      await rename(staging, target);
    }
    return result;
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (err instanceof AppError) throw err;
    throw new AppError(ErrorCode.Internal, `The export failed and nothing was written: ${(err as Error).message}.`, 'Check the free disk space and the folder permissions, then try again.');
  }
}

// ---- single files ----

let tmpCounter = 0;
const tmpName = (path: string) => `${path}.tmp-${process.pid}-${++tmpCounter}-${randomBytes(3).toString('hex')}`;

export interface AtomicFileOptions {
  /** File mode of the new file (default 0o600: keystores, state and settings are private). */
  mode?: number;
  /** fsync the file and its folder (default true; a cache may skip it). */
  durable?: boolean;
}

/** Makes a rename in `dir` durable (a crash after it returns keeps the new name). */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // some file systems refuse fsync on a folder; the rename itself is still atomic
  } finally {
    await fh.close();
  }
}

function syncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch {
    // as above
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` with `data` so that a reader (or a crash) sees either the old file or the
 * complete new one: temporary file in the same folder, fsync, rename, fsync the folder.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicFileOptions = {}): Promise<void> {
  const tmp = tmpName(path);
  try {
    const fh = await open(tmp, 'wx', opts.mode ?? 0o600);
    try {
      await fh.writeFile(data);
      if (opts.durable !== false) await fh.sync();
    } finally {
      await fh.close();
    }
    await commitFile(tmp, path, opts);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** The same, synchronous (start-up and exit paths that cannot await). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, opts: AtomicFileOptions = {}): void {
  const tmp = tmpName(path);
  try {
    writeFileSync(tmp, data, { mode: opts.mode ?? 0o600, flag: 'wx', flush: opts.durable !== false });
    renameSync(tmp, path);
    if (opts.durable !== false) syncDirSync(dirname(path));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Moves a file written (and fsynced) elsewhere in the same folder into place: rename, fsync the folder. */
export async function commitFile(tmp: string, path: string, opts: Pick<AtomicFileOptions, 'durable'> = {}): Promise<void> {
  await rename(tmp, path);
  if (opts.durable !== false) await syncDir(dirname(path));
}
