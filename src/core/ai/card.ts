/**
 * The model card (card.json beside model.onnx): what the model is, what images it accepts, how
 * pixels become its input tensor, and what its outputs mean. Validated with zod; every problem is
 * reported with the field it concerns, in words a clinic's IT person can act on.
 */
import { z } from 'zod';

export const MODEL_CARD_SCHEMA = 'medimgshr-model-card/1';

const text = z.string().trim().min(1, 'must not be empty');
const upperList = z.array(text.transform((s) => s.toUpperCase())).default([]);

const windowSchema = z.discriminatedUnion('mode', [
  /** The file's own Window Center/Width (first pair); min–max when the file has none. */
  z.object({ mode: z.literal('file') }),
  z.object({ mode: z.literal('fixed'), center: z.number(), width: z.number().positive('must be above 0') }),
  /** The image's own minimum..maximum after the modality rescale. */
  z.object({ mode: z.literal('minmax') }),
]);

const normaliseSchema = z.discriminatedUnion('mode', [
  /** (v − mean[c]) / std[c] per channel, v in 0..1 after windowing (ImageNet style). */
  z.object({ mode: z.literal('meanStd'), mean: z.array(z.number()).min(1), std: z.array(z.number().positive('must be above 0')).min(1) }),
  /** v · scale + offset, v in 0..1 after windowing (scale 255 gives 0..255). */
  z.object({ mode: z.literal('scale'), scale: z.number(), offset: z.number().default(0) }),
]);

const labelSchema = z.object({
  /** The finding in the clinician's words, e.g. "Pneumonia", "Consolidation". */
  name: text,
  /** Probability at or above which the finding is reported as present (0..1). */
  threshold: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1'),
  description: z.string().optional(),
});

export const modelCardSchema = z
  .object({
    schema: z.literal(MODEL_CARD_SCHEMA, { message: `must be "${MODEL_CARD_SCHEMA}"` }),
    name: text,
    version: text,
    intendedUse: text,
    /** Always true: the app shows AI output only as "AI — not for diagnostic use". */
    notForDiagnosticUse: z.literal(true, {
      message: 'must be true: MedImgShr shows AI findings only as "AI — not for diagnostic use"',
    }),
    licence: text,
    authors: z.string().optional(),
    accepts: z.object({
      /** DICOM Modality (0008,0060) values, e.g. ["CR", "DX"]. */
      modalities: upperList.refine((l) => l.length > 0, 'must name at least one modality, e.g. ["CR", "DX"]'),
      /** Body Part Examined (0018,0015), e.g. ["CHEST"]; empty accepts any (and a missing value). */
      bodyParts: upperList,
      /** View Position (0018,5101), e.g. ["PA", "AP"]; empty accepts any. */
      viewPositions: upperList,
      minRows: z.number().int().min(1).default(1),
      minColumns: z.number().int().min(1).default(1),
    }),
    input: z.object({
      /** The ONNX graph input's name. */
      name: text,
      width: z.number().int().min(1).max(4096),
      height: z.number().int().min(1).max(4096),
      channels: z.union([z.literal(1), z.literal(3)], { message: 'must be 1 (grey) or 3 (grey repeated as RGB)' }),
    }),
    preprocessing: z.object({
      window: windowSchema,
      /** MONOCHROME1 (white = low values) is inverted so bright always means dense, as most models are trained. */
      invertMonochrome1: z.boolean().default(true),
      resize: z.enum(['area', 'bilinear', 'nearest'], { message: 'must be "area", "bilinear" or "nearest"' }),
      normalise: normaliseSchema,
    }),
    output: z.object({
      /** The ONNX output holding one value per label, shape 1×labels. */
      name: text,
      /** Applied by the app to the raw output: none (the model outputs probabilities), sigmoid or softmax. */
      activation: z.enum(['none', 'sigmoid', 'softmax']),
      labels: z.array(labelSchema).min(1, 'must list at least one label'),
    }),
    heatMap: z
      .object({
        /** The ONNX output holding a map over the image, shape 1×1×h×w (or 1×h×w, h×w). */
        name: text,
        activation: z.enum(['none', 'sigmoid']).default('none'),
        /** Which label it explains (for the overlay's legend). */
        label: z.string().optional(),
      })
      .optional(),
  })
  .superRefine((card, ctx) => {
    const n = card.preprocessing.normalise;
    if (n.mode === 'meanStd') {
      for (const key of ['mean', 'std'] as const) {
        if (n[key].length !== 1 && n[key].length !== card.input.channels) {
          ctx.addIssue({
            code: 'custom',
            path: ['preprocessing', 'normalise', key],
            message: `has ${n[key].length} values but the input has ${card.input.channels} channel(s): give 1 or ${card.input.channels}`,
          });
        }
      }
    }
    const names = card.output.labels.map((l) => l.name.toLowerCase());
    const dup = names.find((v, i) => names.indexOf(v) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['output', 'labels'], message: `names "${dup}" twice` });
    if (card.heatMap && card.heatMap.name === card.output.name) {
      ctx.addIssue({ code: 'custom', path: ['heatMap', 'name'], message: 'must be a different output from output.name' });
    }
  });

