/**
 * AES-256-GCM for the two parts:
 * - the pixel blob, under the instance key, with the instance's Merkle leaf as associated data
 *   (a blob moved to another instance fails to open even if its key were known);
 * - the metadata part at rest, under the seal key (from the institution secret), with its clear
 *   label (format, SOP Instance UID, nonce) as associated data.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  BLOB_OVERHEAD,
  BLOB_VERSION,
  blobAad,
  decodeMetadataPart,
  decodeSealFrame,
  encodeSealFrame,
  parseBlob,
  sealAad,
  SPLIT_FORMAT_ID,
  SplitFormatError,
  type MetadataHeader,
} from '../../core/split/format';
import { ErrorCode } from '../../shared/errors';
import { blobNonce, keyCheckValue } from './keys';
import { SplitError } from './errors';

/**
 * Encrypts a pixel part into the blob's pieces: header (version ‖ key check ‖ nonce), ciphertext,
 * tag — in the order they are stored, without copying the ciphertext into one buffer (a store
 * writes the pieces with one writev) — and the blob's content address (SHA-256 over the pieces).
 */
export function encryptPixelPieces(key: Buffer, leaf: string, fileSha256: string, plaintext: Uint8Array): { pieces: Buffer[]; size: number; address: string } {
  const nonce = blobNonce(key, fileSha256);
  const head = Buffer.allocUnsafe(29);
  head[0] = BLOB_VERSION;
  keyCheckValue(key).copy(head, 1);
  nonce.copy(head, 17);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(blobAad(leaf));
  const body = c.update(plaintext);
  const fin = c.final();
  const pieces = fin.length ? [head, body, fin, c.getAuthTag()] : [head, body, c.getAuthTag()];
  const h = createHash('sha256');
  for (const p of pieces) h.update(p);
  return { pieces, size: plaintext.length + BLOB_OVERHEAD, address: h.digest('hex') };
}

