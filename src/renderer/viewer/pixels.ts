/**
 * Stored values and modality values of an image's pixels. Cornerstone3D's loader may apply the
 * rescale while decoding (`preScale.scaled`: the pixel data are then modality values, e.g. HU); the
 * viewer still reports both, as the file defines them: modality = stored × slope + intercept.
 */
import { pixelRescale, type CsImage } from './cornerstone';

export function rescaleOf(image: CsImage): { slope: number; intercept: number; scaled: boolean } {
  const exact = pixelRescale(image);
  if (exact) return { ...exact, scaled: false };
  const p = image.preScale?.scaled ? image.preScale.scalingParameters : undefined;
  const slope = p?.rescaleSlope ?? image.slope ?? 1;
  const intercept = p?.rescaleIntercept ?? image.intercept ?? 0;
  return { slope, intercept, scaled: !!image.preScale?.scaled };
}

/** The stored value and the modality value of the pixel at data index `i`. */
export function valuesAt(image: CsImage, px: ArrayLike<number>, i: number, r = rescaleOf(image)): { stored: number; value: number } {
  const v = px[i]!;
  if (r.scaled) {
    // Back to the integer the file stores: the loader keeps the scaled values as 32-bit floats, so
    // the division leaves noise of a few millionths.
    const s = (v - r.intercept) / r.slope;
    const n = Math.round(s);
    return { stored: Math.abs(s - n) < 0.01 ? n : s, value: v };
  }
  return { stored: v, value: v * r.slope + r.intercept };
}
