import { z } from 'zod';
import { Bytes32, Path, Uid } from './primitives';

/**
 * The AI finding (issue 15, docs/ai.md): models the clinic installs (ONNX + model card), runs on
 * the displayed image or a whole study (a task of kind 'ai': progress events, `task.cancel`),
 * results bound to the image's pixel digest and the model's SHA-256, stale when either changed.
 */

/** Shown with every AI output. */
export const AI_NOT_FOR_DIAGNOSTIC_USE = 'AI — not for diagnostic use';

export const AiModel = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string(),
  intendedUse: z.string(),
  /** DICOM Modality values it accepts, e.g. ["CR", "DX"]. */
  modalities: z.array(z.string()),
  bodyParts: z.array(z.string()),
  viewPositions: z.array(z.string()),
  licence: z.string(),
  notForDiagnosticUse: z.literal(true),
  labels: z.array(z.object({ name: z.string(), threshold: z.number() })),
  /** The model has a second output that is a heat map (the overlay toggle). */
  heatMap: z.boolean(),
  modelSha256: z.string(),
  cardSha256: z.string(),
  installedAt: z.string(),
});
export type AiModel = z.infer<typeof AiModel>;

export const AiFinding = z.object({
  label: z.string(),
  probability: z.number(),
  threshold: z.number(),
  /** probability ≥ threshold: shown as "positive", else "negative" */
  present: z.boolean(),
});
export type AiFinding = z.infer<typeof AiFinding>;

export const AiHeatMap = z.object({
  width: z.number().int(),
  height: z.number().int(),
  min: z.number(),
  max: z.number(),
  label: z.string().nullable(),
  /** 8-bit values over min..max, row by row, base64. */
  uint8Base64: z.string(),
});
export type AiHeatMap = z.infer<typeof AiHeatMap>;

export const AiResult = z.object({
  id: z.number().int(),
  sopInstanceUid: z.string(),
  studyInstanceUid: z.string().nullable(),
  /** The library instance it is about (null when the file is not in the library). */
  instanceId: z.number().int().nullable(),
  model: z.object({ id: z.string(), name: z.string(), version: z.string(), modelSha256: z.string(), cardSha256: z.string() }),
  findings: z.array(AiFinding),
  pixelSha256: z.string(),
  preprocessing: z.string(),
  recordSha256: z.string(),
  createdAt: z.string(),
  heatMap: AiHeatMap.nullable(),
  /** current, or stale with why (pixels changed / model changed or removed). */
  freshness: z.discriminatedUnion('state', [z.object({ state: z.literal('current') }), z.object({ state: z.literal('stale'), reasons: z.array(z.string()) })]),
});
export type AiResult = z.infer<typeof AiResult>;

export const AiSkipped = z.object({ instanceId: z.number().int().nullable(), sopInstanceUid: z.string().nullable(), model: z.string(), reason: z.string() });
export type AiSkipped = z.infer<typeof AiSkipped>;

export const AiRunReport = z.object({
  disclaimer: z.string(),
  results: z.array(AiResult),
  skipped: z.array(AiSkipped),
  failed: z.array(z.object({ instanceId: z.number().int().nullable(), sopInstanceUid: z.string().nullable(), model: z.string(), code: z.string(), message: z.string() })),
  cancelled: z.boolean(),
});
export type AiRunReport = z.infer<typeof AiRunReport>;

export const AiScope = z.union([
  z.object({ instanceId: z.number().int().positive() }).strict(),
  z.object({ studyInstanceUid: Uid }).strict(),
  /** The whole study of the image on screen. */
  z.object({ studyOfInstanceId: z.number().int().positive() }).strict(),
]);
export type AiScope = z.infer<typeof AiScope>;

export const AiAnchorReport = z.object({
  studyInstanceUid: z.string(),
  /** The study's record on chain the findings are anchored beside. */
  studyRoot: Bytes32,
  findingsRoot: Bytes32,
  count: z.number().int(),
  excludedStale: z.number().int(),
  delivery: z.enum(['queued', 'sent', 'confirmed', 'failed']),
  alreadyAnchored: z.boolean(),
  txHash: z.string().nullable(),
  block: z.number().int().nullable(),
  lastError: z.string().nullable(),
  message: z.string(),
});
export type AiAnchorReport = z.infer<typeof AiAnchorReport>;

// ---------------------------------------------------------------- channels

export const aiChannels = {
  /** The installed models (empty: the app says so and how to add one — it never makes up a result). */
  'ai.models.list': { request: z.object({}).strict(), response: z.object({ models: z.array(AiModel) }) },
  /**
   * Install a model from a folder (model.onnx + card.json): the card is validated and the model
   * loaded once to check its inputs/outputs against the card; a mismatch names the field or shape.
   */
  'ai.models.add': { request: z.object({ folder: Path }).strict(), response: z.object({ model: AiModel, alreadyInstalled: z.boolean() }) },
  /** Uninstall; its results stay and are reported stale. */
  'ai.models.remove': { request: z.object({ id: z.string().min(6).max(64) }).strict(), response: z.object({ removed: AiModel }) },
  /** Run the installed model(s) on the displayed image or a whole study: a task of kind 'ai' (progress, `task.cancel`). */
  'ai.run': { request: z.object({ scope: AiScope }).strict(), response: AiRunReport },
  /** Stored results for an image or a study, each current or stale with why. */
  'ai.findings': { request: z.object({ scope: AiScope }).strict(), response: z.object({ disclaimer: z.string(), results: z.array(AiResult) }) },
  /**
   * The unlocked clinician anchors the study's current results: one Merkle root beside the study's
   * record on chain (anchorFindings); no personal data on chain. Needs the study anchored first.
   */
  'ai.anchor': { request: z.object({ scope: AiScope }).strict(), response: AiAnchorReport },
} as const;
