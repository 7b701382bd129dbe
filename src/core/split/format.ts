/**
 * Split storage (Takahashi): the pure parts — where Pixel Data stands in a Part-10 file, and the
 * byte formats of the metadata part and the pixel blob. No I/O, no crypto calls (the node layer
 * does those); see docs/split-storage.md for the prose form.
 *
 * An instance is split into
 * - a **metadata part**: every byte of the file except the value of the top-level Pixel Data
 *   (7FE0,0010) — preamble, file meta group, every other element in its original encoding and the
 *   Pixel Data element's own header (tag, VR, length) — plus the offset where the value stood;
 * - a **pixel part**: the exact bytes of that value (native samples incl. any odd-length pad, or the
 *   encapsulated items: Basic Offset Table, fragments, Sequence Delimitation Item).
 *
 * Rebuild = metadata bytes up to the offset ‖ pixel part ‖ the rest: byte-identical by construction
 * for every transfer syntax in which the value stands in the file's own bytes. Deflated Explicit VR
 * Little Endian is the exception (the value is inside the deflate stream): see `layout`.
 */

export const SPLIT_FORMAT_VERSION = 1;
export const SPLIT_FORMAT_ID = 'medimgshr-split/1';

/**
 * How the file was divided:
 * - `cut`: the Pixel Data value was cut out of the file's bytes (every transfer syntax but deflated);
 * - `deflated`: Deflated Explicit VR Little Endian — the metadata part is the preamble and file meta
 *   group only; the deflated data set (metadata and pixels, compressed together) is the pixel part,
 *   kept byte for byte. Re-deflating an inflated data set is byte-identical only with the same zlib
 *   build and settings, so a Node/zlib upgrade could make such a split impossible to rebuild; keeping
 *   the stream whole cannot fail that way.
 * - `no-pixel-data`: the instance has no top-level Pixel Data (SR, RT plan, …): the whole file is
 *   the metadata part and the pixel part is empty.
 */
export type SplitLayout = 'cut' | 'deflated' | 'no-pixel-data';

/** What the metadata part says about its instance (plain JSON inside the part, authenticated by the seal). */
export interface MetadataHeader {
  format: typeof SPLIT_FORMAT_ID;
  sopInstanceUid: string;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  transferSyntaxUid: string;
  layout: SplitLayout;
  /** Offset in the original file (and in the metadata bytes) where the pixel part goes. */
  cutAt: number;
  /** Length of the pixel part (plaintext), bytes. */
  pixelLength: number;
  /** Length and SHA-256 (hex) of the original file: what the rebuild must reproduce. */
  fileLength: number;
  fileSha256: string;
  /** The instance's fingerprint (spec v1): the key derivation input and the blob's associated data. */
  meta: string;
  pixel: string;
  leaf: string;
  /** Content address (SHA-256 of the blob, hex) and size of the encrypted pixel part. */
  blobAddress: string;
  blobSize: number;
  /** Key check value (hex) of the instance key: tells a wrong key from a swapped blob. */
  keyCheck: string;
}

const MAGIC_META = 'MISMETA1';
const MAGIC_SEAL = 'MISSEAL1';
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export class SplitFormatError extends Error {}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Header fields in a fixed order, so equal headers encode to equal bytes. */
const HEADER_KEYS: (keyof MetadataHeader)[] = [
  'format', 'sopInstanceUid', 'studyInstanceUid', 'seriesInstanceUid', 'transferSyntaxUid', 'layout', 'cutAt', 'pixelLength',
  'fileLength', 'fileSha256', 'meta', 'pixel', 'leaf', 'blobAddress', 'blobSize', 'keyCheck',
];

export function encodeHeader(h: MetadataHeader): Uint8Array {
  const o: Record<string, unknown> = {};
  for (const k of HEADER_KEYS) o[k] = h[k];
  return enc.encode(JSON.stringify(o));
}

/**
 * The plain metadata part: "MISMETA1" ‖ u32le(header length) ‖ header JSON ‖ metadata bytes
 * (the original file without the pixel part). This is what a recipient would receive.
 */
