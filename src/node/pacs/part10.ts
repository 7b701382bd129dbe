/**
 * Part-10 files from what DIMSE delivers (a data set in a negotiated transfer syntax, no file meta
 * header): the 128-byte preamble, "DICM", a file meta group (PS3.10 7.1), then the data set bytes
 * unchanged. Also reads the few meta values the PACS code needs from a Part-10 file.
 */
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME as IMPLEMENTATION_VERSION } from '../dicom/implementation';
import { readFileMeta } from './part10-meta';

export { readFileMeta };

function element(group: number, el: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(el, 2);
  h.write(vr, 4, 'latin1');
  if (long) h.writeUInt32LE(value.length, 8);
  else h.writeUInt16LE(value.length, 6);
  return Buffer.concat([h, value]);
}

const ui = (s: string) => Buffer.from(s.length % 2 ? s + '\0' : s, 'latin1');
const sh = (s: string) => Buffer.from(s.length % 2 ? s + ' ' : s, 'latin1');

/** A Part-10 file around `dataset` (its bytes as negotiated, in `transferSyntaxUid`; or its fragments in order, joined here in the one copy). */
export function part10File(dataset: Uint8Array | readonly Uint8Array[], m: { sopClassUid: string; sopInstanceUid: string; transferSyntaxUid: string; sourceAet?: string }): Buffer {
  const body = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', ui(m.sopClassUid)),
    element(0x0002, 0x0003, 'UI', ui(m.sopInstanceUid)),
    element(0x0002, 0x0010, 'UI', ui(m.transferSyntaxUid)),
    element(0x0002, 0x0012, 'UI', ui(IMPLEMENTATION_CLASS_UID)),
    element(0x0002, 0x0013, 'SH', sh(IMPLEMENTATION_VERSION)),
    ...(m.sourceAet ? [element(0x0002, 0x0016, 'AE', sh(m.sourceAet))] : []),
  ]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length, 0);
  const parts = dataset instanceof Uint8Array ? [dataset] : dataset;
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(0x0002, 0x0000, 'UL', len), body, ...parts]);
}

/** The data set bytes of a Part-10 file (what follows the file meta group) and its transfer syntax, or null when not Part-10. */
export function dataSetOf(file: Uint8Array): { bytes: Buffer; transferSyntaxUid: string } | null {
  const b = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (b.length < 132 || b.toString('latin1', 128, 132) !== 'DICM') return null;
  let p = 132;
  while (p + 8 <= b.length && b.readUInt16LE(p) === 0x0002) {
    const vr = b.toString('latin1', p + 4, p + 6);
    const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
    const len = long ? b.readUInt32LE(p + 8) : b.readUInt16LE(p + 6);
    p = (long ? p + 12 : p + 8) + len;
  }
  const ts = readFileMeta(file).get(0x0010);
  return ts && p <= b.length ? { bytes: b.subarray(p), transferSyntaxUid: ts } : null;
}
