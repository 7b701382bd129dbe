/**
 * Fingerprinting one instance (spec v1): the three SHA-256 digests, the SOP Instance UID hash and
 * the Merkle leaf. Runs in a worker thread (fingerprint.worker.ts) or inline.
 */
import { createHash } from 'node:crypto';
import type { DataSet } from 'dicom-parser';
import {
  canonicalMetaBytes,
  FINGERPRINT_SPEC_VERSION,
  FINGERPRINT_TRANSFER_SYNTAXES,
  isLayoutSupported,
  nativeLength,
  leafHash,
  leafValue,
  SHA256_EMPTY,
  type MetaDataSet,
  type PixelMode,
} from '../../core/fingerprint';
import { AppError, ErrorCode } from '../../shared/errors';
import { decodeFrames, normaliseNative, pixelLayout } from '../dicom/decode';
import { DicomFileError, parseDicomBytes, PIXEL_DATA_TAG, readDicomFile } from '../dicom/parse';

export interface InstanceFingerprint {
  specVersion: number;
  /** SHA-256 of the whole file as read (hex). */
  file: string;
  /** SHA-256 of the canonical pixels (hex); see pixelMode. */
  pixel: string;
  /** SHA-256 of the canonical metadata encoding (hex). */
  meta: string;
  pixelMode: PixelMode;
  transferSyntaxUid: string;
  sopInstanceUid: string | null;
  sopClassUid: string | null;
  seriesInstanceUid: string | null;
  studyInstanceUid: string | null;
  /** SHA-256 of the UTF-8 SOP Instance UID (hex), the third leaf field. */
  uidHash: string | null;
  /** The StandardMerkleTree leaf hash (0x…), null without a SOP Instance UID. */
  leaf: string | null;
  size: number;
  frames: number;
}

