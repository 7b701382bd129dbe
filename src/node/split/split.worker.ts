/**
 * Worker thread of the split pool (./pool.ts): splits and rebuilds the instances of a batch with
 * the same code as the calling thread (./work.ts), reading and writing the folder pixel store
 * itself, and answers the batch in one message (only paths and small results cross threads).
 * A split writes a message's blobs into one pack file (./folder-store.ts PackWriter); a durable
 * split writes it without fsync, then flushes it (PendingSync) before answering: an answer means the blobs are durable (the
 * sealed metadata parts travel in the answer, to be recorded with the rows), and the next message's
 * instances are computed meanwhile.
 * workerData: PoolSetup (the institution secret stays in this process)
 * In: { jobs: PoolJob[] }  Out: { results: PoolResult[] }
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { FolderPixelStore, PendingSync, ReadBuffer, type PackWriter } from './folder-store';
import { deriveSealKey } from './keys';
import type { PoolJob, PoolResult, PoolSetup } from './pool';
import { errorOf, rebuildToFolder, splitToParts, toWire, type WorkContext } from './work';

const setup = workerData as PoolSetup;
const secret = Buffer.from(setup.secret);
const store = new FolderPixelStore(setup.storeRoot, { durable: setup.storeDurable });
const reader = new ReadBuffer();
/** The pack of the message being computed. */
let pack: PackWriter | null = null;
const ctx: WorkContext = {
  secret,
  sealKey: deriveSealKey(secret),
  durable: setup.durable,
  home: setup.home,
  madeDirs: new Set(),
  reader,
  // A message's blobs go into one pack (one file, one flush); outside a message (never, today) one file each.
  putBlob: (pieces, address, pending) => (pack ? pack.add(pieces, address, pending) : void store.putSync(pieces, address, pending)),
  getBlob: (address) => store.getSync(address, reader),
};

async function one(job: PoolJob, pending: PendingSync): Promise<PoolResult> {
  if (job.kind === 'ping') return { id: job.id, ok: true, value: null };
  if (job.kind === 'split') {
    try {
      // `thread`: the run reports which worker threads did the work (SplitRun.threads).
      return { id: job.id, ok: true, value: { ...(await splitToParts(ctx, job.path, job.known, pending)), thread: threadId } };
    } catch (err) {
      return { id: job.id, ok: false, error: errorOf(job.path, err) };
    }
  }
  try {
    return { id: job.id, ok: true, value: rebuildToFolder(ctx, store.location, job.target, job.outDir, job.verify) };
  } catch (err) {
    return { id: job.id, ok: false, error: toWire(err) };
  }
}

// The instances are computed one after another (they share `reader`); the flush of one message
// overlaps the computing of the next.
let computing: Promise<unknown> = Promise.resolve();

parentPort?.on('message', (m: { jobs: PoolJob[] }) => {
  const pending = new PendingSync({ folders: false }); // the folders: once per batch, by the recording thread
  const computed = computing.then(async () => {
    const results: PoolResult[] = [];
    try {
      pack = m.jobs.some((j) => j.kind === 'split') ? store.packWriter() : null;
    } catch {
      pack = null; // the store's folders cannot be made: each put below fails and says why
    }
    try {
      for (const job of m.jobs) results.push(await one(job, pending));
      pack?.finish(pending); // the footer; the pack is flushed with the message below
    } catch (err) {
      // The pack could not be completed: none of its blobs may be recorded.
      pack?.abort();
      const why = `its pixel blob could not be written (${(err as Error).message})`;
      for (let i = 0; i < results.length; i++) {
        const r = results[i]!;
        const job = m.jobs[i]!;
        if (r.ok && job.kind === 'split') results[i] = { id: r.id, ok: false, error: errorOf(job.path, new Error(`The split of this file was not recorded: ${why}.`)) };
      }
    } finally {
      pack = null;
    }
    return results;
  });
  computing = computed.catch(() => undefined);
  void computed.then(async (results) => {
    try {
      await pending.flush();
    } catch (err) {
      // Not durable: no instance of this message may be recorded.
      pending.discard();
      const why = `its parts could not be made durable (${(err as Error).message})`;
      results = results.map((r, i) => (r.ok && m.jobs[i]!.kind === 'split' ? { id: r.id, ok: false, error: errorOf((m.jobs[i] as { path: string }).path, new Error(`The split of this file was not recorded: ${why}.`)) } : r));
    }
    parentPort!.postMessage({ results });
  });
});
