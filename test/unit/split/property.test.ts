/**
 * Property: for random data sets — random elements (public, private, odd lengths, a sequence),
 * every plain transfer syntax (implicit LE, explicit LE, explicit BE) and an encapsulated one, native
 * or encapsulated Pixel Data (Basic Offset Table, fragments), elements after Pixel Data, with or
 * without preamble and file meta group — the cut's pixel part is exactly the Pixel Data value, the
 * metadata part is everything else, and metadata + pixel part reassemble to the same bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../src/node/split/rebuild';
import { cutInstance } from '../../../src/node/split/split';
import type { MetadataHeader } from '../../../src/core/split/format';

type Ts = 'implicit' | 'explicit' | 'bigEndian' | 'jpeg';
const TS_UID: Record<Ts, string> = {
  implicit: '1.2.840.10008.1.2',
  explicit: '1.2.840.10008.1.2.1',
  bigEndian: '1.2.840.10008.1.2.2',
  jpeg: '1.2.840.10008.1.2.4.50',
};
const LONG_VR = new Set(['OB', 'OW', 'SQ', 'UN', 'UT', 'UC', 'UR', 'OD', 'OF', 'OL', 'OV']);

interface El {
  group: number;
  element: number;
  vr: string;
  value: Uint8Array | 'undefined-length-sq';
  /** Items of an undefined-length sequence: each holds one Accession Number (0008,0050) "AB". */
  items?: number;
}

