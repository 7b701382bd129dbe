/**
 * Tampering: every single-bit flip of the stored pixel bits changes `pixel`; editing PatientName
 * changes `meta` and not `pixel`; broken files give a specific error each and the batch goes on.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDicomBytes } from '../../../src/node/dicom/parse';
import { decodeFrames } from '../../../src/node/dicom/decode';
import { fingerprintBytes, fingerprintFile, pixelDigest } from '../../../src/node/fingerprint/compute';
import { tempDir } from '../../support/tmp';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const FIXTURES = join(__dirname, '../../fixtures/fingerprint');
const tmp = tempDir('medimg-fp-tamper-');
afterAll(() => tmp.cleanup());

/** Flips each chosen bit of the Pixel Data value in place, digests, flips back. */
async function flipDigests(path: string, bits: (n: number) => Iterable<number>): Promise<{ original: string; changed: number; unchanged: number[]; total: number }> {
  const bytes = new Uint8Array(readFileSync(path));
  const p = parseDicomBytes(bytes);
  const el = p.dataSet.elements.x7fe00010!;
  const value = p.dataSet.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
  const original = (await pixelDigest(p.dataSet, p.transferSyntaxUid, false)).pixel;
  let changed = 0;
  const unchanged: number[] = [];
  let total = 0;
  for (const bit of bits(value.length * 8)) {
    value[bit >> 3] = value[bit >> 3]! ^ (1 << (bit & 7));
    const d = (await pixelDigest(p.dataSet, p.transferSyntaxUid, false)).pixel;
    value[bit >> 3] = value[bit >> 3]! ^ (1 << (bit & 7));
    total++;
    if (d !== original) changed++;
    else unchanged.push(bit);
  }
  // the data set is back to its original bytes
  expect((await pixelDigest(p.dataSet, p.transferSyntaxUid, false)).pixel).toBe(original);
  return { original, changed, unchanged, total };
}
function* all(n: number) {
  for (let i = 0; i < n; i++) yield i;
}
/** `count` seeded pseudo-random bit positions in [from, to). */
function seeded(count: number, seed: number, from: number, to: number): number[] {
  const out: number[] = [];
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(from + (x % (to - from)));
  }
  return out;
}

describe('tampering with pixels', () => {
  it('MR_small (64×64, 16 of 16 bits stored): all 65,536 single-bit flips of the pixel data change `pixel` (exhaustive)', async () => {
    const r = await flipDigests(join(PYDICOM, 'MR_small.dcm'), all);
    expect(r.total).toBe(64 * 64 * 16);
    expect(r.unchanged).toEqual([]);
    expect(r.changed).toBe(r.total);
  });

  it('signed 12-bit fixture: every flip of a stored bit changes `pixel`; flips above High Bit do not (they are not image data, spec §2)', async () => {
    const r = await flipDigests(join(FIXTURES, 'signed12.dcm'), all);
    expect(r.total).toBe(15 * 16);
    // bits 12..15 of each 16-bit little-endian word: bit index within the word = (byte % 2) * 8 + bit
    const aboveHighBit = (bit: number) => ((bit >> 3) % 2) * 8 + (bit & 7) >= 12;
    expect(r.unchanged.every(aboveHighBit)).toBe(true);
    expect(r.unchanged.length).toBe(15 * 4);
    expect(r.changed).toBe(15 * 12);
  });

  it('lossy JPEG (pixel digest over the stored fragments): 3,000 seeded random flips in the fragments all change `pixel`', async () => {
    const bytes = new Uint8Array(readFileSync(join(PYDICOM, 'JPEG-lossy.dcm')));
    const p = parseDicomBytes(bytes);
    expect((await pixelDigest(p.dataSet, p.transferSyntaxUid, false)).mode).toBe('fragments');
    const el = p.dataSet.elements.x7fe00010!;
    const frag = el.fragments![0]!;
    const start = (frag.position - el.dataOffset) * 8;
    const r = await flipDigests(join(PYDICOM, 'JPEG-lossy.dcm'), () => seeded(3000, 42, start, start + frag.length * 8));
    expect(r.total).toBe(3000);
    expect(r.unchanged).toEqual([]);
  });

  it('JPEG-LS lossless: 300 seeded random flips in the compressed stream change `pixel`, fail with a specific error, or decode to the very same pixels', async () => {
    const path = join(PYDICOM, 'MR_small_jpeg_ls_lossless.dcm');
    const bytes = new Uint8Array(readFileSync(path));
    const orig = await fingerprintBytes(bytes);
    const origFrame = (await decodeFrames(bytes)).frames[0]!;
    const p = parseDicomBytes(bytes);
    const frag = p.dataSet.elements.x7fe00010!.fragments![0]!;
    let changed = 0;
    let failed = 0;
    let sameImage = 0;
    for (const bit of seeded(300, 7, (frag.position + 16) * 8, (frag.position + frag.length) * 8)) {
      const b = new Uint8Array(bytes);
      b[bit >> 3] = b[bit >> 3]! ^ (1 << (bit & 7));
      try {
        const f = await fingerprintBytes(b);
        if (f.pixel !== orig.pixel) changed++;
        else {
          // the same digest only when the decoded image is byte-identical (a flip in unused padding bits)
          expect(Buffer.compare(Buffer.from((await decodeFrames(b)).frames[0]!), Buffer.from(origFrame))).toBe(0);
          sameImage++;
        }
      } catch (err) {
        expect((err as { code?: string }).code).toBe('MALFORMED');
        failed++;
      }
    }
    expect(changed + failed + sameImage).toBe(300);
    expect(sameImage).toBeLessThan(6);
    expect(changed).toBeGreaterThan(0); // measured: most flips make CharLS reject the stream, the rest change the image
    expect(failed).toBeGreaterThan(0);
  });
});