/** Encrypts a pixel part into a blob: version ‖ key check ‖ nonce ‖ ciphertext ‖ tag. */
export function encryptPixelPart(key: Buffer, leaf: string, fileSha256: string, plaintext: Uint8Array): Buffer {
  return Buffer.concat(encryptPixelPieces(key, leaf, fileSha256, plaintext).pieces);
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && timingSafeEqual(a, b);

/**
 * Opens a pixel blob of the instance the metadata header describes, telling apart, in this order:
 * a wrong key (the key's check value differs from the one recorded at split time), a blob of another
 * instance (the blob's check value differs), a truncated or extended blob (size), and altered bytes
 * (GCM tag). Returns the pixel part.
 */
export function decryptPixelPart(key: Buffer, h: MetadataHeader, blob: Uint8Array): Buffer {
  const sop = h.sopInstanceUid;
  if (!same(keyCheckValue(key), Buffer.from(h.keyCheck, 'hex'))) {
    throw new SplitError('WRONG_KEY', ErrorCode.WrongKey, `The key given does not open the Pixel Data of instance ${sop}: it is not this instance's key.`, sop, 'The key is derived from the institution secret and the instance\'s meta digest; check that the right institution secret is in use.');
  }
  const f = parseBlob(blob);
  if (f && (f.version !== BLOB_VERSION || !same(f.keyCheck, Buffer.from(h.keyCheck, 'hex')))) {
    throw new SplitError(
      'BLOB_SWAPPED',
      ErrorCode.Tampered,
      `The pixel blob stored as ${h.blobAddress.slice(0, 16)}… is not the Pixel Data of instance ${sop}: it belongs to another instance or its header was altered.`,
      sop,
      'The pixel store returned the wrong object; restore the blob from a backup.',
    );
  }
  if (blob.length !== h.blobSize) {
    throw new SplitError(
      'BLOB_TRUNCATED',
      ErrorCode.Tampered,
      `The pixel blob ${h.blobAddress.slice(0, 16)}… of instance ${sop} is ${blob.length} bytes, not the ${h.blobSize} written at split time: it is ${blob.length < h.blobSize ? 'truncated' : 'longer than it was'}, so its Pixel Data cannot be restored.`,
      sop,
      'Restore the blob from a backup of the pixel store.',
    );
  }
  if (!f) throw new SplitError('BLOB_TRUNCATED', ErrorCode.Tampered, `The pixel blob of instance ${sop} is too short to be a blob.`, sop);
  const d = createDecipheriv('aes-256-gcm', key, f.nonce);
  d.setAAD(blobAad(h.leaf));
  d.setAuthTag(f.tag);
  const out = d.update(f.ciphertext);
  try {
    d.final();
  } catch {
    throw new SplitError(
      'BLOB_TAMPERED',
      ErrorCode.Tampered,
      `The pixel blob of instance ${sop} fails its AES-GCM check: its bytes were altered (or it was moved from another instance), so its Pixel Data is not trusted and nothing was written.`,
      sop,
      'Restore the blob from a backup of the pixel store.',
    );
  }
  return out;
}

/** Seals a plain metadata part for rest in app data. */
export function sealMetadataPart(sealKey: Buffer, sopInstanceUid: string, plainPart: Uint8Array): Buffer {
  const nonce = randomBytes(12);
  const label = { format: SPLIT_FORMAT_ID, sopInstanceUid, nonce: nonce.toString('hex') } as const;
  const c = createCipheriv('aes-256-gcm', sealKey, nonce);
  c.setAAD(sealAad(label));
  const body = Buffer.concat([c.update(plainPart), c.final(), c.getAuthTag()]);
  return Buffer.from(encodeSealFrame(label, body));
}

/**
 * Opens a sealed metadata part. `expectedSop` (from the index) names the instance when even the
 * label is damaged, and catches a sealed part that belongs to another instance.
 */
export function openMetadataPart(sealKey: Buffer, sealed: Uint8Array, expectedSop: string | null): { header: MetadataHeader; metadata: Uint8Array; plain: Buffer } {
  const who = expectedSop ?? 'an unknown instance';
  const tampered = (what: string) =>
    new SplitError('METADATA_TAMPERED', ErrorCode.Tampered, `The metadata part of instance ${who} was altered: ${what}. Nothing was written.`, expectedSop, 'Restore the app-data folder (split/metadata) from a backup.');
  let frame;
  try {
    frame = decodeSealFrame(sealed);
  } catch (err) {
    throw tampered((err as Error).message);
  }
  const sop = frame.label.sopInstanceUid;
  if (expectedSop && sop !== expectedSop) {
    throw new SplitError('METADATA_MISMATCH', ErrorCode.Tampered, `The metadata part stored for instance ${expectedSop} is the one of instance ${sop}.`, expectedSop, 'Restore the app-data folder (split/metadata) from a backup.');
  }
  const ct = frame.ciphertextAndTag;
  if (ct.length < 16) throw tampered('it is cut short');
  const d = createDecipheriv('aes-256-gcm', sealKey, Buffer.from(frame.label.nonce, 'hex'));
  d.setAAD(frame.aad);
  d.setAuthTag(ct.subarray(ct.length - 16));
  const plain = d.update(ct.subarray(0, ct.length - 16));
  try {
    d.final();
  } catch {
    throw new SplitError(
      'METADATA_TAMPERED',
      ErrorCode.Tampered,
      `The metadata part of instance ${sop} fails its seal (AES-GCM under the institution secret): it was altered, or sealed by another institution. Nothing was written.`,
      sop,
      'Restore the app-data folder (split/metadata) from a backup, and check that this is the institution secret it was split with.',
    );
  }
  try {
    const { header, metadata } = decodeMetadataPart(plain);
    if (header.sopInstanceUid !== sop) throw new SplitFormatError(`it names instance ${header.sopInstanceUid} inside`);
    return { header, metadata, plain };
  } catch (err) {
    throw tampered((err as Error).message);
  }
}
