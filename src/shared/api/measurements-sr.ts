import { z } from 'zod';

/**
 * Measurements as a DICOM Structured Report: a study's (or a series') saved measurements written as an
 * Enhanced SR with template TID 1500 "Measurement Report" (docs/measurements-sr.md), and read back from one.
 */

/** Enhanced SR Storage (PS3.4 B.5): TID 1500 with SCOORD image coordinates fits it. */
export const ENHANCED_SR_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.88.22';
/** The SR classes a Measurement Report may arrive in (Enhanced, Comprehensive, Comprehensive 3D). */
export const MEASUREMENT_REPORT_SOP_CLASS_UIDS = [ENHANCED_SR_SOP_CLASS_UID, '1.2.840.10008.5.1.4.1.1.88.33', '1.2.840.10008.5.1.4.1.1.88.34'] as const;

/** A measurement that did not go into (or come out of) the report, and why, in DICOM / clinical words. */
export const SrMeasurementNote = z.object({
  sopInstanceUid: z.string(),
  kind: z.string(),
  reason: z.string(),
});
export type SrMeasurementNote = z.infer<typeof SrMeasurementNote>;

export const MeasurementReportSaveResult = z.object({
  sopInstanceUid: z.string(),
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  /** The report's instance in the library (it is an instance of the study, fingerprinted like any other). */
  instanceId: z.number().int(),
  filePath: z.string(),
  /** Measurements written, per kind. */
  written: z.number().int(),
  byKind: z.record(z.string(), z.number().int()),
  /** Images the report references. */
  images: z.number().int(),
  /** Measurements of the study not written (e.g. no Pixel Spacing, or a kind TID 1500 cannot carry here). */
  skipped: z.array(SrMeasurementNote),
});
export type MeasurementReportSaveResult = z.infer<typeof MeasurementReportSaveResult>;

export const MeasurementReportLoadResult = z.object({
  sopInstanceUid: z.string(),
  studyInstanceUid: z.string(),
  /** Measurements found in the report. */
  found: z.number().int(),
  /** Saved again as measurements of the referenced images. */
  restored: z.number().int(),
  restoredByKind: z.record(z.string(), z.number().int()),
  /** Already saved on their image (same kind, frame and points): left as they are. */
  alreadyPresent: z.number().int(),
  notRestored: z.array(SrMeasurementNote),
  /** The library images the report's measurements are on, in the report's order (the viewer opens the first). */
  images: z.array(z.object({ instanceId: z.number().int(), seriesId: z.number().int(), instanceNumber: z.number().int().nullable() })),
});
export type MeasurementReportLoadResult = z.infer<typeof MeasurementReportLoadResult>;

export const measurementsSrChannels = {
  /** Write the saved measurements of a study (or of one series) as a TID 1500 Measurement Report and add it to the library. */
  'measurements.sr.save': {
    request: z
      .object({
        studyId: z.number().int().positive().optional(),
        seriesId: z.number().int().positive().optional(),
        /** With seriesId: the whole study of that series (the viewer knows the series it shows). */
        wholeStudy: z.boolean().optional(),
      })
      .strict()
      .refine((r) => (r.studyId === undefined) !== (r.seriesId === undefined), { message: 'give exactly one of studyId, seriesId' }),
    response: MeasurementReportSaveResult,
  },
  /** Read a Measurement Report (a file, or an SR instance of the library) and save its measurements on the referenced images. */
  'measurements.sr.load': {
    request: z
      .object({ path: z.string().min(1).max(4096).optional(), instanceId: z.number().int().positive().optional() })
      .strict()
      .refine((r) => (r.path === undefined) !== (r.instanceId === undefined), { message: 'give exactly one of path, instanceId' }),
    response: MeasurementReportLoadResult,
  },
} as const;
