/**
 * The share package on disk (format "medimgshr-share/1"; docs/share-package.md):
 *
 *   "MISHARE1"                          8-byte magic
 *   record 0 … record n-1               AES-256-GCM ciphertext ‖ 16-byte tag of each file
 *   header                              canonical JSON (UTF-8), see PackageHeader
 *   header length                       uint32, big-endian
 *   "MISHEND1"                          8-byte end magic
 *
 * The header comes last so files can be streamed in without knowing their sizes first; a package
 * cut short loses its end magic and is reported as truncated. The package is content-addressed:
 * stored as <blobs>/<first 2 hex>/<SHA-256 hex of the whole file>.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AppError, ErrorCode } from '../../shared/errors';
import { canonicalJson } from '../audit/canonical';
import { commitFile } from '../atomic';
import {
  CURVE,
  KEY_WRAP_SCHEME,
  SharePackageError,
  TAG_BYTES,
  decryptFile,
  fileCipher,
  gmac,
  gmacVerify,
  newContentKey,
  normalisePublicKey,
  publicKeyOf,
  unwrapKey,
  wrapKey,
} from './crypto';

export const PACKAGE_FORMAT = 'medimgshr-share/1';
const MAGIC = Buffer.from('MISHARE1', 'latin1');
const END = Buffer.from('MISHEND1', 'latin1');
const TRAILER = 4 + END.length;
/** GMAC nonce for the header: distinct from every file nonce (those start with 4 zero bytes). */
const MANIFEST_NONCE = Buffer.from('ffffffff0000000000000000', 'hex');

/** One instance in the manifest, as the fingerprint work produces it (taken as given, not computed here). */
export interface ShareManifestInstance {
  /** The instance key (e.g. SOP Instance UID or a keyed hash of it). */
  key: string;
  /** Name of its file inside the package, when it has one. */
  file?: string;
  /** Digests by kind (pixel, meta, file …), hex. */
  digests: Record<string, string>;
  /** The Merkle leaf and its proof against the study root. */
  leaf?: string;
  proof: string[];
}

export interface ShareManifest {
  version: 1;
  studyRoot: string;
  instances: ShareManifestInstance[];
  /** Sender institution (account address). */
  sender: string;
  /** Recipient institution (account address). */
  recipient: string;
  /** ISO 8601. */
  created: string;
  [extra: string]: unknown;
}

export interface PackageFileRecord {
  index: number;
  name: string;
  /** Plaintext size, bytes. */
  size: number;
  /** Offset of the record (ciphertext ‖ tag) from the start of the package. */
  offset: number;
  /** Record length: size + 16. */
  length: number;
}

export interface PackageHeader {
  format: typeof PACKAGE_FORMAT;
  packageId: string;
  manifest: ShareManifest;
  manifestSha256: string;
  recipient: { curve: typeof CURVE; publicKey: string };
  keyWrap: { scheme: typeof KEY_WRAP_SCHEME; ephemeralPublicKey: string; nonce: string; wrappedKey: string };
  files: PackageFileRecord[];
  /** GMAC of the canonical header without this field, under the content key. */
  manifestTag: string;
}

export interface PackageFile {
  /** Name inside the package: a relative path with / separators, no "..". */
  name: string;
  bytes?: Uint8Array;
  /** Read from this path when `bytes` is not given (streamed). */
  path?: string;
}

export interface BuildPackageOptions {
  files: PackageFile[];
  manifest: ShareManifest;
  /** The recipient institution's secp256k1 public key (hex, compressed or 0x04-uncompressed). */
  recipientPublicKey: string | Uint8Array;
  /** The blob store folder (home.blobs). */
  blobs: string;
}

export interface BuiltPackage {
  /** SHA-256 (hex) of the package file: its content address. */
  address: string;
  path: string;
  size: number;
}

export interface OpenedPackage {
  address: string;
  packageId: string;
  manifest: ShareManifest;
  files: { name: string; bytes: Uint8Array }[];
}

