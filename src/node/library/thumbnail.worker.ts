/** Worker thread: renders thumbnails so decoding never blocks the main process. */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { renderThumbnail, placeholderPng } from './thumbnail-render';

export interface ThumbnailJob {
  id: number;
  path: string;
  size: number;
  windowCenter: number | null;
  windowWidth: number | null;
  rescaleSlope: number | null;
  rescaleIntercept: number | null;
}

parentPort?.on('message', (job: ThumbnailJob) => {
  void (async () => {
    try {
      const bytes = await readFile(job.path);
      const r = await renderThumbnail({ ...job, bytes });
      parentPort!.postMessage({ id: job.id, ok: true, png: r.png, placeholder: r.placeholder, reason: r.reason }, [r.png.buffer as ArrayBuffer]);
    } catch (err) {
      const png = placeholderPng(job.size);
      parentPort!.postMessage({ id: job.id, ok: true, png, placeholder: true, reason: err instanceof Error ? err.message : String(err) });
    }
  })();
});
