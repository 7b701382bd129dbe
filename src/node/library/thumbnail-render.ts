/**
 * Renders a series thumbnail (PNG) from one DICOM file: decode the first frame with the shared
 * pixel decoder, apply the modality rescale, the file's default window (or min/max), MONOCHROME1
 * inversion, and scale to fit a square. Runs inside thumbnail.worker.ts, off the main thread.
 */
import { PNG } from 'pngjs';
import { decodeFrames } from '../dicom/decode';

export interface ThumbnailRequest {
  bytes: Uint8Array;
  size: number;
  windowCenter: number | null;
  windowWidth: number | null;
  rescaleSlope: number | null;
  rescaleIntercept: number | null;
}

export interface ThumbnailResult {
  png: Uint8Array;
  placeholder: boolean;
  /** Why a placeholder was drawn, in plain words. */
  reason: string | null;
}

function encode(width: number, height: number, rgba: Uint8Array): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}

/** A neutral dark-grey square with a lighter frame: "no preview". */
export function placeholderPng(size: number): Uint8Array {
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const edge = x < 2 || y < 2 || x >= size - 2 || y >= size - 2;
      const diag = Math.abs(x - y) < 1.5 || Math.abs(x - (size - 1 - y)) < 1.5;
      const v = edge ? 90 : diag ? 70 : 40;
      rgba[i] = rgba[i + 1] = rgba[i + 2] = v;
      rgba[i + 3] = 255;
    }
  }
  return encode(size, size, rgba);
}

export async function renderThumbnail(req: ThumbnailRequest): Promise<ThumbnailResult> {
  let img;
  try {
    img = await decodeFrames(req.bytes, { frames: [0], canonicalSamples: true });
  } catch (err) {
    return { png: placeholderPng(req.size), placeholder: true, reason: err instanceof Error ? err.message : String(err) };
  }
  const { rows, columns, samplesPerPixel: spp, bitsAllocated: ba, pixelRepresentation: pr } = img;
  const frame = img.frames[0]!;
  if (!rows || !columns || ba === 1) return { png: placeholderPng(req.size), placeholder: true, reason: 'unsupported pixel layout for a preview' };
  const scale = Math.min(1, req.size / Math.max(rows, columns));
  const w = Math.max(1, Math.round(columns * scale));
  const h = Math.max(1, Math.round(rows * scale));
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const sample = (idx: number): number => {
    if (ba === 8) return pr ? view.getInt8(idx) : frame[idx]!;
    if (ba === 16) return pr ? view.getInt16(idx * 2, true) : view.getUint16(idx * 2, true);
    if (ba === 32) return pr ? view.getInt32(idx * 4, true) : view.getUint32(idx * 4, true);
    return 0;
  };
  const rgba = new Uint8Array(w * h * 4);
  const photometric = img.photometricInterpretation.toUpperCase();
  if (spp === 3) {
    const ybr = photometric.startsWith('YBR_FULL');
    for (let y = 0; y < h; y++) {
      const sy = Math.min(rows - 1, Math.floor(y / scale));
      for (let x = 0; x < w; x++) {
        const sx = Math.min(columns - 1, Math.floor(x / scale));
        const base = (sy * columns + sx) * 3;
        let r = sample(base), g = sample(base + 1), b = sample(base + 2);
        if (ba === 16) { r >>= 8; g >>= 8; b >>= 8; }
        if (ybr) {
          const Y = r, cb = g - 128, cr = b - 128;
          r = Y + 1.402 * cr; g = Y - 0.344136 * cb - 0.714136 * cr; b = Y + 1.772 * cb;
        }
        const o = (y * w + x) * 4;
        rgba[o] = Math.max(0, Math.min(255, r)); rgba[o + 1] = Math.max(0, Math.min(255, g)); rgba[o + 2] = Math.max(0, Math.min(255, b)); rgba[o + 3] = 255;
      }
    }
    return { png: encode(w, h, rgba), placeholder: false, reason: null };
  }
  const slope = req.rescaleSlope ?? 1;
  const intercept = req.rescaleIntercept ?? 0;
  let center = req.windowCenter;
  let width = req.windowWidth;
  if (center === null || width === null || !(width > 0)) {
    let min = Infinity, max = -Infinity;
    const n = rows * columns;
    for (let i = 0; i < n; i++) {
      const v = sample(i) * slope + intercept;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    center = (min + max) / 2;
    width = Math.max(1, max - min);
  }
  const lo = center - width / 2;
  const invert = photometric === 'MONOCHROME1';
  for (let y = 0; y < h; y++) {
    const sy = Math.min(rows - 1, Math.floor(y / scale));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(columns - 1, Math.floor(x / scale));
      const v = sample(sy * columns + sx) * slope + intercept;
      let g = Math.round(((v - lo) / width) * 255);
      g = g < 0 ? 0 : g > 255 ? 255 : g;
      if (invert) g = 255 - g;
      const o = (y * w + x) * 4;
      rgba[o] = rgba[o + 1] = rgba[o + 2] = g;
      rgba[o + 3] = 255;
    }
  }
  return { png: encode(w, h, rgba), placeholder: false, reason: null };
}
