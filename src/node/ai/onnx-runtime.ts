/**
 * The one place that touches onnxruntime-node (CPU execution provider): loading a model and
 * reading its input/output signature. Used in the inference worker and, once per install, in the
 * registry to check the model against its card.
 */
import * as ort from 'onnxruntime-node';
import type { ModelSignature } from '../../core/ai/signature';

export type OrtSession = ort.InferenceSession;
export { ort };

export interface SessionOptions {
  /** Threads inside one operator (default: ONNX Runtime's choice, one per core). */
  intraOpThreads?: number;
  /** Operators one after another (default) or independent branches at once (inter-op threads). */
  executionMode?: 'sequential' | 'parallel';
}

/**
 * The ONNX Runtime session options the app uses (the inference engine and the benchmark's bare
 * peer both load through here, so "bare" means the same settings, not ONNX Runtime's defaults).
 */
export function ortSessionOptions(o: SessionOptions = {}): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    // ONNX Runtime's pool threads spin-wait after each run by default. Measured here (ResNet-18-like,
    // 2 cores): ~35 ms of CPU per 100 ms burnt after every run, taken from the decoding and
    // preprocessing of the next image and from the rest of the app. Runs were not slower without it.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    ...(o.intraOpThreads ? { intraOpNumThreads: o.intraOpThreads } : {}),
    ...(o.executionMode ? { executionMode: o.executionMode } : {}),
  };
}

export async function loadSession(model: string | Uint8Array, o: SessionOptions = {}): Promise<OrtSession> {
  const options = ortSessionOptions(o);
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

export function signatureOf(session: OrtSession): ModelSignature {
  const conv = (m: ort.InferenceSession.ValueMetadata) =>
    m.isTensor ? { name: m.name, type: m.type as string, shape: [...m.shape] } : { name: m.name, type: null, shape: [] };
  return { inputs: session.inputMetadata.map(conv), outputs: session.outputMetadata.map(conv) };
}

/** Loads a model once and returns its signature (the session is released). */
export async function inspectModel(modelPath: string): Promise<ModelSignature> {
  const session = await loadSession(modelPath, { intraOpThreads: 1 });
  try {
    return signatureOf(session);
  } finally {
    await session.release();
  }
}