export function encodeMetadataPart(header: MetadataHeader, metadataBytes: Uint8Array): Uint8Array {
  const h = encodeHeader(header);
  return concat([enc.encode(MAGIC_META), u32le(h.length), h, metadataBytes]);
}

function readFramed(bytes: Uint8Array, magic: string, what: string): { header: Uint8Array; rest: Uint8Array } {
  if (bytes.length < 12 || dec.decode(bytes.subarray(0, 8)) !== magic) throw new SplitFormatError(`${what} does not start with ${magic}`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + n > bytes.length) throw new SplitFormatError(`${what} is shorter than its header says`);
  return { header: bytes.subarray(12, 12 + n), rest: bytes.subarray(12 + n) };
}

function checkHeader(o: unknown, metadataLength: number): MetadataHeader {
  const h = o as MetadataHeader;
  const str = (v: unknown) => typeof v === 'string';
  const int = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const hex64 = (v: unknown) => str(v) && /^[0-9a-f]{64}$/.test(v as string);
  if (
    !h || h.format !== SPLIT_FORMAT_ID || !str(h.sopInstanceUid) || !str(h.transferSyntaxUid) ||
    !['cut', 'deflated', 'no-pixel-data'].includes(h.layout) || !int(h.cutAt) || !int(h.pixelLength) || !int(h.fileLength) ||
    !hex64(h.fileSha256) || !hex64(h.meta) || !hex64(h.pixel) || !str(h.leaf) || !hex64(h.blobAddress) || !int(h.blobSize) || !str(h.keyCheck)
  ) {
    throw new SplitFormatError('the metadata part header is incomplete or of another format');
  }
  if (h.cutAt > metadataLength || metadataLength + h.pixelLength !== h.fileLength) {
    throw new SplitFormatError(`the metadata part's lengths do not add up (cut at ${h.cutAt}, ${metadataLength} + ${h.pixelLength} ≠ ${h.fileLength} bytes)`);
  }
  return h;
}

export function decodeMetadataPart(bytes: Uint8Array): { header: MetadataHeader; metadata: Uint8Array } {
  const { header, rest } = readFramed(bytes, MAGIC_META, 'the metadata part');
  let o: unknown;
  try {
    o = JSON.parse(dec.decode(header));
  } catch {
    throw new SplitFormatError('the metadata part header is not JSON');
  }
  return { header: checkHeader(o, rest.length), metadata: rest };
}

/** The clear label of a sealed metadata part: which instance, and the seal's nonce. */
export interface SealLabel {
  format: typeof SPLIT_FORMAT_ID;
  sopInstanceUid: string;
  nonce: string;
}

/**
 * A sealed metadata part (at rest in app data): "MISSEAL1" ‖ u32le(label length) ‖ label JSON ‖
 * AES-256-GCM(seal key, nonce, plain metadata part, AAD = everything before the ciphertext) ‖ tag.
 * The label names the instance so a damaged seal can be reported by SOP Instance UID.
 */
export function encodeSealFrame(label: SealLabel, ciphertextAndTag: Uint8Array): Uint8Array {
  return concat([sealAad(label), ciphertextAndTag]);
}

export function sealAad(label: SealLabel): Uint8Array {
  const l = enc.encode(JSON.stringify({ format: label.format, sopInstanceUid: label.sopInstanceUid, nonce: label.nonce }));
  return concat([enc.encode(MAGIC_SEAL), u32le(l.length), l]);
}

export function decodeSealFrame(bytes: Uint8Array): { label: SealLabel; aad: Uint8Array; ciphertextAndTag: Uint8Array } {
  const { header, rest } = readFramed(bytes, MAGIC_SEAL, 'the sealed metadata part');
  let label: SealLabel;
  try {
    label = JSON.parse(dec.decode(header)) as SealLabel;
  } catch {
    throw new SplitFormatError('the sealed metadata part label is not JSON');
  }
  if (label?.format !== SPLIT_FORMAT_ID || typeof label.sopInstanceUid !== 'string' || typeof label.nonce !== 'string' || !/^[0-9a-f]{24}$/.test(label.nonce)) {
    throw new SplitFormatError('the sealed metadata part label is incomplete');
  }
  return { label, aad: bytes.subarray(0, 12 + header.length), ciphertextAndTag: rest };
}

