import { describe, expect, it } from 'vitest';
import { validateModelCard, whyNotAccepted, type ImageDescription, type ModelCard } from '../../../src/core/ai/card';
import { probeCard } from '../../support/ai';

const valid = (): ModelCard => {
  const r = validateModelCard(probeCard());
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.card;
};

const chestPa: ImageDescription = {
  modality: 'CR',
  bodyPartExamined: 'CHEST',
  viewPosition: 'PA',
  rows: 2048,
  columns: 2048,
  samplesPerPixel: 1,
  photometricInterpretation: 'MONOCHROME1',
  numberOfFrames: 1,
};

describe('model card validation', () => {
  it('accepts the probe card and fills in defaults', () => {
    const card = valid();
    expect(card.accepts.modalities).toEqual(['CR', 'DX']);
    expect(card.preprocessing.invertMonochrome1).toBe(true);
    expect(card.output.labels.map((l) => l.threshold)).toEqual([0.5, 0.4]);
  });

  it('names every problem with its field', () => {
    const card = probeCard({
      notForDiagnosticUse: false,
      licence: '',
      input: { name: 'image', width: 32, height: 32, channels: 2 },
      output: { name: 'probabilities', activation: 'relu', labels: [{ name: 'A', threshold: 1.5 }] },
    });
    delete (card as Record<string, unknown>).version;
    const r = validateModelCard(card);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.problems.join('\n');
    expect(text).toMatch(/^version: is missing$/m);
    expect(text).toMatch(/^notForDiagnosticUse: must be true/m);
    expect(text).toMatch(/^licence: must not be empty$/m);
    expect(text).toMatch(/^input\.channels: must be 1 \(grey\) or 3/m);
    expect(text).toMatch(/^output\.activation: /m);
    expect(text).toMatch(/^output\.labels\[0\]\.threshold: must be between 0 and 1$/m);
    expect(r.problems).toHaveLength(6);
  });

  it('checks mean/std lengths against the channels and duplicate labels', () => {
    const r = validateModelCard(
      probeCard({
        input: { name: 'image', width: 32, height: 32, channels: 3 },
        preprocessing: { window: { mode: 'minmax' }, resize: 'bilinear', normalise: { mode: 'meanStd', mean: [0.485, 0.456], std: [0.229] } },
        output: { name: 'p', activation: 'sigmoid', labels: [{ name: 'Pneumonia', threshold: 0.5 }, { name: 'pneumonia', threshold: 0.5 }] },
      }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      'preprocessing.normalise.mean: has 2 values but the input has 3 channel(s): give 1 or 3',
      'output.labels: names "pneumonia" twice',
    ]);
  });
});

describe('which images a model accepts', () => {
  const card = valid();
  it('accepts a chest PA CR', () => {
    expect(whyNotAccepted(card, chestPa)).toBeNull();
    expect(whyNotAccepted(card, { ...chestPa, modality: 'dx', viewPosition: 'ap' })).toBeNull();
  });
  it('says why it skips an image', () => {
    expect(whyNotAccepted(card, { ...chestPa, modality: 'CT' })).toBe('the model accepts CR/DX images; this one is CT');
    expect(whyNotAccepted(card, { ...chestPa, bodyPartExamined: 'HAND' })).toBe(
      "the model accepts CHEST images; this one's Body Part Examined is HAND",
    );
    expect(whyNotAccepted(card, { ...chestPa, viewPosition: 'LL' })).toBe("the model accepts PA/AP views; this one's View Position is LL");
    expect(whyNotAccepted(card, { ...chestPa, viewPosition: null })).toBe("the model accepts PA/AP views; this one's View Position is not stated");
    expect(whyNotAccepted(card, { ...chestPa, rows: 32 })).toBe('the image is too small: 2048×32 pixels, the model needs at least 64×64');
    expect(whyNotAccepted(card, { ...chestPa, samplesPerPixel: 3, photometricInterpretation: 'RGB' })).toMatch(/greyscale .* this one is RGB with 3/);
  });
});

import { compareSignature, type ModelSignature } from '../../../src/core/ai/signature';

describe('model signature against the card', () => {
  const card = valid();
  const good: ModelSignature = {
    inputs: [{ name: 'image', type: 'float32', shape: ['batch', 1, 32, 32] }],
    outputs: [
      { name: 'probabilities', type: 'float32', shape: [1, 2] },
      { name: 'heatmap', type: 'float32', shape: [1, 1, 8, 8] },
    ],
  };
  it('matches the probe model (symbolic batch accepted)', () => {
    expect(compareSignature(good, card)).toEqual([]);
  });
  it('says which side differs', () => {
    const bad: ModelSignature = {
      inputs: [{ name: 'x', type: 'float32', shape: [1, 3, 224, 224] }],
      outputs: [{ name: 'probabilities', type: 'float32', shape: [1, 14] }],
    };
    expect(compareSignature(bad, card)).toEqual([
      "the card names the input 'image', the model's input is 'x'",
      "the card lists 2 labels (output 1×2), the model's output 'probabilities' is 1×14",
      "the card names the heat-map output 'heatmap', the model's outputs are 'probabilities'",
    ]);
    const shape: ModelSignature = { ...good, inputs: [{ name: 'image', type: 'float32', shape: [1, 3, 32, 32] }] };
    expect(compareSignature(shape, card)).toEqual(["the card says input 1×1×32×32, the model's input 'image' is 1×3×32×32"]);
  });
});
