import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalMetaBytes, isMetaElement, KIND_SEQUENCE, KIND_VALUE, normalisedValue, type MetaDataSet } from '../../../src/core/fingerprint';
import { parseDicomBytes } from '../../../src/node/dicom/parse';
import { FIXTURE_DIR } from './make-fixtures';

const fixture = () => new Uint8Array(readFileSync(join(FIXTURE_DIR, 'signed12.dcm')));
function meta(bytes: Uint8Array): string {
  const p = parseDicomBytes(bytes);
  const cm = canonicalMetaBytes(p.dataSet as unknown as MetaDataSet, { bigEndian: p.transferSyntaxUid === '1.2.840.10008.1.2.2', explicitVr: p.transferSyntaxUid !== '1.2.840.10008.1.2' });
  return createHash('sha256').update(cm).digest('hex');
}
function at(bytes: Uint8Array, text: string): number {
  const i = Buffer.from(bytes).indexOf(Buffer.from(text, 'latin1'));
  if (i < 0) throw new Error(`${text} not in fixture`);
  return i;
}

describe('canonical metadata encoding (spec §3)', () => {
  const base = meta(fixture());

  it('changes when any data element value changes: a public string, a private string, a private binary, an item of a sequence', () => {
    const edits: [string, number][] = [
      ['Synthetic^Fixture', 0],
      ['private text', 3],
      ['1.2.826.0.1.3680043.10.1234.99', 29],
    ];
    for (const [text, k] of edits) {
      const b = fixture();
      b[at(b, text) + k] = b[at(b, text) + k]! ^ (0x01);
      expect(meta(b), text).not.toBe(base);
    }
    const b = fixture();
    const us = Buffer.from(b).indexOf(Buffer.from([0x09, 0x00, 0x02, 0x10, 0x55, 0x53, 0x02, 0x00, 0x34, 0x12])); // (0009,1002) US 0x1234
    expect(us).toBeGreaterThan(0);
    b[us + 8] = b[us + 8]! ^ (0x80);
    expect(meta(b)).not.toBe(base);
  });

  it('ignores the file meta group (0002), the padding character of strings, and the Pixel Data', () => {
    const b1 = fixture();
    b1[at(b1, 'MEDIMG_FP_TEST')] = 0x4e; // Implementation Version Name, file meta
    expect(meta(b1)).toBe(base);
    const b2 = fixture();
    const pn = at(b2, 'Synthetic^Fixture ') + 17; // odd-length PN padded with a space
    expect(b2[pn]).toBe(0x20);
    b2[pn] = 0x00;
    expect(meta(b2)).toBe(base);
    const b3 = fixture();
    b3[b3.length - 1] = b3[b3.length - 1]! ^ (0xff); // last byte of Pixel Data
    expect(meta(b3)).toBe(base);
  });

  it('excludes group lengths, file meta, top-level Pixel Data and trailing padding; keeps nested Pixel Data and private tags', () => {
    expect(isMetaElement('x00020010', true)).toBe(false);
    expect(isMetaElement('x00080000', true)).toBe(false);
    expect(isMetaElement('x00090000', false)).toBe(false);
    expect(isMetaElement('x7fe00010', true)).toBe(false);
    expect(isMetaElement('x7fe00010', false)).toBe(true);
    expect(isMetaElement('xfffcfffc', true)).toBe(false);
    expect(isMetaElement('x00091001', true)).toBe(true);
    expect(isMetaElement('x00100010', true)).toBe(true);
  });

  it('encodes exactly: count, tag, kind, length, value — sequences as items, an empty sequence as an empty value', () => {
    const enc = (ds: MetaDataSet, bigEndian = false) => Buffer.from(canonicalMetaBytes(ds, { bigEndian, explicitVr: true })).toString('hex');
    const bytes = new Uint8Array([0x41, 0x42, 0x20, 0x20, 0x34, 0x12]);
    const ds: MetaDataSet = {
      byteArray: bytes,
      elements: {
        x00100010: { tag: 'x00100010', vr: 'PN', length: 4, dataOffset: 0 },
        x00280010: { tag: 'x00280010', vr: 'US', length: 2, dataOffset: 4 },
        x00081140: { tag: 'x00081140', vr: 'SQ', length: 0, dataOffset: 0, items: [] },
        x00080000: { tag: 'x00080000', vr: 'UL', length: 4, dataOffset: 0 },
      },
    };
    // 3 elements; (0008,1140) empty SQ → kind 0 length 0; (0010,0010) "AB" (padding stripped); (0028,0010) 0x1234 LE
    expect(enc(ds)).toBe(
      '03000000' + '08004011' + '00' + '00000000' + '10001000' + '00' + '02000000' + '4142' + '28001000' + '00' + '02000000' + '3412',
    );
    // Big-endian data set: the US value is stored 12 34 and comes out little-endian.
    const be: MetaDataSet = { byteArray: new Uint8Array([0x12, 0x34]), elements: { x00280010: { tag: 'x00280010', vr: 'US', length: 2, dataOffset: 0 } } };
    expect(enc(be, true)).toBe('01000000' + '28001000' + '00' + '02000000' + '3412');
    // A sequence of one item holding one element.
    const sq: MetaDataSet = {
      byteArray: new Uint8Array([0x31, 0x00]),
      elements: { x00081140: { tag: 'x00081140', vr: 'SQ', length: 10, dataOffset: 0, items: [{ dataSet: { byteArray: new Uint8Array([0x31, 0x00]), elements: { x00081155: { tag: 'x00081155', vr: 'UI', length: 2, dataOffset: 0 } } } }] } },
    };
    expect(enc(sq)).toBe('01000000' + '08004011' + '01' + '01000000' + '01000000' + '08005511' + '00' + '01000000' + '31');
    expect(KIND_VALUE).toBe(0);
    expect(KIND_SEQUENCE).toBe(1);
  });

  it('private values are hashed as stored (no padding stripped); public text by the dictionary VR', () => {
    const bytes = new Uint8Array([0x41, 0x20]);
    const el = (tag: string) => ({ tag, vr: 'LO', length: 2, dataOffset: 0 });
    expect([...normalisedValue(el('x00091001'), bytes, { bigEndian: false, explicitVr: true })]).toEqual([0x41, 0x20]);
    expect([...normalisedValue(el('x00080070'), bytes, { bigEndian: false, explicitVr: true })]).toEqual([0x41]);
    // the dictionary, not the file's VR, decides: a public LO written as UN is still stripped
    expect([...normalisedValue({ ...el('x00080070'), vr: 'UN' }, bytes, { bigEndian: false, explicitVr: true })]).toEqual([0x41]);
  });
});