/**
 * The pixel blob: u8(version = 1) ‖ key check (16) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16).
 * Nothing in it names the instance; its size is the pixel part's size + 45.
 */
export const BLOB_VERSION = 1;
export const BLOB_OVERHEAD = 1 + 16 + 12 + 16;

export interface BlobFields {
  version: number;
  keyCheck: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

export function parseBlob(blob: Uint8Array): BlobFields | null {
  if (blob.length < BLOB_OVERHEAD) return null;
  return {
    version: blob[0]!,
    keyCheck: blob.subarray(1, 17),
    nonce: blob.subarray(17, 29),
    ciphertext: blob.subarray(29, blob.length - 16),
    tag: blob.subarray(blob.length - 16),
  };
}

/** Associated data of a pixel blob: "medimgshr-split/1 pixel" ‖ the instance's Merkle leaf (32 bytes). */
export function blobAad(leaf: string): Uint8Array {
  const h = leaf.startsWith('0x') ? leaf.slice(2) : leaf;
  if (!/^[0-9a-f]{64}$/.test(h)) throw new SplitFormatError(`not a leaf hash: ${leaf}`);
  const label = enc.encode(`${SPLIT_FORMAT_ID} pixel`);
  const out = new Uint8Array(label.length + 32);
  out.set(label, 0);
  for (let i = 0; i < 32; i++) out[label.length + i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The (7FE0,0010) tag as it is written before the value, little- and big-endian. */
const PIXEL_TAG_LE = [0xe0, 0x7f, 0x10, 0x00];
const PIXEL_TAG_BE = [0x7f, 0xe0, 0x00, 0x10];

function tagAt(bytes: Uint8Array, at: number, tag: number[]): boolean {
  if (at < 0 || at + 4 > bytes.length) return false;
  return tag.every((v, i) => bytes[at + i] === v);
}

/**
 * Where the top-level Pixel Data value stands in the file's bytes, given the parser's value offset
 * and length: checks that the element's header (tag, and VR in explicit VR) really precedes it, so
 * a cut can never land anywhere else. `valueEnd` includes the encapsulated Sequence Delimitation Item.
 */
export function locatePixelValue(bytes: Uint8Array, dataOffset: number, valueLength: number): { headerAt: number; valueAt: number; valueEnd: number } {
  if (dataOffset < 8 || dataOffset + valueLength > bytes.length) {
    throw new SplitFormatError(`Pixel Data (7FE0,0010) at ${dataOffset} with ${valueLength} bytes does not lie inside the ${bytes.length}-byte file`);
  }
  const explicitVr = (at: number) => {
    const a = bytes[at + 4]!;
    const b = bytes[at + 5]!;
    return a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a && bytes[at + 6] === 0 && bytes[at + 7] === 0;
  };
  // Explicit VR with a 4-byte length (OB, OW, UN): tag(4) VR(2) 0000 length(4).
  if ((tagAt(bytes, dataOffset - 12, PIXEL_TAG_LE) || tagAt(bytes, dataOffset - 12, PIXEL_TAG_BE)) && explicitVr(dataOffset - 12)) {
    return { headerAt: dataOffset - 12, valueAt: dataOffset, valueEnd: dataOffset + valueLength };
  }
  // Implicit VR: tag(4) length(4).
  if (tagAt(bytes, dataOffset - 8, PIXEL_TAG_LE)) {
    return { headerAt: dataOffset - 8, valueAt: dataOffset, valueEnd: dataOffset + valueLength };
  }
  throw new SplitFormatError(`no Pixel Data (7FE0,0010) element header precedes offset ${dataOffset}`);
}
