/**
 * Writes the small generated fixtures of the fingerprint test vectors (test/fixtures/fingerprint/*.dcm)
 * with dcmjs. Deterministic: fixed UIDs and pixels. They are rewritten together with the vectors:
 *   MAKE_FINGERPRINT_VECTORS=1 npx vitest run test/unit/fingerprint/vectors.test.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';

const { DicomDict, DicomMetaDictionary } = (dcmjs as unknown as {
  data: {
    DicomDict: new (meta: unknown) => { dict: Record<string, unknown>; write(): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(d: unknown): Record<string, unknown> };
  };
}).data;

const ROOT = '1.2.826.0.1.3680043.10.1234.';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

export interface Fixture {
  name: string;
  bytes: Uint8Array;
}

/** One fixture: a Part-10 file of `ds` with these pixels (Explicit VR Little Endian). */
export function write(name: string, sop: string, ds: Record<string, unknown>, pixels: Uint8Array, privateTags = true): Fixture {
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.7',
    MediaStorageSOPInstanceUID: sop,
    TransferSyntaxUID: EXPLICIT_LE,
    ImplementationClassUID: ROOT + '0',
    ImplementationVersionName: 'MEDIMG_FP_TEST',
  });
  const dict = new DicomDict(meta);
  const natural = {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.7',
    SOPInstanceUID: sop,
    StudyInstanceUID: ROOT + '1',
    SeriesInstanceUID: ROOT + '1.1',
    PatientName: 'Synthetic^Fixture',
    PatientID: 'FP-TEST',
    Modality: 'OT',
    StudyDescription: 'fingerprint test vector (synthetic)',
    ReferencedImageSequence: [{ ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.7', ReferencedSOPInstanceUID: ROOT + '99' }],
    ...ds,
  };
  const denat = DicomMetaDictionary.denaturalizeDataset(natural);
  if (privateTags) {
    denat['00090010'] = { vr: 'LO', Value: ['MEDIMGSHR TEST'] };
    denat['00091001'] = { vr: 'LO', Value: ['private text'] };
    denat['00091002'] = { vr: 'US', Value: [0x1234] };
  }
  denat['7FE00010'] = { vr: (natural as { BitsAllocated?: number }).BitsAllocated === 8 ? 'OB' : 'OW', Value: [pixels.buffer.slice(pixels.byteOffset, pixels.byteOffset + pixels.byteLength)] };
  dict.dict = denat;
  return { name, bytes: new Uint8Array(dict.write()) };
}

/** The generated fixtures (in memory). */
export function makeFixtures(): Fixture[] {
  // 5×3 signed 12-bit samples in 16-bit words; some words carry junk above the High Bit.
  const values = [-2048, -1, 0, 1, 2047, -100, 100, -1000, 1000, 5, -5, 42, -42, 7, -7];
  const s12 = new Uint8Array(values.length * 2);
  const dv = new DataView(s12.buffer);
  values.forEach((v, i) => dv.setUint16(i * 2, ((v & 0x0fff) | (i % 3 === 0 ? 0xa000 : 0)) & 0xffff, true));
  const signed = write(
    'signed12.dcm',
    ROOT + '2',
    { Rows: 3, Columns: 5, SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2', BitsAllocated: 16, BitsStored: 12, HighBit: 11, PixelRepresentation: 1 },
    s12,
  );
  // 3×3 RGB, 8-bit, stored plane by plane (Planar Configuration 1) and pixel by pixel (0).
  const rgb = Array.from({ length: 9 }, (_, p) => [p * 20, 255 - p * 20, (p * 37) % 256]);
  const interleaved = new Uint8Array(rgb.flat());
  const planar = new Uint8Array([...rgb.map((c) => c[0]!), ...rgb.map((c) => c[1]!), ...rgb.map((c) => c[2]!)]);
  const rgbBase = { Rows: 3, Columns: 3, SamplesPerPixel: 3, PhotometricInterpretation: 'RGB', BitsAllocated: 8, BitsStored: 8, HighBit: 7, PixelRepresentation: 0 };
  const rgbPlanar = write('rgb-planar.dcm', ROOT + '3', { ...rgbBase, PlanarConfiguration: 1 }, planar);
  const rgbInterleaved = write('rgb-interleaved.dcm', ROOT + '3', { ...rgbBase, PlanarConfiguration: 0 }, interleaved);
  // Two frames of 2×2 8-bit (odd total length: 8 bytes + no padding issue), multi-frame.
  const frames = write(
    'multiframe.dcm',
    ROOT + '4',
    { Rows: 2, Columns: 2, NumberOfFrames: '2', SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2', BitsAllocated: 8, BitsStored: 8, HighBit: 7, PixelRepresentation: 0 },
    new Uint8Array([1, 2, 3, 4, 250, 251, 252, 253]),
    false,
  );
  return [signed, rgbPlanar, rgbInterleaved, frames];
}

export const FIXTURE_DIR = join(__dirname, '../../fixtures/fingerprint');

export function writeFixtures(): void {
  for (const f of makeFixtures()) writeFileSync(join(FIXTURE_DIR, f.name), f.bytes);
}
