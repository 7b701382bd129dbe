import { z } from 'zod';

/**
 * Key images: the images of a study a reader marks as the ones that matter, kept per study and saved
 * as a DICOM Key Object Selection (KOS) document — which other viewers and PACS show as key images.
 */

/** Key Object Selection Document Storage (PS3.4 B.5). */
export const KOS_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.88.59';

/**
 * Document titles a reader picks from (CID 7010 "Key Object Selection Document Title", DCM codes). The
 * manifest and rejection titles (IHE XDS-I / IOCM: 113001, 113030–113039) change what receivers do with
 * the images, so they are not offered here.
 */
export const KOS_TITLES = [
  { code: '113000', meaning: 'Of Interest' },
  { code: '113002', meaning: 'For Referring Provider' },
  { code: '113003', meaning: 'For Surgery' },
  { code: '113004', meaning: 'For Teaching' },
  { code: '113005', meaning: 'For Conference' },
  { code: '113006', meaning: 'For Therapy' },
  { code: '113007', meaning: 'For Patient' },
  { code: '113008', meaning: 'For Peer Review' },
  { code: '113009', meaning: 'For Research' },
  { code: '113013', meaning: 'Best In Set' },
  { code: '113020', meaning: 'For Report Attachment' },
] as const;
export const KosTitleCode = z.enum(KOS_TITLES.map((t) => t.code) as [(typeof KOS_TITLES)[number]['code'], ...(typeof KOS_TITLES)[number]['code'][]]);
export type KosTitleCode = z.infer<typeof KosTitleCode>;

export const KeyImage = z.object({
  sopInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  sopClassUid: z.string(),
  /** The library's instance / series ids; null when the image is not in this library (a received KOS may name images not retrieved). */
  instanceId: z.number().int().nullable(),
  seriesId: z.number().int().nullable(),
  /** marked: by a reader here; document: taken from a KOS found in the study (e.g. from a PACS). */
  source: z.enum(['marked', 'document']),
  markedAt: z.string(),
  markedBy: z.string(),
});
export type KeyImage = z.infer<typeof KeyImage>;

export const KeyObjectDocument = z.object({
  sopInstanceUid: z.string(),
  /** The KOS's instance in the library (null when its file left the index). */
  instanceId: z.number().int().nullable(),
  title: z.object({ code: z.string(), meaning: z.string() }),
  description: z.string().nullable(),
  /** saved: written by this workstation; read: found in the study (received or imported). */
  origin: z.enum(['saved', 'read']),
  referenced: z.number().int(),
  createdAt: z.string(),
});
export type KeyObjectDocument = z.infer<typeof KeyObjectDocument>;

export const KeyImageList = z.object({
  studyId: z.number().int(),
  studyInstanceUid: z.string(),
  images: z.array(KeyImage),
  documents: z.array(KeyObjectDocument),
});
export type KeyImageList = z.infer<typeof KeyImageList>;

export const KeyImageChange = KeyImageList.extend({
  /** False when the image already was (mark) or was not (unmark) a key image: nothing changed, nothing was recorded. */
  changed: z.boolean(),
});
export type KeyImageChange = z.infer<typeof KeyImageChange>;

export const KosSaveResult = z.object({
  document: KeyObjectDocument,
  filePath: z.string(),
  /** True when the study's newest saved KOS with this title already names exactly these images: no new document was written. */
  unchanged: z.boolean(),
  list: KeyImageList,
});
export type KosSaveResult = z.infer<typeof KosSaveResult>;

const StudyRef = z.union([z.object({ studyId: z.number().int() }).strict(), z.object({ seriesId: z.number().int() }).strict()]);

export const keyImageChannels = {
  /** The study's key images (of a study, or of the study of a series) and its KOS documents. */
  'keyImages.list': { request: StudyRef, response: KeyImageList },
  /** Marks the instance as a key image of its study (idempotent). */
  'keyImages.mark': { request: z.object({ instanceId: z.number().int() }).strict(), response: KeyImageChange },
  'keyImages.unmark': { request: z.object({ instanceId: z.number().int() }).strict(), response: KeyImageChange },
  /** Writes the study's key images as a KOS document and adds it to the library as an instance of the study. */
  'keyImages.save': {
    request: z.object({ studyId: z.number().int(), title: KosTitleCode.optional(), description: z.string().max(1024).optional() }).strict(),
    response: KosSaveResult,
  },
} as const;
