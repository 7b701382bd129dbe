/**
 * Pixel decoding in Node for every transfer syntax the app reads: native little/big-endian,
 * deflated (inflated by the parser), RLE, JPEG lossless, JPEG-LS, JPEG 2000, JPEG baseline/extended
 * (8-bit). The library (thumbnails) and the fingerprint engine both use `decodeFrames`.
 *
 * Output frames are canonical (src/core/fingerprint/pixel.ts): little-endian, samples of a pixel
 * interleaved, no padding; with `canonicalSamples` also masked to Bits Stored and sign-extended.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import {
  canonicaliseSamples,
  clearTrailingBits,
  FINGERPRINT_TRANSFER_SYNTAXES,
  interleave,
  isLayoutSupported,
  nativeFrameLength,
  nativeLength,
  swapInPlace,
  type PixelLayout,
} from '../../../core/fingerprint';
import { AppError, ErrorCode } from '../../../shared/errors';
import { parseDicomBytes, PIXEL_DATA_TAG } from '../parse';
import { decodeJpeg2000, decodeJpegBaseline, decodeJpegLossless, decodeJpegLs, type CodecOutput } from './codecs';
import { decodeRleFrame } from './rle';
import { describeCodecFailure, describeParserFailure } from '../../../shared/parser-messages';

export interface DecodedImage extends PixelLayout {
  transferSyntaxUid: string;
  /** Photometric Interpretation of the decoded samples (JPEG baseline and JPEG 2000 colour decode to RGB). */
  photometricInterpretation: string;
  /** One canonical buffer per frame. Bits Allocated 1: one buffer holding all frames' packed bits. */
  frames: Uint8Array[];
  /** True when the stored pixels were lossy-compressed. */
  lossy: boolean;
  /** How the frames were obtained. */
  source: 'native' | 'decoded';
}

export interface DecodeOptions {
  /** Mask samples to Bits Stored and sign-extend (the fingerprint's canonical form). Default true. */
  canonicalSamples?: boolean;
  /** Decode only these frame indices (0-based). Default: all. */
  frames?: number[];
  /** The transfer syntax, when `input` is a DataSet parsed elsewhere (read from (0002,0010) otherwise). */
  transferSyntaxUid?: string;
}

const num = (ds: DataSet, tag: string, fallback: number): number => ds.uint16(tag) ?? fallback;

/** The pixel layout from the image pixel module (missing optional values take the standard defaults). */
export function pixelLayout(ds: DataSet): PixelLayout {
  const bitsAllocated = num(ds, 'x00280100', 0);
  const bitsStored = num(ds, 'x00280101', bitsAllocated);
  const frames = ds.intString('x00280008');
  return {
    rows: num(ds, 'x00280010', 0),
    columns: num(ds, 'x00280011', 0),
    samplesPerPixel: num(ds, 'x00280002', 1),
    bitsAllocated,
    bitsStored,
    highBit: num(ds, 'x00280102', bitsStored - 1),
    pixelRepresentation: num(ds, 'x00280103', 0),
    planarConfiguration: num(ds, 'x00280006', 0),
    numberOfFrames: frames !== undefined && Number.isFinite(frames) && frames > 0 ? frames : 1,
  };
}

function malformed(msg: string): AppError {
  return new AppError(ErrorCode.Malformed, `The pixel data cannot be decoded: ${msg}.`);
}

/** The compressed bytes of one frame of encapsulated Pixel Data. */
export function encapsulatedFrame(ds: DataSet, el: Element, frame: number, frameCount: number): Uint8Array {
  const fragments = el.fragments ?? [];
  if (fragments.length === 0) throw malformed('the encapsulated pixel data has no fragments');
  const bot = el.basicOffsetTable ?? [];
  if (bot.length > 0) return dicomParser.readEncapsulatedImageFrame(ds, el, frame) as Uint8Array;
  if (frameCount === 1) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length) as Uint8Array;
  if (fragments.length === frameCount) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, frame, 1) as Uint8Array;
  const table = dicomParser.createJPEGBasicOffsetTable(ds, el);
  return dicomParser.readEncapsulatedImageFrame(ds, el, frame, table) as Uint8Array;
}

