/**
 * Share packages on a real file system: round trip through the blob store, and each way a package
 * can fail to open gives its own error (wrong recipient key, altered key block, altered manifest,
 * altered ciphertext, truncated file, not a package, wrong content address).
 */
import { createECDH, createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SigningKey, Wallet } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { SharePackageError } from '../../src/node/share/crypto';
import { blobPath, buildPackage, openPackage, parsePackage, type ShareManifest } from '../../src/node/share/package';
import { tempDir } from '../support/tmp';

const FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const tmp = tempDir('medimg-share-');
afterAll(() => tmp.cleanup());

const recipient = Wallet.createRandom();
const other = Wallet.createRandom();
const sender = Wallet.createRandom();

function manifest(): ShareManifest {
  return {
    version: 1,
    studyRoot: '0x' + 'ab'.repeat(32),
    instances: [
      { key: 'inst-1', file: 'series-001/image-0001.dcm', digests: { pixel: 'aa'.repeat(32), meta: 'bb'.repeat(32) }, leaf: '0x' + '11'.repeat(32), proof: ['0x' + '22'.repeat(32)] },
      { key: 'inst-2', file: 'series-001/image-0002.dcm', digests: { pixel: 'cc'.repeat(32), meta: 'dd'.repeat(32) }, leaf: '0x' + '33'.repeat(32), proof: ['0x' + '44'.repeat(32)] },
      { key: 'inst-3', file: 'empty.bin', digests: {}, proof: [] },
    ],
    sender: sender.address,
    recipient: recipient.address,
    created: '2026-11-22T09:10:00.000Z',
  };
}

const ctBytes = readFileSync(join(FILES, 'CT_small.dcm'));
const mrBytes = readFileSync(join(FILES, 'MR_small.dcm'));
let built: { address: string; path: string; size: number };

