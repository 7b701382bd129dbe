/**
 * The few file meta values the PACS code reads from a Part-10 file, with nothing imported (the
 * WADO thread reads them too: wado-stream.worker.ts).
 */

/** Reads string values of the file meta group (group 0002, always explicit VR little endian). */
export function readFileMeta(file: Uint8Array): Map<number, string> {
  const out = new Map<number, string>();
  const b = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  let p = 132;
  while (p + 8 <= b.length && b.readUInt16LE(p) === 0x0002) {
    const el = b.readUInt16LE(p + 2);
    const vr = b.toString('latin1', p + 4, p + 6);
    let len: number;
    let start: number;
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr)) {
      len = b.readUInt32LE(p + 8);
      start = p + 12;
    } else {
      len = b.readUInt16LE(p + 6);
      start = p + 8;
    }
    if (start + len > b.length) break;
    if (vr === 'UI' || vr === 'SH' || vr === 'AE') out.set(el, b.toString('latin1', start, start + len).replace(/[\0 ]+$/, ''));
    p = start + len;
  }
  return out;
}

/** "DICM" at offset 128. */
export function isPart10(b: Uint8Array): boolean {
  return b.length > 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}
