/**
 * The per-instance work of a split and of a rebuild, as plain functions of their inputs: the same
 * code runs in the calling thread and in the split worker threads (./pool.ts, ./split.worker.ts).
 * Nothing here touches the index: a split writes the blob under its address and returns the sealed
 * metadata part, and the caller decides — after checking the index — to record the row with it, or
 * to drop it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeMetadataPart, type MetadataHeader, SPLIT_FORMAT_ID, type SplitLayout } from '../../core/split/format';
import { AppError, ErrorCode } from '../../shared/errors';
import { DicomFileError } from '../dicom/parse';
import { SplitError, type SplitFailure } from './errors';
import { type PendingSync, type ReadBuffer, writeFileAtomicSync } from './folder-store';
import { deriveInstanceKey, keyCheckValue } from './keys';
import { rebuildPieces } from './rebuild';
import { encryptPixelPieces, openMetadataPart, sealMetadataPart } from './seal';
import { cutInstance, type CutInstance, type KnownFingerprint } from './split';

export interface SplitFileError {
  path: string;
  code: string;
  /** The import report's reject code (NOT_DICOM, TRUNCATED, …) or the split failure. */
  reject?: string;
  failure?: string;
  sopInstanceUid?: string;
  message: string;
  hint?: string;
}

export function errorOf(path: string, err: unknown): SplitFileError {
  if (err instanceof SplitError) {
    const j = err.toJSON();
    return { path, code: j.code, failure: err.failure, ...(err.sopInstanceUid ? { sopInstanceUid: err.sopInstanceUid } : {}), message: j.message, ...(j.hint ? { hint: j.hint } : {}) };
  }
  if (err instanceof DicomFileError) return { path, ...err.toJSON(), reject: err.reject };
  if (err instanceof AppError) return { path, ...err.toJSON() };
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    return { path, code: ErrorCode.Unreadable, reject: 'UNREADABLE', message: `The file cannot be read: ${code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a folder' : 'permission denied'}.` };
  }
  return { path, code: ErrorCode.Internal, message: err instanceof Error ? err.message : String(err) };
}

/** An error as it crosses a thread: enough to raise the same SplitError / AppError on the other side. */
export interface WireError {
  code: string;
  message: string;
  hint?: string;
  failure?: SplitFailure;
  sopInstanceUid?: string | null;
}

export function toWire(err: unknown): WireError {
  if (err instanceof SplitError) return { code: err.code, message: err.message, hint: err.hint, failure: err.failure, sopInstanceUid: err.sopInstanceUid };
  if (err instanceof AppError) return { code: err.code, message: err.message, hint: err.hint };
  return { code: ErrorCode.Internal, message: err instanceof Error ? err.message : String(err) };
}

export function fromWire(w: WireError): Error {
  if (w.failure) return new SplitError(w.failure, w.code as ErrorCode, w.message, w.sopInstanceUid ?? null, w.hint);
  if (w.code !== ErrorCode.Internal) return new AppError(w.code as ErrorCode, w.message, w.hint);
  return new Error(w.message);
}

/** What a split of one file wrote: everything the index row needs, and where the sealed part waits. */
export interface SplitParts {
  path: string;
  sopInstanceUid: string;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  transferSyntaxUid: string;
  layout: SplitLayout;
  fileSha256: string;
  fileSize: number;
  meta: string;
  pixel: string;
  leaf: string;
  pixelSize: number;
  blobAddress: string;
  blobSize: number;
  metadataSize: number;
  /** The sealed metadata part: recorded in the index row, in the transaction that records the instance (no file of its own). */
  sealed: Uint8Array;
  /** The worker thread that did the work (worker_threads threadId; absent: the calling thread). */
  thread?: number;
}

/** How a thread reaches the parts: the secret, the folder store's blob writer and reader. */
export interface WorkContext {
  secret: Buffer;
  sealKey: Buffer;
  durable: boolean;
  /** The app-data folder (metadata paths are relative to it). */
  home: string;
  /** Folders this thread made already. */
  madeDirs: Set<string>;
  /** This thread's reusable read buffer (source files are read into it); none: a fresh buffer per file. */
  reader?: ReadBuffer;
  /** Stores a blob; with `pending`, its fsync is left to the caller's batch. */
  putBlob(pieces: Uint8Array[], address: string, pending?: PendingSync): void;
  /** The blob's bytes (perhaps a view of `reader`, valid until its next read), or null when the store does not have it. */
  getBlob(address: string): Buffer | null;
}

/** The metadata part's header for a cut instance whose Pixel Data was sealed into a blob of `blobSize` bytes at `address`. */
export function headerOf(cut: CutInstance, key: Buffer, blobSize: number, address: string): MetadataHeader {
  return {
    format: SPLIT_FORMAT_ID,
    sopInstanceUid: cut.sopInstanceUid,
    studyInstanceUid: cut.studyInstanceUid,
    seriesInstanceUid: cut.seriesInstanceUid,
    transferSyntaxUid: cut.transferSyntaxUid,
    layout: cut.layout,
    cutAt: cut.cutAt,
    pixelLength: cut.pixelPart.length,
    fileLength: cut.fileLength,
    fileSha256: cut.fileSha256,
    meta: cut.meta,
    pixel: cut.pixel,
    leaf: cut.leaf,
    blobAddress: address,
    blobSize,
    keyCheck: keyCheckValue(key).toString('hex'),
  };
}

