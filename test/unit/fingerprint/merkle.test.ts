import { createHash } from 'node:crypto';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, concat, keccak256 } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildStudyTree, LEAF_ENCODING, leafHash, leafValue, toBytes32, verifyLeafProof, warmUpStudyTree, type LeafValue } from '../../../src/core/fingerprint';

const h = (s: string) => createHash('sha256').update(s).digest('hex');
const inst = (i: number): LeafValue => leafValue(h(`pixel${i}`), h(`meta${i}`), h(`1.2.3.${i}`));

describe('per-study Merkle tree (spec §5)', () => {
  it('the warm-up tree (engine.warmUp) is a real tree: deterministic root, one per leaf count', () => {
    const r = warmUpStudyTree(64);
    expect(r).toMatch(/^0x[0-9a-f]{64}$/);
    expect(warmUpStudyTree(64)).toBe(r);
    expect(warmUpStudyTree(65)).not.toBe(r);
  });

  it('the leaf is keccak256(bytes.concat(keccak256(abi.encode(pixel, meta, uidHash)))) — what verifyInstance recomputes on chain', () => {
    const v = inst(1);
    const inner = keccak256(AbiCoder.defaultAbiCoder().encode([...LEAF_ENCODING], v));
    expect(leafHash(v)).toBe(keccak256(concat([inner])));
    expect(leafHash(v)).toBe(StandardMerkleTree.of([v], [...LEAF_ENCODING]).leafHash(v));
  });

  it('every proof verifies (StandardMerkleTree.verify) and the root does not depend on the order of the files', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer(), (n, seed) => {
        const values = Array.from({ length: n }, (_, i) => inst(i));
        const shuffled = [...values].sort((a, b) => ((a[0].charCodeAt(5 + (seed & 7)) ^ seed) & 1) - ((b[0].charCodeAt(5 + (seed & 7)) ^ seed) & 1));
        const t1 = buildStudyTree(values);
        const t2 = buildStudyTree(shuffled);
        expect(t2.root).toBe(t1.root);
        expect(t1.root).toBe(StandardMerkleTree.of(values, [...LEAF_ENCODING]).root);
        expect(buildStudyTree(values, new Map(values.map((v) => [v.join(), leafHash(v)]))).root).toBe(t1.root);
        expect(t1.leafCount).toBe(n);
        for (const l of t1.leaves) {
          expect(StandardMerkleTree.verify(t1.root, [...LEAF_ENCODING], l.value, l.proof)).toBe(true);
          expect(verifyLeafProof(t1.root, l.value, l.proof)).toBe(true);
          expect(l.leaf).toBe(leafHash(l.value));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a proof fails for an altered pixel, meta or UID hash, and against another root', () => {
    const t = buildStudyTree([inst(1), inst(2), inst(3)]);
    const l = t.leaves[1]!;
    const flip = (x: `0x${string}`) => toBytes32(x.slice(2, 65) + (x.endsWith('0') ? '1' : '0'));
    expect(verifyLeafProof(t.root, [flip(l.value[0]), l.value[1], l.value[2]], l.proof)).toBe(false);
    expect(verifyLeafProof(t.root, [l.value[0], flip(l.value[1]), l.value[2]], l.proof)).toBe(false);
    expect(verifyLeafProof(t.root, [l.value[0], l.value[1], flip(l.value[2])], l.proof)).toBe(false);
    expect(verifyLeafProof(buildStudyTree([inst(1), inst(2), inst(4)]).root, l.value, l.proof)).toBe(false);
  });

  it('verifyLeafProof agrees with StandardMerkleTree.verify on valid, altered, reordered, upper-case and malformed proofs', () => {
    const oz = (root: string, v: LeafValue, proof: string[]) => StandardMerkleTree.verify(root, [...LEAF_ENCODING], v, proof);
    const outcome = (f: () => boolean) => {
      try {
        return f();
      } catch {
        return 'throws';
      }
    };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 33 }), fc.nat(), fc.nat(), (n, pick, bit) => {
        const t = buildStudyTree(Array.from({ length: n }, (_, i) => inst(i)));
        const l = t.leaves[pick % t.leaves.length]!;
        const flipAt = (x: string, at: number) => x.slice(0, at) + (x[at] === '0' ? '1' : '0') + x.slice(at + 1);
        const cases: [string, LeafValue, string[]][] = [
          [t.root, l.value, l.proof],
          [t.root.toUpperCase().replace('0X', '0x'), l.value, l.proof.map((p) => p.replace(/[a-f]/g, (c) => c.toUpperCase()))],
          [t.root, l.value, [...l.proof].reverse()],
          [t.root, l.value, l.proof.slice(1)],
          [t.root, l.value, [...l.proof, l.leaf]],
          [flipAt(t.root, 2 + (bit % 64)), l.value, l.proof],
          [t.root, [flipAt(l.value[0], 2 + (bit % 64)) as `0x${string}`, l.value[1], l.value[2]], l.proof],
          ...(l.proof.length ? ([[t.root, l.value, [flipAt(l.proof[0]!, 2 + (bit % 64)), ...l.proof.slice(1)]]] as [string, LeafValue, string[]][]) : []),
          [t.root, l.value, [...l.proof, '0x1234']],
          [t.root, l.value, [...l.proof, 'zz'.repeat(33)]],
          ['0x1234', l.value, l.proof],
        ];
        for (const [root, v, proof] of cases) expect(outcome(() => verifyLeafProof(root, v, proof))).toBe(outcome(() => oz(root, v, proof)));
        expect(verifyLeafProof(t.root, l.value, l.proof)).toBe(true);
      }),
      { numRuns: 80 },
    );
  });

  it('the same instance read twice is one leaf; the tree can be reloaded from its dump', () => {
    const t = buildStudyTree([inst(1), inst(2), inst(1)]);
    expect(t.leafCount).toBe(2);
    const loaded = StandardMerkleTree.load(t.dump);
    expect(loaded.root).toBe(t.root);
    loaded.validate();
    expect(loaded.getProof(t.leaves[0]!.value)).toEqual(t.leaves[0]!.proof);
    expect(() => buildStudyTree([])).toThrow(/at least one/);
  });

  it('rejects digests that are not 32-byte lowercase hex', () => {
    expect(() => toBytes32('ABC')).toThrow();
    expect(() => toBytes32('0x' + 'A'.repeat(64))).toThrow();
    expect(toBytes32('a'.repeat(64))).toBe('0x' + 'a'.repeat(64));
  });
});
