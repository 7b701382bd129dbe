/**
 * Raw model output → findings: the card's activation, one probability per label, its threshold,
 * and whether the finding is reported present (probability ≥ threshold). Heat maps are reduced to
 * 8 bits over their own min..max for storage (the min and max are kept, so values are recoverable
 * to within (max − min) / 255).
 */
import type { ModelCard } from './card';

export interface Finding {
  /** The label in the card's (clinician's) words. */
  label: string;
  probability: number;
  threshold: number;
  /** probability ≥ threshold */
  present: boolean;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function applyActivation(raw: ArrayLike<number>, activation: 'none' | 'sigmoid' | 'softmax'): number[] {
  const v = Array.from(raw);
  if (activation === 'sigmoid') return v.map(sigmoid);
  if (activation === 'softmax') {
    const m = Math.max(...v);
    const e = v.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  }
  return v;
}

export function findingsOf(raw: ArrayLike<number>, card: Pick<ModelCard, 'output'>): Finding[] {
  const labels = card.output.labels;
  if (raw.length !== labels.length) throw new Error(`the model gave ${raw.length} values for ${labels.length} labels`);
  const p = applyActivation(raw, card.output.activation);
  return labels.map((l, i) => ({ label: l.name, probability: p[i]!, threshold: l.threshold, present: p[i]! >= l.threshold }));
}

export interface HeatMap {
  width: number;
  height: number;
  /** height × width values after the card's activation */
  values: Float32Array;
}

export interface QuantisedHeatMap {
  width: number;
  height: number;
  min: number;
  max: number;
  /** round((v − min) / (max − min) · 255), row by row */
  bytes: Uint8Array;
}

export function heatMapOf(raw: Float32Array, shape: readonly number[], activation: 'none' | 'sigmoid'): HeatMap {
  const height = shape.at(-2) ?? 1;
  const width = shape.at(-1) ?? raw.length;
  if (width * height !== raw.length) throw new Error(`the heat map has ${raw.length} values for ${width}×${height}`);
  return { width, height, values: activation === 'sigmoid' ? raw.map(sigmoid) : Float32Array.from(raw) };
}

export function quantiseHeatMap(h: HeatMap): QuantisedHeatMap {
  let min = Infinity;
  let max = -Infinity;
  for (const v of h.values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max > min ? max - min : 1;
  const bytes = new Uint8Array(h.values.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(((h.values[i]! - min) / span) * 255);
  return { width: h.width, height: h.height, min, max, bytes };
}

export function dequantiseHeatMap(q: QuantisedHeatMap): HeatMap {
  const span = q.max > q.min ? q.max - q.min : 0;
  return { width: q.width, height: q.height, values: Float32Array.from(q.bytes, (b) => q.min + (b / 255) * span) };
}

/** Shown with every AI output, in the app, the CLI and exported results. */
export const AI_DISCLAIMER = 'AI — not for diagnostic use';
