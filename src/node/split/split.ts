/**
 * Cutting one Part-10 instance into its metadata part and its pixel part (see
 * src/core/split/format.ts for the layouts). Reading uses the project's parser, so a file the
 * import rejects is rejected here with the same DicomFileError; the fingerprint (spec v1) comes from
 * the project's fingerprint code unless the caller already has it.
 */
import { createHash } from 'node:crypto';
import dicomParser from 'dicom-parser';
import { locatePixelValue, SplitFormatError, type SplitLayout } from '../../core/split/format';
import { ErrorCode } from '../../shared/errors';
import { parseDicomBytes, PIXEL_DATA_TAG } from '../dicom/parse';
import { fingerprintDataSet } from '../fingerprint/compute';
import { SplitError } from './errors';

const DEFLATED = '1.2.840.10008.1.2.1.99';

/** The fingerprint fields the split needs (InstanceFingerprint has them all). */
export interface KnownFingerprint {
  file: string;
  meta: string;
  pixel: string;
  leaf: string | null;
  sopInstanceUid: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  transferSyntaxUid: string;
}

export interface CutInstance {
  sopInstanceUid: string;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  transferSyntaxUid: string;
  layout: SplitLayout;
  cutAt: number;
  fileLength: number;
  fileSha256: string;
  meta: string;
  pixel: string;
  leaf: string;
  /** The file without the pixel part (a fresh copy). */
  metadata: Uint8Array;
  /** The pixel part (a view into the file's bytes). */
  pixelPart: Uint8Array;
}

/** Offset of the first byte after the file meta information group (preamble + "DICM" + group 0002). */
function endOfFileMeta(bytes: Uint8Array): number {
  const meta = dicomParser.readPart10Header(bytes as never) as unknown as { position: number };
  return meta.position;
}

export async function cutInstance(bytes: Uint8Array, known?: KnownFingerprint): Promise<CutInstance> {
  const parsed = parseDicomBytes(bytes);
  const ds = parsed.dataSet;
  const ts = parsed.transferSyntaxUid;
  const fp: KnownFingerprint =
    known ?? (await fingerprintDataSet(ds, ts, createHash('sha256').update(bytes).digest('hex'), bytes.length, false));
  if (!fp.sopInstanceUid || !fp.leaf) {
    throw new SplitError(
      'NO_SOP_INSTANCE_UID',
      ErrorCode.Malformed,
      'The instance has no SOP Instance UID (0008,0018), so it has no Merkle leaf and cannot be split (the leaf binds its pixel blob).',
    );
  }
  let layout: SplitLayout;
  let cutAt: number;
  let end: number;
  if (ts === DEFLATED) {
    layout = 'deflated';
    cutAt = endOfFileMeta(bytes);
    end = bytes.length;
  } else {
    const px = ds.elements[PIXEL_DATA_TAG];
    if (!px) {
      layout = 'no-pixel-data';
      cutAt = end = bytes.length;
    } else {
      if (ds.byteArray !== bytes && (ds.byteArray.buffer !== bytes.buffer || ds.byteArray.byteOffset !== bytes.byteOffset)) {
        throw new Error('the parser did not read Pixel Data from the file\'s own bytes');
      }
      layout = 'cut';
      let loc: ReturnType<typeof locatePixelValue>;
      try {
        loc = locatePixelValue(bytes, px.dataOffset, px.length);
      } catch (err) {
        // Found by the fuzz harness: a damaged element header before Pixel Data (the parser still reads a value).
        if (!(err instanceof SplitFormatError)) throw err;
        throw new SplitError(
          'PIXEL_DATA_UNLOCATED',
          ErrorCode.Malformed,
          `The Pixel Data (7FE0,0010) of instance ${fp.sopInstanceUid} cannot be located exactly in the file (${err.message}), so it cannot be split; the file is left as it is.`,
          fp.sopInstanceUid,
          'The file header is damaged: import the original again from the PACS or the modality.',
        );
      }
      cutAt = loc.valueAt;
      end = loc.valueEnd;
    }
  }
  const metadata = new Uint8Array(bytes.length - (end - cutAt));
  metadata.set(bytes.subarray(0, cutAt), 0);
  metadata.set(bytes.subarray(end), cutAt);
  return {
    sopInstanceUid: fp.sopInstanceUid,
    studyInstanceUid: fp.studyInstanceUid,
    seriesInstanceUid: fp.seriesInstanceUid,
    transferSyntaxUid: ts,
    layout,
    cutAt,
    fileLength: bytes.length,
    fileSha256: fp.file,
    meta: fp.meta,
    pixel: fp.pixel,
    leaf: fp.leaf.replace(/^0x/, ''),
    metadata,
    pixelPart: bytes.subarray(cutAt, end),
  };
}
