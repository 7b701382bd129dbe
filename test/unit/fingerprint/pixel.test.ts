import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicaliseSamples, clearTrailingBits, interleave, swapInPlace, type PixelLayout } from '../../../src/core/fingerprint';

const layout = (p: Partial<PixelLayout>): PixelLayout => ({
  rows: 1, columns: 1, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 0, planarConfiguration: 0, numberOfFrames: 1, ...p,
});

/** The definition, sample by sample, as the spec states it. */
function reference(words: number[], bitsStored: number, highBit: number, signed: boolean): number[] {
  return words.map((w) => {
    let v = Math.floor(w / 2 ** (highBit + 1 - bitsStored)) % 2 ** bitsStored;
    if (signed && v >= 2 ** (bitsStored - 1)) v -= 2 ** bitsStored;
    return v & 0xffff;
  });
}

function toBytes(words: number[], offset: number): Uint8Array {
  const buf = new Uint8Array(words.length * 2 + offset);
  const b = buf.subarray(offset);
  words.forEach((w, i) => {
    b[i * 2] = w & 0xff;
    b[i * 2 + 1] = w >> 8;
  });
  return b;
}
const fromBytes = (b: Uint8Array): number[] => Array.from({ length: b.length / 2 }, (_, i) => b[i * 2]! | (b[i * 2 + 1]! << 8));

describe('pixel sample canonicalisation (spec §2)', () => {
  it('masks to Bits Stored and sign-extends, identically on the fast (word) and the generic path, at any alignment', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 0, maxLength: 41 }),
        fc.integer({ min: 1, max: 16 }),
        fc.boolean(),
        fc.constantFrom(0, 2, 4, 6),
        fc.integer({ min: 0, max: 4 }),
        (words, bitsStored, signed, offset, extraHigh) => {
          const highBit = Math.min(15, bitsStored - 1 + (bitsStored < 16 ? extraHigh % (17 - bitsStored) : 0));
          const b = toBytes(words, offset);
          canonicaliseSamples(b, layout({ bitsStored, highBit, pixelRepresentation: signed ? 1 : 0 }));
          expect(fromBytes(b)).toEqual(reference(words, bitsStored, highBit, signed));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a 12-bit signed value reads the same whether the file sign-extended it, zero-filled or put junk above the High Bit', () => {
    const l = layout({ bitsStored: 12, highBit: 11, pixelRepresentation: 1 });
    const forms = [0xf800, 0x0800, 0xa800].map((w) => toBytes([w, w, w, w], 0));
    for (const f of forms) canonicaliseSamples(f, l);
    expect(fromBytes(forms[0]!)).toEqual([0xf800, 0xf800, 0xf800, 0xf800]);
    expect(forms[1]).toEqual(forms[0]);
    expect(forms[2]).toEqual(forms[0]);
  });

  it('leaves samples with Bits Stored = Bits Allocated untouched (the uncompressed fast path)', () => {
    const b = toBytes([0xffff, 0x8000, 0x1234], 0);
    const before = b.slice();
    canonicaliseSamples(b, layout({ pixelRepresentation: 1 }));
    expect(b).toEqual(before);
  });

  it('interleaves planar colour and swaps big-endian words', () => {
    const l = layout({ rows: 1, columns: 2, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, numberOfFrames: 2 });
    // frame 1: R=1,2 G=3,4 B=5,6; frame 2: R=7,8 G=9,10 B=11,12
    expect([...interleave(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), l)]).toEqual([1, 3, 5, 2, 4, 6, 7, 9, 11, 8, 10, 12]);
    const w = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    swapInPlace(w, 2);
    expect([...w]).toEqual([2, 1, 4, 3, 6, 5, 8, 7]);
    swapInPlace(w, 2);
    swapInPlace(w, 4);
    expect([...w]).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
  });

  it('1-bit images: the unused bits of the last byte are cleared', () => {
    const b = new Uint8Array([0xff, 0xff]);
    clearTrailingBits(b, layout({ rows: 3, columns: 3, bitsAllocated: 1, bitsStored: 1, highBit: 0 }));
    expect([...b]).toEqual([0xff, 0x01]);
  });
});
