/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, then PackBits segments,
 * one per byte plane (most significant byte first) of each sample. Output: canonical
 * little-endian, interleaved samples.
 */
export function decodeRleFrame(data: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array {
  if (data.length < 64) throw new Error('the RLE frame is shorter than its 64-byte header');
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const segments = dv.getUint32(0, true);
  const bps = Math.ceil(bitsAllocated / 8);
  if (segments !== samplesPerPixel * bps) {
    throw new Error(`the RLE frame has ${segments} segments where ${samplesPerPixel * bps} were expected`);
  }
  const px = rows * columns;
  const out = new Uint8Array(px * samplesPerPixel * bps);
  for (let seg = 0; seg < segments; seg++) {
    const start = dv.getUint32(4 + seg * 4, true);
    const end = seg + 1 < segments ? dv.getUint32(8 + seg * 4, true) : data.length;
    if (start < 64 || start > data.length || end < start || end > data.length) throw new Error(`RLE segment ${seg + 1} has an invalid offset`);
    const sample = Math.floor(seg / bps);
    const byteInSample = bps - 1 - (seg % bps); // segment 0 of a sample is its most significant byte
    const stride = samplesPerPixel * bps;
    let o = sample * bps + byteInSample;
    let p = 0;
    let i = start;
    while (p < px && i < end) {
      const n = data[i++]!;
      if (n < 128) {
        const count = Math.min(n + 1, px - p, end - i);
        for (let k = 0; k < count; k++, p++, o += stride) out[o] = data[i + k]!;
        i += n + 1;
      } else if (n > 128) {
        const count = Math.min(257 - n, px - p);
        const v = data[i++]!;
        for (let k = 0; k < count; k++, p++, o += stride) out[o] = v;
      }
    }
    if (p < px) throw new Error(`RLE segment ${seg + 1} decodes to ${p} of ${px} pixels (the data is cut short)`);
  }
  return out;
}