async function expectFailure(p: Promise<unknown>, failure: string, code: string, message: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${failure}`).toBeInstanceOf(SharePackageError);
  expect((err as SharePackageError).failure).toBe(failure);
  expect((err as SharePackageError).code).toBe(code);
  expect((err as SharePackageError).message).toMatch(message);
}

function variant(name: string, mutate: (b: Buffer) => Buffer): string {
  const p = join(tmp.path, name);
  writeFileSync(p, mutate(Buffer.from(readFileSync(built.path))));
  return p;
}

describe('share packages', () => {
  it('round trip: encrypted for the recipient, stored under its SHA-256 in the blob store', async () => {
    const blobs = join(tmp.path, 'blobs');
    built = await buildPackage({
      files: [
        { name: 'series-001/image-0001.dcm', path: join(FILES, 'CT_small.dcm') },
        { name: 'series-001/image-0002.dcm', bytes: mrBytes },
        { name: 'empty.bin', bytes: new Uint8Array(0) },
      ],
      manifest: manifest(),
      recipientPublicKey: recipient.signingKey.publicKey, // ethers: 0x04‖X‖Y
      blobs,
    });
    const onDisk = readFileSync(built.path);
    expect(built.path).toBe(blobPath(blobs, built.address));
    expect(built.path).toBe(join(blobs, built.address.slice(0, 2), built.address));
    expect(createHash('sha256').update(onDisk).digest('hex')).toBe(built.address);
    expect(built.size).toBe(onDisk.length);
    // the files are not in the clear
    expect(onDisk.includes(Buffer.from('CompressedSamples'))).toBe(false);
    expect(onDisk.includes(ctBytes.subarray(1000, 1064))).toBe(false);

    const opened = await openPackage(built.path, recipient.privateKey);
    expect(opened.address).toBe(built.address);
    expect(opened.manifest).toEqual(manifest());
    expect(opened.files.map((f) => f.name)).toEqual(['series-001/image-0001.dcm', 'series-001/image-0002.dcm', 'empty.bin']);
    expect(Buffer.from(opened.files[0]!.bytes).equals(ctBytes)).toBe(true);
    expect(Buffer.from(opened.files[1]!.bytes).equals(mrBytes)).toBe(true);
    expect(opened.files[2]!.bytes.length).toBe(0);
  });

  it('a second package of the same files differs (fresh content key, fresh ephemeral key)', async () => {
    const again = await buildPackage({ files: [{ name: 'series-001/image-0001.dcm', bytes: ctBytes }, { name: 'series-001/image-0002.dcm', bytes: mrBytes }, { name: 'empty.bin', bytes: new Uint8Array(0) }], manifest: manifest(), recipientPublicKey: recipient.signingKey.compressedPublicKey, blobs: join(tmp.path, 'blobs') });
    expect(again.address).not.toBe(built.address);
    const h1 = parsePackage(readFileSync(built.path)).header;
    const h2 = parsePackage(readFileSync(again.path)).header;
    expect(h2.keyWrap.ephemeralPublicKey).not.toBe(h1.keyWrap.ephemeralPublicKey);
    expect(h2.recipient.publicKey).toBe(h1.recipient.publicKey); // compressed and uncompressed inputs agree
  });

  it('node’s ECDH on secp256k1 agrees with ethers’ account keys (same curve, same shared secret)', () => {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(Buffer.from(other.privateKey.slice(2), 'hex'));
    const ours = ecdh.computeSecret(Buffer.from(recipient.signingKey.publicKey.slice(2), 'hex'));
    const theirs = new SigningKey(other.privateKey).computeSharedSecret(recipient.signingKey.publicKey); // 0x04‖X‖Y
    expect(ours.toString('hex')).toBe(theirs.slice(4, 68));
  });

  it('wrong recipient key: WRONG_KEY', async () => {
    await expectFailure(openPackage(built.path, other.privateKey), 'WRONG_RECIPIENT', 'WRONG_KEY', /encrypted for another institution/);
  });

  it('a flipped byte in the ciphertext: TAMPERED (ciphertext), naming the file', async () => {
    const { header } = parsePackage(readFileSync(built.path));
    const r = header.files[1]!;
    const p = variant('flipped.pkg', (b) => {
      b[r.offset + 100] = b[r.offset + 100]! ^ 0x01;
      return b;
    });
    await expectFailure(openPackage(p, recipient.privateKey), 'CIPHERTEXT_TAMPERED', 'TAMPERED', /File 2 \(series-001\/image-0002\.dcm\).*altered/);
    // and a flipped bit in a GCM tag
    const q = variant('flipped-tag.pkg', (b) => {
      b[r.offset + r.length - 1] = b[r.offset + r.length - 1]! ^ 0x80;
      return b;
    });
    await expectFailure(openPackage(q, recipient.privateKey), 'CIPHERTEXT_TAMPERED', 'TAMPERED', /File 2/);
  });

  function rewriteHeader(b: Buffer, edit: (h: Record<string, unknown>) => void): Buffer {
    const { header, headerStart } = parsePackage(b);
    const h = JSON.parse(JSON.stringify(header)) as Record<string, unknown>;
    edit(h);
    const text = Buffer.from(JSON.stringify(h), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(text.length);
    return Buffer.concat([b.subarray(0, headerStart), text, len, Buffer.from('MISHEND1')]);
  }

  it('an edited manifest: TAMPERED (manifest)', async () => {
    const p = variant('manifest.pkg', (b) =>
      rewriteHeader(b, (h) => {
        (h.manifest as ShareManifest).studyRoot = '0x' + 'ac'.repeat(32);
      }),
    );
    await expectFailure(openPackage(p, recipient.privateKey), 'MANIFEST_TAMPERED', 'TAMPERED', /manifest was altered/);
    const q = variant('manifest-files.pkg', (b) =>
      rewriteHeader(b, (h) => {
        (h.files as { name: string }[])[0]!.name = 'other.dcm';
      }),
    );
    await expectFailure(openPackage(q, recipient.privateKey), 'MANIFEST_TAMPERED', 'TAMPERED', /manifest was altered/);
  });

  it('an edited key block: TAMPERED (key block)', async () => {
    const p = variant('keyblock.pkg', (b) =>
      rewriteHeader(b, (h) => {
        const kw = h.keyWrap as { wrappedKey: string };
        kw.wrappedKey = (kw.wrappedKey[0] === '0' ? '1' : '0') + kw.wrappedKey.slice(1);
      }),
    );
    await expectFailure(openPackage(p, recipient.privateKey), 'KEY_BLOCK_DAMAGED', 'TAMPERED', /key block/);
  });

  it('a truncated package: TRUNCATED, wherever it was cut', async () => {
    for (const keep of [4, 500, Math.floor(built.size / 2), built.size - 1]) {
      const p = variant(`truncated-${keep}.pkg`, (b) => b.subarray(0, keep));
      await expectFailure(openPackage(p, recipient.privateKey), 'TRUNCATED', 'TRUNCATED', /truncated/);
    }
  });

  it('not a package, and a valid package under the wrong content address', async () => {
    await expectFailure(openPackage(join(FILES, 'CT_small.dcm'), recipient.privateKey), 'NOT_A_PACKAGE', 'MALFORMED', /not a MedImgShr share package/);
    const wrongName = variant('0'.repeat(64), (b) => b);
    await expectFailure(openPackage(wrongName, recipient.privateKey), 'ADDRESS_MISMATCH', 'TAMPERED', /content address/);
    expect(existsSync(built.path)).toBe(true);
  });

  it('refuses unsafe file names and a manifest that lists a missing file', async () => {
    const blobs = join(tmp.path, 'blobs2');
    await expect(buildPackage({ files: [{ name: '../evil', bytes: ctBytes }], manifest: { ...manifest(), instances: [] }, recipientPublicKey: recipient.signingKey.publicKey, blobs })).rejects.toThrow(/not a valid file name/);
    await expect(buildPackage({ files: [{ name: 'a.dcm', bytes: ctBytes }], manifest: manifest(), recipientPublicKey: recipient.signingKey.publicKey, blobs })).rejects.toThrow(/not in the package/);
    await expect(buildPackage({ files: [{ name: 'a.dcm', bytes: ctBytes }], manifest: { ...manifest(), instances: [] }, recipientPublicKey: '0x04' + '00'.repeat(64), blobs })).rejects.toThrow(/not a point on secp256k1|not a secp256k1/);
  });
});
