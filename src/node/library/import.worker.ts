/** Worker thread for imports: reads, hashes and parses files so the main process stays responsive. */
import { parentPort } from 'node:worker_threads';
import { scanMany, type ScanJob } from './scan';

parentPort?.on('message', (msg: { id: number; jobs: ScanJob[] }) => {
  void scanMany(msg.jobs).then(
    (results) => parentPort!.postMessage({ id: msg.id, results }),
    (err: unknown) => parentPort!.postMessage({ id: msg.id, error: String((err as Error)?.message ?? err) }),
  );
});
