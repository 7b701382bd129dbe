/**
 * The per-study Merkle tree of spec v1 (docs/fingerprint-spec.md §5): OpenZeppelin's
 * StandardMerkleTree over leaves [pixel, meta, uidHash] encoded as ['bytes32','bytes32','bytes32'],
 * i.e. leaf = keccak256(bytes.concat(keccak256(abi.encode(pixel, meta, uidHash)))), inner nodes
 * keccak256 of the sorted pair, leaves sorted by their hash (StandardMerkleTree's default), so
 * the root depends only on the set of leaves, not on the order the files were read.
 */
import type { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { keccak256Into } from './keccak';
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

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function toHex(b: Uint8Array, from = 0, to = b.length): Bytes32 {
  let s = '0x';
  for (let i = from; i < to; i++) s += HEX[b[i]!];
  return s as Bytes32;
}
// char code → nibble (parseInt per byte pair was most of leafHash's cost outside keccak)
const NIBBLE = new Uint8Array(128);
for (let i = 0; i < 16; i++) {
  NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;
  NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i;
}
function fromHex(h: string, out: Uint8Array, at: number): void {
  for (let i = 0; i < 32; i++) out[at + i] = (NIBBLE[h.charCodeAt(2 + i * 2)]! << 4) | NIBBLE[h.charCodeAt(3 + i * 2)]!;
}

/** Reused by leafHash and nodeHash (both synchronous): inputs at 0, intermediate digests after. */
const scratch = new Uint8Array(160);

/**
 * The leaf hash the contract recomputes: keccak256(bytes.concat(keccak256(abi.encode(v)))).
 * abi.encode of three bytes32 is their 96-byte concatenation, so this is StandardMerkleTree's
 * leaf hash computed directly on bytes (unit tests check both agree).
 */
export function leafHash(v: LeafValue): Bytes32 {
  const enc = scratch;
  fromHex(v[0], enc, 0);
  fromHex(v[1], enc, 32);
  fromHex(v[2], enc, 64);
  keccak256Into(enc, 0, 96, enc, 96);
  keccak256Into(enc, 96, 128, enc, 128);
  return toHex(enc, 128, 160);
}

/** An inner node: keccak256 of the two children in ascending byte order (OpenZeppelin's commutative hash). */
function nodeHash(a: Bytes32, b: Bytes32): Bytes32 {
  const buf = scratch;
  // equal-length lowercase hex compares like the bytes it encodes
  const lower = a <= b;
  fromHex(lower ? a : b, buf, 0);
  fromHex(lower ? b : a, buf, 32);
  keccak256Into(buf, 0, 64, buf, 64);
  return toHex(buf, 64, 96);
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
 * `knownLeafHashes` (keyed by `value.join()`) skips recomputing leaf hashes already known; they
 * must be `leafHash(value)`.
 */
export function buildStudyTree(values: LeafValue[], knownLeafHashes?: Map<string, Bytes32>): StudyTree {
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
  // The same array layout as OpenZeppelin's makeMerkleTree: leaves sorted by hash, placed at the
  // end of the array in reverse; node i has children 2i+1 and 2i+2. The unit tests check the root,
  // proofs and dump against StandardMerkleTree.
  const hashes = unique.map((v) => knownLeafHashes?.get(v.join()) ?? leafHash(v));
  const order = hashes.map((h, i) => ({ h, i })).sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
  const tree: Bytes32[] = new Array(2 * unique.length - 1);
  const treeIndex: number[] = new Array(unique.length);
  order.forEach(({ h, i }, j) => {
    tree[tree.length - 1 - j] = h;
    treeIndex[i] = tree.length - 1 - j;
  });
  for (let k = tree.length - 1 - unique.length; k >= 0; k--) tree[k] = nodeHash(tree[2 * k + 1]!, tree[2 * k + 2]!);
  const proofOf = (index: number): Bytes32[] => {
    const proof: Bytes32[] = [];
    for (let k = index; k > 0; k = Math.floor((k - 1) / 2)) proof.push(tree[k % 2 === 1 ? k + 1 : k - 1]!);
    return proof;
  };
  const leaves = unique.map((value, i) => ({ value, leaf: hashes[i]!, proof: proofOf(treeIndex[i]!) }));
  const dump: StudyTree['dump'] = {
    format: 'standard-v1',
    leafEncoding: [...LEAF_ENCODING],
    tree,
    values: unique.map((value, i) => ({ value, treeIndex: treeIndex[i]! })),
  };
  return { root: tree[0]!, leafCount: unique.length, leaves, dump };
}

const VALUE32 = /^0x[0-9a-fA-F]{64}$/;
const NODE32 = /^(0x)?[0-9a-fA-F]{64}$/;
const HEX_STRING = /^(0x)?([0-9a-fA-F]{2})*$/;
/** A 32-byte hex value or node as 0x-prefixed lowercase hex (what nodeHash's ordering compares); throws, as StandardMerkleTree does, on anything else. */
function hex32(h: string, re: RegExp): Bytes32 {
  if (typeof h !== 'string' || !re.test(h)) throw new Error(`Merkle tree values and nodes must be 32-byte hex: ${String(h)}`);
  return (h.startsWith('0x') ? h : `0x${h}`).toLowerCase() as Bytes32;
}

/**
 * Checks a proof exactly as OpenZeppelin's MerkleProof.verify (and StandardMerkleTree.verify) does
 * for this leaf encoding: the leaf hash, then each proof element folded in with the sorted-pair
 * keccak256, compared with the root. Computed with this file's leafHash / nodeHash (one reused
 * Keccak state) instead of StandardMerkleTree.verify (@metamask/abi-utils and ethereum-cryptography's Keccak: ~0.5 ms
 * per instance, most of a retrieve's verification on the main thread); the unit tests check both
 * agree on valid, altered and malformed proofs. Throws, as StandardMerkleTree.verify does, on a root
 * that is not hex and on a value or proof element that is not 32-byte hex.
 */
export function verifyLeafProof(root: string, value: LeafValue, proof: string[]): boolean {
  // the root as StandardMerkleTree compares it: any hex string, 0x added, its case kept
  if (typeof root !== 'string' || !HEX_STRING.test(root)) throw new Error(`The root must be hex: ${String(root)}`);
  let h = leafHash([hex32(value[0], VALUE32), hex32(value[1], VALUE32), hex32(value[2], VALUE32)]);
  for (const p of proof) h = nodeHash(h, hex32(p, NODE32));
  return h === root.replace(/^(0x)?/, '0x');
}

/**
 * Builds (and drops) the tree of `leaves` synthetic instances, so that V8 has compiled the Keccak
 * and tree code before the first real study: the first anchor of a process otherwise builds its
 * 1,000-leaf tree in the interpreter (about twice the time of a later one). Returns the root.
 */
export function warmUpStudyTree(leaves = 512): Bytes32 {
  let x = 0x2545f491;
  const hex = (): string => {
    let s = '';
    for (let i = 0; i < 8; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      s += (x >>> 0).toString(16).padStart(8, '0');
    }
    return s;
  };
  const values: LeafValue[] = [];
  for (let i = 0; i < leaves; i++) values.push(leafValue(hex(), hex(), hex()));
  return buildStudyTree(values).root;
}
