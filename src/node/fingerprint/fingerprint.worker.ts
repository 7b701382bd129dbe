/**
 * Worker thread of the fingerprint pool: reads and fingerprints the files of a batch, one after
 * the other, and answers the whole batch in one message (a message per file cost about a tenth of
 * the worker's time on 512² CT slices: structured clone plus waking the main thread).
 * In: { jobs: { id, path, knownFile?, recorded? }[] }  Out: { results: { id, outcome: FileOutcome }[] }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fingerprintFile, type FileOutcome, type RecordedFileDigest } from './compute';
import { warmUpStreamedPath } from './warmup';

interface Job {
  id: number;
  path: string;
  knownFile?: string;
  recorded?: RecordedFileDigest;
}

parentPort?.on('message', (m: { jobs: Job[] }) => {
  void (async () => {
    const results: { id: number; outcome: FileOutcome }[] = [];
    for (const job of m.jobs) results.push({ id: job.id, outcome: await fingerprintFile(job.path, job.knownFile, job.recorded ? { recorded: job.recorded } : {}) });
    parentPort!.postMessage({ results });
  })();
});

// Before the first batch is taken (messages wait in the port meanwhile): the streamed path compiled
// on a synthetic slice, not on the caller's first few hundred files (see warmup.ts).
const warmUp = (workerData as { warmUp?: number } | undefined)?.warmUp;
if (warmUp !== 0) {
  try {
    warmUpStreamedPath(warmUp);
  } catch {
    // only a warm-up: the files are fingerprinted all the same
  }
}