/** Normalises native (uncompressed) pixel bytes to the canonical form, in place when `inPlace`. */
export function normaliseNative(
  px: Uint8Array,
  l: PixelLayout,
  opts: { bigEndian: boolean; vr?: string; canonicalSamples: boolean; inPlace: boolean; photometric?: string },
): Uint8Array {
  let b = opts.inPlace ? px : new Uint8Array(px); // a copy (Buffer#slice would be a view)
  if (opts.bigEndian) {
    const w = l.bitsAllocated > 8 ? l.bitsAllocated / 8 : opts.vr === 'OW' && l.bitsAllocated === 8 ? 2 : 1;
    swapInPlace(b, w);
  }
  if (l.bitsAllocated === 1) {
    clearTrailingBits(b, l);
    return b;
  }
  if (l.samplesPerPixel > 1 && l.planarConfiguration === 1 && opts.photometric?.trim() !== 'YBR_FULL_422') b = interleave(b, l);
  if (opts.canonicalSamples) canonicaliseSamples(b, l);
  return b;
}

function fromCodec(out: CodecOutput, l: PixelLayout, what: string): Uint8Array {
  const expect = (l.rows * l.columns * l.samplesPerPixel * l.bitsAllocated) / 8;
  if (out.width !== l.columns || out.height !== l.rows) {
    throw malformed(`the ${what} frame is ${out.width}×${out.height} but the header says ${l.columns}×${l.rows}`);
  }
  let b = out.bytes;
  // 8-bit samples declared in 16-bit containers (or the reverse) are widened/narrowed to Bits Allocated.
  if (b.length * 2 === expect && l.bitsAllocated === 16) {
    const w = new Uint8Array(expect);
    for (let i = 0; i < b.length; i++) w[i * 2] = b[i]!;
    b = w;
  }
  if (b.length < expect) throw malformed(`the ${what} frame decodes to ${b.length} bytes, ${expect} expected`);
  if (b.length > expect) b = b.subarray(0, expect);
  if (out.planar) b = interleave(b, l, 1);
  return b;
}

/** Decodes one encapsulated frame of a lossless or lossy syntax to canonical little-endian samples. */
export async function decodeEncapsulatedFrame(data: Uint8Array, tsUid: string, l: PixelLayout): Promise<Uint8Array> {
  switch (tsUid) {
    case '1.2.840.10008.1.2.5':
      return decodeRleFrame(data, l.rows, l.columns, l.samplesPerPixel, l.bitsAllocated);
    case '1.2.840.10008.1.2.4.57':
    case '1.2.840.10008.1.2.4.70':
      return fromCodec(decodeJpegLossless(data, l.bitsAllocated / 8), l, 'JPEG lossless');
    case '1.2.840.10008.1.2.4.80':
    case '1.2.840.10008.1.2.4.81':
      return fromCodec(await decodeJpegLs(data), l, 'JPEG-LS');
    case '1.2.840.10008.1.2.4.90':
    case '1.2.840.10008.1.2.4.91':
      return fromCodec(await decodeJpeg2000(data), l, 'JPEG 2000');
    case '1.2.840.10008.1.2.4.50':
    case '1.2.840.10008.1.2.4.51':
      if (l.bitsStored > 8) {
        throw new AppError(
          ErrorCode.UnsupportedTransferSyntax,
          `JPEG with ${l.bitsStored}-bit samples (12-bit extended process) cannot be decoded by the 8-bit JPEG codec.`,
          'Convert the file to a lossless syntax with dcmtk (dcmdjpeg) to view it; its fingerprint does not need decoding.',
        );
      }
      return fromCodec(await decodeJpegBaseline(data), l, 'JPEG');
    default:
      throw new AppError(
        ErrorCode.UnsupportedTransferSyntax,
        `Pixel data in ${FINGERPRINT_TRANSFER_SYNTAXES[tsUid]?.name ?? tsUid} cannot be decoded here.`,
        'Convert the file to Explicit VR Little Endian (dcmconv +te, or dcmdjpeg / dcmdrle) and open it again.',
      );
  }
}

