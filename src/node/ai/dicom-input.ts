/**
 * From a DICOM instance to what the AI pipeline needs: the header facts the acceptance check reads
 * (modality, body part, view, size, photometric interpretation) and the greyscale pixels with the
 * file's modality rescale and default window, decoded with the project's pixel decoder (all the
 * transfer syntaxes the viewer reads). The maths is in src/core/ai/preprocess.ts.
 */
import type { DataSet } from 'dicom-parser';
import type { ImageDescription } from '../../core/ai/card';
import type { GreyImage, SampleArray, StoredBits } from '../../core/ai/preprocess';
import { FINGERPRINT_TRANSFER_SYNTAXES, nativeLength } from '../../core/fingerprint';
import type { DecodedImage, DecodeOptions } from '../dicom/decode';
import { pixelLayout } from '../dicom/decode';
import { PIXEL_DATA_TAG } from '../dicom/parse';

/** The project's pixel decoder (src/node/dicom/decode `decodeFrames`), injected for testing. */
export type PixelDecoder = (input: DataSet, opts: DecodeOptions) => Promise<DecodedImage>;

export interface InstanceIdentity {
  sopInstanceUid: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
}

const str = (ds: DataSet, tag: string): string | null => {
  const v = ds.string(tag)?.replace(/[\0 ]+$/, '').trim();
  return v ? v : null;
};

/** The first value of a multi-valued decimal string. */
function firstNumber(ds: DataSet, tag: string): number | null {
  const s = str(ds, tag);
  if (s === null) return null;
  const n = Number(s.split('\\')[0]);
  return Number.isFinite(n) ? n : null;
}

export function identityOf(ds: DataSet): InstanceIdentity {
  return { sopInstanceUid: str(ds, 'x00080018'), studyInstanceUid: str(ds, 'x0020000d'), seriesInstanceUid: str(ds, 'x0020000e') };
}

export function describeImage(ds: DataSet): ImageDescription {
  const l = pixelLayout(ds);
  return {
    modality: str(ds, 'x00080060'),
    bodyPartExamined: str(ds, 'x00180015'),
    viewPosition: str(ds, 'x00185101'),
    rows: l.rows,
    columns: l.columns,
    samplesPerPixel: l.samplesPerPixel,
    photometricInterpretation: str(ds, 'x00280004'),
    numberOfFrames: l.numberOfFrames,
  };
}

function samplesOf(frame: Uint8Array, bitsAllocated: number, signed: boolean): SampleArray {
  const bytes = bitsAllocated / 8;
  // typed-array views need an aligned offset; copy only when the decoder's buffer is not aligned
  const f = frame.byteOffset % bytes === 0 ? frame : frame.slice();
  const n = f.byteLength / bytes;
  if (bitsAllocated === 8) return signed ? new Int8Array(f.buffer, f.byteOffset, n) : f;
  if (bitsAllocated === 16) return signed ? new Int16Array(f.buffer, f.byteOffset, n) : new Uint16Array(f.buffer, f.byteOffset, n);
  if (bitsAllocated === 32) return signed ? new Int32Array(f.buffer, f.byteOffset, n) : new Uint32Array(f.buffer, f.byteOffset, n);
  throw new Error(`${bitsAllocated}-bit pixels cannot be read by the AI pipeline`);
}

/**
 * The first frame of a native little-endian greyscale image of 8 or 16 bits allocated, as a view of
 * the stored words in the file's bytes (no decoded copy, no masking pass: the preprocessing's window
 * table masks to Bits Stored and sign-extends, see GreyImage.storedBits). Null for anything else
 * (compressed, big-endian, colour, 32-bit, short or unaligned pixel data): those go through the decoder.
 */
export function storedWordsOf(ds: DataSet, transferSyntaxUid: string): { samples: Uint8Array | Uint16Array; storedBits: StoredBits | undefined; rows: number; columns: number; photometricInterpretation: string } | null {
  const ts = FINGERPRINT_TRANSFER_SYNTAXES[transferSyntaxUid];
  const el = ds.elements[PIXEL_DATA_TAG];
  if (!ts || ts.encapsulated || ts.bigEndian || !el) return null;
  const l = pixelLayout(ds);
  const pi = (ds.string('x00280004') ?? 'MONOCHROME2').trim();
  if (l.samplesPerPixel !== 1 || (l.bitsAllocated !== 8 && l.bitsAllocated !== 16) || l.rows < 1 || l.columns < 1) return null;
  if (!(l.bitsStored >= 1 && l.bitsStored <= l.bitsAllocated && l.highBit >= l.bitsStored - 1 && l.highBit < l.bitsAllocated)) return null;
  if (el.length < nativeLength(l, pi)) return null;
  const n = l.rows * l.columns;
  const offset = ds.byteArray.byteOffset + el.dataOffset;
  let samples: Uint8Array | Uint16Array;
  if (l.bitsAllocated === 8) samples = new Uint8Array(ds.byteArray.buffer, offset, n);
  else if (offset % 2 === 0) samples = new Uint16Array(ds.byteArray.buffer, offset, n);
  else return null;
  const canonical = l.bitsStored === l.bitsAllocated && l.pixelRepresentation !== 1;
  return {
    samples,
    storedBits: canonical ? undefined : { bitsStored: l.bitsStored, highBit: l.highBit, signed: l.pixelRepresentation === 1 },
    rows: l.rows,
    columns: l.columns,
    photometricInterpretation: pi,
  };
}

/** The file's default window (the first of Window Center / Width), or null when it has none usable. */
export function fileWindowOf(ds: DataSet): { center: number; width: number } | null {
  const center = firstNumber(ds, 'x00281050');
  const width = firstNumber(ds, 'x00281051');
  return center !== null && width !== null && width > 0 ? { center, width } : null;
}

/**
 * The first frame with the file's rescale and default window: native greyscale pixels as a view of
 * the file's bytes (valid as long as they are), everything else decoded.
 */
export async function greyImageOf(ds: DataSet, transferSyntaxUid: string, decode: PixelDecoder): Promise<GreyImage> {
  const header = {
    rescaleSlope: firstNumber(ds, 'x00281053') ?? 1,
    rescaleIntercept: firstNumber(ds, 'x00281052') ?? 0,
    fileWindow: fileWindowOf(ds),
  };
  const stored = storedWordsOf(ds, transferSyntaxUid);
  if (stored) return { ...stored, ...header };
  const img = await decode(ds, { frames: [0], canonicalSamples: true, transferSyntaxUid });
  const frame = img.frames[0]!;
  return {
    rows: img.rows,
    columns: img.columns,
    samples: samplesOf(frame, img.bitsAllocated, img.pixelRepresentation === 1),
    photometricInterpretation: img.photometricInterpretation,
    ...header,
  };
}
