/**
 * Key derivation vectors (docs/split-storage.md §4, cross-checked with `openssl kdf ... HKDF`) and
 * the claim that the digest on the chain alone never opens a blob.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blobAad, parseBlob, type MetadataHeader, SPLIT_FORMAT_ID } from '../../../src/core/split/format';
import { blobNonce, deriveInstanceKey, deriveSealKey, keyCheckValue } from '../../../src/node/split/keys';
import { decryptPixelPart, encryptPixelPart } from '../../../src/node/split/seal';
import { cutInstance } from '../../../src/node/split/split';

const SECRET = Buffer.from([...Array(32).keys()]); // 00 01 … 1f
const MR_SMALL = '/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_small.dcm';
const MR_META = '6c15d43018404e272eb8b559c9649891a4163c06040d1234e58bad3785c488e1';
const MR_FILE = '3f27d1c22f1a66e80d7bb7c911e8610fd0bb70325a76746a7adb1c0ddefcf2bb';

describe('split key derivation vectors', () => {
  it('instance key = HKDF-SHA256(secret, salt = meta, info = "medimgshr-split/1 pixel-key")', () => {
    expect(deriveInstanceKey(SECRET, MR_META).toString('hex')).toBe('b86fa8f0086b0eee28c4473b3a2123eea6f40d10e8c4da90448c2aeabd9e765c');
  });
  it('seal key = HKDF-SHA256(secret, salt = "", info = "medimgshr-split/1 metadata-seal")', () => {
    expect(deriveSealKey(SECRET).toString('hex')).toBe('bd63a29479aefdd7a07613b546d46d54cb651eedc76cbd672e0c408d3dc39517');
  });
  it('key check value and nonce', () => {
    const key = deriveInstanceKey(SECRET, MR_META);
    expect(keyCheckValue(key).toString('hex')).toBe('2c14a5965b46b2e651acc96f54cfe540');
    expect(blobNonce(key, MR_FILE).toString('hex')).toBe('8b71a2650657570ded035313');
  });
  it("MR_small.dcm's blob under the vector secret has a fixed address (deterministic nonce)", async () => {
    const cut = await cutInstance(readFileSync(MR_SMALL));
    expect(cut.meta).toBe(MR_META);
    expect(cut.fileSha256).toBe(MR_FILE);
    expect(cut.leaf).toBe('bec8e0e1b7099ce68eaff0225f3b66e6f1a42b4e5032be08c1f42d56ff027cb1');
    const blob = encryptPixelPart(deriveInstanceKey(SECRET, MR_META), cut.leaf, cut.fileSha256, cut.pixelPart);
    expect(blob.length).toBe(8192 + 45);
    expect(createHash('sha256').update(blob).digest('hex')).toBe('137369c52534f8b21c84f9dd2a0b62fdf06a577e1b50be0ff3728895572f39eb');
  });
  it('a different secret or a different meta digest gives an unrelated key', () => {
    const other = Buffer.from(SECRET);
    other[0] = other[0]! ^ 1;
    expect(deriveInstanceKey(other, MR_META).equals(deriveInstanceKey(SECRET, MR_META))).toBe(false);
    const meta2 = MR_META.slice(0, 63) + (MR_META.endsWith('1') ? '0' : '1');
    expect(deriveInstanceKey(SECRET, meta2).equals(deriveInstanceKey(SECRET, MR_META))).toBe(false);
  });
});

describe('the digest on the chain alone cannot decrypt', () => {
  it('every key one can make from the leaf and the meta digest without the institution secret fails', async () => {
    const cut = await cutInstance(readFileSync(MR_SMALL));
    const key = deriveInstanceKey(SECRET, cut.meta);
    const blob = encryptPixelPart(key, cut.leaf, cut.fileSha256, cut.pixelPart);
    const h = {
      format: SPLIT_FORMAT_ID, sopInstanceUid: cut.sopInstanceUid, leaf: cut.leaf, blobSize: blob.length, blobAddress: 'a'.repeat(64),
      keyCheck: keyCheckValue(key).toString('hex'), pixelLength: cut.pixelPart.length,
    } as MetadataHeader;
    expect(decryptPixelPart(key, h, blob).equals(Buffer.from(cut.pixelPart))).toBe(true);
    const metaBytes = Buffer.from(cut.meta, 'hex');
    const attempts: [string, Buffer][] = [
      ['the meta digest as the key', metaBytes],
      ['SHA-256 of the meta digest', createHash('sha256').update(metaBytes).digest()],
      ['HKDF with an all-zero secret', deriveInstanceKey(Buffer.alloc(32), cut.meta)],
      ['HKDF with the meta digest as the secret', deriveInstanceKey(metaBytes, cut.meta)],
      ['HKDF with the leaf as the secret', deriveInstanceKey(Buffer.from(cut.leaf, 'hex'), cut.meta)],
      ['HKDF with no secret', Buffer.from(hkdfSync('sha256', Buffer.alloc(0), metaBytes, 'medimgshr-split/1 pixel-key', 32))],
    ];
    const f = parseBlob(blob)!;
    for (const [what, k] of attempts) {
      expect(() => decryptPixelPart(k, h, blob), what).toThrow(/not this instance's key/);
      // And bypassing the key check: GCM itself refuses.
      const d = createDecipheriv('aes-256-gcm', k, f.nonce);
      d.setAAD(blobAad(cut.leaf));
      d.setAuthTag(f.tag);
      d.update(f.ciphertext);
      expect(() => d.final(), what).toThrow();
    }
    // Sanity: the blob is not the plaintext under some trivial transform.
    const c = createCipheriv('aes-256-gcm', metaBytes, f.nonce);
    expect(c.update(cut.pixelPart).equals(Buffer.from(f.ciphertext))).toBe(false);
  });
});
