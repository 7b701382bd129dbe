/**
 * The per-study Merkle tree of spec v1 (docs/fingerprint-spec.md §5): OpenZeppelin's
 * StandardMerkleTree over leaves [pixel, meta, uidHash] encoded as ['bytes32','bytes32','bytes32'],
 * i.e. leaf = keccak256(bytes.concat(keccak256(abi.encode(pixel, meta, uidHash)))), inner nodes
 * keccak256 of the sorted pair, leaves sorted by their hash (StandardMerkleTree's default), so
 * the root depends only on the set of leaves, not on the order the files were read.
 */
import { SimpleMerkleTree, StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { getProof } from '@openzeppelin/merkle-tree/dist/core';
import { concat, keccak256 } from 'ethers';
import { LEAF_ENCODING } from './spec';

export type Bytes32 = `0x${string}`;
export type LeafValue = [pixel: Bytes32, meta: Bytes32, uidHash: Bytes32];

/** A hex SHA-256 digest (with or without 0x) as a 0x-prefixed bytes32. */
export function toBytes32(hex: string): Bytes32 {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (!/^[0-9a-f]{64}$/.test(h)) throw new Error(`not a lowercase 32-byte hex digest: ${hex}`);
  return `0x${h}`;
}

export function leafValue(pixel: string, meta: string, uidHash: string): LeafValue {
  return [toBytes32(pixel), toBytes32(meta), toBytes32(uidHash)];
}

/**
 * The leaf hash the contract recomputes: keccak256(bytes.concat(keccak256(abi.encode(v)))).
 * abi.encode of three bytes32 is their 96-byte concatenation, so this is StandardMerkleTree's
 * leaf hash computed directly (several times faster than building a one-leaf tree; a unit test
 * checks both agree).
 */
export function leafHash(v: LeafValue): Bytes32 {
  return keccak256(keccak256(concat(v))) as Bytes32;
}

export interface StudyTree {
  root: Bytes32;
  leafCount: number;
  /** One entry per distinct leaf, ordered by uidHash then leaf hash. */
  leaves: { value: LeafValue; leaf: Bytes32; proof: Bytes32[] }[];
  /** StandardMerkleTree.dump() — enough to rebuild the tree with StandardMerkleTree.load. */
  dump: ReturnType<StandardMerkleTree<LeafValue>['dump']>;
}

/**
 * Builds the tree of a study from its instances' leaf values. Identical leaves (the same instance
 * read twice, e.g. from two copies of a file) are kept once. Throws on an empty study.
 */
export function buildStudyTree(values: LeafValue[]): StudyTree {
  const seen = new Set<string>();
  const unique: LeafValue[] = [];
  for (const v of values) {
    const k = v.join();
    if (!seen.has(k)) {
      seen.add(k);
      unique.push(v);
    }
  }
  if (unique.length === 0) throw new Error('a study tree needs at least one instance');
  unique.sort((a, b) => (a[2] === b[2] ? (a.join() < b.join() ? -1 : 1) : a[2] < b[2] ? -1 : 1));
  // The tree over the standard leaf hashes: SimpleMerkleTree uses them as leaves, sorts them and
  // hashes sorted pairs exactly as StandardMerkleTree does, without re-encoding every value
  // (the unit tests check the roots, proofs and the dump against StandardMerkleTree).
  const hashes = unique.map(leafHash);
  const tree = SimpleMerkleTree.of(hashes);
  const simple = tree.dump();
  // Proofs straight from the tree array (SimpleMerkleTree#getProof re-verifies each one: O(n log n) hashes).
  const leaves = unique.map((value, i) => ({ value, leaf: hashes[i]!, proof: getProof(simple.tree, simple.values[i]!.treeIndex) as Bytes32[] }));
  const dump: StudyTree['dump'] = {
    format: 'standard-v1',
    leafEncoding: [...LEAF_ENCODING],
    tree: simple.tree,
    values: simple.values.map((v, i) => ({ value: unique[i]!, treeIndex: v.treeIndex })),
  };
  return { root: tree.root as Bytes32, leafCount: unique.length, leaves, dump };
}

/** Checks a proof exactly as OpenZeppelin's MerkleProof.verify does for this leaf encoding. */
export function verifyLeafProof(root: string, value: LeafValue, proof: string[]): boolean {
  return StandardMerkleTree.verify(root, [...LEAF_ENCODING], value, proof);
}
