/**
 * Mutators: each turns a seed into one damaged file, the way real files go wrong or a hostile one is made —
 * bit flips and byte edits in the header, lengths past the end or huge, bad VRs, sequences nested 1,000 deep,
 * undefined lengths without delimiters, damaged JPEG / JPEG-LS / JPEG 2000 / RLE codestreams, truncation at an
 * element boundary, deflate bombs. Deterministic for a given RNG.
 */
import { deflateRawSync } from 'node:zlib';
import type { Rng } from './prng';
import type { ElementSpan, Seed } from './corpus';

export interface FuzzCase {
  seed: string;
  mutator: string;
  detail: string;
  bytes: Uint8Array;
}

type Mutator = (s: Seed, r: Rng) => { detail: string; bytes: Uint8Array } | null;

const copy = (b: Uint8Array) => new Uint8Array(b);
/** Where the data set's elements begin (after the 128-byte preamble, "DICM" and the meta group, if any). */
const headerEnd = (s: Seed) => {
  const px = s.elements.find((e) => e.tag === 'x7fe00010' && e.depth === 0);
  return px ? px.dataOffset : Math.min(s.bytes.length, 8192);
};
const nonPixel = (s: Seed) => s.elements.filter((e) => e.tag !== 'x7fe00010' && e.tag !== 'xfffee000');

/** The length field of an element: [offset, size in bytes] (2 for explicit-VR short form, else 4). */
function lengthField(s: Seed, e: ElementSpan): [number, 2 | 4] {
  const short = e.dataOffset - e.start === 8 && (s.explicitVr || e.tag.startsWith('x0002')) && e.vr !== undefined;
  return short ? [e.dataOffset - 2, 2] : [e.dataOffset - 4, 4];
}
function writeUint(b: Uint8Array, offset: number, size: 2 | 4, value: number, littleEndian: boolean): void {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (offset < 0 || offset + size > b.length) return;
  if (size === 2) v.setUint16(offset, value & 0xffff, littleEndian);
  else v.setUint32(offset, value >>> 0, littleEndian);
}

const bitFlips: Mutator = (s, r) => {
  const b = copy(s.bytes);
  const end = headerEnd(s);
  const n = 1 + r.int(8);
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = 132 <= end ? 132 + r.int(Math.max(1, end - 132)) : r.int(Math.max(1, end));
    b[p] = b[p]! ^ (1 << r.int(8));
    at.push(p);
  }
  return { detail: `${n} bit(s) flipped at ${at.slice(0, 4).join(',')}`, bytes: b };
};

const byteEdits: Mutator = (s, r) => {
  const b = copy(s.bytes);
  const end = headerEnd(s);
  const n = 1 + r.int(16);
  for (let i = 0; i < n; i++) b[r.int(Math.max(1, end))] = r.pick([0x00, 0xff, 0x7f, 0x80, 0x20, r.int(256)]);
  return { detail: `${n} byte(s) edited in the header`, bytes: b };
};

const hugeLength: Mutator = (s, r) => {
  const els = nonPixel(s);
  if (!els.length) return null;
  const e = r.pick(els);
  const b = copy(s.bytes);
  const [off, size] = lengthField(s, e);
  const value = size === 2 ? r.pick([0xfffe, 0xffff, 0x8000]) : r.pick([0xfffffff0, 0x7fffffff, 0x40000000, 0xfffffffe]);
  writeUint(b, off, size, value, s.littleEndian || e.tag.startsWith('x0002'));
  return { detail: `length of ${e.tag} set to ${value}`, bytes: b };
};

const lengthPastEnd: Mutator = (s, r) => {
  const els = s.elements;
  if (!els.length) return null;
  const e = r.pick(els);
  const b = copy(s.bytes);
  const [off, size] = lengthField(s, e);
  const value = Math.min(size === 2 ? 0xfffe : 0xfffffff0, s.bytes.length - e.dataOffset + 2 + 2 * r.int(5000));
  writeUint(b, off, size, value, s.littleEndian || e.tag.startsWith('x0002'));
  return { detail: `length of ${e.tag} points ${value - (s.bytes.length - e.dataOffset)} bytes past the end`, bytes: b };
};