export type ModelCard = z.infer<typeof modelCardSchema>;
export type WindowSpec = ModelCard['preprocessing']['window'];
export type NormaliseSpec = ModelCard['preprocessing']['normalise'];
export type ResizeMethod = ModelCard['preprocessing']['resize'];

export type CardValidation = { ok: true; card: ModelCard } | { ok: false; problems: string[] };

/** Validates parsed card JSON; each problem names its field, e.g. `input.channels: must be 1 …`. */
export function validateModelCard(json: unknown): CardValidation {
  const r = modelCardSchema.safeParse(json);
  if (r.success) return { ok: true, card: r.data };
  const problems = r.error.issues.map((i) => {
    const where = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : 'card';
    const msg = i.code === 'invalid_type' && /received undefined/.test(i.message) ? 'is missing' : i.message;
    return `${where}: ${msg}`;
  });
  return { ok: false, problems };
}

/** What the app knows about an image before decoding it, for the acceptance check. */
export interface ImageDescription {
  modality: string | null;
  bodyPartExamined: string | null;
  viewPosition: string | null;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  photometricInterpretation: string | null;
  numberOfFrames: number;
}

/**
 * Why the model does not accept this image (one sentence), or null when it does. Checked before
 * decoding, so a skipped image costs a header read.
 */
export function whyNotAccepted(card: ModelCard, img: ImageDescription): string | null {
  const a = card.accepts;
  const norm = (s: string | null) => (s ?? '').trim().toUpperCase();
  const modality = norm(img.modality);
  if (!a.modalities.includes(modality)) {
    return `the model accepts ${a.modalities.join('/')} images; this one is ${modality || 'of no stated modality'}`;
  }
  const body = norm(img.bodyPartExamined);
  if (a.bodyParts.length && !a.bodyParts.includes(body)) {
    return `the model accepts ${a.bodyParts.join('/')} images; this one's Body Part Examined is ${body || 'not stated'}`;
  }
  const view = norm(img.viewPosition);
  if (a.viewPositions.length && !a.viewPositions.includes(view)) {
    return `the model accepts ${a.viewPositions.join('/')} views; this one's View Position is ${view || 'not stated'}`;
  }
  if (img.rows < a.minRows || img.columns < a.minColumns) {
    return `the image is too small: ${img.columns}×${img.rows} pixels, the model needs at least ${a.minColumns}×${a.minRows}`;
  }
  const pi = norm(img.photometricInterpretation);
  if (img.samplesPerPixel !== 1 || (pi !== 'MONOCHROME1' && pi !== 'MONOCHROME2')) {
    return `the model reads greyscale images (MONOCHROME1/MONOCHROME2); this one is ${pi || 'of unknown photometric interpretation'} with ${img.samplesPerPixel} sample(s) per pixel`;
  }
  if (img.numberOfFrames !== 1) return `the model reads single-frame images; this one has ${img.numberOfFrames} frames`;
  return null;
}