describe('tampering with metadata', () => {
  it('PatientName edited with dcmodify: `meta` changes, `pixel` does not', async () => {
    const src = join(PYDICOM, 'MR_small.dcm');
    const out = join(tmp.path, 'mr-renamed.dcm');
    copyFileSync(src, out);
    execFileSync('dcmodify', ['-nb', '-m', '(0010,0010)=Someone^Else', out]);
    const a = await fingerprintBytes(new Uint8Array(readFileSync(src)));
    const b = await fingerprintBytes(new Uint8Array(readFileSync(out)));
    expect(b.pixel).toBe(a.pixel);
    expect(b.meta).not.toBe(a.meta);
    expect(b.file).not.toBe(a.file);
    expect(b.leaf).not.toBe(a.leaf);
  });

  it('PatientName edited with dcmjs (another writer): `meta` changes, `pixel` does not; rewritten unchanged by dcmjs: all but `file` equal', async () => {
    const { DicomMessage, DicomMetaDictionary } = (dcmjs as unknown as { data: { DicomMessage: { readFile(b: ArrayBuffer): { dict: Record<string, unknown>; write(): ArrayBuffer } }; DicomMetaDictionary: unknown } }).data;
    void DicomMetaDictionary;
    const src = readFileSync(join(FIXTURES, 'signed12.dcm'));
    const ab = src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength);
    const same = DicomMessage.readFile(ab);
    const sameBytes = new Uint8Array(same.write());
    const edited = DicomMessage.readFile(ab);
    (edited.dict['00100010'] as { Value: unknown[] }).Value = [{ Alphabetic: 'Someone^Else' }];
    const editedBytes = new Uint8Array(edited.write());
    const a = await fingerprintBytes(new Uint8Array(src));
    const s = await fingerprintBytes(sameBytes);
    const e = await fingerprintBytes(editedBytes);
    expect(s.pixel).toBe(a.pixel);
    expect(s.meta).toBe(a.meta);
    expect(e.pixel).toBe(a.pixel);
    expect(e.meta).not.toBe(a.meta);
    writeFileSync(join(tmp.path, 'edited.dcm'), editedBytes);
    expect(execFileSync('dcmdump', [join(tmp.path, 'edited.dcm')], { encoding: 'utf8' })).toContain('Someone^Else');
  });
});

describe('broken files: a specific error each, the batch goes on', () => {
  it('truncated, gzip, random bytes, empty, text and a missing file; good files in between still fingerprint', async () => {
    const random = join(tmp.path, 'random.bin');
    let x = 1;
    writeFileSync(random, Buffer.from(Array.from({ length: 4096 }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24))));
    const empty = join(tmp.path, 'empty.dcm');
    writeFileSync(empty, '');
    const text = join(tmp.path, 'notes.txt');
    writeFileSync(text, 'this is a text file, not an image\n'.repeat(20));
    const cut = join(tmp.path, 'cut.dcm');
    writeFileSync(cut, readFileSync(join(PYDICOM, 'CT_small.dcm')).subarray(0, 5000));
    const cases: [string, string | null][] = [
      [join(PYDICOM, 'MR_truncated.dcm'), 'TRUNCATED'],
      [join(PYDICOM, 'MR_small.dcm'), null],
      [join(PYDICOM, 'rtplan_truncated.dcm'), 'TRUNCATED'],
      [join(PYDICOM, 'zipMR.gz'), 'COMPRESSED_ARCHIVE'],
      [random, 'NOT_DICOM'],
      [empty, 'NOT_DICOM'],
      [text, 'NOT_DICOM'],
      [cut, 'TRUNCATED'],
      [join(tmp.path, 'missing.dcm'), 'UNREADABLE'],
      [join(PYDICOM, 'badVR.dcm'), null], // an invalid value ("1A" in an IS element), structurally sound: hashed as stored
      [join(PYDICOM, 'CT_small.dcm'), null],
    ];
    for (const [path, expected] of cases) {
      const r = await fingerprintFile(path);
      if (expected === null) {
        expect(r.ok, path).toBe(true);
      } else {
        expect(r.ok, path).toBe(false);
        if (!r.ok) {
          expect(r.error.reject, path).toBe(expected);
          expect(r.error.message.length).toBeGreaterThan(20);
        }
      }
    }
    expect(createHash('sha256').update(readFileSync(join(PYDICOM, 'MR_small.dcm'))).digest('hex')).toBe(((await fingerprintFile(join(PYDICOM, 'MR_small.dcm'))) as { fingerprint: { file: string } }).fingerprint.file);
  });
});
