/**
 * Share-package cryptography, built only from node:crypto's standard primitives:
 *
 * - content encryption: AES-256-GCM under a fresh random 256-bit content key per package; every
 *   file is its own GCM message (96-bit nonce = 4 zero bytes ‖ 64-bit big-endian file index; the
 *   key is never reused across packages, so counter nonces never repeat).
 * - key wrap (ECIES on secp256k1): an ephemeral key pair per package; ECDH with the recipient
 *   institution's secp256k1 public key (the x coordinate of the shared point); HKDF-SHA256
 *   (salt = ephemeral public key ‖ recipient public key, both compressed; info =
 *   "medimgshr-share/1 key-wrap") → 256-bit key-encryption key; AES-256-GCM wrap of the content key
 *   with a random 96-bit nonce, the package id and both public keys as associated data.
 * - manifest authentication: AES-256-GCM with an empty plaintext (i.e. GMAC) under the content key,
 *   the canonical package header (manifest, file table, key-wrap block) as associated data.
 *
 * Ethereum accounts are secp256k1 keys, so an institution's account public key (ethers
 * `SigningKey.publicKey`, 0x04‖X‖Y) is its share-package public key.
 */
import { createCipheriv, createDecipheriv, createECDH, ECDH, hkdfSync, randomBytes } from 'node:crypto';
import { AppError, ErrorCode } from '../../shared/errors';

export const CURVE = 'secp256k1';
export const KEY_WRAP_SCHEME = 'ECIES-secp256k1/HKDF-SHA256/AES-256-GCM';
const HKDF_INFO = Buffer.from('medimgshr-share/1 key-wrap', 'utf8');
const TAG_BYTES = 16;

export type ShareFailure =
  | 'NOT_A_PACKAGE'
  | 'UNSUPPORTED_VERSION'
  | 'TRUNCATED'
  | 'WRONG_RECIPIENT'
  | 'KEY_BLOCK_DAMAGED'
  | 'MANIFEST_TAMPERED'
  | 'CIPHERTEXT_TAMPERED'
  | 'ADDRESS_MISMATCH';

/** A share-package failure: the bridge error code plus which check failed. */
export class SharePackageError extends AppError {
  constructor(
    readonly failure: ShareFailure,
    code: ErrorCode,
    message: string,
    hint?: string,
  ) {
    super(code, message, hint);
    this.name = 'SharePackageError';
  }
}

function hexBytes(input: string | Uint8Array, what: string): Buffer {
  if (typeof input !== 'string') return Buffer.from(input);
  const h = input.startsWith('0x') || input.startsWith('0X') ? input.slice(2) : input;
  if (!/^[0-9a-fA-F]*$/.test(h) || h.length % 2 !== 0) {
    throw new AppError(ErrorCode.InvalidArgument, `The ${what} is not hexadecimal.`);
  }
  return Buffer.from(h, 'hex');
}

/** A secp256k1 public key (33-byte compressed, or 65-byte uncompressed as ethers gives it) → compressed. */
export function normalisePublicKey(key: string | Uint8Array): Buffer {
  const b = hexBytes(key, 'recipient public key');
  if (!((b.length === 33 && (b[0] === 2 || b[0] === 3)) || (b.length === 65 && b[0] === 4))) {
    throw new AppError(ErrorCode.InvalidArgument, 'The recipient public key is not a secp256k1 public key (33 or 65 bytes).', 'Use the institution account’s public key (SigningKey.publicKey in ethers).');
  }
  try {
    return ECDH.convertKey(b, CURVE, undefined, undefined, 'compressed') as Buffer;
  } catch {
    throw new AppError(ErrorCode.InvalidArgument, 'The recipient public key is not a point on secp256k1.');
  }
}

/** The compressed public key of a secp256k1 private key (32 bytes, hex or bytes). */
export function publicKeyOf(privateKey: string | Uint8Array): Buffer {
  const priv = hexBytes(privateKey, 'private key');
  if (priv.length !== 32) throw new AppError(ErrorCode.InvalidArgument, 'A secp256k1 private key is 32 bytes.');
  const ecdh = createECDH(CURVE);
  try {
    ecdh.setPrivateKey(priv);
  } catch {
    throw new AppError(ErrorCode.InvalidArgument, 'The private key is not a valid secp256k1 key.');
  }
  return ecdh.getPublicKey(null, 'compressed');
}

