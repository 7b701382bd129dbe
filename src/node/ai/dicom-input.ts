/**
 * From a DICOM instance to what the AI pipeline needs: the header facts the acceptance check reads
 * (modality, body part, view, size, photometric interpretation) and the greyscale pixels with the
 * file's modality rescale and default window, decoded with the project's pixel decoder (all the
 * transfer syntaxes the viewer reads). The maths is in src/core/ai/preprocess.ts.
 */
import type { DataSet } from 'dicom-parser';
import type { ImageDescription } from '../../core/ai/card';
import type { GreyImage, SampleArray } from '../../core/ai/preprocess';
import type { DecodedImage, DecodeOptions } from '../dicom/decode';
import { pixelLayout } from '../dicom/decode';

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

/** Decodes the first frame and returns it with the file's rescale and default window. */
export async function greyImageOf(ds: DataSet, transferSyntaxUid: string, decode: PixelDecoder): Promise<GreyImage> {
  const img = await decode(ds, { frames: [0], canonicalSamples: true, transferSyntaxUid });
  const frame = img.frames[0]!;
  const center = firstNumber(ds, 'x00281050');
  const width = firstNumber(ds, 'x00281051');
  return {
    rows: img.rows,
    columns: img.columns,
    samples: samplesOf(frame, img.bitsAllocated, img.pixelRepresentation === 1),
    rescaleSlope: firstNumber(ds, 'x00281053') ?? 1,
    rescaleIntercept: firstNumber(ds, 'x00281052') ?? 0,
    photometricInterpretation: img.photometricInterpretation,
    fileWindow: center !== null && width !== null && width > 0 ? { center, width } : null,
  };
}
