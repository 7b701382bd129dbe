/**
 * Worker thread for AI inference (built to dist/workers/ai-inference.worker.cjs), off the main
 * thread. WorkerInference runs two of them: one prepares images (read, decode, preprocess) while
 * the other runs ONNX Runtime on the previous image, so a study's images overlap (ONNX Runtime's
 * `run` blocks the thread that calls it, so the two cannot share one thread).
 * In:  { id, run: InferenceJob } | { id, prepare: InferenceJob } | { id, infer: { job, prepared } } | { id, close: true }
 * Out: { id, outcome: InferenceOutcome | Prepared }
 * Messages are handled one at a time, in order (the engine reuses its buffers from image to image).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeFrames } from '../dicom/decode';
import { InferenceEngine, type InferenceJob, type Prepared } from './inference';

const options = (workerData ?? {}) as { intraOpThreads?: number; executionMode?: 'sequential' | 'parallel'; splitRows?: boolean; readRows?: boolean };
const engine = new InferenceEngine(decodeFrames, { intraOpThreads: options.intraOpThreads, executionMode: options.executionMode, splitRows: options.splitRows, readRows: options.readRows });

type Message = { id: number; run?: InferenceJob; prepare?: InferenceJob; infer?: { job: InferenceJob; prepared: Prepared }; close?: boolean };

let chain: Promise<unknown> = Promise.resolve();

async function handle(m: Message): Promise<void> {
  if (m.close) {
    await engine.close();
    parentPort!.postMessage({ id: m.id, closed: true });
    return;
  }
  const outcome = m.prepare ? await engine.prepare(m.prepare) : m.infer ? await engine.infer(m.infer.job, m.infer.prepared) : await engine.run(m.run!);
  const transfer: ArrayBuffer[] = [];
  if (outcome.kind === 'prepared') transfer.push(outcome.tensor.buffer as ArrayBuffer);
  if (outcome.kind === 'result' && outcome.heatMap) transfer.push(outcome.heatMap.values.buffer as ArrayBuffer);
  parentPort!.postMessage({ id: m.id, outcome }, transfer);
}

parentPort?.on('message', (m: Message) => {
  chain = chain.then(() => handle(m)).catch(() => undefined);
});
