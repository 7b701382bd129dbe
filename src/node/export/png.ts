/**
 * PNG rendering for export: decode one frame with the shared pixel decoder, apply the modality
 * rescale and the viewer's window/level (else the file's default window, else min/max), MONOCHROME1
 * inversion, then burn in overlay text and the "NOT FOR DIAGNOSTIC USE" banner with a small built-in
 * 5×7 bitmap font (no font files needed), and record the same marking in PNG tEXt chunks.
 */
import { PNG } from 'pngjs';
import { decodeFrames } from '../dicom/decode';
import { parseDicomBytes } from '../dicom/parse';
import { AppError, ErrorCode } from '../../shared/errors';

export const NOT_FOR_DIAGNOSTIC_USE = 'NOT FOR DIAGNOSTIC USE';

// 5×7 glyphs, one string of 7 rows × 5 columns ('#' = ink) per character.
const GLYPHS: Record<string, string> = {
  A: ' ### #   ##   #######   ##   ##   #',
  B: '#### #   ##   ##### #   ##   ##### ',
  C: ' ### #   ##    #    #    #   # ### ',
  D: '#### #   ##   ##   ##   ##   ##### ',
  E: '######    #    #### #    #    #####',
  F: '######    #    #### #    #    #    ',
  G: ' ### #   ##    # ####   ##   # ### ',
  H: '#   ##   ##   #######   ##   ##   #',
  I: ' ###   #    #    #    #    #   ### ',
  J: '  ###   #    #    #    ##   # ###  ',
  K: '#   ##  # # #  ##   # #  #  # #   #',
  L: '#    #    #    #    #    #    #####',
  M: '#   ### ## # ##   ##   ##   ##   #',
  N: '#   ###  ## # ##  ###   ##   ##   #',
  O: ' ### #   ##   ##   ##   ##   # ### ',
  P: '#### #   ##   ##### #    #    #    ',
  Q: ' ### #   ##   ##   ## # ##  #  ## #',
  R: '#### #   ##   ##### # #  #  # #   #',
  S: ' ####    #     ###     #    #####  ',
  T: '#####  #    #    #    #    #    #  ',
  U: '#   ##   ##   ##   ##   ##   # ### ',
  V: '#   ##   ##   ##   ##   # # #   #  ',
  W: '#   ##   ##   ## # ## # ## # # # # ',
  X: '#   ##   # # #   #   # # #   ##   #',
  Y: '#   ##   # # #   #    #    #    #  ',
  Z: '#####    #   #   #   #   #    #####',
  '0': ' ### #   ##  ### # ###  ##   # ### ',
  '1': '  #   ##    #    #    #    #   ### ',
  '2': ' ### #   #    #   #   #   #   #####',
  '3': '#####   #   #     #    ##   # ### ',
  '4': '   #   ##  # # #  # #####   #    # ',
  '5': '######    ####     #    ##   # ### ',
  '6': '  ##  #   #    #### #   ##   # ### ',
  '7': '#####    #   #   #   #    #    #   ',
  '8': ' ### #   ##   # ### #   ##   # ### ',
  '9': ' ### #   ##   # ####    #   #  ##  ',
  ' ': '                                   ',
  '.': '                          ##   ##  ',
  ',': '                     ##   ##  #    ',
  ':': '      ##   ##         ##   ##      ',
  '-': '               ###               ',
  '/': '         #   #   #   #   #         ',
  '(': '   #   #   #    #    #     #     # ',
  ')': ' #     #     #    #    #   #   #   ',
  '^': '  #   # # #   #                    ',
  '=': '          #####     #####          ',
  '+': '       #    #  #####  #    #       ',
  "'": '  #    #   #                       ',
  _: '                              #####',
  '#': ' # # ##### # # ##### # #           ',
  '%': '##   ##  #   #   #   #   #  ##   ##',
  '?': ' ### #   #    #   #    #         # ',
  '°': ' ##  #  # #  #  ##                 ',
  '²': ' ##     #  ##  #    ###            ',
  '·': '                #                  ',
};

