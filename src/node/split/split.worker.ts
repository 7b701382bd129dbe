/**
 * Worker thread of the split pool (./pool.ts): splits and rebuilds the instances of a batch with
 * the same code as the calling thread (./work.ts), reading and writing the folder pixel store
 * itself, and answers the batch in one message (only paths and small results cross threads).
 * workerData: PoolSetup (the institution secret stays in this process)
 * In: { jobs: PoolJob[] }  Out: { results: PoolResult[] }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FolderPixelStore } from './folder-store';
import { deriveSealKey } from './keys';
import type { PoolJob, PoolResult, PoolSetup } from './pool';
import { errorOf, rebuildToFolder, splitToParts, toWire, type WorkContext } from './work';

const setup = workerData as PoolSetup;
const secret = Buffer.from(setup.secret);
const store = new FolderPixelStore(setup.storeRoot, { durable: setup.storeDurable });
const ctx: WorkContext = {
  secret,
  sealKey: deriveSealKey(secret),
  durable: setup.durable,
  home: setup.home,
  metadataTmp: setup.metadataTmp,
  madeDirs: new Set(),
  putBlob: (pieces, address) => void store.putSync(pieces, address),
  getBlob: (address) => store.getSync(address),
};

async function one(job: PoolJob): Promise<PoolResult> {
  if (job.kind === 'split') {
    try {
      return { id: job.id, ok: true, value: await splitToParts(ctx, job.path, job.known) };
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

parentPort?.on('message', (m: { jobs: PoolJob[] }) => {
  void (async () => {
    const results: PoolResult[] = [];
    for (const job of m.jobs) results.push(await one(job));
    parentPort!.postMessage({ results });
  })();
});
