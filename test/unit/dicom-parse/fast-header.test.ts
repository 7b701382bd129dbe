/**
 * The fingerprint worker's fast header reader (src/node/dicom/fast-header.ts) must give exactly
 * what parseDicomBytes(bytes, { headerOnly: true, fileSize }) gives — every element with the same
 * fields, values and order, nested items too — or null. Checked on pydicom's test files, the
 * fingerprint fixtures, generated CT slices and crafted headers (sequences and items of defined and
 * undefined length, VRs dicom-parser reads with a short length), each whole and cut at many lengths.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import dicomParser, { type DataSet } from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { parseHeaderFast } from '../../../src/node/dicom/fast-header';
import { parseDicomBytes } from '../../../src/node/dicom/parse';
import { syntheticSlice } from '../../../src/node/fingerprint/warmup';
import { FIXTURE_DIR } from '../fingerprint/make-fixtures';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

/** Everything a reader of the result can see of a data set, in property order. */
function dump(ds: DataSet, bytes: Uint8Array): unknown {
  expect(ds.byteArray).toBe(bytes);
  expect(ds.byteArrayParser).toBe(dicomParser.littleEndianByteArrayParser);
  expect(ds.constructor).toBe((dicomParser as unknown as { DataSet: unknown }).DataSet);
  const out: unknown[] = [];
  for (const key in ds.elements) {
    const el = ds.elements[key] as unknown as Record<string, unknown>;
    const fields: unknown[] = [];
    for (const f of Object.keys(el)) {
      const v = el[f];
      if (f === 'parser') fields.push([f, v === dicomParser.littleEndianByteArrayParser ? 'LE' : 'other']);
      else if (f === 'items') {
        fields.push([
          f,
          (v as Record<string, unknown>[]).map((item) => Object.keys(item).map((k) => [k, k === 'dataSet' ? dump(item[k] as DataSet, bytes) : item[k]])),
        ]);
      } else fields.push([f, v]);
    }
    out.push([key, fields]);
  }
  return out;
}

type Outcome = { fast: 'null' } | { fast: 'same' } | { fast: 'differs'; why: string };

function compare(bytes: Uint8Array, fileSize: number): Outcome {
  let fast;
  try {
    fast = parseHeaderFast(bytes, fileSize);
  } catch (err) {
    return { fast: 'differs', why: `threw ${String(err)}` };
  }
  if (!fast) return { fast: 'null' };
  let ref;
  try {
    ref = parseDicomBytes(bytes, { headerOnly: true, fileSize });
  } catch (err) {
    return { fast: 'differs', why: `parseDicomBytes threw ${(err as Error).name}: ${(err as Error).message}` };
  }
  const a = JSON.stringify({ ...fast, dataSet: dump(fast.dataSet, bytes), dsWarnings: fast.dataSet.warnings });
  const b = JSON.stringify({ ...ref, dataSet: dump(ref.dataSet, bytes), dsWarnings: ref.dataSet.warnings });
  return a === b ? { fast: 'same' } : { fast: 'differs', why: `${a.slice(0, 400)} … vs … ${b.slice(0, 400)}` };
}

/** The whole file and prefixes of it (the streamed read parses a prefix of the file). */
function cuts(size: number): number[] {
  const c = new Set([size, 65536, 16384, 4096, 2048, 1001, 512, 200, 150]);
  for (let n = 133; n < Math.min(size, 3000); n += 37) c.add(n);
  return [...c].filter((n) => n <= size).sort((x, y) => x - y);
}

function check(name: string, file: Uint8Array, tally: { same: number; null: number }, problems: string[]): void {
  for (const n of cuts(file.length)) {
    const prefix = Buffer.from(file.subarray(0, n)); // its own buffer, as the worker's chunk is
    const o = compare(prefix, file.length);
    if (o.fast === 'differs') problems.push(`${name} @${n}: ${o.why}`);
    else tally[o.fast]++;
  }
}

