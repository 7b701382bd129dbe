/**
 * Migration 022 on a real SQLite file holding a fingerprinted and anchored study at schema 17,
 * written the old way: every proof three times (fingerprint_proofs, ledger_anchor_instances and
 * the anchor's manifest JSON). After it each proof is one merkle_proofs row, and what the app reads
 * is unchanged: the anchor's manifest (same instances, same order, same proofs), the study's proofs,
 * and every proof still proves its leaf against the root.
 */
import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { buildStudyTree, leafValue, verifyLeafProof, type LeafValue } from '../../../src/core/fingerprint';
import { appHome } from '../../../src/node/app-home';
import { openDatabase, schemaVersion } from '../../../src/node/store/database';
import { migrations } from '../../../src/node/store/migrations';
import { Services } from '../../../src/node/services';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-022-');
afterAll(() => tmp.cleanup());

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const STUDY = '1.2.826.0.1.3680043.8.498.22';

describe('migration 022: Merkle proofs stored once', () => {
  it('moves the proofs of an anchored study into one row each; the manifest and the study proofs read back the same', async () => {
    const home = appHome(tmp.path);
    mkdirSync(home.root, { recursive: true });
    let db = openDatabase(home.database, migrations.filter((m) => m.version <= 17));
    expect(schemaVersion(db)).toBe(17);
    // Five slices; the tree the old code built, written the way it wrote it.
    const sops = Array.from({ length: 5 }, (_, k) => `${STUDY}.1.${k + 1}`);
    const values: LeafValue[] = sops.map((s) => leafValue(hex(`pixel ${s}`), hex(`meta ${s}`), hex(s)));
    const tree = buildStudyTree(values);
    const sopOf = new Map(values.map((v, k) => [v.join(), sops[k]!]));
    const now = new Date().toISOString();
    db.prepare('INSERT INTO fingerprint_studies (study_instance_uid, spec_version, root, leaf_count, conflicts, tree_json, computed_at) VALUES (?, 1, ?, ?, 0, ?, ?)').run(
      STUDY, tree.root, tree.leafCount, JSON.stringify(tree.dump), now,
    );
    const fpProof = db.prepare('INSERT INTO fingerprint_proofs (study_instance_uid, leaf, sop_instance_uid, pixel_sha256, meta_sha256, uid_hash, proof_json) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const aiRow = db.prepare('INSERT INTO ledger_anchor_instances (root, sop_instance_uid, pixel_sha256, meta_sha256, uid_hash, leaf, proof_json) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const instances = tree.leaves.map((lf) => ({
      sopInstanceUid: sopOf.get(lf.value.join())!,
      pixel: lf.value[0].slice(2),
      meta: lf.value[1].slice(2),
      uidHash: lf.value[2].slice(2),
      leaf: lf.leaf,
      proof: lf.proof,
    }));
    const oldManifest = { specVersion: 1, studyInstanceUid: STUDY, root: tree.root, leafCount: tree.leafCount, instances };
    db.prepare(
      `INSERT INTO ledger_anchors (root, study_instance_uid, leaf_count, storage_uri, patient, clinician, previous, manifest_json, created_at, updated_at)
       VALUES (?, ?, ?, 'medimg-blob://x', '0x0000000000000000000000000000000000000001', '0x0000000000000000000000000000000000000002', NULL, ?, ?, ?)`,
    ).run(tree.root, STUDY, tree.leafCount, JSON.stringify(oldManifest), now, now);
    for (const m of instances) {
      fpProof.run(STUDY, m.leaf, m.sopInstanceUid, m.pixel, m.meta, m.uidHash, JSON.stringify(m.proof));
      aiRow.run(tree.root, m.sopInstanceUid, m.pixel, m.meta, m.uidHash, m.leaf, JSON.stringify(m.proof));
    }
    db.close();

    db = openDatabase(home.database);
    expect(schemaVersion(db)).toBeGreaterThanOrEqual(22);
    // One row per (root, leaf), nothing else holds a proof.
    expect((db.prepare('SELECT COUNT(*) AS n FROM merkle_proofs').get() as { n: number }).n).toBe(5);
    const cols = (t: string) => (db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name);
    expect(cols('fingerprint_proofs')).not.toContain('proof_json');
    expect(cols('ledger_anchor_instances')).not.toContain('proof_json');
    const stored = JSON.parse((db.prepare('SELECT manifest_json FROM ledger_anchors WHERE root = ?').get(tree.root) as { manifest_json: string }).manifest_json) as Record<string, unknown>;
    expect(stored).toEqual({ specVersion: 1, studyInstanceUid: STUDY, root: tree.root, leafCount: 5 });
    db.close();

    // What the app reads: the same manifest (instances in the tree's order) and the same study proofs.
    const s = await Services.open({ home: tmp.path, ledger: { mode: 'none' } });
    try {
      const m = s.ledgerService.anchors.manifest(tree.root);
      expect(m).toEqual(oldManifest);
      expect(JSON.stringify(m)).toBe(JSON.stringify(oldManifest));
      for (const i of m!.instances) expect(verifyLeafProof(tree.root, leafValue(i.pixel, i.meta, i.uidHash), i.proof)).toBe(true);
      const st = s.fingerprints.getStudy(STUDY)!;
      expect(st.root).toBe(tree.root);
      expect(st.proofs!.map((p) => [p.sopInstanceUid, p.leaf, p.proof]).sort()).toEqual(instances.map((i) => [i.sopInstanceUid, i.leaf, i.proof]).sort());
    } finally {
      await s.close();
    }
  });
});
