/**
 * Worker thread of the fingerprint pool: reads and fingerprints the files of a batch, one after
 * the other, and answers the whole batch in one message (a message per file cost about a tenth of
 * the worker's time on 512² CT slices: structured clone plus waking the main thread).
 * In: { jobs: { id, path, knownFile?, recorded? }[] }  Out: { results: { id, outcome: FileOutcome }[] }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fingerprintFile, type FileOutcome, type RecordedFileDigest } from './compute';
import { warmUpFilePath, warmUpStreamedPath } from './warmup';

interface Job {
  id: number;
  path: string;
  knownFile?: string;
  recorded?: RecordedFileDigest;
}

// Before the first batch is taken: the worker's path compiled on a synthetic slice, not on the
// caller's first few hundred files (see warmup.ts). Batches that arrive meanwhile wait for it.
const warmUp = (workerData as { warmUp?: number } | undefined)?.warmUp;
const ready: Promise<unknown> =
  warmUp === 0
    ? Promise.resolve()
    : warmUpFilePath(warmUp)
        .then((done) => done ?? warmUpStreamedPath(warmUp))
        .catch(() => null); // only a warm-up: the files are fingerprinted all the same

parentPort?.on('message', (m: { jobs: Job[] }) => {
  void (async () => {
    await ready;
    const results: { id: number; outcome: FileOutcome }[] = [];
    for (const job of m.jobs) results.push({ id: job.id, outcome: await fingerprintFile(job.path, job.knownFile, job.recorded ? { recorded: job.recorded } : {}) });
    parentPort!.postMessage({ results });
  })();
});