function glyph(ch: string): string {
  const g = GLYPHS[ch.toUpperCase()] ?? GLYPHS['?']!;
  return g.padEnd(35, ' ');
}

/** Draws text (upper-cased) at (x, y) with integer scale; a dark box behind it for legibility. */
export function drawText(rgba: Uint8Array, width: number, height: number, text: string, x: number, y: number, scale: number, colour: [number, number, number]): void {
  const cw = 6 * scale;
  const boxW = Math.min(width - x, text.length * cw + scale);
  const boxH = 9 * scale;
  for (let yy = Math.max(0, y - scale); yy < Math.min(height, y - scale + boxH); yy++) {
    for (let xx = Math.max(0, x - scale); xx < Math.min(width, x + boxW); xx++) {
      const o = (yy * width + xx) * 4;
      rgba[o] = rgba[o]! >> 2;
      rgba[o + 1] = rgba[o + 1]! >> 2;
      rgba[o + 2] = rgba[o + 2]! >> 2;
    }
  }
  for (let i = 0; i < text.length; i++) {
    const g = glyph(text[i]!);
    for (let row = 0; row < 7; row++) {
      for (let col = 0; col < 5; col++) {
        if (g[row * 5 + col] !== '#') continue;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const px = x + i * cw + col * scale + dx;
            const py = y + row * scale + dy;
            if (px < 0 || py < 0 || px >= width || py >= height) continue;
            const o = (py * width + px) * 4;
            rgba[o] = colour[0];
            rgba[o + 1] = colour[1];
            rgba[o + 2] = colour[2];
            rgba[o + 3] = 255;
          }
        }
      }
    }
  }
}

let crcTable: Uint32Array | null = null;
function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Inserts tEXt chunks right after IHDR. */
export function addTextChunks(png: Uint8Array, entries: Record<string, string>): Uint8Array {
  const ihdrEnd = 8 + 4 + 4 + 13 + 4;
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(entries)) {
    const data = Buffer.concat([Buffer.from(k, 'latin1'), Buffer.from([0]), Buffer.from(v.replace(/[^\x20-\x7e\xb0\xb2\xb7]/g, '?'), 'latin1')]);
    const type = Buffer.from('tEXt', 'latin1');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([type, data])));
    chunks.push(Buffer.concat([len, type, data, crc]));
  }
  return Buffer.concat([Buffer.from(png.subarray(0, ihdrEnd)), ...chunks, Buffer.from(png.subarray(ihdrEnd))]);
}

/** Reads the tEXt chunks of a PNG (tests, and the export report). */
export function readTextChunks(png: Uint8Array): Record<string, string> {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const out: Record<string, string> = {};
  let o = 8;
  while (o + 8 <= b.length) {
    const len = b.readUInt32BE(o);
    const type = b.toString('latin1', o + 4, o + 8);
    if (type === 'tEXt') {
      const data = b.subarray(o + 8, o + 8 + len);
      const z = data.indexOf(0);
      out[data.toString('latin1', 0, z)] = data.toString('latin1', z + 1);
    }
    o += 12 + len;
  }
  return out;
}

/** A measurement drawn onto an exported PNG: its shape in image pixels and its label (the one value, src/shared/viewer/measure.ts). */
export interface PngAnnotation {
  shape: 'polyline' | 'rect' | 'ellipse' | 'point';
  points: { x: number; y: number }[];
  text: string;
}

const ANNOTATION_COLOUR: [number, number, number] = [242, 193, 78]; // the viewer's tool colour (#f2c14e)

function plot(rgba: Uint8Array, w: number, h: number, x: number, y: number, r: number, c: [number, number, number]): void {
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const px = Math.round(x) + dx;
      const py = Math.round(y) + dy;
      if (px < 0 || py < 0 || px >= w || py >= h) continue;
      const o = (py * w + px) * 4;
      rgba[o] = c[0];
      rgba[o + 1] = c[1];
      rgba[o + 2] = c[2];
      rgba[o + 3] = 255;
    }
  }
}

