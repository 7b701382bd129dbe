/** The AI finding (issue 15): models supplied by the clinic, run off the main thread, results bound to image and model. */
export { AiService, createAi, IndexedStudyFiles, type AiSidecar, type AssessedResult, type RunReport, type StudyFindings, type StudyFiles, type CreateAiOptions } from './ai-service';
export { AiError, noModelInstalled, HOW_TO_ADD_A_MODEL, type AiErrorReason } from './errors';
export { ModelRegistry, type InstalledModel } from './model-registry';
export { inspectModel } from './onnx-runtime';
export { computePixelDigest } from './pixel-digest';
export { FindingsAnchoring, FINDINGS_KIND, type FindingsAnchorResult, type FindingsVerification } from './findings-anchor';
