/**
 * Garbage collection of the pixel store and of the sealed metadata parts. A blob is deleted only
 * when no index row names it, no pin names it, no anchor names it, and it is older than the grace
 * period (a split in another process may have stored it and not yet committed its row). Metadata
 * files no row names are removed under the same grace.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { PixelStore } from './pixel-store';

/** Blob addresses that chain records (or their storage manifests) still name; supplied by the ledger. */
export interface AnchoredBlobs {
  anchoredBlobAddresses(): Promise<Iterable<string>> | Iterable<string>;
}

/** What the index must answer for garbage collection. */
export interface GcIndex {
  referencedBlobs(): Set<string>;
  pinnedBlobs(): Set<string>;
  referencedMetadataPaths(): Set<string>;
}

export interface GcOptions {
  store: PixelStore;
  index: GcIndex;
  anchors?: AnchoredBlobs;
  /** Absolute folder of sealed metadata parts, and the app-data root index paths are relative to. */
  metadataDir?: string;
  home?: string;
  /** Spare anything younger than this (default one hour). */
  graceMs?: number;
  dryRun?: boolean;
  now?: number;
}

export interface GcReport {
  blobsKept: number;
  blobsDeleted: string[];
  bytesFreed: number;
  youngSpared: number;
  metadataRemoved: number;
  temporariesRemoved: number;
}

export async function collectGarbage(o: GcOptions): Promise<GcReport> {
  const grace = o.graceMs ?? 60 * 60 * 1000;
  const now = o.now ?? Date.now();
  // The keep-set is taken before listing: a blob stored after this point is younger than the grace.
  const keep = new Set([...o.index.referencedBlobs(), ...o.index.pinnedBlobs()]);
  if (o.anchors) for (const a of await o.anchors.anchoredBlobAddresses()) keep.add(a);
  const keepMeta = o.index.referencedMetadataPaths();
  const r: GcReport = { blobsKept: 0, blobsDeleted: [], bytesFreed: 0, youngSpared: 0, metadataRemoved: 0, temporariesRemoved: 0 };
  // A store that deletes many blobs at once (the folder store: a pack is rewritten once, not once per blob).
  const many = (o.store as { deleteMany?: (a: Iterable<string>, opts: { modifiedBefore?: number }) => Promise<Set<string>> }).deleteMany;
  const doomed = new Map<string, number>(); // address → size
  for await (const b of o.store.list()) {
    if (keep.has(b.address)) {
      r.blobsKept++;
      continue;
    }
    if (now - b.modifiedMs < grace) {
      r.youngSpared++;
      continue;
    }
    if (o.dryRun) r.blobsDeleted.push(b.address);
    else if (many) doomed.set(b.address, b.size);
    else if (await o.store.delete(b.address)) {
      r.blobsDeleted.push(b.address);
      r.bytesFreed += b.size;
    }
  }
  if (many && doomed.size) {
    const gone = await many.call(o.store, doomed.keys(), { modifiedBefore: now - grace });
    for (const [a, size] of doomed) {
      if (!gone.has(a)) continue;
      r.blobsDeleted.push(a);
      r.bytesFreed += size;
    }
  }
  const sweep = (o.store as { removeStaleTemporaries?: (ms: number, now: number) => Promise<number> }).removeStaleTemporaries;
  if (sweep && !o.dryRun) r.temporariesRemoved += await sweep.call(o.store, grace, now);
  if (o.metadataDir && o.home) {
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() && !keepMeta.has(relative(o.home!, p))) {
          try {
            if (now - (await stat(p)).mtimeMs < grace) continue;
            if (!o.dryRun) await unlink(p);
            r.metadataRemoved++;
          } catch {
            // gone meanwhile
          }
        }
      }
    };
    await walk(o.metadataDir);
  }
  return r;
}
