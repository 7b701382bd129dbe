/**
 * Fingerprinting one instance (spec v1): the three SHA-256 digests, the SOP Instance UID hash and
 * the Merkle leaf. Runs in a worker thread (fingerprint.worker.ts) or inline.
 */
import { createHash, hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
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
import { DEFAULT_LIMITS, DicomFileError, parseDicomBytes, PIXEL_DATA_TAG, readDicomFile } from '../dicom/parse';

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

// one-shot (no Hash object per digest; four digests per file)
const sha256 = (b: Uint8Array): string => hash('sha256', b, 'hex');

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
  const uidHash = sop ? hash('sha256', sop, 'hex') : null; // a string is hashed as its UTF-8 bytes
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

function ioFailure(path: string, err: unknown): DicomFileError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'it does not exist (any more)'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EISDIR' ? 'it is a folder'
    : (code ?? String(err));
  return new DicomFileError('UNREADABLE', ErrorCode.Unreadable, `The file cannot be read: ${why}.`, `Check that ${path} exists and that you may read it.`);
}

/**
 * One reusable read buffer per thread: a series is many files of the same size, and a fresh
 * half-megabyte allocation per file costs page faults and garbage collection. A buffer is lent to
 * one file at a time and given back when its fingerprint is done.
 */
let spare: Buffer | null = null;
function takeBuffer(size: number): Buffer {
  const b = spare && spare.length >= size ? spare : null;
  if (b) {
    spare = null;
    return b.subarray(0, size);
  }
  return Buffer.allocUnsafeSlow(Math.max(size, 64 * 1024));
}
function giveBack(b: Uint8Array): void {
  const whole = Buffer.from(b.buffer, 0, b.buffer.byteLength);
  if (whole.length <= 64 * 1024 * 1024 && (!spare || spare.length < whole.length)) spare = whole;
}

/**
 * The whole file in one synchronous read into a fresh, aligned buffer (faster than the promise
 * API for the many small files of a series: no thread-pool round trips). Null when the file is
 * larger than the whole-file limit (the reader then says why it cannot be read whole).
 */
function readWhole(path: string): { bytes: Uint8Array; mtimeMs: number } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw ioFailure(path, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw ioFailure(path, Object.assign(new Error('not a file'), { code: 'EISDIR' }));
    if (st.size > DEFAULT_LIMITS.maxWholeFileBytes) return null;
    const buf = takeBuffer(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return { bytes: buf.subarray(0, got), mtimeMs: st.mtimeMs };
  } catch (err) {
    if (err instanceof DicomFileError) throw err;
    throw ioFailure(path, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and fingerprints one file. With `knownFile` (the stored file digest of an earlier run),
 * an unchanged file is reported as such without decoding its pixels again. Never throws.
 */
export async function fingerprintFile(path: string, knownFile?: string): Promise<FileOutcome> {
  let size: number | null = null;
  let mtimeMs: number | null = null;
  let whole: { bytes: Uint8Array; mtimeMs: number } | null = null;
  try {
    whole = readWhole(path);
    let ds: DataSet;
    let tsUid: string;
    let file: string;
    if (whole) {
      size = whole.bytes.length;
      mtimeMs = whole.mtimeMs;
      file = sha256(whole.bytes);
      if (knownFile && knownFile === file) return { ok: true, unchanged: true, file, size, mtimeMs };
      const parsed = parseDicomBytes(whole.bytes);
      ds = parsed.dataSet;
      tsUid = parsed.transferSyntaxUid;
    } else {
      const r = await readDicomFile(path, { hash: true }); // throws the reader's size error
      size = r.fileSize;
      mtimeMs = r.mtimeMs;
      file = r.sha256!;
      ds = r.dataSet;
      tsUid = r.transferSyntaxUid;
    }
    const fp = await fingerprintDataSet(ds, tsUid, file, size, true);
    return { ok: true, fingerprint: fp, mtimeMs };
  } catch (err) {
    return { ok: false, error: failureOf(err), size, mtimeMs };
  } finally {
    // Nothing returned refers to the bytes (digests are strings), so the buffer can be reused.
    if (whole) giveBack(whole.bytes);
  }
}
