import { keccak_256 } from '@noble/hashes/sha3';
import { keccak256 as ethersKeccak } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keccak256, keccak256Into } from '../../../src/core/fingerprint/keccak';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('Keccak-256 (Merkle leaves and nodes)', () => {
  it('the known digests: empty input and "abc" (Ethereum Keccak-256, not SHA3-256)', () => {
    expect(hex(keccak256(new Uint8Array(0)))).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    expect(hex(keccak256(new TextEncoder().encode('abc')))).toBe('4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
  });

  it('equals @noble/hashes for every length from 0 to 3 blocks and a half (136-byte rate, padding edges included)', () => {
    for (let len = 0; len <= 136 * 3 + 70; len++) {
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = (i * 131 + len * 7) & 0xff;
      expect(hex(keccak256(b)), `length ${len}`).toBe(hex(keccak_256(b)));
    }
  });

  it('equals ethers for random inputs, and hashes a slice into an output that overlaps its own buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        expect(`0x${hex(keccak256(b))}`).toBe(ethersKeccak(b));
        const buf = new Uint8Array(b.length + 40);
        buf.set(b, 5);
        keccak256Into(buf, 5, 5 + b.length, buf, 8); // output overwrites the input it was computed from
        expect(hex(buf.subarray(8, 40))).toBe(hex(keccak_256(b)));
      }),
      { numRuns: 300 },
    );
  });
});