const badVr: Mutator = (s, r) => {
  const els = s.elements.filter((e) => e.vr !== undefined && (s.explicitVr || e.tag.startsWith('x0002')));
  if (!els.length) return null;
  const e = r.pick(els);
  const b = copy(s.bytes);
  const vr = r.pick(['ZZ', '\0\0', 'SQ', 'OB', 'UN', 'xx', '??', 'UT']);
  b[e.start + 4] = vr.charCodeAt(0);
  b[e.start + 5] = vr.charCodeAt(1);
  return { detail: `VR of ${e.tag} (${e.vr}) replaced by ${JSON.stringify(vr)}`, bytes: b };
};

/** An explicit-VR-LE element header. */
function el(group: number, element: number, vr: string, length: number): Uint8Array {
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  const h = new Uint8Array(long ? 12 : 8);
  const v = new DataView(h.buffer);
  v.setUint16(0, group, true);
  v.setUint16(2, element, true);
  h[4] = vr.charCodeAt(0);
  h[5] = vr.charCodeAt(1);
  if (long) v.setUint32(8, length >>> 0, true);
  else v.setUint16(6, length, true);
  return h;
}
function item(tag: number, length: number): Uint8Array {
  const h = new Uint8Array(8);
  const v = new DataView(h.buffer);
  v.setUint16(0, 0xfffe, true);
  v.setUint16(2, tag, true);
  v.setUint32(4, length >>> 0, true);
  return h;
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
/** The seed's bytes up to its first data-set element (preamble, DICM, meta group), if it is explicit VR LE. */
function metaPrefix(s: Seed): Uint8Array | null {
  if (s.transferSyntaxUid !== '1.2.840.10008.1.2.1') return null;
  const first = s.elements.find((e) => !e.tag.startsWith('x0002') && e.depth === 0);
  return first ? s.bytes.subarray(0, first.start) : null;
}

/** A private sequence nested `depth` levels deep (undefined lengths), with or without its delimiters. */
function deepSequence(depth: number, delimited: boolean): Uint8Array {
  const open: Uint8Array[] = [];
  const close: Uint8Array[] = [];
  for (let i = 0; i < depth; i++) {
    open.push(el(0x0009, 0x1010, 'SQ', 0xffffffff), item(0xe000, 0xffffffff));
    if (delimited) close.unshift(item(0xe00d, 0), item(0xe0dd, 0));
  }
  return concat([...open, el(0x0009, 0x1011, 'LO', 4), new TextEncoder().encode('deep'), ...close]);
}

const nestedDeep: Mutator = (s, r) => {
  const prefix = metaPrefix(s);
  if (!prefix) return null;
  const rest = s.bytes.subarray(prefix.length);
  const delimited = r.chance(0.5);
  const depth = r.pick([200, 1000, 5000]);
  // Private group 0009 sorts right after the meta group; the creator element keeps it legal.
  const creator = concat([el(0x0009, 0x0010, 'LO', 8), new TextEncoder().encode('FUZZDEEP')]);
  return { detail: `sequence nested ${depth} deep${delimited ? '' : ' without delimiters'}`, bytes: concat([prefix, creator, deepSequence(depth, delimited), rest]) };
};

const undefinedNoDelimiter: Mutator = (s, r) => {
  const sq = s.elements.filter((e) => e.vr === 'SQ' && !e.undefinedLength && s.explicitVr);
  const b = copy(s.bytes);
  if (sq.length) {
    // A defined-length sequence turned into an undefined one: no delimiter will ever come.
    const e = r.pick(sq);
    writeUint(b, e.dataOffset - 4, 4, 0xffffffff, s.littleEndian);
    return { detail: `sequence ${e.tag} given undefined length without a delimiter`, bytes: b };
  }
  const others = nonPixel(s).filter((e) => e.dataOffset - e.start === 12);
  if (!others.length) return null;
  const e = r.pick(others);
  writeUint(b, e.dataOffset - 4, 4, 0xffffffff, s.littleEndian);
  return { detail: `${e.vr} element ${e.tag} given undefined length`, bytes: b };
};

const codestream: Mutator = (s, r) => {
  if (!s.fragments.length) return null;
  const b = copy(s.bytes);
  const f = r.pick(s.fragments);
  const kind = r.pick(['flip', 'zero', 'garbage', 'cut-marker']);
  const n = 1 + r.int(32);
  for (let i = 0; i < n; i++) {
    const p = f.offset + r.int(Math.max(1, f.length));
    if (p >= b.length) continue;
    if (kind === 'flip') b[p] = b[p]! ^ (1 << r.int(8));
    else if (kind === 'zero') b[p] = 0;
    else if (kind === 'garbage') b[p] = r.int(256);
    else b[p] = 0xff; // a stray marker prefix
  }
  return { detail: `${kind} × ${n} in a pixel data fragment of ${f.length} bytes`, bytes: b };
};

const truncateAtBoundary: Mutator = (s, r) => {
  if (!s.elements.length) return { detail: 'truncated at a random byte', bytes: s.bytes.slice(0, r.int(s.bytes.length)) };
  const e = r.pick(s.elements);
  const at = r.pick([e.start, e.dataOffset, e.dataOffset + (e.length >> 1), e.start + 2, e.start + 6]);
  return { detail: `truncated at byte ${at} (${e.tag})`, bytes: s.bytes.slice(0, Math.max(0, Math.min(at, s.bytes.length - 1))) };
};

let bomb: Uint8Array | null = null;
/** Builds the costly parts of mutators once, before any case runs (so a case's time is the app's, not the harness's). */
export function prepareMutators(): void {
  bomb ??= deflateRawSync(Buffer.alloc(600 * 1024 * 1024), { level: 9 });
}
/** A deflated data set whose stream inflates to far more than the reader allows (600 MB of zeros). */
const deflateBomb: Mutator = (s) => {
  const prefix = metaPrefix(s);
  const ts = s.elements.find((e) => e.tag === 'x00020010');
  if (!prefix || !ts) return null;
  // The meta group's transfer syntax says deflated (and its group length follows the longer UID).
  const uid = new TextEncoder().encode('1.2.840.10008.1.2.1.99');
  const head = concat([prefix.subarray(0, ts.start), el(0x0002, 0x0010, 'UI', uid.length), uid, prefix.subarray(ts.dataOffset + ts.length)]);
  const groupLength = s.elements.find((e) => e.tag === 'x00020000');
  if (groupLength) {
    const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
    v.setUint32(groupLength.dataOffset, v.getUint32(groupLength.dataOffset, true) + uid.length - ts.length, true);
  }
  prepareMutators();
  return { detail: `deflated data set that inflates to 600 MB (${bomb!.length} bytes on disk)`, bytes: concat([head, bomb!]) };
};

export const MUTATORS: Record<string, Mutator> = {
  'bit-flips': bitFlips,
  'byte-edits': byteEdits,
  'huge-length': hugeLength,
  'length-past-end': lengthPastEnd,
  'bad-vr': badVr,
  'nested-deep': nestedDeep,
  'undefined-no-delimiter': undefinedNoDelimiter,
  codestream,
  'truncate-at-boundary': truncateAtBoundary,
  'deflate-bomb': deflateBomb,
};
/** How often each mutator is drawn (the bomb is costly to build and rarely new). */
const WEIGHTS: [string, number][] = [
  ['bit-flips', 18],
  ['byte-edits', 12],
  ['huge-length', 12],
  ['length-past-end', 10],
  ['bad-vr', 10],
  ['nested-deep', 4],
  ['undefined-no-delimiter', 8],
  ['codestream', 14],
  ['truncate-at-boundary', 11],
  ['deflate-bomb', 1],
];
const TOTAL = WEIGHTS.reduce((n, [, w]) => n + w, 0);

/** One case: a seed and a mutator drawn from the RNG (another draw when the mutator does not apply). */
export function makeCase(seeds: Seed[], r: Rng): FuzzCase {
  for (;;) {
    const seed = r.pick(seeds);
    let x = r.int(TOTAL);
    let name = WEIGHTS[0]![0];
    for (const [n, w] of WEIGHTS) {
      if (x < w) {
        name = n;
        break;
      }
      x -= w;
    }
    const m = MUTATORS[name]!(seed, r);
    if (m) return { seed: seed.name, mutator: name, ...m };
  }
}