function line(rgba: Uint8Array, w: number, h: number, a: { x: number; y: number }, b: { x: number; y: number }, r: number, c: [number, number, number]): void {
  const n = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) * 2));
  for (let i = 0; i <= n; i++) plot(rgba, w, h, a.x + ((b.x - a.x) * i) / n, a.y + ((b.y - a.y) * i) / n, r, c);
}

/** Draws the measurements (lines, rectangles, ellipses, probe points) and their labels. */
export function drawAnnotations(rgba: Uint8Array, w: number, h: number, annotations: PngAnnotation[], scale: number): void {
  const r = Math.max(0, Math.floor(scale / 2));
  for (const a of annotations) {
    const p = a.points;
    if (!p.length || !p.every((q) => Number.isFinite(q.x) && Number.isFinite(q.y))) continue;
    if (a.shape === 'polyline') for (let i = 1; i < p.length; i++) line(rgba, w, h, p[i - 1]!, p[i]!, r, ANNOTATION_COLOUR);
    else if (a.shape === 'rect' && p.length >= 2) {
      const [s, e] = [p[0]!, p[1]!];
      const c = [s, { x: e.x, y: s.y }, e, { x: s.x, y: e.y }, s];
      for (let i = 1; i < c.length; i++) line(rgba, w, h, c[i - 1]!, c[i]!, r, ANNOTATION_COLOUR);
    } else if (a.shape === 'ellipse' && p.length >= 2) {
      const cx = (p[0]!.x + p[1]!.x) / 2, cy = (p[0]!.y + p[1]!.y) / 2;
      const rx = Math.abs(p[1]!.x - p[0]!.x) / 2, ry = Math.abs(p[1]!.y - p[0]!.y) / 2;
      const n = Math.max(16, Math.ceil((rx + ry) * 4));
      for (let i = 0; i <= n; i++) plot(rgba, w, h, cx + rx * Math.cos((2 * Math.PI * i) / n), cy + ry * Math.sin((2 * Math.PI * i) / n), r, ANNOTATION_COLOUR);
    } else plot(rgba, w, h, p[0]!.x, p[0]!.y, r + 1, ANNOTATION_COLOUR);
    if (!a.text) continue;
    // The label beside the right-most point, kept inside the image.
    const anchor = p.reduce((m, q) => (q.x > m.x ? q : m), p[0]!);
    const tw = a.text.length * 6 * scale;
    const x = Math.max(scale, Math.min(w - tw - scale, Math.round(anchor.x + 6 * scale)));
    const y = Math.max(scale, Math.min(h - 9 * scale, Math.round(anchor.y - 3 * scale)));
    drawText(rgba, w, h, a.text, x, y, scale, ANNOTATION_COLOUR);
  }
}

export interface RenderPngOptions {
  windowCenter?: number | null;
  windowWidth?: number | null;
  overlayText?: string[];
  frame?: number;
  /** The measurements of this image, drawn with their labels (and listed in a tEXt chunk). */
  annotations?: PngAnnotation[];
  /** Banner + tEXt marking (always set by the export service). */
  notForDiagnosticUse: boolean;
}