function kek(shared: Buffer, ephemeralPub: Buffer, recipientPub: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralPub, recipientPub]), HKDF_INFO, 32));
}

export interface WrappedKey {
  ephemeralPublicKey: Buffer; // compressed, 33 bytes
  nonce: Buffer; // 12 bytes
  wrapped: Buffer; // 32-byte ciphertext ‖ 16-byte tag
}

/** ECIES: wraps `contentKey` to `recipientPublicKey`; `aad` binds it to the package. */
export function wrapKey(contentKey: Buffer, recipientPublicKey: Buffer, aad: Buffer): WrappedKey {
  const eph = createECDH(CURVE);
  eph.generateKeys();
  const ephemeralPublicKey = eph.getPublicKey(null, 'compressed');
  const shared = eph.computeSecret(recipientPublicKey);
  const key = kek(shared, ephemeralPublicKey, recipientPublicKey);
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const wrapped = Buffer.concat([c.update(contentKey), c.final(), c.getAuthTag()]);
  return { ephemeralPublicKey, nonce, wrapped };
}

/** Unwraps the content key with the recipient's private key; null when it does not authenticate. */
export function unwrapKey(w: WrappedKey, recipientPrivateKey: Buffer, aad: Buffer): Buffer | null {
  const ecdh = createECDH(CURVE);
  ecdh.setPrivateKey(recipientPrivateKey);
  const recipientPub = ecdh.getPublicKey(null, 'compressed');
  let shared: Buffer;
  try {
    shared = ecdh.computeSecret(w.ephemeralPublicKey);
  } catch {
    return null; // the ephemeral key is not a curve point: the key block was altered
  }
  if (w.wrapped.length !== 32 + TAG_BYTES || w.nonce.length !== 12) return null;
  const key = kek(shared, w.ephemeralPublicKey, recipientPub);
  const d = createDecipheriv('aes-256-gcm', key, w.nonce);
  d.setAAD(aad);
  d.setAuthTag(w.wrapped.subarray(32));
  try {
    return Buffer.concat([d.update(w.wrapped.subarray(0, 32)), d.final()]);
  } catch {
    return null;
  }
}

/** The per-file nonce: 4 zero bytes ‖ 64-bit big-endian index. */
export function fileNonce(index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

export function newContentKey(): Buffer {
  return randomBytes(32);
}

/** A streaming AES-256-GCM encryptor for one file (call `final()` for the tag). */
export function fileCipher(contentKey: Buffer, index: number, aad: Buffer) {
  const c = createCipheriv('aes-256-gcm', contentKey, fileNonce(index));
  c.setAAD(aad);
  return c;
}

/** Decrypts one file; null when the ciphertext, its tag or its associated data were altered. */
export function decryptFile(contentKey: Buffer, index: number, aad: Buffer, ciphertextAndTag: Uint8Array): Buffer | null {
  if (ciphertextAndTag.length < TAG_BYTES) return null;
  const d = createDecipheriv('aes-256-gcm', contentKey, fileNonce(index));
  d.setAAD(aad);
  d.setAuthTag(Buffer.from(ciphertextAndTag.subarray(ciphertextAndTag.length - TAG_BYTES)));
  try {
    return Buffer.concat([d.update(ciphertextAndTag.subarray(0, ciphertextAndTag.length - TAG_BYTES)), d.final()]);
  } catch {
    return null;
  }
}

/** GMAC: AES-256-GCM over an empty plaintext with `aad`; returns the 16-byte tag. */
export function gmac(contentKey: Buffer, nonce: Buffer, aad: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', contentKey, nonce);
  c.setAAD(aad);
  c.final();
  return c.getAuthTag();
}

export function gmacVerify(contentKey: Buffer, nonce: Buffer, aad: Buffer, tag: Buffer): boolean {
  if (tag.length !== TAG_BYTES || nonce.length !== 12) return false;
  const d = createDecipheriv('aes-256-gcm', contentKey, nonce);
  d.setAAD(aad);
  d.setAuthTag(tag);
  try {
    d.final();
    return true;
  } catch {
    return false;
  }
}

export { TAG_BYTES };
