/** Transfer syntaxes this app can read (header always; pixels depending on the decoder). */
export const TRANSFER_SYNTAXES: Readonly<Record<string, { name: string; encapsulated: boolean; lossy: boolean }>> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', encapsulated: false, lossy: false },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', encapsulated: false, lossy: false },
  '1.2.840.10008.1.2.1.99': { name: 'Deflated Explicit VR Little Endian', encapsulated: false, lossy: false },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian', encapsulated: false, lossy: false },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless, Non-Hierarchical (Process 14)', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Lossy (Near-Lossless)', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 (Lossless Only)', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.4.201': { name: 'High-Throughput JPEG 2000 (Lossless Only)', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.202': { name: 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.203': { name: 'High-Throughput JPEG 2000', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.100': { name: 'MPEG2 Main Profile / Main Level', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.4.101': { name: 'MPEG2 Main Profile / High Level', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.4.102': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.1', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.4.103': { name: 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', encapsulated: true, lossy: true },
};

export function transferSyntaxName(uid: string): string {
  return TRANSFER_SYNTAXES[uid]?.name ?? `Unknown (${uid})`;
}

export function isKnownTransferSyntax(uid: string): boolean {
  return Object.prototype.hasOwnProperty.call(TRANSFER_SYNTAXES, uid);
}