/**
 * One file: read once, parsed once (fingerprinted from the same parse unless known), its Pixel Data
 * encrypted and stored, its metadata part sealed and returned (the caller records it in the index
 * row). With `pending` (a durable split), the blob is written without fsync and handed to
 * `pending`: the caller flushes a batch of them together before it records any.
 */
export async function splitToParts(ctx: WorkContext, path: string, known?: KnownFingerprint, pending?: PendingSync): Promise<SplitParts> {
  const bytes = ctx.reader ? ctx.reader.read(path) : readFileSync(path);
  const cut = await cutInstance(bytes, known);
  const key = deriveInstanceKey(ctx.secret, cut.meta);
  const blob = encryptPixelPieces(key, cut.leaf, cut.fileSha256, cut.pixelPart);
  ctx.putBlob(blob.pieces, blob.address, pending);
  const header = headerOf(cut, key, blob.size, blob.address);
  const sealed = sealMetadataPart(ctx.sealKey, cut.sopInstanceUid, encodeMetadataPart(header, cut.metadata));
  return {
    path,
    sopInstanceUid: cut.sopInstanceUid,
    studyInstanceUid: cut.studyInstanceUid,
    seriesInstanceUid: cut.seriesInstanceUid,
    transferSyntaxUid: cut.transferSyntaxUid,
    layout: cut.layout,
    fileSha256: cut.fileSha256,
    fileSize: cut.fileLength,
    meta: cut.meta,
    pixel: cut.pixel,
    leaf: cut.leaf,
    pixelSize: cut.pixelPart.length,
    blobAddress: blob.address,
    blobSize: blob.size,
    metadataSize: sealed.length,
    sealed,
  };
}

/** What the index says about an instance to rebuild (the row's fields a rebuild checks against). */
export interface RebuildTarget {
  sopInstanceUid: string;
  /** Absolute path of the sealed metadata part (rows written before stop 26). */
  metadataAbs: string;
  /** The sealed metadata part from the index row (rows since stop 26); when given, no file is read. */
  sealed?: Uint8Array | null;
  /** Its path as the index records it (for messages). */
  metadataRel: string;
  blobAddress: string;
  fileSha256: string;
}

/** Opens an instance's sealed metadata part and checks it against its index row. */
export function openSealed(sealKey: Buffer, t: RebuildTarget): ReturnType<typeof openMetadataPart> {
  const sop = t.sopInstanceUid;
  let sealed: Uint8Array;
  if (t.sealed) sealed = t.sealed;
  else if (!t.metadataRel) {
    throw new SplitError('METADATA_MISSING', ErrorCode.NotFound, `The sealed metadata part of instance ${sop} is missing from the split index.`, sop, 'Restore the app-data folder (the database) from a backup.');
  } else {
    try {
      sealed = readFileSync(t.metadataAbs);
    } catch {
      throw new SplitError('METADATA_MISSING', ErrorCode.NotFound, `The sealed metadata part of instance ${sop} (${t.metadataRel}) is missing.`, sop, 'Restore the app-data folder (split/metadata) from a backup.');
    }
  }
  const m = openMetadataPart(sealKey, sealed, sop);
  if (m.header.blobAddress !== t.blobAddress || m.header.fileSha256 !== t.fileSha256) {
    throw new SplitError('METADATA_MISMATCH', ErrorCode.Tampered, `The index and the sealed metadata part of instance ${sop} disagree about its blob or file digest.`, sop);
  }
  return m;
}

export function missingBlob(location: string, header: MetadataHeader): SplitError {
  const sop = header.sopInstanceUid;
  return new SplitError('BLOB_MISSING', ErrorCode.NotFound, `The pixel store ${location} has no blob ${header.blobAddress.slice(0, 16)}… for instance ${sop}: its Pixel Data cannot be restored.`, sop, 'Restore the pixel store from a backup, or check that the store the index names is reachable.');
}

/** The file name a rebuild writes for an instance. */
export const rebuiltName = (sop: string) => `${sop.replace(/[^0-9A-Za-z.]/g, '_')}.dcm`;

/**
 * One instance rebuilt into `outDir` (atomic: every check passes before the file appears). The
 * folder must exist. Returns the written path.
 */
export function rebuildToFolder(ctx: WorkContext, location: string, t: RebuildTarget, outDir: string, verifyDigest: boolean): { path: string; size: number; sha256: string } {
  const { header, metadata } = openSealed(ctx.sealKey, t);
  const blob = ctx.getBlob(header.blobAddress);
  if (!blob) throw missingBlob(location, header);
  const pieces = rebuildPieces(header, metadata, deriveInstanceKey(ctx.secret, header.meta), blob, { verifyDigest });
  const path = join(outDir, rebuiltName(t.sopInstanceUid));
  writeFileAtomicSync(path, pieces, { tmpDir: outDir, durable: false, mode: 0o644 });
  return { path, size: header.fileLength, sha256: header.fileSha256 };
}