function decodedPhotometric(ds: DataSet, tsUid: string, l: PixelLayout): string {
  const pi = (ds.string('x00280004') ?? 'MONOCHROME2').trim();
  if (l.samplesPerPixel === 3 && (tsUid === '1.2.840.10008.1.2.4.50' || tsUid === '1.2.840.10008.1.2.4.51')) return 'RGB';
  if (l.samplesPerPixel === 3 && (pi === 'YBR_RCT' || pi === 'YBR_ICT')) return 'RGB';
  return pi;
}

/**
 * Decodes the frames of a DICOM instance (bytes of a Part-10 file or a dicom-parser DataSet).
 * Throws AppError: MALFORMED (no or broken pixel data), UNSUPPORTED_TRANSFER_SYNTAX.
 */
export async function decodeFrames(input: DataSet | Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  let ds: DataSet;
  let tsUid: string;
  if (input instanceof Uint8Array) {
    const parsed = parseDicomBytes(input);
    ds = parsed.dataSet;
    tsUid = parsed.transferSyntaxUid;
  } else {
    ds = input;
    tsUid = opts.transferSyntaxUid ?? (ds.string('x00020010') ?? '1.2.840.10008.1.2').replace(/\0/g, '').trim();
  }
  const info = FINGERPRINT_TRANSFER_SYNTAXES[tsUid];
  if (!info) {
    throw new AppError(ErrorCode.UnsupportedTransferSyntax, `The transfer syntax ${tsUid} is not supported for pixel decoding.`);
  }
  const el = ds.elements[PIXEL_DATA_TAG];
  if (!el) throw malformed('the instance has no Pixel Data (7FE0,0010)');
  const l = pixelLayout(ds);
  const bad = isLayoutSupported(l);
  if (bad) throw malformed(bad);
  const canonical = opts.canonicalSamples ?? true;
  const wanted = opts.frames ?? Array.from({ length: l.numberOfFrames }, (_, i) => i);
  for (const f of wanted) if (!(f >= 0 && f < l.numberOfFrames)) throw new AppError(ErrorCode.InvalidArgument, `Frame ${f + 1} does not exist (the image has ${l.numberOfFrames}).`);
  const base = { ...l, transferSyntaxUid: tsUid, photometricInterpretation: decodedPhotometric(ds, tsUid, l), lossy: info.pixelMode === 'fragments' };

  if (!info.encapsulated) {
    const pi = ds.string('x00280004') ?? '';
    const total = nativeLength(l, pi);
    if (el.length < total) throw malformed(`Pixel Data holds ${el.length} bytes but the header describes ${total}`);
    const raw = ds.byteArray.subarray(el.dataOffset, el.dataOffset + total) as Uint8Array;
    const all = normaliseNative(raw, l, { bigEndian: info.bigEndian, vr: el.vr, canonicalSamples: canonical, inPlace: false, photometric: pi });
    if (l.bitsAllocated === 1) return { ...base, frames: [all], source: 'native' };
    const fl = nativeFrameLength(l, pi);
    return { ...base, frames: wanted.map((f) => all.subarray(f * fl, (f + 1) * fl)), source: 'native' };
  }
  if (l.bitsAllocated === 1) throw malformed('compressed 1-bit pixel data is not valid DICOM');
  const frames: Uint8Array[] = [];
  for (const f of wanted) {
    let data: Uint8Array;
    try {
      data = encapsulatedFrame(ds, el, f, l.numberOfFrames);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw malformed(`frame ${f + 1} cannot be located in the encapsulated data: ${describeParserFailure(String((err as Error)?.message ?? err))}`);
    }
    let b: Uint8Array;
    try {
      b = await decodeEncapsulatedFrame(data, tsUid, l);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw malformed(`frame ${f + 1}: ${describeCodecFailure(tsUid, String((err as Error)?.message ?? err))}`);
    }
    if (canonical) canonicaliseSamples(b, l);
    frames.push(b);
  }
  return { ...base, frames, source: 'decoded' };
}
