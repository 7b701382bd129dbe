/** Comparing two instances' fingerprints, with the meaning in words (what `medimgshr compare` prints). */
import type { PixelMode } from './spec';

export interface Comparable {
  pixel: string;
  meta: string;
  file: string;
  pixelMode: PixelMode;
  sopInstanceUid: string | null;
}

export type Verdict =
  | 'identical'
  | 'same-image-different-encoding'
  | 'same-pixels-different-metadata'
  | 'same-metadata-different-pixels'
  | 'different'
  | 'pixels-not-comparable';

export interface Comparison {
  pixel: boolean;
  meta: boolean;
  file: boolean;
  sameSopInstanceUid: boolean;
  verdict: Verdict;
  meaning: string;
}

const comparable = (a: PixelMode, b: PixelMode): boolean => (a === 'fragments') === (b === 'fragments');

export function compareFingerprints(a: Comparable, b: Comparable): Comparison {
  const pixel = a.pixel === b.pixel;
  const meta = a.meta === b.meta;
  const file = a.file === b.file;
  const sameSopInstanceUid = a.sopInstanceUid !== null && a.sopInstanceUid === b.sopInstanceUid;
  let verdict: Verdict;
  let meaning: string;
  if (file) {
    verdict = 'identical';
    meaning = 'identical files: the same bytes, so the same pixels and the same metadata.';
  } else if (!pixel && !comparable(a.pixelMode, b.pixelMode)) {
    verdict = 'pixels-not-comparable';
    meaning =
      `pixels not comparable: one file is stored with a lossy compression (its pixel digest covers the compressed data) and the other is not, ` +
      `so equal pixels cannot be shown; the metadata is ${meta ? 'the same' : 'different'}.`;
  } else if (pixel && meta) {
    verdict = 'same-image-different-encoding';
    meaning =
      'same pixels, same metadata, different file: the same image stored differently (another transfer syntax, a PACS round trip or a rewritten file header).';
  } else if (pixel) {
    verdict = 'same-pixels-different-metadata';
    meaning = 'same pixels, different metadata: the image is unchanged but header data (e.g. patient or study details) was edited.';
  } else if (meta) {
    verdict = 'same-metadata-different-pixels';
    meaning = 'same metadata, different pixels: the header is unchanged but the image content differs — the pixels were altered.';
  } else {
    verdict = 'different';
    meaning = 'different pixels and different metadata: these are different images (or one was changed in both).';
  }
  return { pixel, meta, file, sameSopInstanceUid, verdict, meaning };
}
