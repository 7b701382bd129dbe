/**
 * Pixel normalisation of spec v1 (docs/fingerprint-spec.md §2). The canonical form of the pixels
 * of an instance is, frame after frame, every sample as a little-endian integer of Bits Allocated
 * bits, samples of a pixel interleaved (Planar Configuration 0), holding the stored value: the
 * Bits Stored bits ending at High Bit, shifted down to bit 0, sign-extended when Pixel
 * Representation is 1 and zero-extended otherwise. No padding byte at the end. Bits Allocated 1:
 * the packed bits as stored, with the unused bits of the last byte set to 0.
 */

export interface PixelLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  numberOfFrames: number;
}

/** Bytes of one canonical frame (for Bits Allocated 1: the whole image's bits are contiguous, see `canonicalLength`). */
export function frameLength(l: PixelLayout): number {
  return (l.rows * l.columns * l.samplesPerPixel * l.bitsAllocated) / 8;
}

/**
 * Bytes of one stored native frame. YBR_FULL_422 without compression stores two luminance samples
 * and one pair of chrominance samples per two pixels (PS3.3 C.7.6.3.1.2): two samples per pixel.
 * Its canonical form is the samples as stored (no upsampling).
 */
export function nativeFrameLength(l: PixelLayout, photometric: string): number {
  if (photometric.trim() === 'YBR_FULL_422' && l.samplesPerPixel === 3) return (l.rows * l.columns * 2 * l.bitsAllocated) / 8;
  return frameLength(l);
}

/** Bytes of all stored native frames (Bits Allocated 1: the packed bits, rounded up to a byte). */
export function nativeLength(l: PixelLayout, photometric: string): number {
  if (l.bitsAllocated === 1) return canonicalLength(l);
  return nativeFrameLength(l, photometric) * l.numberOfFrames;
}

/** Bytes of all canonical frames together. */
export function canonicalLength(l: PixelLayout): number {
  return Math.ceil((l.rows * l.columns * l.samplesPerPixel * l.bitsAllocated * l.numberOfFrames) / 8);
}

export function isLayoutSupported(l: PixelLayout): string | null {
  if (![1, 8, 16, 32].includes(l.bitsAllocated)) return `Bits Allocated ${l.bitsAllocated} is not 1, 8, 16 or 32`;
  if (!(l.rows > 0 && l.columns > 0)) return `the image size ${l.rows}×${l.columns} is not valid`;
  if (!(l.samplesPerPixel >= 1 && l.samplesPerPixel <= 4)) return `Samples per Pixel ${l.samplesPerPixel} is not valid`;
  if (!(l.numberOfFrames >= 1)) return `Number of Frames ${l.numberOfFrames} is not valid`;
  if (l.bitsAllocated > 1 && !(l.bitsStored >= 1 && l.bitsStored <= l.bitsAllocated)) return `Bits Stored ${l.bitsStored} does not fit Bits Allocated ${l.bitsAllocated}`;
  if (l.bitsAllocated > 1 && !(l.highBit >= l.bitsStored - 1 && l.highBit < l.bitsAllocated)) return `High Bit ${l.highBit} does not fit Bits Stored ${l.bitsStored}`;
  return null;
}

/** Reverses the byte order of each `width`-byte unit, in place. */
export function swapInPlace(b: Uint8Array, width: number): void {
  if (width === 2) {
    for (let i = 0; i + 1 < b.length; i += 2) {
      const t = b[i]!;
      b[i] = b[i + 1]!;
      b[i + 1] = t;
    }
  } else if (width === 4) {
    for (let i = 0; i + 3 < b.length; i += 4) {
      const a = b[i]!;
      const c = b[i + 1]!;
      b[i] = b[i + 3]!;
      b[i + 1] = b[i + 2]!;
      b[i + 2] = c;
      b[i + 3] = a;
    }
  }
}

