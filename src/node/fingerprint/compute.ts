/**
 * Fingerprinting one instance (spec v1): the three SHA-256 digests, the SOP Instance UID hash and
 * the Merkle leaf. Runs in a worker thread (fingerprint.worker.ts) or inline.
 */
import { createHash, hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { DataSet } from 'dicom-parser';
import {
  canonicaliseSamples,
  canonicalMetaBytes,
  FINGERPRINT_SPEC_VERSION,
  FINGERPRINT_TRANSFER_SYNTAXES,
  isLayoutSupported,
  nativeLength,
  leafHash,
  leafValue,
  needsSampleCanonicalisation,
  SHA256_EMPTY,
  type PixelLayout,
  type MetaDataSet,
  type PixelMode,
} from '../../core/fingerprint';
import { AppError, ErrorCode } from '../../shared/errors';
import { decodeFrames, normaliseNative, pixelLayout } from '../dicom/decode';
import { parseHeaderFast } from '../dicom/fast-header';
import { DEFAULT_LIMITS, DicomFileError, NeedMoreBytes, parseDicomBytes, PIXEL_DATA_TAG, readDicomFile } from '../dicom/parse';

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
const DEFLATED_TS = '1.2.840.10008.1.2.1.99';

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
    // Stored bytes that already are the canonical form are hashed as they are (normaliseNative
    // would copy them first when it may not write to the caller's buffer).
    const canon = nativeIsCanonical(l, pi, info.bigEndian) ? raw : normaliseNative(raw, l, { bigEndian: info.bigEndian, vr: el.vr, canonicalSamples: true, inPlace: mutable, photometric: pi });
    return { pixel: sha256(canon), mode: 'native', frames: l.numberOfFrames };
  }
  const decoded = await decodeFrames(ds, { transferSyntaxUid: tsUid, canonicalSamples: true });
  const h = createHash('sha256');
  for (const f of decoded.frames) h.update(f);
  return { pixel: h.digest('hex'), mode: 'decoded', frames: decoded.frames.length };
}

/**
 * Native pixels whose stored bytes are their canonical form (§2): little endian, interleaved (or
 * YBR_FULL_422 as stored), no bits outside Bits Stored, not 1-bit. The usual CT/MR/CR slice.
 */
function nativeIsCanonical(l: PixelLayout, photometric: string, bigEndian: boolean): boolean {
  return !bigEndian && l.bitsAllocated !== 1 && !needsSampleCanonicalisation(l) && !planarToInterleave(l, photometric);
}

function planarToInterleave(l: PixelLayout, photometric: string): boolean {
  return l.samplesPerPixel > 1 && l.planarConfiguration === 1 && photometric.trim() !== 'YBR_FULL_422';
}

function specInfo(tsUid: string) {
  const info = FINGERPRINT_TRANSFER_SYNTAXES[tsUid];
  if (!info) {
    throw new AppError(
      ErrorCode.UnsupportedTransferSyntax,
      `The transfer syntax ${tsUid} is not covered by the fingerprint specification, so this file cannot be fingerprinted.`,
      'Convert it to a standard transfer syntax (e.g. dcmconv +te) first.',
    );
  }
  return info;
}

/** The UIDs of an instance, read before its buffer is reused. */
interface Identity {
  sop: string | null;
  sopClass: string | null;
  series: string | null;
  study: string | null;
}
const identityOf = (ds: DataSet): Identity => ({ sop: uid(ds, 'x00080018'), sopClass: uid(ds, 'x00080016'), series: uid(ds, 'x0020000e'), study: uid(ds, 'x0020000d') });

function assemble(id: Identity, d: { tsUid: string; file: string; pixel: string; meta: string; mode: PixelMode; frames: number; size: number }): InstanceFingerprint {
  const uidHash = id.sop ? hash('sha256', id.sop, 'hex') : null; // a string is hashed as its UTF-8 bytes
  return {
    specVersion: FINGERPRINT_SPEC_VERSION,
    file: d.file,
    pixel: d.pixel,
    meta: d.meta,
    pixelMode: d.mode,
    transferSyntaxUid: d.tsUid,
    sopInstanceUid: id.sop,
    sopClassUid: id.sopClass,
    seriesInstanceUid: id.series,
    studyInstanceUid: id.study,
    uidHash,
    leaf: uidHash ? leafHash(leafValue(d.pixel, d.meta, uidHash)) : null,
    size: d.size,
    frames: d.frames,
  };
}

