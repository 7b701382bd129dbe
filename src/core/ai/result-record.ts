/**
 * The result record: what one model said about one image, bound to both (docs/ai.md
 * "Provenance"). Its canonical JSON (keys sorted, no spaces) is hashed with SHA-256; a study's
 * records form one OpenZeppelin StandardMerkleTree over leaves
 *   [uidHash, pixel, model, card, record]  encoded as five bytes32
 * (uidHash = SHA-256 of the SOP Instance UID, as in the fingerprint leaf), so a recipient can
 * prove on chain which model said what about which image without any identifier in clear.
 */
import { sha256 } from '@noble/hashes/sha2';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import type { Finding } from './findings';

export const RESULT_RECORD_SPEC = 'medimgshr-ai-result/1';
export const RESULT_LEAF_ENCODING = ['bytes32', 'bytes32', 'bytes32', 'bytes32', 'bytes32'] as const;

export interface ResultRecord {
  spec: typeof RESULT_RECORD_SPEC;
  /** SHA-256 (hex) of the UTF-8 SOP Instance UID. */
  uidHash: string;
  /** The instance's pixel digest (fingerprint spec), hex. */
  pixel: string;
  model: { sha256: string; cardSha256: string; name: string; version: string };
  preprocessing: string;
  findings: Finding[];
  /** SHA-256 (hex) of the stored heat map bytes (8-bit, before deflate), or null. */
  heatMap: string | null;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export const sha256Hex = (s: string | Uint8Array) => hex(sha256(typeof s === 'string' ? new TextEncoder().encode(s) : s));

/** JSON with object keys sorted at every level (numbers as JavaScript prints them: shortest round trip). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('a result record cannot hold NaN or Infinity');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

export function recordDigest(r: ResultRecord): string {
  return sha256Hex(canonicalJson(r));
}

export type ResultLeaf = [uidHash: string, pixel: string, model: string, card: string, record: string];

export function resultLeaf(r: ResultRecord): ResultLeaf {
  const b = (h: string) => `0x${h}`;
  return [b(r.uidHash), b(r.pixel), b(r.model.sha256), b(r.model.cardSha256), b(recordDigest(r))];
}

export interface ResultTree {
  root: string;
  leafCount: number;
  /** StandardMerkleTree.dump(): travels with exported results so each can be proven. */
  dump: ReturnType<StandardMerkleTree<ResultLeaf>['dump']>;
  proofs: { leaf: ResultLeaf; proof: string[] }[];
}

export function buildResultTree(records: ResultRecord[]): ResultTree {
  if (records.length === 0) throw new Error('a result tree needs at least one result');
  const leaves = records.map(resultLeaf);
  const tree = StandardMerkleTree.of(leaves, [...RESULT_LEAF_ENCODING]);
  const proofs = [...tree.entries()].map(([i, leaf]) => ({ leaf, proof: tree.getProof(i) }));
  return { root: tree.root, leafCount: leaves.length, dump: tree.dump(), proofs };
}

export function verifyResultProof(root: string, leaf: ResultLeaf, proof: string[]): boolean {
  return StandardMerkleTree.verify(root, [...RESULT_LEAF_ENCODING], leaf, proof);
}