/** Planar (all of sample 0, then all of sample 1, …) to interleaved, per frame. Returns a new array. */
export function interleave(planar: Uint8Array, l: PixelLayout, frames = l.numberOfFrames): Uint8Array {
  const bps = l.bitsAllocated / 8;
  const px = l.rows * l.columns;
  const spp = l.samplesPerPixel;
  const fl = px * spp * bps;
  const out = new Uint8Array(fl * frames);
  for (let f = 0; f < frames; f++) {
    const base = f * fl;
    for (let s = 0; s < spp; s++) {
      const plane = base + s * px * bps;
      for (let p = 0; p < px; p++) {
        const src = plane + p * bps;
        const dst = base + (p * spp + s) * bps;
        for (let k = 0; k < bps; k++) out[dst + k] = planar[src + k]!;
      }
    }
  }
  return out;
}

/** True when stored samples may hold bits outside Bits Stored, so they must be canonicalised. */
export function needsSampleCanonicalisation(l: PixelLayout): boolean {
  return l.bitsAllocated > 1 && l.bitsStored < l.bitsAllocated;
}

/**
 * In place: every little-endian sample becomes its stored value (Bits Stored bits ending at High
 * Bit, shifted to bit 0), sign-extended (Pixel Representation 1) or zero-extended (0).
 */
export function canonicaliseSamples(b: Uint8Array, l: PixelLayout): void {
  if (!needsSampleCanonicalisation(l)) return;
  const bits = l.bitsStored;
  const shift = l.highBit + 1 - bits;
  const signed = l.pixelRepresentation === 1;
  if (l.bitsAllocated === 16 && shift === 0 && b.byteOffset % 2 === 0 && b.length >= 8) {
    // Two samples per 32-bit word (little-endian host and data): mask, then copy the sign bit up.
    // An unaligned first sample and an odd last sample go through the generic path.
    const head = b.byteOffset % 4 === 0 ? 0 : 2;
    const wordBytes = (b.length - head) & ~3;
    if (head) canonicaliseSamplesGeneric(b.subarray(0, 2), l, 0, bits, signed);
    if (head + wordBytes < b.length) canonicaliseSamplesGeneric(b.subarray(head + wordBytes), l, 0, bits, signed);
    const words = new Uint32Array(b.buffer, b.byteOffset + head, wordBytes / 4);
    const m = ((1 << bits) - 1) >>> 0;
    const mask = (m | (m << 16)) >>> 0;
    if (!signed) {
      for (let i = 0; i < words.length; i++) words[i] = words[i]! & mask;
    } else {
      const hi = (0xffff & ~m) >>> 0; // the bits above Bits Stored in one lane
      const signLanes = (1 | (1 << 16)) >>> 0;
      const sb = bits - 1;
      for (let i = 0; i < words.length; i++) {
        const v = words[i]! & mask;
        words[i] = (v | (((v >>> sb) & signLanes) * hi)) >>> 0;
      }
    }
    return;
  }
  canonicaliseSamplesGeneric(b, l, shift, bits, signed);
}

function canonicaliseSamplesGeneric(b: Uint8Array, l: PixelLayout, shift: number, bits: number, signed: boolean): void {
  const bps = l.bitsAllocated / 8;
  const n = Math.floor(b.length / bps);
  const dv = new DataView(b.buffer, b.byteOffset, n * bps);
  for (let i = 0; i < n; i++) {
    const o = i * bps;
    const raw = bps === 1 ? dv.getUint8(o) : bps === 2 ? dv.getUint16(o, true) : dv.getUint32(o, true);
    let v = Math.floor(raw / 2 ** shift) % 2 ** bits;
    if (signed && v >= 2 ** (bits - 1)) v -= 2 ** bits;
    if (bps === 1) dv.setUint8(o, v & 0xff);
    else if (bps === 2) dv.setUint16(o, v & 0xffff, true);
    else dv.setUint32(o, v >>> 0, true);
  }
}

/** Bits Allocated 1: clears the unused bits of the last byte (in place). */
export function clearTrailingBits(b: Uint8Array, l: PixelLayout): void {
  const bits = l.rows * l.columns * l.samplesPerPixel * l.numberOfFrames;
  const rem = bits % 8;
  if (rem !== 0 && b.length > 0) b[b.length - 1] = b[b.length - 1]! & ((1 << rem) - 1);
}
