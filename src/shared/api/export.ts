import { z } from 'zod';
import { Uid, Path, Reason } from './primitives';
import { StateCounts } from './ledger';

/** The export gate and the export itself (original DICOM, anonymised DICOM, PNG). See docs/trust-and-sharing.md. */

export const ExportFormat = z.enum(['dicom-anonymised', 'dicom-original', 'png']);
export type ExportFormat = z.infer<typeof ExportFormat>;

export const ExportScope = z.union([
  z.object({ studyInstanceUid: Uid }).strict(),
  z.object({ seriesInstanceUid: Uid }).strict(),
  z.object({ instanceIds: z.array(z.number().int().positive()).min(1).max(100_000) }).strict(),
]);
export type ExportScope = z.infer<typeof ExportScope>;

export const PngOptions = z
  .object({
    /** Current window/level from the viewer (null/absent → the file's default window, else min/max). */
    windowCenter: z.number().nullable().optional(),
    windowWidth: z.number().positive().nullable().optional(),
    /** Text drawn onto the image (e.g. the viewer's overlay). Identifying → the export is identifiable. */
    overlayText: z.array(z.string().max(200)).max(12).optional(),
    /** Frame of multi-frame images (0-based, default 0). */
    frame: z.number().int().nonnegative().optional(),
    /** Draw the image's stored measurements with their labels (default true: what the viewer shows). */
    measurements: z.boolean().optional(),
  })
  .strict();
export type PngOptions = z.infer<typeof PngOptions>;

export const ExportRequest = z
  .object({
    scope: ExportScope,
    format: ExportFormat,
    /** The destination folder; must not exist (it appears only when the export is complete). */
    outDir: Path,
    png: PngOptions.optional(),
    /**
     * Export identifiable data although not every instance is verified (or anonymised images with
     * burned-in annotation). Recorded in the audit log as `override` with this reason.
     */
    override: z.object({ reason: Reason }).strict().optional(),
  })
  .strict();
export type ExportRequest = z.infer<typeof ExportRequest>;

export const GateCheck = z.object({
  code: z.string(),
  ok: z.boolean(),
  /** Plain sentence: what was checked and what was found. */
  message: z.string(),
  /** What would change it (null when ok). */
  remedy: z.string().nullable(),
});
export type GateCheck = z.infer<typeof GateCheck>;

export const ExportDecision = z.object({
  format: ExportFormat,
  /** Original DICOM, or PNG with overlay text: data that can identify the patient. */
  identifiable: z.boolean(),
  allowed: z.boolean(),
  /** Not allowed as is, but allowed with an override reason. */
  overridable: z.boolean(),
  instances: z.number().int(),
  counts: StateCounts,
  checks: z.array(GateCheck),
});
export type ExportDecision = z.infer<typeof ExportDecision>;

export const ExportReport = z.object({
  format: ExportFormat,
  outDir: z.string(),
  written: z.array(z.object({ output: z.string(), sopInstanceUid: z.string().nullable() })),
  skipped: z.array(z.object({ source: z.string(), code: z.string(), reason: z.string() })),
  decision: ExportDecision,
  overridden: z.boolean(),
  /** Sequence numbers of the audit entries written (export, and override when used). */
  auditSeqs: z.array(z.number().int()),
  /** PNG: marked NOT FOR DIAGNOSTIC USE (always: 8-bit windowed rendering is lossy). */
  notForDiagnosticUse: z.boolean(),
  seconds: z.number().nonnegative(),
  message: z.string(),
});
export type ExportReport = z.infer<typeof ExportReport>;

// ---------------------------------------------------------------- channels

export const exportChannels = {
  /** The export gate's decision without exporting (verifies the instances now). */
  'export.check': {
    request: z.object({ scope: ExportScope, format: ExportFormat, png: PngOptions.optional() }).strict(),
    response: ExportDecision,
  },
  /** Export as a task (kind 'export', progress events); atomic; audited; the report at the end. */
  'export.run': { request: ExportRequest, response: ExportReport },
} as const;
