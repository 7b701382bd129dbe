/**
 * Worker thread that preprocesses part of an image's output rows (built to
 * dist/workers/preprocess-rows.worker.cjs). The inference engine starts one beside itself; for an
 * image prepared just before its inference (both cores idle then) the two threads take chunks of
 * output rows from a shared counter until none are left (row-split.ts). It reads the file's pixels
 * from the engine's shared buffer and writes its rows into a shared tensor; no pixels are copied.
 * In:  RowsJob   Out: nothing (each chunk is signalled through the shared flags)
 */
import { closeSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { SimdAreaReducer } from '../../core/ai/area-simd';
import { preprocessRows, PreprocessScratch } from '../../core/ai/preprocess';
import { imageOfRowsJob, readSourceRows, runRowChunks, sourceRowsOf, type RowsJob } from './row-split';

const scratch = new PreprocessScratch();
// the engine's SIMD kernel memory (shared), when it has one: the file's bytes are there
const memory = (workerData as { simdMemory?: WebAssembly.Memory | null } | undefined)?.simdMemory;
const simd = memory ? SimdAreaReducer.attach(memory) : null;

parentPort?.on('message', (job: RowsJob) => {
  const img = imageOfRowsJob(job);
  const target = new Float32Array(job.out, 0, job.card.input.height * job.card.input.width * job.card.input.channels);
  const src = job.simdSource;
  // pixel rows not read yet: this thread reads each chunk's rows itself (a file it cannot open
  // leaves every chunk it takes marked failed, for the caller to do)
  let fd: number | null = null;
  const read = job.readRows;
  // without the kernel here, throwing marks each chunk for the caller to do itself
  const work =
    src === undefined
      ? (rows: { from: number; to: number }) => preprocessRows(img, job.card, job.plan, rows, target, scratch)
      : (rows: { from: number; to: number }) => {
          if (!simd || !memory) throw new Error('no SIMD kernel in the row helper');
          if (read) readSourceRows((fd ??= openSync(read.path, 'r')), read.source, ...sourceRowsOf(rows, img.rows, job.card.input.height), memory.buffer);
          simd.runAt(src, img, job.card, job.plan, rows, target);
        };
  try {
    runRowChunks(job.state, job.chunkRows, job.card.input.height, 2, work, read?.busy);
  } finally {
    if (fd !== null) closeSync(fd);
  }
});