/** Fingerprints a parsed instance whose file digest is already known. */
export async function fingerprintDataSet(ds: DataSet, tsUid: string, file: string, size: number, mutable: boolean): Promise<InstanceFingerprint> {
  const info = specInfo(tsUid);
  const meta = sha256(canonicalMetaBytes(ds as unknown as MetaDataSet, { bigEndian: info.bigEndian, explicitVr: info.explicitVr }));
  const { pixel, mode, frames } = await pixelDigest(ds, tsUid, mutable);
  return assemble(identityOf(ds), { tsUid, file, pixel, meta, mode, frames, size });
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
 * The streamed read's chunk. 128 KiB stays in the core's cache (L2) between the kernel's copy and
 * the two SHA-256 passes over it; reading a 512 KB slice whole into one buffer cost 3× the CPU of
 * the same read in 64 KiB pieces (the copy then goes through to memory, and the hashes read it
 * back). 128 KiB against 64 KiB, same-run A/B on 1,000 512² CT slices at load 11: 0.01–0.02 ms of
 * CPU per image less (half the read calls), 256 KiB no better than 128.
 */
export const STREAM_CHUNK_BYTES = 128 * 1024;
const chunks = new Map<number, Buffer>();
function chunkBuffer(n: number): Buffer {
  let b = chunks.get(n);
  if (!b) chunks.set(n, (b = Buffer.allocUnsafeSlow(n)));
  return b;
}

/** A header longer than a chunk is read again into this (grown as needed, up to 16 MB). */
const MAX_STREAMED_HEADER = 16 * 1024 * 1024;
let headSpare: Buffer | null = null;
function headBuffer(n: number): Buffer {
  if (!headSpare || headSpare.length < n) headSpare = Buffer.allocUnsafeSlow(n);
  return headSpare;
}

/** How the files of this thread were read (the tests check that native slices take the streamed path). */
export const readCounts = { streamed: 0, whole: 0 };

/** Reads `length` bytes at `position` of the file into `buf` (from its start); returns how many came (fewer: the file ended). */
export function readFully(fd: number, buf: Uint8Array, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

function openForRead(path: string): { fd: number; size: number; mtimeMs: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw ioFailure(path, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw ioFailure(path, Object.assign(new Error('not a file'), { code: 'EISDIR' }));
    return { fd, size: st.size, mtimeMs: st.mtimeMs };
  } catch (err) {
    closeSync(fd);
    if (err instanceof DicomFileError) throw err;
    throw ioFailure(path, err);
  }
}

/**
 * The whole file in one synchronous read into the reused buffer (faster than the promise API for
 * the many small files of a series: no thread-pool round trips). Null when the file is larger
 * than the whole-file limit (the reader then says why it cannot be read whole).
 */
function readWhole(path: string, fd: number, size: number): Uint8Array | null {
  if (size > DEFAULT_LIMITS.maxWholeFileBytes) return null;
  const buf = takeBuffer(size);
  try {
    return buf.subarray(0, readFully(fd, buf, size, 0));
  } catch (err) {
    giveBack(buf);
    throw ioFailure(path, err);
  }
}

/**
 * Feeds the canonical pixel bytes of native pixel data to a hash, chunk by chunk, as they stream
 * past: samples outside Bits Stored are canonicalised in place (after the file digest has seen
 * the chunk), a sample split between two chunks is joined first.
 */
class NativePixelStream {
  private readonly h = createHash('sha256');
  private readonly bps: number;
  private readonly canonicalise: boolean;
  private readonly carry = new Uint8Array(4);
  private carried = 0;

  constructor(private readonly l: PixelLayout) {
    this.bps = l.bitsAllocated / 8;
    this.canonicalise = needsSampleCanonicalisation(l);
  }

  update(b: Uint8Array): void {
    if (!this.canonicalise) {
      this.h.update(b);
      return;
    }
    let i = 0;
    if (this.carried) {
      const take = Math.min(this.bps - this.carried, b.length);
      this.carry.set(b.subarray(0, take), this.carried);
      this.carried += take;
      i = take;
      if (this.carried < this.bps) return;
      const sample = this.carry.subarray(0, this.bps);
      canonicaliseSamples(sample, this.l);
      this.h.update(sample);
      this.carried = 0;
    }
    const rest = b.length - i;
    const whole = rest - (rest % this.bps);
    const samples = b.subarray(i, i + whole);
    canonicaliseSamples(samples, this.l);
    this.h.update(samples);
    if (whole < rest) {
      this.carry.set(b.subarray(i + whole));
      this.carried = rest - whole;
    }
  }

  digest(): string {
    return this.h.digest('hex');
  }
}

/** Reads up to `length` bytes at `position` into the start of `into`; the count read (0 at the end). */
type ReadAt = (into: Uint8Array, length: number, position: number) => number;

/**
 * The streamed path for the usual file: native pixel data that ends the file. The header is
 * parsed from the first chunk; the rest streams through one cache-sized buffer, each chunk hashed
 * for `file` and its pixel part for `pixel` (the same bytes, in the same order, as the whole-file
 * path: the digests are identical). Null when the file does not qualify (compressed, big endian,
 * deflated, 1-bit or planar pixels, elements after Pixel Data, a header larger than a chunk, any
 * error): the whole-file path then fingerprints it, or names what is wrong with it.
 */
function fingerprintStreamed(readAt: ReadAt, size: number, chunkBytes: number, knownDigest: string | null): InstanceFingerprint | null {
  const buf = chunkBuffer(chunkBytes);
  // The header: one chunk, or (a large header) a prefix read again, four times longer each time.
  let head: Uint8Array = buf;
  let parsed;
  for (let n = chunkBytes; ; n = Math.min(size, n * 4)) {
    const into = n === chunkBytes ? buf : headBuffer(n);
    if (readAt(into, n, 0) !== n) return null; // the file shrank
    head = into.subarray(0, n);
    try {
      parsed = parseHeaderFast(head, size) ?? parseDicomBytes(head, { headerOnly: true, fileSize: size });
      break;
    } catch (err) {
      if (!(err instanceof NeedMoreBytes) || n >= size || n >= MAX_STREAMED_HEADER) return null;
    }
  }
  const headLen = head.length;
  const { dataSet: ds, transferSyntaxUid: tsUid } = parsed;
  const info = FINGERPRINT_TRANSFER_SYNTAXES[tsUid];
  const el = ds.elements[PIXEL_DATA_TAG];
  if (!parsed.headerOnly || !info || info.pixelMode !== 'native' || info.bigEndian || tsUid === DEFLATED_TS) return null;
  if (!el || el.hadUndefinedLength || el.dataOffset + el.length !== size || el.dataOffset > headLen) return null;
  const l = pixelLayout(ds);
  const pi = ds.string('x00280004') ?? '';
  if (isLayoutSupported(l) || l.bitsAllocated === 1 || planarToInterleave(l, pi)) return null;
  const total = nativeLength(l, pi);
  if (el.length < total) return null;
  // Everything taken from the header before the buffer is reused for the pixels.
  const meta = sha256(canonicalMetaBytes(ds as unknown as MetaDataSet, { bigEndian: info.bigEndian, explicitVr: info.explicitVr }));
  const id = identityOf(ds);
  const px0 = el.dataOffset;
  const px1 = px0 + total;
  // The file digest is taken here unless it is known for exactly this file (size and time): then one SHA-256 pass, not two.
  const file = knownDigest ? null : createHash('sha256');
  const pixel = new NativePixelStream(l);
  let pos = 0;
  let chunk: Uint8Array = head;
  for (;;) {
    file?.update(chunk); // before the pixel part is canonicalised in place
    const a = Math.max(px0, pos);
    const b = Math.min(px1, pos + chunk.length);
    if (a < b) pixel.update(chunk.subarray(a - pos, b - pos));
    pos += chunk.length;
    if (pos >= size) break;
    const n = readAt(buf, Math.min(chunkBytes, size - pos), pos);
    if (n === 0) return null; // the file shrank while being read
    chunk = buf.subarray(0, n);
  }
  return assemble(id, { tsUid, file: file ? file.digest('hex') : knownDigest!, pixel: pixel.digest(), meta, mode: 'native', frames: l.numberOfFrames, size });
}

/**
 * Runs the streamed path over the bytes of a file held in memory (the worker's warm-up: the same
 * code, so V8 compiles it before the first real file). Null when those bytes would not be streamed.
 */
export function fingerprintStreamedBytes(bytes: Uint8Array, chunkBytes = STREAM_CHUNK_BYTES): InstanceFingerprint | null {
  const readAt: ReadAt = (into, length, position) => {
    const part = bytes.subarray(position, Math.min(bytes.length, position + length));
    into.set(part);
    return part.length;
  };
  return fingerprintStreamed(readAt, bytes.length, chunkBytes, null);
}

/**
 * The SHA-256 of a whole file recorded elsewhere (the library's instances.sha256) with the size
 * and modification time it was taken at: the same digest as `file` (every byte of the file, hex).
 */
export interface RecordedFileDigest {
  sha256: string;
  size: number;
  mtimeMs: number;
}

/**
 * Reads and fingerprints one file. With `knownFile` (the stored file digest of an earlier run),
 * an unchanged file is reported as such without decoding its pixels again. With `recorded` (the
 * library hashed this file already) the file digest is taken from it when the file still has that
 * size and modification time — the rule the engine trusts its own stored fingerprints by — and the
 * bytes are hashed once (pixels), not twice. Never throws.
 * `chunkBytes` (tests) sets the streamed path's chunk size.
 */
export async function fingerprintFile(path: string, knownFile?: string, o: { chunkBytes?: number; recorded?: RecordedFileDigest } = {}): Promise<FileOutcome> {
  let size: number | null = null;
  let mtimeMs: number | null = null;
  let whole: Uint8Array | null = null;
  let fd: number | null = null;
  try {
    const f = openForRead(path);
    fd = f.fd;
    size = f.size;
    mtimeMs = f.mtimeMs;
    const chunkBytes = o.chunkBytes ?? STREAM_CHUNK_BYTES;
    const rec = o.recorded && o.recorded.size === size && o.recorded.mtimeMs === mtimeMs && /^[0-9a-f]{64}$/.test(o.recorded.sha256) ? o.recorded.sha256 : null;
    // A changed modification time with a known digest: the file digest alone decides (whole path).
    if (!knownFile && size > chunkBytes) {
      let fp: InstanceFingerprint | null;
      try {
        const from = fd;
        fp = fingerprintStreamed((into, length, position) => readFully(from, into, length, position), size, chunkBytes, rec);
      } catch (err) {
        throw ioFailure(path, err);
      }
      if (fp) {
        readCounts.streamed++;
        return { ok: true, fingerprint: fp, mtimeMs };
      }
    }
    readCounts.whole++;
    let ds: DataSet;
    let tsUid: string;
    let file: string;
    whole = readWhole(path, fd, size);
    if (whole) {
      file = rec && whole.length === size ? rec : sha256(whole);
      size = whole.length;
      if (knownFile && knownFile === file) return { ok: true, unchanged: true, file, size, mtimeMs };
      const parsed = parseDicomBytes(whole);
      ds = parsed.dataSet;
      tsUid = parsed.transferSyntaxUid;
    } else {
      closeSync(fd);
      fd = null;
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
    if (fd !== null) closeSync(fd);
    // Nothing returned refers to the bytes (digests are strings), so the buffer can be reused.
    if (whole) giveBack(whole);
  }
}
