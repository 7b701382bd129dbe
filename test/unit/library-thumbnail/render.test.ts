/** Thumbnail rendering: windowing, MONOCHROME1 inversion, colour, scaling, placeholder. */
import { describe, expect, it } from 'vitest';
import dcmjs from 'dcmjs';
import { PNG } from 'pngjs';
import { renderThumbnail } from '../../../src/node/library/thumbnail-render';

const { DicomDict, DicomMetaDictionary } = (dcmjs as { data: { DicomDict: new (m: unknown) => { dict: unknown; write(): ArrayBuffer }; DicomMetaDictionary: { denaturalizeDataset(d: unknown): unknown } } }).data;

function image(opts: { rows: number; cols: number; photometric: string; spp: number; bits: 8 | 16; signed?: boolean; pixels: ArrayBuffer; extra?: Record<string, unknown> }): Uint8Array {
  const meta = { FileMetaInformationVersion: new Uint8Array([0, 1]).buffer, MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.7', MediaStorageSOPInstanceUID: '2.25.9', TransferSyntaxUID: '1.2.840.10008.1.2.1', ImplementationClassUID: '2.25.2' };
  const ds = {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.7', SOPInstanceUID: '2.25.9', StudyInstanceUID: '2.25.3', SeriesInstanceUID: '2.25.4', Modality: 'OT',
    Rows: opts.rows, Columns: opts.cols, BitsAllocated: opts.bits, BitsStored: opts.bits, HighBit: opts.bits - 1, PixelRepresentation: opts.signed ? 1 : 0,
    SamplesPerPixel: opts.spp, PhotometricInterpretation: opts.photometric, ...(opts.spp === 3 ? { PlanarConfiguration: 0 } : {}),
    PixelData: [opts.pixels], _vrMap: { PixelData: opts.bits === 8 ? 'OB' : 'OW' }, ...opts.extra,
  };
  const d = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  d.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  return new Uint8Array(d.write());
}

const read = (png: Uint8Array) => PNG.sync.read(Buffer.from(png));

describe('renderThumbnail', () => {
  it('windows a signed 16-bit image with rescale, scales a 256² image to 128², keeps the aspect ratio of 256×128', async () => {
    const px = new Int16Array(256 * 256);
    for (let i = 0; i < px.length; i++) px[i] = (i % 256) * 4 - 512; // stored values −512 … 508 across each row
    const bytes = image({ rows: 256, cols: 256, photometric: 'MONOCHROME2', spp: 1, bits: 16, signed: true, pixels: px.buffer });
    const r = await renderThumbnail({ bytes, size: 128, windowCenter: 0, windowWidth: 1000, rescaleSlope: 1, rescaleIntercept: 0 });
    expect(r.placeholder).toBe(false);
    const png = read(r.png);
    expect([png.width, png.height]).toEqual([128, 128]);
    // column x samples source column 2x: value (2x)*4 − 512 → gray round((v + 500) / 1000 · 255) clamped
    for (const x of [0, 10, 64, 127]) {
      const v = 2 * x * 4 - 512;
      const want = Math.max(0, Math.min(255, Math.round(((v + 500) / 1000) * 255)));
      expect(png.data[(5 * 128 + x) * 4]).toBe(want);
    }
    const wide = image({ rows: 128, cols: 256, photometric: 'MONOCHROME2', spp: 1, bits: 16, signed: true, pixels: new Int16Array(256 * 128).buffer });
    const w = read((await renderThumbnail({ bytes: wide, size: 128, windowCenter: null, windowWidth: null, rescaleSlope: null, rescaleIntercept: null })).png);
    expect([w.width, w.height]).toEqual([128, 64]);
  });

  it('inverts MONOCHROME1 and uses min/max when the file has no window', async () => {
    const px = new Uint8Array(16 * 16);
    for (let i = 0; i < px.length; i++) px[i] = i < 128 ? 0 : 200;
    const bytes = image({ rows: 16, cols: 16, photometric: 'MONOCHROME1', spp: 1, bits: 8, pixels: px.buffer });
    const png = read((await renderThumbnail({ bytes, size: 128, windowCenter: null, windowWidth: null, rescaleSlope: null, rescaleIntercept: null })).png);
    expect([png.width, png.height]).toEqual([16, 16]); // never upscaled
    expect(png.data[0]).toBe(255); // stored 0 (min) is white in MONOCHROME1
    expect(png.data[(15 * 16 + 15) * 4]).toBe(0);
  });

  it('keeps RGB colours', async () => {
    const px = new Uint8Array(8 * 8 * 3);
    for (let i = 0; i < 64; i++) px.set([250, 10, 20], i * 3);
    const bytes = image({ rows: 8, cols: 8, photometric: 'RGB', spp: 3, bits: 8, pixels: px.buffer });
    const png = read((await renderThumbnail({ bytes, size: 128, windowCenter: null, windowWidth: null, rescaleSlope: null, rescaleIntercept: null })).png);
    expect([...png.data.subarray(0, 4)]).toEqual([250, 10, 20, 255]);
  });

  it('draws a placeholder and says why when the pixels cannot be decoded', async () => {
    const r = await renderThumbnail({ bytes: new TextEncoder().encode('not dicom'), size: 64, windowCenter: null, windowWidth: null, rescaleSlope: null, rescaleIntercept: null });
    expect(r.placeholder).toBe(true);
    expect(r.reason).toMatch(/DICOM/);
    expect(read(r.png).width).toBe(64);
  });
});