export interface FingerprintFailure {
  code: string;
  /** The import report's finer code (NOT_DICOM, COMPRESSED_ARCHIVE, TRUNCATED, …) when known. */
  reject?: string;
  message: string;
  hint?: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function uid(ds: DataSet, tag: string): string | null {
  const v = ds.string(tag)?.replace(/[\0 ]+$/, '');
  return v ? v : null;
}

/**
 * The pixel digest. `mutable`: the caller's buffer may be normalised in place (it was hashed
 * already), so native pixels are never copied.
 */
export async function pixelDigest(ds: DataSet, tsUid: string, mutable: boolean): Promise<{ pixel: string; mode: PixelMode; frames: number }> {
  const info = FINGERPRINT_TRANSFER_SYNTAXES[tsUid];
  if (!info) throw new AppError(ErrorCode.UnsupportedTransferSyntax, `The transfer syntax ${tsUid} is not covered by the fingerprint specification.`);
  const el = ds.elements[PIXEL_DATA_TAG];
  if (!el) return { pixel: SHA256_EMPTY, mode: 'none', frames: 0 };
  const l = pixelLayout(ds);
  if (info.pixelMode === 'fragments') {
    const h = createHash('sha256');
    for (const f of el.fragments ?? []) h.update(ds.byteArray.subarray(f.position, f.position + f.length));
    return { pixel: h.digest('hex'), mode: 'fragments', frames: l.numberOfFrames };
  }
  const bad = isLayoutSupported(l);
  if (bad) throw new AppError(ErrorCode.Malformed, `The pixel data cannot be fingerprinted: ${bad}.`);
  if (info.pixelMode === 'native') {
    const pi = ds.string('x00280004') ?? '';
    const total = nativeLength(l, pi);
    if (el.length < total) {
      throw new AppError(ErrorCode.Malformed, `Pixel Data holds ${el.length} bytes but the header describes ${total} (${l.numberOfFrames} frame(s) of ${l.rows}×${l.columns}×${l.samplesPerPixel} at ${l.bitsAllocated} bits).`);
    }
    const raw = ds.byteArray.subarray(el.dataOffset, el.dataOffset + total) as Uint8Array;
    const canon = normaliseNative(raw, l, { bigEndian: info.bigEndian, vr: el.vr, canonicalSamples: true, inPlace: mutable, photometric: pi });
    return { pixel: sha256(canon), mode: 'native', frames: l.numberOfFrames };
  }
  const decoded = await decodeFrames(ds, { transferSyntaxUid: tsUid, canonicalSamples: true });
  const h = createHash('sha256');
  for (const f of decoded.frames) h.update(f);
  return { pixel: h.digest('hex'), mode: 'decoded', frames: decoded.frames.length };
}

/** Fingerprints a parsed instance whose file digest is already known. */
export async function fingerprintDataSet(ds: DataSet, tsUid: string, file: string, size: number, mutable: boolean): Promise<InstanceFingerprint> {
  const info = FINGERPRINT_TRANSFER_SYNTAXES[tsUid];
  if (!info) {
    throw new AppError(
      ErrorCode.UnsupportedTransferSyntax,
      `The transfer syntax ${tsUid} is not covered by the fingerprint specification, so this file cannot be fingerprinted.`,
      'Convert it to a standard transfer syntax (e.g. dcmconv +te) first.',
    );
  }
  const meta = sha256(canonicalMetaBytes(ds as unknown as MetaDataSet, { bigEndian: info.bigEndian, explicitVr: info.explicitVr }));
  const { pixel, mode, frames } = await pixelDigest(ds, tsUid, mutable);
  const sop = uid(ds, 'x00080018');
  const uidHash = sop ? sha256(new TextEncoder().encode(sop)) : null;
  return {
    specVersion: FINGERPRINT_SPEC_VERSION,
    file,
    pixel,
    meta,
    pixelMode: mode,
    transferSyntaxUid: tsUid,
    sopInstanceUid: sop,
    sopClassUid: uid(ds, 'x00080016'),
    seriesInstanceUid: uid(ds, 'x0020000e'),
    studyInstanceUid: uid(ds, 'x0020000d'),
    uidHash,
    leaf: uidHash ? leafHash(leafValue(pixel, meta, uidHash)) : null,
    size,
    frames,
  };
}

/** Fingerprints the bytes of a Part-10 file (the buffer is normalised in place when `mutable`). */
export async function fingerprintBytes(bytes: Uint8Array, mutable = false): Promise<InstanceFingerprint> {
  const file = sha256(bytes);
  const parsed = parseDicomBytes(bytes);
  return fingerprintDataSet(parsed.dataSet, parsed.transferSyntaxUid, file, bytes.length, mutable);
}

export type FileOutcome =
  | { ok: true; fingerprint: InstanceFingerprint; mtimeMs: number }
  | { ok: true; unchanged: true; file: string; size: number; mtimeMs: number }
  | { ok: false; error: FingerprintFailure; size: number | null; mtimeMs: number | null };

export function failureOf(err: unknown): FingerprintFailure {
  if (err instanceof DicomFileError) return { ...err.toJSON(), reject: err.reject };
  if (err instanceof AppError) return err.toJSON();
  const message = typeof err === 'string' ? err : err instanceof Error ? err.message : String(err);
  return { code: ErrorCode.Malformed, message: `The file could not be fingerprinted: ${message}.` };
}

/**
 * Reads and fingerprints one file. With `knownFile` (the stored file digest of an earlier run),
 * an unchanged file is reported as such without decoding its pixels again. Never throws.
 */
export async function fingerprintFile(path: string, knownFile?: string): Promise<FileOutcome> {
  let size: number | null = null;
  let mtimeMs: number | null = null;
  try {
    const r = await readDicomFile(path, { hash: true });
    size = r.fileSize;
    mtimeMs = r.mtimeMs;
    const file = r.sha256!;
    if (knownFile && knownFile === file) return { ok: true, unchanged: true, file, size, mtimeMs };
    const fp = await fingerprintDataSet(r.dataSet, r.transferSyntaxUid, file, r.fileSize, true);
    return { ok: true, fingerprint: fp, mtimeMs };
  } catch (err) {
    return { ok: false, error: failureOf(err), size, mtimeMs };
  }
}
