/** The classified DICOM reader on crafted inputs (no external programs). */
import { describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { DicomFileError, parseDicomBytes, readDicomFile, sniffNonDicom, sniffRawDataSet } from '../../../src/node/dicom/parse';
import { tempDir } from '../../support/tmp';

const { DicomDict, DicomMetaDictionary } = (dcmjs as { data: { DicomDict: new (m: unknown) => { dict: unknown; write(): ArrayBuffer }; DicomMetaDictionary: { denaturalizeDataset(d: unknown): unknown } } }).data;

/** A small valid Part-10 file written by dcmjs (Explicit VR Little Endian) with `pixels` bytes of pixel data. */
function part10(pixels = 64, extra: Record<string, unknown> = {}): Uint8Array {
  const meta = { FileMetaInformationVersion: new Uint8Array([0, 1]).buffer, MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.7', MediaStorageSOPInstanceUID: '2.25.1', TransferSyntaxUID: '1.2.840.10008.1.2.1', ImplementationClassUID: '2.25.2' };
  const ds = {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.7', SOPInstanceUID: '2.25.1', StudyInstanceUID: '2.25.3', SeriesInstanceUID: '2.25.4', PatientName: 'TEST^UNIT', Modality: 'OT',
    Rows: 4, Columns: pixels / 8, BitsAllocated: 16, BitsStored: 16, HighBit: 15, PixelRepresentation: 0, SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2',
    PixelData: [new ArrayBuffer(pixels)], _vrMap: { PixelData: 'OW' }, ...extra,
  };
  const d = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  d.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  return new Uint8Array(d.write());
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof DicomFileError) return err.reject;
    throw err;
  }
  return 'OK';
}

describe('parseDicomBytes', () => {
  it('reads a valid file whole and header-only (stopping at Pixel Data)', () => {
    const b = part10(4096);
    const full = parseDicomBytes(b);
    expect(full.dataSet.string('x00100010')).toBe('TEST^UNIT');
    expect(full.part10).toBe(true);
    const head = parseDicomBytes(b, { headerOnly: true });
    expect(head.headerOnly).toBe(true);
    expect(head.dataSet.elements.x7fe00010!.length).toBe(4096);
  });

  it('classifies non-DICOM inputs', () => {
    expect(code(() => parseDicomBytes(new Uint8Array(0)))).toBe('NOT_DICOM');
    expect(code(() => parseDicomBytes(new TextEncoder().encode('hello, this is a text file\n'.repeat(20))))).toBe('NOT_DICOM');
    expect(code(() => parseDicomBytes(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(300)])))).toBe('NOT_DICOM');
    for (let i = 0; i < 20; i++) expect(code(() => parseDicomBytes(randomBytes(2000)))).toMatch(/NOT_DICOM|MALFORMED|TRUNCATED/);
    expect(code(() => parseDicomBytes(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0])))).toBe('COMPRESSED_ARCHIVE');
    expect(code(() => parseDicomBytes(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0])))).toBe('COMPRESSED_ARCHIVE');
    expect(sniffNonDicom(new Uint8Array([0x42, 0x5a, 0x68, 0x39]))?.message).toMatch(/bzip2/);
  });

  it('recognises raw data sets without a preamble', () => {
    const b = part10(64);
    const metaEnd = Buffer.from(b).indexOf(Buffer.from([0x08, 0x00, 0x16, 0x00])); // (0008,0016)
    const raw = b.subarray(metaEnd);
    expect(sniffRawDataSet(raw)).toBe('1.2.840.10008.1.2.1');
    const p = parseDicomBytes(raw);
    expect(p.part10).toBe(false);
    expect(p.dataSet.string('x00080018')).toBe('2.25.1');
  });

  it('reports truncation at every cut point, never a crash', () => {
    const b = part10(512);
    const codes = new Set<string>();
    for (let cut = 1; cut < b.length; cut += 7) {
      const c = code(() => parseDicomBytes(b.subarray(0, cut)));
      // a cut exactly between two elements leaves a shorter but well-formed data set: only acceptable before Pixel Data
      if (c === 'OK') expect(parseDicomBytes(b.subarray(0, cut)).dataSet.elements.x7fe00010).toBeUndefined();
      else codes.add(c);
    }
    codes.delete('TRUNCATED');
    codes.delete('NOT_DICOM'); // cut inside the preamble
    expect([...codes]).toEqual([]);
  });

  it('rejects an unknown transfer syntax and an impossible length', () => {
    const b = Buffer.from(part10(64));
    const at = b.indexOf('1.2.840.10008.1.2.1', 0, 'latin1');
    const u = Buffer.from(b);
    u.write('1.9.999.99999.9.9.9', at, 'latin1');
    expect(code(() => parseDicomBytes(u))).toBe('UNSUPPORTED_TRANSFER_SYNTAX');
    // PatientName (PN, 2-byte length) → make the OW pixel data claim 0x7FFFFFF0 bytes
    const px = b.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
    const h = Buffer.from(b);
    h.writeUInt32LE(0x7ffffff0, px + 8);
    expect(code(() => parseDicomBytes(h))).toBe('MALFORMED'); // 2 GB declared in a small file
    expect(code(() => parseDicomBytes(h, { headerOnly: true }))).toBe('MALFORMED');
    const t = Buffer.from(b);
    t.writeUInt32LE(t.readUInt32LE(px + 8) + 16, px + 8); // a few bytes more than present: truncated
    expect(code(() => parseDicomBytes(t, { headerOnly: true }))).toBe('TRUNCATED');
    expect(code(() => parseDicomBytes(t))).toBe('TRUNCATED');
    const bad = Buffer.from(b);
    const pn = bad.indexOf(Buffer.from([0x10, 0x00, 0x10, 0x00]));
    bad.write('\u0001\u0002', pn + 4, 'latin1'); // invalid VR bytes
    expect(code(() => parseDicomBytes(bad))).toMatch(/MALFORMED|TRUNCATED/);
  });

  it('caps a deflated data set that inflates beyond the limit (zip bomb)', () => {
    const b = Buffer.from(part10(64));
    const metaEnd = b.indexOf(Buffer.from([0x08, 0x00, 0x16, 0x00]));
    const ts = b.indexOf('1.2.840.10008.1.2.1', 0, 'latin1');
    // Transfer syntax → deflated (longer UID: rebuild the meta element and group length)
    const metaBytes = Buffer.from(b.subarray(0, metaEnd));
    const oldLen = metaBytes.readUInt16LE(ts - 2);
    const newUid = Buffer.from('1.2.840.10008.1.2.1.99');
    const meta = Buffer.concat([metaBytes.subarray(0, ts - 2), Buffer.from([newUid.length, 0]), newUid, metaBytes.subarray(ts + oldLen)]);
    meta.writeUInt32LE(meta.readUInt32LE(140) + newUid.length - oldLen, 140); // (0002,0000) value at 140
    // a data set that inflates to 8 MB: one element + lots of zero padding (a private OB)
    const body = Buffer.concat([Buffer.from(b.subarray(metaEnd)), Buffer.from([0x09, 0x00, 0x10, 0x10, 0x4f, 0x42, 0, 0]), Buffer.alloc(4), Buffer.alloc(8 * 1024 * 1024)]);
    body.writeUInt32LE(8 * 1024 * 1024, body.length - 8 * 1024 * 1024 - 4);
    const file = Buffer.concat([meta, deflateRawSync(body)]);
    expect(file.length).toBeLessThan(64 * 1024);
    expect(code(() => parseDicomBytes(file, { limits: { maxInflatedBytes: 1024 * 1024 } }))).toBe('TOO_LARGE');
    const ok = parseDicomBytes(file, { limits: { maxInflatedBytes: 64 * 1024 * 1024 } });
    expect(ok.transferSyntaxUid).toBe('1.2.840.10008.1.2.1.99');
    expect(ok.dataSet.string('x00100010')).toBe('TEST^UNIT');
  });
});

