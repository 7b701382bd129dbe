/**
 * Writing one file into a cache folder under its content name, with no database and nothing heavy
 * imported: the DIMSE threads and the WADO thread (wado-stream.worker.ts) use it.
 */
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** Temp-file names: unique within this process (randomBytes per arrival cost more than the write's bookkeeping). */
let tmpSeq = 0;

/** Flushes a folder's entries (the rename of a new file) to the disk. */
async function syncFolder(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A file a DIMSE thread wrote into the cache already (writeCacheFile), for InstanceCache.put to record. */
export interface WrittenFile {
  path: string;
  sha256: string;
  size: number;
  transferSyntaxUid: string | null;
}

/** Sub-folders known to exist, per thread (one mkdir each, not one per file). */
const made = new Set<string>();

/**
 * Writes a file into a cache folder under its content name (`<dir>/ab/abcdef….dcm`, atomically:
 * temp file + rename); returns its path. No database: the DIMSE threads write their arrivals
 * with it (off the main thread), which then records them (InstanceCache.put).
 */
export async function writeCacheFile(dir: string, file: Uint8Array, sha256: string, durable = false): Promise<string> {
  const tmp = join(dir, `.${process.pid}-${threadId}-${++tmpSeq}.part`);
  for (let attempt = 0; ; attempt++) {
    try {
      if (durable) {
        const fh = await open(tmp, 'w', 0o600);
        try {
          await fh.writeFile(file);
          await fh.datasync();
        } finally {
          await fh.close();
        }
      } else {
        await writeFile(tmp, file, { mode: 0o600 });
      }
      const sub = join(dir, sha256.slice(0, 2));
      const path = join(sub, `${sha256}.dcm`);
      if (!made.has(sub)) {
        await mkdir(sub, { recursive: true, mode: 0o700 });
        made.add(sub);
      }
      // no check whether the file is there already: the same name holds the same bytes, and the rename replaces it atomically
      await rename(tmp, path);
      if (durable) await syncFolder(sub);
      return path;
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      // the folder was removed since (the cache emptied): made again, once
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
      made.clear();
      await mkdir(dir, { recursive: true, mode: 0o700 });
    }
  }
}

/**
 * writeCacheFile with blocking calls (not durable), for a worker thread that has nothing else to
 * do meanwhile (the WADO thread): no round trip through libuv's pool per call, each of which woke
 * another thread (on a loaded machine, a wait for a core).
 */
export function writeCacheFileSync(dir: string, file: Uint8Array, sha256: string): string {
  const tmp = join(dir, `.${process.pid}-${threadId}-${++tmpSeq}.part`);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(tmp, file, { mode: 0o600 });
      const sub = join(dir, sha256.slice(0, 2));
      const path = join(sub, `${sha256}.dcm`);
      if (!made.has(sub)) {
        mkdirSync(sub, { recursive: true, mode: 0o700 });
        made.add(sub);
      }
      renameSync(tmp, path);
      return path;
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // not written
      }
      // the folder was removed since (the cache emptied): made again, once
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
      made.clear();
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
  }
}