// Explicit VR Little Endian elements, by hand
const le16 = (n: number) => [n & 0xff, (n >>> 8) & 0xff];
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const tag = (g: number, e: number) => [...le16(g), ...le16(e)];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const short = (g: number, e: number, vr: string, v: number[]) => [...tag(g, e), ...ascii(vr), ...le16(v.length), ...v];
const long = (g: number, e: number, vr: string, v: number[], len = v.length) => [...tag(g, e), ...ascii(vr), 0, 0, ...le32(len), ...v];
const item = (body: number[], undef: boolean) => (undef ? [...tag(0xfffe, 0xe000), ...le32(0xffffffff), ...body, ...tag(0xfffe, 0xe00d), 0, 0, 0, 0] : [...tag(0xfffe, 0xe000), ...le32(body.length), ...body]);
const seq = (g: number, e: number, items: number[][], undef: boolean) => {
  const body = items.flat();
  return undef ? [...long(g, e, 'SQ', body, 0xffffffff), ...tag(0xfffe, 0xe0dd), 0, 0, 0, 0] : long(g, e, 'SQ', body);
};
function crafted(body: number[], ts = '1.2.840.10008.1.2.1', pixels = 4096): Uint8Array {
  const uid = (s: string) => ascii(s.length % 2 ? `${s}\0` : s);
  const metaBody = [...long(2, 1, 'OB', [0, 1]), ...short(2, 2, 'UI', uid('1.2.840.10008.5.1.4.1.1.7')), ...short(2, 3, 'UI', uid('2.25.9')), ...short(2, 0x10, 'UI', uid(ts))];
  const meta = [...short(2, 0, 'UL', le32(metaBody.length)), ...metaBody];
  const px = long(0x7fe0, 0x10, 'OW', [], pixels);
  return new Uint8Array([...new Array(128).fill(0), ...ascii('DICM'), ...meta, ...body, ...px, ...new Array(pixels).fill(7)]);
}
const cs = (s: string) => ascii(s.length % 2 ? `${s} ` : s);
const base = [...short(8, 0x16, 'UI', ascii('1.2.840.10008.5.1.4.1.1.7\0')), ...short(8, 0x18, 'UI', ascii('2.25.9')), ...short(8, 0x60, 'CS', cs('OT'))];
const inner = (undef: boolean) => seq(0x0040, 0xa730, [item(short(0x0040, 0xa010, 'CS', cs('CONTAINS')), undef)], undef);
const CRAFTED: Record<string, Uint8Array> = {
  plain: crafted(base),
  'sequence, defined lengths': crafted([...base, ...seq(8, 0x1032, [item(short(8, 0x100, 'SH', cs('X1')), false), item(short(8, 0x104, 'LO', cs('two')), false)], false)]),
  'sequence, undefined lengths': crafted([...base, ...seq(8, 0x1032, [item(short(8, 0x100, 'SH', cs('X1')), true), item([], true)], true)]),
  'nested sequences, mixed': crafted([...base, ...seq(0x0040, 0xa730, [item([...short(0x0040, 0xa010, 'CS', cs('HAS')), ...inner(true)], false), item(inner(false), true)], true)]),
  'empty sequence': crafted([...base, ...seq(8, 0x1032, [], false), ...seq(8, 0x1115, [], true)]),
  'SV and OV (read with a 2-byte length by dicom-parser)': crafted([...base, ...short(0x0009, 0x1001, 'SV', [1, 2, 3, 4, 5, 6, 7, 8])]),
  'private and long VRs': crafted([...base, ...short(0x0009, 0x0010, 'LO', cs('MEDIMG')), ...long(0x0009, 0x1002, 'UN', [1, 2, 3, 4]), ...long(0x0009, 0x1003, 'UT', cs('text value')), ...long(0x0009, 0x1004, 'OB', [9, 9])]),
  'unknown VR': crafted([...base, ...short(0x0009, 0x1001, 'ZZ', [1, 2])]),
  'implicit VR little endian': crafted(base, '1.2.840.10008.1.2'),
  'big endian': crafted(base, '1.2.840.10008.1.2.2'),
  'undefined-length UN': crafted([...base, ...long(0x0009, 0x1002, 'UN', item([], true), 0xffffffff), ...tag(0xfffe, 0xe0dd), 0, 0, 0, 0]),
  'item delimiter at the top level': crafted([...base, ...tag(0xfffe, 0xe00d), 0, 0, 0, 0]),
  'no pixel data in the bytes': crafted(base).subarray(0, crafted(base).length - 4096 - 12),
};

