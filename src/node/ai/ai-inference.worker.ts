/**
 * Worker thread for AI inference (built to dist/workers/ai-inference.worker.cjs): decoding,
 * preprocessing and ONNX Runtime all run here, off the main thread.
 * In: { id, job: InferenceJob } | { id, close: true }   Out: { id, outcome: InferenceOutcome }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeFrames } from '../dicom/decode';
import { InferenceEngine, type InferenceJob } from './inference';

const engine = new InferenceEngine(decodeFrames, { intraOpThreads: (workerData as { intraOpThreads?: number } | undefined)?.intraOpThreads });

parentPort?.on('message', (m: { id: number; job?: InferenceJob; close?: boolean }) => {
  if (m.close) {
    void engine.close().then(() => parentPort!.postMessage({ id: m.id, closed: true }));
    return;
  }
  void engine.run(m.job!).then((outcome) => {
    const transfer = outcome.kind === 'result' && outcome.heatMap ? [outcome.heatMap.values.buffer as ArrayBuffer] : [];
    parentPort!.postMessage({ id: m.id, outcome }, transfer);
  });
});
