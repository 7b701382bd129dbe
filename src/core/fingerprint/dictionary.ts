/**
 * VR resolution for spec v1. The data dictionary is dcmjs's (DicomMetaDictionary, the DICOM
 * standard's public tags). Only two questions are ever asked of it:
 *   1. is a public element of an implicit-VR data set a sequence (SQ)?  (for parsing)
 *   2. is a public element textual, so trailing padding (space / NUL) is insignificant?
 * Private elements (odd group) are never looked up: their values are hashed as stored.
 */
import { data as dcmjsData } from 'dcmjs';

interface DictEntry {
  vr: string;
}
const dictionary = (dcmjsData as { DicomMetaDictionary: { dictionary: Record<string, DictEntry | undefined> } }).DicomMetaDictionary
  .dictionary;

/** VRs whose values are character strings (PS3.5 §6.2); trailing 0x20 / 0x00 padding is insignificant. */
export const TEXT_VRS: ReadonlySet<string> = new Set([
  'AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT',
]);

/** Byte width of one value unit for byte-order normalisation; 1 = no swap. */
export const SWAP_WIDTH: Readonly<Record<string, number>> = {
  US: 2, SS: 2, OW: 2, AT: 2,
  UL: 4, SL: 4, FL: 4, OF: 4, OL: 4,
  FD: 8, OD: 8, SV: 8, UV: 8, OV: 8,
};

const cache = new Map<string, string | null>();

/**
 * The dictionary VR of a tag given as dicom-parser writes it ('xggggeeee'), or null for private
 * and unknown tags. Ambiguous dictionary VRs come back as dcmjs spells them ('xs', 'ox', …).
 */
export function dictionaryVr(tag: string): string | null {
  const hit = cache.get(tag);
  if (hit !== undefined) return hit;
  const g = tag.slice(1, 5).toUpperCase();
  const e = tag.slice(5, 9).toUpperCase();
  let vr: string | null = null;
  if ((parseInt(g, 16) & 1) === 0) {
    const exact = dictionary[`(${g},${e})`];
    const repeating = g.startsWith('50') || g.startsWith('60') ? dictionary[`(${g.slice(0, 2)}xx,${e})`] : undefined;
    vr = exact?.vr ?? repeating?.vr ?? null;
  }
  cache.set(tag, vr);
  return vr;
}