describe('readDicomFile', () => {
  it('reads big files in growing chunks (header only) and hashes the whole file', async () => {
    const tmp = tempDir('medimg-parse-');
    try {
      const b = part10(8 * 1024 * 1024);
      const p = join(tmp.path, 'big.dcm');
      writeFileSync(p, b);
      const r = await readDicomFile(p, { headerOnly: true, hash: true, limits: { maxWholeFileBytes: 1024 * 1024 } });
      expect(r.headerOnly).toBe(true);
      expect(r.dataSet.byteArray.length).toBeLessThan(b.length);
      const { createHash } = await import('node:crypto');
      expect(r.sha256).toBe(createHash('sha256').update(b).digest('hex'));
      await expect(readDicomFile(join(tmp.path, 'missing.dcm'))).rejects.toMatchObject({ reject: 'UNREADABLE' });
      await expect(readDicomFile(tmp.path)).rejects.toMatchObject({ reject: 'UNREADABLE' });
    } finally {
      tmp.cleanup();
    }
  });
});

describe('mutated real files', () => {
  const files = ['/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm', '/usr/lib/python3/dist-packages/pydicom/data/test_files/rtplan.dcm'];
  it.skipIf(!existsSync(files[0]!))('never throws anything but a classified error, whatever bytes are flipped', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const seen = new Set<string>();
    for (const f of files) {
      const orig = readFileSync(f);
      for (let n = 0; n < 300; n++) {
        const b = Buffer.from(orig);
        const flips = 1 + Math.floor(rnd() * 4);
        for (let k = 0; k < flips; k++) b[132 + Math.floor(rnd() * Math.min(2000, b.length - 132))] = Math.floor(rnd() * 256);
        for (const headerOnly of [false, true]) {
          try {
            parseDicomBytes(b, { headerOnly });
            seen.add('OK');
          } catch (err) {
            expect(err, String(err)).toBeInstanceOf(DicomFileError);
            seen.add((err as DicomFileError).reject);
          }
        }
      }
    }
    expect(seen.has('OK')).toBe(true);
    expect(seen.size).toBeGreaterThan(2);
  });
});
