/**
 * The canonical metadata encoding of spec v1 (docs/fingerprint-spec.md §3). The `meta` digest is
 * SHA-256 over these bytes. The encoding is independent of the transfer syntax: implicit VR,
 * explicit VR, big-endian and deflated encodings of one data set give the same bytes.
 *
 *   dataset  := u32le(count) element*            elements in ascending tag order
 *   element  := u16le(group) u16le(element) u8(kind) body
 *   kind 0   := u32le(length) value-bytes         a value (normalised, see below)
 *   kind 1   := u32le(itemCount) dataset*         a sequence with at least one item
 */
import dicomParser from 'dicom-parser';
import { dictionaryVr, SWAP_WIDTH, TEXT_VRS } from './dictionary';

/** The parts of a dicom-parser element the encoding reads. */
export interface MetaElement {
  tag: string;
  vr?: string;
  length: number;
  dataOffset: number;
  hadUndefinedLength?: boolean;
  items?: { dataSet?: MetaDataSet }[];
}
export interface MetaDataSet {
  byteArray: Uint8Array;
  elements: Record<string, MetaElement>;
}

export interface CanonicalMetaOptions {
  /** The data set was encoded big-endian (Explicit VR Big Endian). */
  bigEndian: boolean;
  /** The data set was encoded with explicit VRs. */
  explicitVr: boolean;
}

export const KIND_VALUE = 0;
export const KIND_SEQUENCE = 1;

const PIXEL_DATA = 'x7fe00010';
const TRAILING_PADDING = 'xfffcfffc';

/** Whether an element takes part in the encoding at this nesting level. */
export function isMetaElement(tag: string, topLevel: boolean): boolean {
  if (tag.startsWith('x0002')) return false; // file meta information
  if (tag.endsWith('0000')) return false; // group lengths
  if (tag === TRAILING_PADDING) return false; // data set trailing padding
  if (topLevel && tag === PIXEL_DATA) return false;
  if (tag.startsWith('xfffe')) return false; // items and delimiters
  return true;
}

class Writer {
  buf = new Uint8Array(4096);
  len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 24) & 0xff;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** `src[from, to)`; short values byte by byte (cheaper than a view per element). */
  range(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    this.ensure(n);
    if (n > 32) this.buf.set(src.subarray(from, to), this.len);
    else for (let i = 0; i < n; i++) this.buf[this.len + i] = src[from + i]!;
    this.len += n;
  }
}

/** The byte-swap width for a value of a big-endian data set (1 = bytes as stored). */
function swapWidth(el: MetaElement): number {
  let vr = el.vr;
  if (vr === undefined || vr === 'UN') vr = dictionaryVr(el.tag) ?? 'UN';
  return SWAP_WIDTH[vr] ?? 1;
}

/**
 * What the encoding needs of a tag, worked out once per tag ('xggggeeee') and cached (a study
 * repeats the same few hundred tags): one lookup per element instead of three.
 */
interface TagInfo {
  group: number;
  element: number;
  /** Whether the tag takes part at the top level / inside an item (isMetaElement). */
  topLevel: boolean;
  nested: boolean;
  /** Its dictionary VR is a text VR (trailing spaces and NULs are insignificant). */
  text: boolean;
  /** A private tag, or SQ in the dictionary: a UN / implicit value may hold unparsed items. */
  mayHoldItems: boolean;
}
const TAG_INFO = new Map<string, TagInfo>();
function tagInfo(tag: string): TagInfo {
  let t = TAG_INFO.get(tag);
  if (t === undefined) {
    const group = parseInt(tag.slice(1, 5), 16);
    const element = parseInt(tag.slice(5, 9), 16);
    const dictVr = (group & 1) === 0 ? dictionaryVr(tag) : null;
    t = {
      group,
      element,
      topLevel: isMetaElement(tag, true),
      nested: isMetaElement(tag, false),
      text: dictVr !== null && TEXT_VRS.has(dictVr),
      mayHoldItems: (group & 1) === 1 || dictVr === 'SQ',
    };
    if (TAG_INFO.size < 100_000) TAG_INFO.set(tag, t);
  }
  return t;
}