export function blobPath(blobs: string, address: string): string {
  return join(blobs, address.slice(0, 2), address);
}

function checkName(name: string): void {
  if (
    !name ||
    name.length > 255 ||
    name.startsWith('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    name.split('/').some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new AppError(ErrorCode.InvalidArgument, `"${name}" is not a valid file name inside a share package.`, 'Use relative names like series-001/image-0001.dcm.');
  }
}

function checkManifest(m: ShareManifest, names: Set<string>): void {
  if (!m || m.version !== 1 || typeof m.studyRoot !== 'string' || !Array.isArray(m.instances) || typeof m.sender !== 'string' || typeof m.recipient !== 'string' || typeof m.created !== 'string') {
    throw new AppError(ErrorCode.InvalidArgument, 'The share manifest is incomplete: it needs version 1, studyRoot, instances, sender, recipient and created.');
  }
  for (const inst of m.instances) {
    if (inst.file !== undefined && !names.has(inst.file)) {
      throw new AppError(ErrorCode.InvalidArgument, `The manifest lists file "${inst.file}", which is not in the package.`);
    }
  }
}

function fileAad(packageId: string, manifestSha256: string, index: number, name: string): Buffer {
  return Buffer.from(canonicalJson([PACKAGE_FORMAT, packageId, manifestSha256, index, name]), 'utf8');
}

function wrapAad(packageId: string, recipientPublicKey: string): Buffer {
  return Buffer.from(canonicalJson([PACKAGE_FORMAT, packageId, recipientPublicKey]), 'utf8');
}

function headerCore(h: Omit<PackageHeader, 'manifestTag'> | PackageHeader): Buffer {
  const { manifestTag: _omit, ...core } = h as PackageHeader;
  return Buffer.from(canonicalJson(core), 'utf8');
}

/**
 * Encrypts `files` for the recipient and stores the package in the blob store under its SHA-256.
 * Written to a temporary name and renamed into place, so a failure leaves no package behind.
 */
export async function buildPackage(opts: BuildPackageOptions): Promise<BuiltPackage> {
  const recipient = normalisePublicKey(opts.recipientPublicKey);
  const names = new Set<string>();
  for (const f of opts.files) {
    checkName(f.name);
    if (names.has(f.name)) throw new AppError(ErrorCode.InvalidArgument, `The file name "${f.name}" appears twice.`);
    if (!f.bytes && !f.path) throw new AppError(ErrorCode.InvalidArgument, `The file "${f.name}" has neither bytes nor a path.`);
    names.add(f.name);
  }
  if (opts.files.length === 0) throw new AppError(ErrorCode.InvalidArgument, 'A share package needs at least one file.');
  checkManifest(opts.manifest, names);
  const manifestSha256 = createHash('sha256').update(canonicalJson(opts.manifest), 'utf8').digest('hex');
  const packageId = randomBytes(16).toString('hex');
  const contentKey = newContentKey();
  await mkdir(opts.blobs, { recursive: true, mode: 0o700 });
  const tmp = join(opts.blobs, `.share-${randomBytes(8).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  const digest = createHash('sha256');
  let offset = 0;
  const put = async (b: Uint8Array) => {
    if (b.length === 0) return;
    digest.update(b);
    let done = 0;
    while (done < b.length) {
      const { bytesWritten } = await fh.write(b, done, b.length - done, offset + done);
      done += bytesWritten;
    }
    offset += b.length;
  };
  try {
    await put(MAGIC);
    const records: PackageFileRecord[] = [];
    for (const [index, f] of opts.files.entries()) {
      const start = offset;
      const cipher = fileCipher(contentKey, index, fileAad(packageId, manifestSha256, index, f.name));
      let size = 0;
      if (f.bytes) {
        size = f.bytes.length;
        await put(cipher.update(f.bytes));
      } else {
        for await (const chunk of createReadStream(f.path!)) {
          size += (chunk as Buffer).length;
          await put(cipher.update(chunk as Buffer));
        }
      }
      await put(cipher.final());
      await put(cipher.getAuthTag());
      records.push({ index, name: f.name, size, offset: start, length: offset - start });
    }
    const recipientHex = recipient.toString('hex');
    const w = wrapKey(contentKey, recipient, wrapAad(packageId, recipientHex));
    const core: Omit<PackageHeader, 'manifestTag'> = {
      format: PACKAGE_FORMAT,
      packageId,
      manifest: opts.manifest,
      manifestSha256,
      recipient: { curve: CURVE, publicKey: recipientHex },
      keyWrap: {
        scheme: KEY_WRAP_SCHEME,
        ephemeralPublicKey: w.ephemeralPublicKey.toString('hex'),
        nonce: w.nonce.toString('hex'),
        wrappedKey: w.wrapped.toString('hex'),
      },
      files: records,
    };
    const header: PackageHeader = { ...core, manifestTag: gmac(contentKey, MANIFEST_NONCE, headerCore(core)).toString('hex') };
    const headerBytes = Buffer.from(canonicalJson(header), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(headerBytes.length);
    await put(headerBytes);
    await put(Buffer.concat([len, END]));
    await fh.sync();
    await fh.close();
    const address = digest.digest('hex');
    const path = blobPath(opts.blobs, address);
    await mkdir(join(opts.blobs, address.slice(0, 2)), { recursive: true, mode: 0o700 });
    await commitFile(tmp, path);
    return { address, path, size: offset };
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  } finally {
    contentKey.fill(0);
  }
}

function fail(failure: ConstructorParameters<typeof SharePackageError>[0], code: ErrorCode, message: string, hint?: string): never {
  throw new SharePackageError(failure, code, message, hint);
}

/** Splits a package into its records and parsed header; throws NOT_A_PACKAGE / TRUNCATED / UNSUPPORTED_VERSION. */
export function parsePackage(bytes: Uint8Array): { header: PackageHeader; headerStart: number } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < MAGIC.length) {
    if (MAGIC.subarray(0, b.length).equals(b) && b.length > 0) fail('TRUNCATED', ErrorCode.Truncated, 'The share package is truncated: it ends right after its first bytes.', 'Fetch or copy the package again.');
    fail('NOT_A_PACKAGE', ErrorCode.Malformed, 'This is not a MedImgShr share package.');
  }
  if (!b.subarray(0, MAGIC.length).equals(MAGIC)) fail('NOT_A_PACKAGE', ErrorCode.Malformed, 'This is not a MedImgShr share package (wrong signature).');
  if (b.length < MAGIC.length + TRAILER || !b.subarray(b.length - END.length).equals(END)) {
    fail('TRUNCATED', ErrorCode.Truncated, `The share package is truncated: its ${b.length} bytes end before the table of contents.`, 'Fetch or copy the package again; the sender can re-send it.');
  }
  const headerLen = b.readUInt32BE(b.length - TRAILER);
  const headerStart = b.length - TRAILER - headerLen;
  if (headerStart < MAGIC.length) fail('TRUNCATED', ErrorCode.Truncated, 'The share package is truncated: its table of contents is longer than the file.');
  let header: PackageHeader;
  try {
    header = JSON.parse(b.subarray(headerStart, headerStart + headerLen).toString('utf8')) as PackageHeader;
  } catch {
    fail('MANIFEST_TAMPERED', ErrorCode.Tampered, 'The share package’s manifest is damaged: it is not valid JSON.', 'Do not use this package; ask the sender to share again.');
  }
  if (!header || typeof header !== 'object') fail('MANIFEST_TAMPERED', ErrorCode.Tampered, 'The share package’s manifest is damaged.');
  if (header.format !== PACKAGE_FORMAT) {
    fail('UNSUPPORTED_VERSION', ErrorCode.Malformed, `The share package has format "${String(header.format)}"; this app reads ${PACKAGE_FORMAT}.`, 'Update MedImgShr.');
  }
  return { header, headerStart };
}

/**
 * Opens a package with the recipient institution's private key. Each failure is its own error:
 * not a package / truncated (layout), WRONG_KEY (encrypted for someone else), TAMPERED with
 * failure KEY_BLOCK_DAMAGED / MANIFEST_TAMPERED / CIPHERTEXT_TAMPERED / ADDRESS_MISMATCH.
 */
export async function openPackage(path: string, recipientPrivateKey: string | Uint8Array): Promise<OpenedPackage> {
  let bytes: Buffer;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a file');
    bytes = await readFile(path);
  } catch (err) {
    throw new AppError(ErrorCode.NotFound, `The share package cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, 'Check the package path.');
  }
  const { header, headerStart } = parsePackage(bytes);

  const priv = typeof recipientPrivateKey === 'string' ? Buffer.from(recipientPrivateKey.replace(/^0x/i, ''), 'hex') : Buffer.from(recipientPrivateKey);
  const myPub = publicKeyOf(priv).toString('hex');
  if (header.recipient?.publicKey !== myPub) {
    fail('WRONG_RECIPIENT', ErrorCode.WrongKey, 'This share package was encrypted for another institution: your key cannot open it.', 'Open it with the identity of the institution it was shared with.');
  }
  const kw = header.keyWrap;
  let contentKey: Buffer | null = null;
  try {
    contentKey = unwrapKey(
      { ephemeralPublicKey: Buffer.from(String(kw?.ephemeralPublicKey), 'hex'), nonce: Buffer.from(String(kw?.nonce), 'hex'), wrapped: Buffer.from(String(kw?.wrappedKey), 'hex') },
      priv,
      wrapAad(String(header.packageId), myPub),
    );
  } catch {
    contentKey = null;
  }
  if (!contentKey) {
    fail('KEY_BLOCK_DAMAGED', ErrorCode.Tampered, 'The share package’s key block does not authenticate: it was altered after the package was made.', 'Do not use this package; ask the sender to share again.');
  }
  try {
    if (!gmacVerify(contentKey, MANIFEST_NONCE, headerCore(header), Buffer.from(String(header.manifestTag), 'hex'))) {
      fail('MANIFEST_TAMPERED', ErrorCode.Tampered, 'The share package’s manifest was altered after the package was made (it does not authenticate).', 'Do not use this package; ask the sender to share again.');
    }
    // The header is authentic from here on; its file table still has to describe this file.
    const manifestSha256 = createHash('sha256').update(canonicalJson(header.manifest), 'utf8').digest('hex');
    let expected = MAGIC.length;
    for (const r of header.files) {
      if (r.offset !== expected || r.length !== r.size + TAG_BYTES) {
        fail('CIPHERTEXT_TAMPERED', ErrorCode.Tampered, `File ${r.index + 1} (${r.name}) is not where the package says it is: data was inserted or removed.`);
      }
      expected += r.length;
    }
    if (expected !== headerStart) {
      fail('CIPHERTEXT_TAMPERED', ErrorCode.Tampered, 'The encrypted data is longer or shorter than the package says: it was altered.');
    }
    const files: { name: string; bytes: Uint8Array }[] = [];
    for (const r of header.files) {
      const plain = decryptFile(contentKey, r.index, fileAad(header.packageId, manifestSha256, r.index, r.name), bytes.subarray(r.offset, r.offset + r.length));
      if (!plain) {
        fail('CIPHERTEXT_TAMPERED', ErrorCode.Tampered, `File ${r.index + 1} (${r.name}) of the share package was altered: its encrypted data does not authenticate.`, 'Do not use this package; ask the sender to share again.');
      }
      files.push({ name: r.name, bytes: new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength) });
    }
    const address = createHash('sha256').update(bytes).digest('hex');
    const name = basename(path);
    if (/^[0-9a-f]{64}$/.test(name) && name !== address) {
      fail('ADDRESS_MISMATCH', ErrorCode.Tampered, 'The share package does not match its content address: it is not the package that was shared.', 'Fetch the package again from its storage address.');
    }
    return { address, packageId: header.packageId, manifest: header.manifest, files };
  } finally {
    contentKey.fill(0);
  }
}