function u16(n: number, be: boolean): number[] {
  return be ? [(n >> 8) & 255, n & 255] : [n & 255, (n >> 8) & 255];
}
function u32(n: number, be: boolean): number[] {
  const b = [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
  return be ? b.reverse() : b;
}

function encodeElement(e: El, explicit: boolean, be: boolean): number[] {
  const out = [...u16(e.group, be), ...u16(e.element, be)];
  const undef = e.value === 'undefined-length-sq';
  const body: number[] = [];
  if (undef) {
    for (let i = 0; i < (e.items ?? 0); i++) {
      const item = encodeElement({ group: 0x0008, element: 0x0050, vr: 'SH', value: ascii('AB') }, explicit, be);
      body.push(...u16(0xfffe, be), ...u16(0xe000, be), ...u32(item.length, be), ...item);
    }
    body.push(...u16(0xfffe, be), ...u16(0xe0dd, be), ...u32(0, be));
  } else body.push(...(e.value as Uint8Array));
  const len = undef ? 0xffffffff : body.length;
  if (explicit) {
    out.push(e.vr.charCodeAt(0), e.vr.charCodeAt(1));
    if (LONG_VR.has(e.vr)) out.push(0, 0, ...u32(len, be));
    else out.push(...u16(len, be));
  } else out.push(...u32(len, be));
  out.push(...body);
  return out;
}

const ascii = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
const pad = (s: string, p = ' ') => ascii(s.length % 2 ? s + p : s);

function buildFile(o: {
  ts: Ts;
  part10: boolean;
  sop: string;
  extra: El[];
  rows: number;
  cols: number;
  pixel: Uint8Array;
  fragments: Uint8Array[];
  bot: boolean;
  trailing: Uint8Array | null;
}): { bytes: Uint8Array; value: Uint8Array } {
  const be = o.ts === 'bigEndian';
  const explicit = o.ts !== 'implicit';
  const us = (n: number) => new Uint8Array(u16(n, be));
  const els: El[] = [
    { group: 0x0008, element: 0x0016, vr: 'UI', value: pad('1.2.840.10008.5.1.4.1.1.7', '\0') },
    { group: 0x0008, element: 0x0018, vr: 'UI', value: pad(o.sop, '\0') },
    { group: 0x0028, element: 0x0002, vr: 'US', value: us(1) },
    { group: 0x0028, element: 0x0004, vr: 'CS', value: pad('MONOCHROME2') },
    { group: 0x0028, element: 0x0010, vr: 'US', value: us(o.rows) },
    { group: 0x0028, element: 0x0011, vr: 'US', value: us(o.cols) },
    { group: 0x0028, element: 0x0100, vr: 'US', value: us(8) },
    { group: 0x0028, element: 0x0101, vr: 'US', value: us(8) },
    { group: 0x0028, element: 0x0102, vr: 'US', value: us(7) },
    { group: 0x0028, element: 0x0103, vr: 'US', value: us(0) },
    ...o.extra,
  ];
  const seen = new Set<string>();
  const unique = els.filter((e) => {
    const k = `${e.group}:${e.element}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  unique.sort((a, b) => a.group - b.group || a.element - b.element);
  const body: number[] = [];
  for (const e of unique) body.push(...encodeElement(e, explicit, be));
  // Pixel Data
  let value: number[];
  if (o.ts === 'jpeg') {
    value = [];
    const frags = o.fragments;
    const botItem = o.bot ? u32(0, false) : [];
    value.push(...u16(0xfffe, false), ...u16(0xe000, false), ...u32(botItem.length, false), ...botItem);
    for (const f of frags) value.push(...u16(0xfffe, false), ...u16(0xe000, false), ...u32(f.length, false), ...f);
    value.push(...u16(0xfffe, false), ...u16(0xe0dd, false), ...u32(0, false));
    body.push(...u16(0x7fe0, be), ...u16(0x0010, be), 0x4f, 0x42, 0, 0, ...u32(0xffffffff, be));
  } else {
    value = [...o.pixel];
    const vr = 'OB';
    if (explicit) body.push(...u16(0x7fe0, be), ...u16(0x0010, be), vr.charCodeAt(0), vr.charCodeAt(1), 0, 0, ...u32(value.length, be));
    else body.push(...u16(0x7fe0, be), ...u16(0x0010, be), ...u32(value.length, be));
  }
  const valueAt = body.length;
  body.push(...value);
  if (o.trailing) body.push(...encodeElement({ group: 0xfffc, element: 0xfffc, vr: 'OB', value: o.trailing }, explicit, be));
  if (!o.part10) return { bytes: new Uint8Array(body), value: new Uint8Array(body.slice(valueAt, valueAt + value.length)) };
  const metaEls: El[] = [
    { group: 2, element: 1, vr: 'OB', value: new Uint8Array([0, 1]) },
    { group: 2, element: 2, vr: 'UI', value: pad('1.2.840.10008.5.1.4.1.1.7', '\0') },
    { group: 2, element: 3, vr: 'UI', value: pad(o.sop, '\0') },
    { group: 2, element: 0x10, vr: 'UI', value: pad(TS_UID[o.ts], '\0') },
  ];
  const metaBody: number[] = [];
  for (const e of metaEls) metaBody.push(...encodeElement(e, true, false));
  const head = [...new Array(128).fill(0), 0x44, 0x49, 0x43, 0x4d, ...encodeElement({ group: 2, element: 0, vr: 'UL', value: new Uint8Array(u32(metaBody.length, false)) }, true, false), ...metaBody];
  return { bytes: new Uint8Array([...head, ...body]), value: new Uint8Array(value) };
}

const textVrs = ['LO', 'SH', 'CS', 'PN', 'DA', 'IS', 'DS', 'LT'] as const;
const arbText = fc.string({ minLength: 0, maxLength: 24, unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ^.'.split('')) });
const arbExtra: fc.Arbitrary<El> = fc.oneof(
  // public text elements in groups 0008/0010/0020
  fc.record({
    group: fc.constantFrom(0x0008, 0x0010, 0x0020),
    element: fc.integer({ min: 0x0020, max: 0x0fff }).filter((n) => n !== 0x0016 && n !== 0x0018),
    vr: fc.constantFrom(...textVrs),
    value: arbText.map((s) => ascii(s)), // odd lengths allowed on purpose
  }),
  // private creator + private binary element
  fc.record({
    group: fc.constantFrom(0x0009, 0x0011, 0x0029),
    element: fc.integer({ min: 0x1000, max: 0x10ff }),
    vr: fc.constant('OB'),
    value: fc.uint8Array({ minLength: 0, maxLength: 40 }),
  }),
  // a sequence of undefined length with implicit-LE-encoded items (small item bodies)
  fc.record({
    group: fc.constant(0x0040),
    element: fc.constant(0x0275),
    vr: fc.constant('SQ'),
    value: fc.constant('undefined-length-sq' as const),
    items: fc.integer({ min: 0, max: 3 }),
  }),
);

const arbCase = fc
  .record({
    ts: fc.constantFrom<Ts>('implicit', 'explicit', 'bigEndian', 'jpeg'),
    part10: fc.boolean(),
    sop: fc.integer({ min: 1, max: 1e9 }).map((n) => `2.25.${n}`),
    extra: fc.array(arbExtra, { maxLength: 12 }),
    rows: fc.integer({ min: 1, max: 9 }),
    cols: fc.integer({ min: 1, max: 9 }),
    fragments: fc.array(fc.uint8Array({ minLength: 2, maxLength: 64 }).map((a) => (a.length % 2 ? a.subarray(1) : a)), { minLength: 1, maxLength: 4 }),
    bot: fc.boolean(),
    trailing: fc.option(fc.uint8Array({ minLength: 0, maxLength: 16 }).map((a) => (a.length % 2 ? a.subarray(1) : a)), { nil: null }),
    seed: fc.integer({ min: 0, max: 255 }),
  })
  // raw data sets (no meta group) in big endian / encapsulated cannot say their transfer syntax
  .filter((c) => c.part10 || c.ts === 'implicit' || c.ts === 'explicit');

describe('split property: random element sets', () => {
  it('pixel part = the Pixel Data value; metadata + pixel part = the file', async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, async (c) => {
        const pixel = new Uint8Array(c.rows * c.cols).map((_, i) => (i * 31 + c.seed) & 255);
        const { bytes, value } = buildFile({ ...c, pixel });
        const cut = await cutInstance(bytes);
        expect(Buffer.from(cut.pixelPart).equals(Buffer.from(value))).toBe(true);
        expect(cut.metadata.length + cut.pixelPart.length).toBe(bytes.length);
        expect(cut.layout).toBe('cut');
        expect(cut.sopInstanceUid).toBe(c.sop);
        const h = { cutAt: cut.cutAt, fileLength: cut.fileLength } as MetadataHeader;
        expect(assemble(h, cut.metadata, cut.pixelPart).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 300, seed: 13 },
    );
  });
});
