/**
 * The DIMSE threads' cache write (dimse.worker.ts: C-GET arrivals; scp.worker.ts: arrivals of our own
 * C-MOVE): writeCacheFile's layout and atomicity (`<dir>/ab/abcdef….dcm`, temp file + rename, not
 * durable) with blocking calls. The thread has answered the C-STORE already when it writes, and
 * each of writeCacheFile's four awaited calls (open, write, close, rename) was a round trip through
 * libuv's pool that woke another thread: on a loaded machine a wait for a core each, and in a
 * profile of a 200-image C-GET (load 17–20) a third of the thread's CPU time, besides the wake-ups.
 * Same function as the WADO-RS thread's writeCacheFileSync (branch wt-wado, cache-file.ts): one of
 * the two goes when both are merged.
 */
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** Sub-folders known to exist in this thread (one mkdir each, not one per file). */
const made = new Set<string>();
let seq = 0;

/** Writes `file` into the cache folder `dir` under its content name; returns its path. Throws what the file system threw. */
export function writeArrivalSync(dir: string, file: Uint8Array, sha256: string): string {
  // 'a': not one of writeCacheFile's temp names (its counter is per thread too)
  const tmp = join(dir, `.${process.pid}-${threadId}-a${++seq}.part`);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(tmp, file, { mode: 0o600 });
      const sub = join(dir, sha256.slice(0, 2));
      if (!made.has(sub)) {
        mkdirSync(sub, { recursive: true, mode: 0o700 });
        made.add(sub);
      }
      const path = join(sub, `${sha256}.dcm`);
      // the same name holds the same bytes: the rename replaces it atomically
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
