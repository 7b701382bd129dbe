import { z } from 'zod';

/**
 * Linked viewing (docs/linked-viewing.md): hanging protocols (the first screen of a study), the frame of
 * reference of a series (for reference lines and scrolling by position), and the same patient's earlier
 * studies (prior comparison).
 */

export const HangingLayout = z.enum(['1x1', '1x2', '2x2']);
export const ProtocolLayout = z.enum(['1x1', '1x2', '2x2', 'fit']);

export const HangingProtocol = z.object({
  id: z.string().min(1).max(64),
  name: z.string().max(120),
  modalities: z.array(z.string().max(16)).max(16),
  bodyPart: z.string().max(64),
  minSeries: z.number().int().min(1).max(999).nullable(),
  maxSeries: z.number().int().min(1).max(999).nullable(),
  layout: ProtocolLayout,
  cells: z.array(z.object({ series: z.number().int(), window: z.string().max(32).nullable() })).max(4),
});
export type HangingProtocolDto = z.infer<typeof HangingProtocol>;

export const HangingProtocolList = z.object({
  protocols: z.array(HangingProtocol),
  /** built-in: nothing saved, the defaults apply; saved: the reader's list. */
  source: z.enum(['built-in', 'saved']),
});
export type HangingProtocolList = z.infer<typeof HangingProtocolList>;

export const HangingPlan = z.object({
  studyId: z.number().int(),
  protocol: z.object({ id: z.string(), name: z.string() }).nullable(),
  layout: HangingLayout,
  cells: z.array(z.object({ seriesId: z.number().int().nullable(), window: z.string().nullable() })),
});
export type HangingPlan = z.infer<typeof HangingPlan>;

export const PriorStudy = z.object({
  studyId: z.number().int(),
  date: z.string().nullable(),
  description: z.string().nullable(),
  modalities: z.array(z.string()),
  /** The series to compare with: of the same modality, the one most like the open series. */
  seriesId: z.number().int(),
});
export type PriorStudy = z.infer<typeof PriorStudy>;

export const PriorSearch = z.object({
  current: z.object({
    studyId: z.number().int(),
    studyInstanceUid: z.string(),
    date: z.string().nullable(),
    time: z.string().nullable(),
    modality: z.string(),
    patientId: z.string(),
    issuer: z.string(),
    /** The open series (to pick the prior's most similar series, e.g. on a PACS). */
    series: z.object({ number: z.number().nullable(), description: z.string().nullable() }),
  }),
  /** Earlier studies, most recent first. */
  priors: z.array(PriorStudy),
  /** When there is none: why, in one sentence (e.g. "No earlier CT study of patient … in the local library."). */
  message: z.string().nullable(),
});
export type PriorSearch = z.infer<typeof PriorSearch>;

const Id = z.number().int().positive();

export const viewingChannels = {
  /** The saved hanging protocols in priority order (the built-in defaults until the reader saves a list). */
  'hanging.list': { request: z.object({}).strict(), response: HangingProtocolList },
  /** Saves the reader's list (replacing the previous one); every protocol is checked first. */
  'hanging.save': { request: z.object({ protocols: z.array(HangingProtocol).max(50) }).strict(), response: HangingProtocolList },
  /** Forgets the reader's list: the built-in defaults apply again. */
  'hanging.reset': { request: z.object({}).strict(), response: HangingProtocolList },
  /** The first screen of a study: layout, series per viewport and their windows. */
  'hanging.plan': { request: z.object({ studyId: Id }).strict(), response: HangingPlan },
  /** The Frame of Reference UID (0020,0052) of a series, from its first image's header; null when absent. */
  'viewing.frameOfReference': { request: z.object({ seriesId: Id }).strict(), response: z.object({ seriesId: z.number().int(), frameOfReferenceUid: z.string().nullable() }) },
  /** The same patient's (Patient ID + Issuer of Patient ID) earlier studies with the open series' modality. */
  'viewing.priors': { request: z.object({ seriesId: Id }).strict(), response: PriorSearch },
} as const;
