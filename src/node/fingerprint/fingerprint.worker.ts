/**
 * Worker thread of the fingerprint pool: reads and fingerprints one file per message.
 * In: { id, path, knownFile? }  Out: { id, outcome: FileOutcome }
 */
import { parentPort } from 'node:worker_threads';
import { fingerprintFile } from './compute';

interface Job {
  id: number;
  path: string;
  knownFile?: string;
}

parentPort?.on('message', (job: Job) => {
  void fingerprintFile(job.path, job.knownFile).then((outcome) => parentPort!.postMessage({ id: job.id, outcome }));
});
