/**
 * Rebuild: metadata part + instance key + pixel blob → the original Part-10 file, byte for byte.
 * Every check runs before a byte is returned; the caller writes only what this returns.
 */
import { createHash } from 'node:crypto';
import type { MetadataHeader } from '../../core/split/format';
import { ErrorCode } from '../../shared/errors';
import { SplitError } from './errors';
import { decryptPixelPart } from './seal';

export interface RebuildOptions {
  /**
   * Recompute the SHA-256 of the rebuilt file and compare it with the one recorded at split time
   * (default true). Both parts are already authenticated (GCM), so this re-checks the assembly.
   */
  verifyDigest?: boolean;
}

/** Metadata bytes up to the cut ‖ pixel part ‖ the rest. */
export function assemble(h: MetadataHeader, metadata: Uint8Array, pixelPart: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(h.fileLength);
  out.set(metadata.subarray(0, h.cutAt), 0);
  out.set(pixelPart, h.cutAt);
  out.set(metadata.subarray(h.cutAt), h.cutAt + pixelPart.length);
  return out;
}

/** The rebuilt file as three pieces (before the cut, the pixel part, after it), checked; no copy. */
export function rebuildPieces(h: MetadataHeader, metadata: Uint8Array, key: Buffer, blob: Uint8Array, opts: RebuildOptions = {}): Uint8Array[] {
  const pixelPart = decryptPixelPart(key, h, blob);
  if (pixelPart.length !== h.pixelLength) {
    throw new SplitError('REBUILD_MISMATCH', ErrorCode.Tampered, `The Pixel Data of instance ${h.sopInstanceUid} decrypts to ${pixelPart.length} bytes, not ${h.pixelLength}.`, h.sopInstanceUid);
  }
  const pieces = [metadata.subarray(0, h.cutAt), pixelPart, metadata.subarray(h.cutAt)];
  if (opts.verifyDigest ?? true) {
    const hash = createHash('sha256');
    for (const p of pieces) hash.update(p);
    checkDigest(h, hash.digest('hex'));
  }
  return pieces;
}

function checkDigest(h: MetadataHeader, got: string): void {
  if (got !== h.fileSha256) {
    throw new SplitError(
      'REBUILD_MISMATCH',
      ErrorCode.Tampered,
      `The rebuilt file of instance ${h.sopInstanceUid} has SHA-256 ${got.slice(0, 16)}…, not the original's ${h.fileSha256.slice(0, 16)}…; nothing was written.`,
      h.sopInstanceUid,
    );
  }
}

export function rebuildFromParts(h: MetadataHeader, metadata: Uint8Array, key: Buffer, blob: Uint8Array, opts: RebuildOptions = {}): Buffer {
  const pixelPart = decryptPixelPart(key, h, blob);
  if (pixelPart.length !== h.pixelLength) {
    throw new SplitError('REBUILD_MISMATCH', ErrorCode.Tampered, `The Pixel Data of instance ${h.sopInstanceUid} decrypts to ${pixelPart.length} bytes, not ${h.pixelLength}.`, h.sopInstanceUid);
  }
  const file = assemble(h, metadata, pixelPart);
  if (opts.verifyDigest ?? true) checkDigest(h, createHash('sha256').update(file).digest('hex'));
  return file;
}