/** Renders one DICOM file's frame to PNG bytes with the given window and markings. */
export async function renderPng(bytes: Uint8Array, o: RenderPngOptions): Promise<{ png: Uint8Array; width: number; height: number; window: { center: number; width: number } | null }> {
  const parsed = parseDicomBytes(bytes);
  const ds = parsed.dataSet;
  const img = await decodeFrames(bytes, { frames: [o.frame ?? 0], canonicalSamples: true });
  const { rows, columns, samplesPerPixel: spp, bitsAllocated: ba, pixelRepresentation: pr } = img;
  const frame = img.frames[0]!;
  if (ba === 1)
    throw new AppError(
      ErrorCode.Unavailable,
      'This image has 1 bit per pixel (Bits Allocated 1: a segmentation or a binary mask), which PNG export does not render.',
      'Export it as DICOM (original or anonymised) instead.',
    );
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const sample = (idx: number): number => {
    if (ba === 8) return pr ? view.getInt8(idx) : frame[idx]!;
    if (ba === 16) return pr ? view.getInt16(idx * 2, true) : view.getUint16(idx * 2, true);
    return pr ? view.getInt32(idx * 4, true) : view.getUint32(idx * 4, true);
  };
  const w = columns;
  const h = rows;
  const rgba = new Uint8Array(w * h * 4);
  let window: { center: number; width: number } | null = null;
  if (spp === 3) {
    const ybr = img.photometricInterpretation.toUpperCase().startsWith('YBR_FULL');
    for (let i = 0; i < w * h; i++) {
      let r = sample(i * 3), g = sample(i * 3 + 1), b = sample(i * 3 + 2);
      if (ba === 16) { r >>= 8; g >>= 8; b >>= 8; }
      if (ybr) {
        const Y = r, cb = g - 128, cr = b - 128;
        r = Y + 1.402 * cr; g = Y - 0.344136 * cb - 0.714136 * cr; b = Y + 1.772 * cb;
      }
      rgba[i * 4] = Math.max(0, Math.min(255, r)); rgba[i * 4 + 1] = Math.max(0, Math.min(255, g)); rgba[i * 4 + 2] = Math.max(0, Math.min(255, b)); rgba[i * 4 + 3] = 255;
    }
  } else {
    const num = (tag: string): number | null => {
      const v = ds.string(tag);
      if (!v) return null;
      const n = Number(v.split('\\')[0]);
      return Number.isFinite(n) ? n : null;
    };
    const slope = num('x00281053') ?? 1;
    const intercept = num('x00281052') ?? 0;
    let center = o.windowCenter ?? num('x00281050');
    let width = o.windowWidth ?? num('x00281051');
    if (center === null || width === null || !(width > 0)) {
      let min = Infinity, max = -Infinity;
      for (let i = 0; i < w * h; i++) {
        const v = sample(i) * slope + intercept;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      center = (min + max) / 2;
      width = Math.max(1, max - min);
    }
    window = { center, width };
    const lo = center - width / 2;
    const invert = img.photometricInterpretation.toUpperCase() === 'MONOCHROME1';
    for (let i = 0; i < w * h; i++) {
      const v = sample(i) * slope + intercept;
      let g = Math.round(((v - lo) / width) * 255);
      g = g < 0 ? 0 : g > 255 ? 255 : g;
      if (invert) g = 255 - g;
      rgba[i * 4] = rgba[i * 4 + 1] = rgba[i * 4 + 2] = g;
      rgba[i * 4 + 3] = 255;
    }
  }
  const scale = Math.max(1, Math.floor(Math.min(w, h) / 256));
  drawAnnotations(rgba, w, h, o.annotations ?? [], scale);
  let y = 2 * scale;
  for (const line of o.overlayText ?? []) {
    drawText(rgba, w, h, line, 2 * scale, y, scale, [255, 255, 255]);
    y += 9 * scale;
  }
  if (o.notForDiagnosticUse) drawText(rgba, w, h, NOT_FOR_DIAGNOSTIC_USE, 2 * scale, h - 9 * scale, scale, [255, 215, 0]);
  const png = new PNG({ width: w, height: h });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  let out: Uint8Array = new Uint8Array(PNG.sync.write(png));
  const text: Record<string, string> = { Software: 'MedImgShr' };
  if (o.notForDiagnosticUse) text.Disclaimer = NOT_FOR_DIAGNOSTIC_USE;
  if (window) text.Comment = `window center ${window.center} width ${window.width}`;
  // tEXt is Latin-1: the degree sign survives, other characters become '?'.
  if (o.annotations?.length) text.Measurements = o.annotations.map((a) => a.text).join('; ');
  out = addTextChunks(out, text);
  return { png: out, width: w, height: h, window };
}