/** The normalised value bytes of a non-sequence element (a fresh copy when changed). */
export function normalisedValue(el: MetaElement, bytes: Uint8Array, opts: CanonicalMetaOptions): Uint8Array {
  const end = Math.min(el.dataOffset + el.length, bytes.length);
  let v = bytes.subarray(el.dataOffset, Math.max(el.dataOffset, end));
  if (tagInfo(el.tag).text) {
    let n = v.length;
    while (n > 0 && (v[n - 1] === 0x20 || v[n - 1] === 0x00)) n--;
    return v.subarray(0, n);
  }
  if (opts.bigEndian) {
    const w = swapWidth(el);
    if (w > 1) {
      const out = new Uint8Array(v.length);
      const whole = v.length - (v.length % w);
      for (let i = 0; i < whole; i += w) for (let j = 0; j < w; j++) out[i + j] = v[i + w - 1 - j]!;
      out.set(v.subarray(whole), whole);
      v = out;
    }
  }
  return v;
}

/**
 * Sequences a reader could not see: dicom-parser drops the items of private sequences in implicit
 * VR, and an explicit-VR writer may store a sequence as UN (whose value is then Implicit VR Little
 * Endian, PS3.5 §6.2.2). When such a value (implicit VR, or VR UN; private, or SQ in the
 * dictionary) starts with an Item tag (FFFE,E000) it is read as an implicit-VR sequence.
 */
function unparsedSequenceItems(el: MetaElement, ds: MetaDataSet): { dataSet?: MetaDataSet }[] | null {
  const b = ds.byteArray;
  const o = el.dataOffset;
  if (el.length < 8 || o + 4 > b.length) return null;
  if (!(b[o] === 0xfe && b[o + 1] === 0xff && b[o + 2] === 0x00 && b[o + 3] === 0xe0)) return null;
  try {
    const probe = {
      tag: el.tag,
      length: el.hadUndefinedLength ? 0xffffffff : el.length,
      dataOffset: o,
      hadUndefinedLength: el.hadUndefinedLength,
    } as MetaElement;
    const stream = new dicomParser.ByteStream(dicomParser.littleEndianByteArrayParser, b as never, o);
    dicomParser.readSequenceItemsImplicit(stream, probe as never);
    return probe.items ?? null;
  } catch {
    return null;
  }
}

/** The tags of a data set that take part in the encoding, in ascending order. */
function metaTags(ds: MetaDataSet, topLevel: boolean): string[] {
  const tags: string[] = [];
  let sorted = true;
  for (const t in ds.elements) {
    const info = tagInfo(t);
    if (!(topLevel ? info.topLevel : info.nested)) continue;
    // a parser meets the elements in tag order, so the sort is usually a check
    if (sorted && tags.length > 0 && tags[tags.length - 1]! > t) sorted = false;
    tags.push(t);
  }
  return sorted ? tags : tags.sort();
}

function encodeDataSet(w: Writer, ds: MetaDataSet, opts: CanonicalMetaOptions, topLevel: boolean): void {
  const tags = metaTags(ds, topLevel);
  w.u32(tags.length);
  for (const tag of tags) {
    const el = ds.elements[tag]!;
    const info = tagInfo(tag);
    w.u16(info.group);
    w.u16(info.element);
    let items = el.items;
    if (!items && (el.vr === undefined || el.vr === 'UN') && info.mayHoldItems) items = unparsedSequenceItems(el, ds) ?? undefined;
    if (items && items.length > 0) {
      w.u8(KIND_SEQUENCE);
      w.u32(items.length);
      for (const item of items) {
        if (item.dataSet) encodeDataSet(w, item.dataSet, opts, false);
        else w.u32(0);
      }
    } else if (items) {
      // A sequence without items is encoded like an empty value (an implicit-VR reader cannot tell them apart).
      w.u8(KIND_VALUE);
      w.u32(0);
    } else if (!opts.bigEndian) {
      // normalisedValue without the view: the value is copied straight from the data set
      const bytes = ds.byteArray;
      const start = el.dataOffset;
      let end = Math.max(start, Math.min(start + el.length, bytes.length));
      if (info.text) while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x00)) end--;
      w.u8(KIND_VALUE);
      w.u32(end - start);
      w.range(bytes, start, end);
    } else {
      const v = normalisedValue(el, ds.byteArray, opts);
      w.u8(KIND_VALUE);
      w.u32(v.length);
      w.bytes(v);
    }
  }
}

/** The canonical metadata bytes of a parsed data set (dicom-parser DataSet). */
export function canonicalMetaBytes(ds: MetaDataSet, opts: CanonicalMetaOptions): Uint8Array {
  const w = new Writer();
  encodeDataSet(w, ds, opts, true);
  return w.buf.subarray(0, w.len);
}
