/** The tag tree of a parsed data set, for the tag inspector. */
import dcmjs from 'dcmjs';
import type { DataSet, Element } from 'dicom-parser';
import type { TagNode } from '../../shared/api/library';

interface DictEntry {
  name?: string;
  vr?: string;
}
const dictionary = (dcmjs as { data: { DicomMetaDictionary: { dictionary: Record<string, DictEntry> } } }).data.DicomMetaDictionary
  .dictionary;

const STRING_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);
const PREVIEW = 256;

function label(tag: string): string {
  const t = tag.replace(/^x/, '').toUpperCase();
  return `(${t.slice(0, 4)},${t.slice(4, 8)})`;
}

export function tagInfo(tag: string): { name: string; vr: string | null } {
  const key = label(tag);
  const d = dictionary[key];
  if (d) return { name: d.name ?? '', vr: d.vr ?? null };
  const t = tag.replace(/^x/, '');
  const group = parseInt(t.slice(0, 4), 16);
  const elem = t.slice(4, 8).toUpperCase();
  if (elem === '0000') return { name: 'GroupLength', vr: 'UL' };
  if (group % 2 === 1) return { name: '', vr: null };
  // repeating groups like (60xx,3000)
  const rep = dictionary[`(${t.slice(0, 2).toUpperCase()}xx,${elem})`];
  return { name: rep?.name ?? '', vr: rep?.vr ?? null };
}

function numbers(ds: DataSet, el: Element, vr: string): string {
  const size = vr === 'FD' ? 8 : vr === 'UL' || vr === 'SL' || vr === 'FL' ? 4 : 2;
  const n = Math.floor(el.length / size);
  const out: string[] = [];
  for (let i = 0; i < Math.min(n, 32); i++) {
    let v: number | undefined;
    if (vr === 'US') v = ds.uint16(el.tag, i);
    else if (vr === 'SS') v = ds.int16(el.tag, i);
    else if (vr === 'UL') v = ds.uint32(el.tag, i);
    else if (vr === 'SL') v = ds.int32(el.tag, i);
    else if (vr === 'FL') v = ds.float(el.tag, i);
    else v = ds.double(el.tag, i);
    out.push(v === undefined ? '?' : String(v));
  }
  return out.join('\\') + (n > 32 ? `\\… (${n} values)` : '');
}

function preview(ds: DataSet, el: Element, vr: string): string {
  if (el.tag === 'x7fe00010') {
    return el.encapsulatedPixelData ? `<encapsulated pixel data, ${el.fragments?.length ?? 0} fragments>` : `<${el.length} bytes of pixel data>`;
  }
  if (el.length === 0) return '';
  if (el.length === 0xffffffff) return '<undefined length>';
  try {
    if (STRING_VRS.has(vr)) {
      const end = Math.min(el.dataOffset + Math.min(el.length, PREVIEW * 4), ds.byteArray.length);
      const bytes = ds.byteArray.subarray(el.dataOffset, end);
      let s: string;
      try {
        s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        s = new TextDecoder('latin1').decode(bytes);
      }
      s = s.replace(/\0+$/g, '').trimEnd();
      return s.length > PREVIEW ? s.slice(0, PREVIEW) + '…' : s;
    }
    if (['US', 'SS', 'UL', 'SL', 'FL', 'FD'].includes(vr)) return numbers(ds, el, vr);
    if (vr === 'AT') {
      const g = ds.uint16(el.tag, 0);
      const e = ds.uint16(el.tag, 1);
      if (g === undefined || e === undefined) return '';
      return `(${g.toString(16).padStart(4, '0')},${e.toString(16).padStart(4, '0')})`.toUpperCase();
    }
  } catch {
    return `<${el.length} bytes>`;
  }
  return `<${el.length} bytes>`;
}

/** Builds the tag tree of a data set (meta group included when `meta` is true). */
export function tagTree(ds: DataSet, which: 'meta' | 'dataset', depth = 0): TagNode[] {
  const tags = Object.keys(ds.elements)
    .filter((t) => (which === 'meta' ? t.startsWith('x0002') : !t.startsWith('x0002')))
    .filter((t) => !t.startsWith('xfffe'))
    .sort();
  return tags.map((tag) => {
    const el = ds.elements[tag]!;
    const info = tagInfo(tag);
    const vr = el.vr ?? (el.items ? 'SQ' : info.vr ?? 'UN');
    const node: TagNode = {
      tag: label(tag),
      name: info.name,
      vr,
      length: el.hadUndefinedLength ? -1 : el.length,
      value: el.items ? `${el.items.length} item${el.items.length === 1 ? '' : 's'}` : preview(ds, el, vr.split('|')[0] ?? vr),
    };
    if (el.items && depth < 16) node.items = el.items.map((it) => (it.dataSet ? tagTree(it.dataSet, 'dataset', depth + 1) : []));
    return node;
  });
}
