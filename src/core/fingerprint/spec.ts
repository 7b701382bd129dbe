/**
 * The MedImgShr fingerprint specification, version 1 (docs/fingerprint-spec.md is the prose form;
 * everything that decides a digest is a constant or a pure function in src/core/fingerprint).
 */

/** Bump when any digest of any input could change; stored with every fingerprint. */
export const FINGERPRINT_SPEC_VERSION = 1;
export const FINGERPRINT_SPEC_ID = 'medimgshr-fingerprint/1';

/** The OpenZeppelin StandardMerkleTree leaf encoding: [pixel, meta, sha256(utf8(SOP Instance UID))]. */
export const LEAF_ENCODING = ['bytes32', 'bytes32', 'bytes32'] as const;

/**
 * How the `pixel` digest was computed:
 * - `native`: uncompressed (or deflated) pixel data, normalised (little-endian, interleaved, no padding).
 * - `decoded`: a lossless encapsulated syntax, decoded and normalised exactly like `native`, so both agree.
 * - `fragments`: a lossy (or not losslessly decodable) syntax: SHA-256 over the stored compressed fragments.
 * - `none`: the instance has no Pixel Data; `pixel` is SHA-256 of the empty string.
 */
export type PixelMode = 'native' | 'decoded' | 'fragments' | 'none';

export interface TransferSyntaxInfo {
  name: string;
  /** Pixel Data is encapsulated (fragments in items). */
  encapsulated: boolean;
  /** How spec v1 digests the pixels of this syntax. */
  pixelMode: 'native' | 'decoded' | 'fragments';
  bigEndian: boolean;
  explicitVr: boolean;
}

const ts = (name: string, pixelMode: TransferSyntaxInfo['pixelMode'], extra: Partial<TransferSyntaxInfo> = {}): TransferSyntaxInfo => ({
  name,
  encapsulated: pixelMode !== 'native',
  pixelMode,
  bigEndian: false,
  explicitVr: true,
  ...extra,
});

/** Transfer syntaxes of spec v1 and how each is digested. Anything else: UNSUPPORTED_TRANSFER_SYNTAX. */
export const FINGERPRINT_TRANSFER_SYNTAXES: Readonly<Record<string, TransferSyntaxInfo>> = {
  '1.2.840.10008.1.2': ts('Implicit VR Little Endian', 'native', { explicitVr: false }),
  '1.2.840.10008.1.2.1': ts('Explicit VR Little Endian', 'native'),
  '1.2.840.10008.1.2.1.99': ts('Deflated Explicit VR Little Endian', 'native'),
  '1.2.840.10008.1.2.2': ts('Explicit VR Big Endian', 'native', { bigEndian: true }),
  '1.2.840.10008.1.2.5': ts('RLE Lossless', 'decoded'),
  '1.2.840.10008.1.2.4.57': ts('JPEG Lossless, Non-Hierarchical (Process 14)', 'decoded'),
  '1.2.840.10008.1.2.4.70': ts('JPEG Lossless, First-Order Prediction (Process 14 SV1)', 'decoded'),
  '1.2.840.10008.1.2.4.80': ts('JPEG-LS Lossless', 'decoded'),
  '1.2.840.10008.1.2.4.90': ts('JPEG 2000 (Lossless Only)', 'decoded'),
  '1.2.840.10008.1.2.4.50': ts('JPEG Baseline (Process 1)', 'fragments'),
  '1.2.840.10008.1.2.4.51': ts('JPEG Extended (Process 2 & 4)', 'fragments'),
  '1.2.840.10008.1.2.4.81': ts('JPEG-LS Lossy (Near-Lossless)', 'fragments'),
  '1.2.840.10008.1.2.4.91': ts('JPEG 2000 (lossless or lossy)', 'fragments'),
  '1.2.840.10008.1.2.4.201': ts('HTJ2K (Lossless Only)', 'fragments'),
  '1.2.840.10008.1.2.4.202': ts('HTJ2K with RPCL Options (Lossless Only)', 'fragments'),
  '1.2.840.10008.1.2.4.203': ts('HTJ2K', 'fragments'),
  '1.2.840.10008.1.2.4.100': ts('MPEG2 Main Profile / Main Level', 'fragments'),
  '1.2.840.10008.1.2.4.101': ts('MPEG2 Main Profile / High Level', 'fragments'),
  '1.2.840.10008.1.2.4.102': ts('MPEG-4 AVC/H.264 High Profile / Level 4.1', 'fragments'),
  '1.2.840.10008.1.2.4.103': ts('MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', 'fragments'),
};

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';

/** SHA-256 of the empty input, the `pixel` digest of an instance without Pixel Data. */
export const SHA256_EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Per-instance fingerprint as spec v1 defines it (hex lowercase SHA-256 digests). */
export interface InstanceDigests {
  pixel: string;
  meta: string;
  file: string;
}
