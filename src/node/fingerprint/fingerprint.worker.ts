/**
 * Worker thread of the fingerprint pool: reads and fingerprints the files of a batch, one after
 * the other, and answers the whole batch in one message (a message per file cost about a tenth of
 * the worker's time on 512² CT slices: structured clone plus waking the main thread).
 * In: { jobs: { id, path, knownFile?, recorded? }[] }  Out: { results: { id, outcome: FileOutcome }[] }
 */
import { parentPort } from 'node:worker_threads';
import { fingerprintFile, type FileOutcome, type RecordedFileDigest } from './compute';

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
