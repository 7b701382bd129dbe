/**
 * Takahashi's "multi-use key", made safe to put half of it on a chain:
 *
 *   instance key = HKDF-SHA256(IKM = institution secret (32 bytes),
 *                              salt = the instance's `meta` digest (32 bytes, fingerprint spec v1),
 *                              info = "medimgshr-split/1 pixel-key", L = 32)
 *
 * The `meta` digest is in the instance's Merkle leaf, which anyone holding a study's proof can see,
 * so the digest alone must never open a blob: the institution secret is the other half. The secret
 * is random, created once per app-data folder (0600) and never leaves the institution; a recipient
 * gets the per-instance key (wrapped to it), never the secret.
 *
 * Derived from the instance key (HMAC-SHA256, truncated):
 *   key check = HMAC(key, "medimgshr-split/1 key-check")[0..16]       — tells a wrong key from a swapped blob
 *   nonce     = HMAC(key, "medimgshr-split/1 nonce" ‖ file SHA-256)[0..12] — deterministic per file, so a
 *               re-split of the same file makes the same blob (idempotent, no duplicates), and two
 *               different plaintexts under one key (the same instance in two transfer syntaxes) never
 *               share a nonce.
 * and from the secret alone:
 *   seal key  = HKDF-SHA256(IKM = secret, salt = "", info = "medimgshr-split/1 metadata-seal", L = 32)
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createHmac, randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { ErrorCode } from '../../shared/errors';
import { SplitError } from './errors';

export const SECRET_BYTES = 32;
const INFO_PIXEL = 'medimgshr-split/1 pixel-key';
const INFO_SEAL = 'medimgshr-split/1 metadata-seal';
const KEY_CHECK = 'medimgshr-split/1 key-check';
const NONCE = 'medimgshr-split/1 nonce';

function digestBytes(hex: string, what: string): Buffer {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (!/^[0-9a-f]{64}$/.test(h)) throw new SplitError('SECRET_INVALID', ErrorCode.InvalidArgument, `The ${what} is not a 32-byte lowercase hex digest.`);
  return Buffer.from(h, 'hex');
}

const INFO_PIXEL_1 = Buffer.concat([Buffer.from(INFO_PIXEL, 'utf8'), Buffer.from([1])]);
const INFO_SEAL_1 = Buffer.concat([Buffer.from(INFO_SEAL, 'utf8'), Buffer.from([1])]);

/**
 * HKDF-SHA256 (RFC 5869) for L = 32: PRK = HMAC(salt, IKM), OKM = T(1) = HMAC(PRK, info ‖ 0x01).
 * The same bytes as crypto.hkdfSync (the vectors in test/unit/split/keys.test.ts), at half its cost
 * per call: hkdfSync goes through a KDF context each time, and a split derives one key per instance.
 */
function hkdf32(ikm: Uint8Array, salt: Uint8Array, info1: Uint8Array): Buffer {
  const prk = createHmac('sha256', salt.length ? salt : Buffer.alloc(32)).update(ikm).digest();
  return createHmac('sha256', prk).update(info1).digest();
}

/** The per-instance key from the institution secret and the instance's `meta` digest (hex). */
export function deriveInstanceKey(secret: Uint8Array, meta: string): Buffer {
  if (secret.length !== SECRET_BYTES) throw new SplitError('SECRET_INVALID', ErrorCode.InvalidArgument, `The institution secret must be ${SECRET_BYTES} bytes.`);
  return hkdf32(secret, digestBytes(meta, 'meta digest'), INFO_PIXEL_1);
}

/** The key that seals metadata parts at rest. */
export function deriveSealKey(secret: Uint8Array): Buffer {
  if (secret.length !== SECRET_BYTES) throw new SplitError('SECRET_INVALID', ErrorCode.InvalidArgument, `The institution secret must be ${SECRET_BYTES} bytes.`);
  return hkdf32(secret, Buffer.alloc(0), INFO_SEAL_1);
}

export function keyCheckValue(key: Uint8Array): Buffer {
  return createHmac('sha256', key).update(KEY_CHECK).digest().subarray(0, 16);
}

export function blobNonce(key: Uint8Array, fileSha256: string): Buffer {
  return createHmac('sha256', key).update(NONCE).update(digestBytes(fileSha256, 'file digest')).digest().subarray(0, 12);
}

/** Where the institution secret comes from (a file in app data by default; an HSM or OS keychain later). */
export interface InstitutionSecretProvider {
  secret(): Buffer;
}

/**
 * The secret in a file, created on first use with 32 random bytes, owner read/write only (0600),
 * written with O_EXCL + fsync so two processes starting at once agree on one secret. Losing this
 * file loses every split image of the institution: back it up with the database.
 */
export class FileInstitutionSecret implements InstitutionSecretProvider {
  private cached: Buffer | null = null;
  constructor(readonly path: string) {}

  secret(): Buffer {
    if (this.cached) return this.cached;
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      bytes = this.create();
    }
    if (bytes.length !== SECRET_BYTES) {
      throw new SplitError(
        'SECRET_INVALID',
        ErrorCode.Internal,
        `The institution secret ${this.path} holds ${bytes.length} bytes, not ${SECRET_BYTES}: it is damaged, and no split instance can be opened with it.`,
        null,
        'Restore the file from the backup of this app-data folder.',
      );
    }
    if (process.platform !== 'win32' && (statSync(this.path).mode & 0o077) !== 0) {
      throw new SplitError('SECRET_INVALID', ErrorCode.Denied, `The institution secret ${this.path} is readable by other users.`, null, `Run: chmod 600 ${this.path}`);
    }
    this.cached = bytes;
    return bytes;
  }

  private create(): Buffer {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const bytes = randomBytes(SECRET_BYTES);
    // Written whole to a private temporary name, then linked into place: link() fails if another
    // process got there first, and nobody ever sees a half-written secret.
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, this.path);
      return bytes;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(this.path);
      throw err;
    } finally {
      unlinkSync(tmp);
    }
  }
}