describe('parseHeaderFast', () => {
  it('gives parseDicomBytes(headerOnly)’s result, element for element, or null: crafted headers', () => {
    const tally = { same: 0, null: 0 };
    const problems: string[] = [];
    for (const [name, file] of Object.entries(CRAFTED)) check(name, file, tally, problems);
    expect(problems).toEqual([]);
    // the usual layouts are read fast (whole), the others are left to dicom-parser
    for (const name of ['plain', 'sequence, defined lengths', 'sequence, undefined lengths', 'nested sequences, mixed', 'empty sequence', 'SV and OV (read with a 2-byte length by dicom-parser)', 'private and long VRs']) {
      expect(parseHeaderFast(CRAFTED[name]!, CRAFTED[name]!.length), name).not.toBeNull();
    }
    for (const name of ['unknown VR', 'implicit VR little endian', 'big endian', 'undefined-length UN', 'item delimiter at the top level', 'no pixel data in the bytes']) {
      expect(parseHeaderFast(CRAFTED[name]!, CRAFTED[name]!.length + 4096), name).toBeNull();
    }
  });

  it('… on generated CT slices and the fingerprint fixtures', () => {
    const tally = { same: 0, null: 0 };
    const problems: string[] = [];
    for (const rows of [16, 192, 512]) check(`synthetic ${rows}`, syntheticSlice(rows, rows), tally, problems);
    for (const f of readdirSync(FIXTURE_DIR).filter((x) => x.endsWith('.dcm'))) check(f, new Uint8Array(readFileSync(join(FIXTURE_DIR, f))), tally, problems);
    expect(problems).toEqual([]);
    expect(tally.same).toBeGreaterThan(40);
    const ct = syntheticSlice(512, 3);
    expect(parseHeaderFast(Buffer.from(ct.subarray(0, 65536)), ct.length)?.dataSet.string('x00080018')).toBe('2.25.302208163612781095367541196530958761371.3.3');
  });

  it.skipIf(!existsSync(PYDICOM))('… on every pydicom test file', () => {
    const tally = { same: 0, null: 0 };
    const problems: string[] = [];
    for (const f of readdirSync(PYDICOM).filter((x) => x.endsWith('.dcm')).sort()) check(f, new Uint8Array(readFileSync(join(PYDICOM, f))), tally, problems);
    expect(problems).toEqual([]);
    expect(tally.same).toBeGreaterThan(50);
    expect(tally.null).toBeGreaterThan(50);
  });

  it('… on thousands of damaged headers (bytes changed, lengths and tags included), never throwing', () => {
    const tally = { same: 0, null: 0 };
    const problems: string[] = [];
    let x = 0x2545f491;
    const rnd = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const sources = [syntheticSlice(64, 5), CRAFTED['nested sequences, mixed']!, CRAFTED['sequence, defined lengths']!, CRAFTED['private and long VRs']!];
    for (let i = 0; i < 3000; i++) {
      const src = sources[i % sources.length]!;
      const b = Buffer.from(src);
      const px = b.length - (src === sources[0] ? 64 * 64 * 2 : 4096);
      for (let k = 1 + rnd(3); k > 0; k--) {
        const at = 128 + rnd(px - 128);
        // a random byte, or a byte of a length field set to 0 / 0xff (lengths and delimiters go wrong)
        b[at] = rnd(3) === 0 ? (rnd(2) ? 0xff : 0) : rnd(256);
      }
      const cut = rnd(4) === 0 ? 132 + rnd(b.length - 132) : b.length;
      const o = compare(Buffer.from(b.subarray(0, cut)), b.length);
      if (o.fast === 'differs') problems.push(`case ${i} @${cut}: ${o.why}`);
      else tally[o.fast]++;
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(tally.same).toBeGreaterThan(500); // most damage leaves a header both read alike
    expect(tally.null).toBeGreaterThan(100);
  });
});
