import type { Migration } from './index';

/**
 * Merkle proofs stored once. A proof depends only on the tree (= its root) and the leaf, but it was
 * kept three times for every anchored study: in fingerprint_proofs (the study's current tree), in
 * ledger_anchor_instances (the anchored tree) and inside ledger_anchors.manifest_json. Now one row
 * per (root, leaf) in merkle_proofs; fingerprint_proofs (through fingerprint_studies.root) and
 * ledger_anchor_instances (through its root) refer to it, and a manifest is assembled from
 * ledger_anchor_instances + merkle_proofs in the order the rows were written (the tree's leaf order).
 * Existing proofs move over; an old manifest keeps its instances unless the instance rows hold
 * all of them (then they are dropped from the JSON: the rows are the same values).
 */
export const m022MerkleProofs: Migration = {
  version: 22,
  name: 'merkle proofs stored once',
  up: `
    CREATE TABLE merkle_proofs (
      root TEXT NOT NULL,                  -- 0x Merkle root of the study tree
      leaf TEXT NOT NULL,                  -- 0x leaf hash
      proof_json TEXT NOT NULL,            -- ["0x…", …] sibling hashes, leaf to root
      PRIMARY KEY (root, leaf)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO merkle_proofs (root, leaf, proof_json) SELECT root, leaf, proof_json FROM ledger_anchor_instances;
    INSERT OR IGNORE INTO merkle_proofs (root, leaf, proof_json)
      SELECT s.root, p.leaf, p.proof_json FROM fingerprint_proofs p JOIN fingerprint_studies s ON s.study_instance_uid = p.study_instance_uid;
    UPDATE ledger_anchors SET manifest_json = json_remove(manifest_json, '$.instances')
      WHERE json_valid(manifest_json) AND json_type(manifest_json, '$.instances') = 'array'
        AND json_array_length(manifest_json, '$.instances') = (SELECT COUNT(*) FROM ledger_anchor_instances ai WHERE ai.root = ledger_anchors.root);
    ALTER TABLE ledger_anchor_instances DROP COLUMN proof_json;
    ALTER TABLE fingerprint_proofs DROP COLUMN proof_json;
  `,
};
