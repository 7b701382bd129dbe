/**
 * Compares a model's inputs and outputs (as ONNX Runtime reports them) with its card. Each
 * mismatch is one sentence naming both sides, e.g. "the card says input 1×1×224×224, the model's
 * input 'x' is 1×3×224×224". Symbolic dimensions (a name such as "batch", or -1) match any size.
 */
import type { ModelCard } from './card';

export interface TensorSignature {
  name: string;
  /** 'float32', 'int64', … or null when the value is not a tensor. */
  type: string | null;
  /** Numbers, or strings for symbolic dimensions; empty when unknown. */
  shape: readonly (number | string)[];
}

export interface ModelSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

const dims = (s: readonly (number | string)[]) => (s.length ? s.map((d) => (typeof d === 'number' && d >= 0 ? String(d) : typeof d === 'string' ? d : '?')).join('×') : 'of unknown shape');
const quoted = (l: TensorSignature[]) => l.map((t) => `'${t.name}'`).join(', ');
const fixed = (d: number | string): d is number => typeof d === 'number' && d >= 0;

function shapeMatches(expected: number[], actual: readonly (number | string)[]): boolean {
  if (actual.length === 0) return true; // unknown shape: the first run will tell
  if (actual.length !== expected.length) return false;
  return expected.every((e, i) => !fixed(actual[i]!) || actual[i] === e);
}

export function compareSignature(sig: ModelSignature, card: ModelCard): string[] {
  const problems: string[] = [];
  const { input } = card;
  const want = [1, input.channels, input.height, input.width];
  if (sig.inputs.length !== 1) {
    problems.push(`the model has ${sig.inputs.length} inputs (${quoted(sig.inputs)}); MedImgShr feeds exactly one image tensor`);
  }
  const x = sig.inputs.find((t) => t.name === input.name);
  if (!x) {
    problems.push(`the card names the input '${input.name}', the model's input${sig.inputs.length === 1 ? ' is' : 's are'} ${quoted(sig.inputs) || 'none'}`);
  } else {
    if (x.type !== 'float32') problems.push(`the model's input '${x.name}' is ${x.type ?? 'not a tensor'}; MedImgShr feeds float32`);
    if (!shapeMatches(want, x.shape)) problems.push(`the card says input ${want.join('×')}, the model's input '${x.name}' is ${dims(x.shape)}`);
  }
  const out = sig.outputs.find((t) => t.name === card.output.name);
  const labels = card.output.labels.length;
  if (!out) {
    problems.push(`the card names the output '${card.output.name}', the model's outputs are ${quoted(sig.outputs) || 'none'}`);
  } else {
    if (out.type !== 'float32') problems.push(`the model's output '${out.name}' is ${out.type ?? 'not a tensor'}; MedImgShr reads float32`);
    if (!shapeMatches([1, labels], out.shape)) {
      problems.push(`the card lists ${labels} label${labels === 1 ? '' : 's'} (output 1×${labels}), the model's output '${out.name}' is ${dims(out.shape)}`);
    }
  }
  if (card.heatMap) {
    const h = sig.outputs.find((t) => t.name === card.heatMap!.name);
    if (!h) problems.push(`the card names the heat-map output '${card.heatMap.name}', the model's outputs are ${quoted(sig.outputs) || 'none'}`);
    else if (h.type !== 'float32') problems.push(`the model's heat-map output '${h.name}' is ${h.type ?? 'not a tensor'}; MedImgShr reads float32`);
    else if (h.shape.length && (h.shape.length < 2 || h.shape.length > 4 || h.shape.slice(0, -2).some((d) => fixed(d) && d !== 1))) {
      problems.push(`the card's heat map '${h.name}' must be h×w, 1×h×w or 1×1×h×w; the model's is ${dims(h.shape)}`);
    }
  }
  return problems;
}
