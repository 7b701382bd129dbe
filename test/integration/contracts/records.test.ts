/**
 * Study records on a real anvil: one record per study, idempotent re-anchoring, versions that
 * supersede and stay readable, look-up by root and by (patient, index), interned storage URIs, and
 * on-chain verification of StandardMerkleTree proofs made in TypeScript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Wallet, ZeroHash } from 'ethers';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { component } from '../../support/components';
import { type MedImgShr } from '../../../src/node/ledger/contracts';
import { STORAGE_URI, TEST_PATIENTS, eventsOf, expectRevert, mined, patientWallet, scanChainForPersonalData, sha256, startChain, studyLeaves, studyTree, type Chain } from './chain';

const anvil = component('anvil');

describe.skipIf(!anvil)('MedImgShr study records (real anvil)', () => {
  let chain: Chain;
  let c: MedImgShr;
  let instA: Wallet, instB: Wallet, clinA: Wallet, clinB: Wallet;
  let ada: Wallet, grace: Wallet;
  const v1 = studyTree(TEST_PATIENTS[0], 1);
  const v2 = studyTree(TEST_PATIENTS[0], 2);
  const v3 = studyTree(TEST_PATIENTS[0], 3);
  const g1 = studyTree(TEST_PATIENTS[1], 1);

  beforeAll(async () => {
    chain = await startChain();
    c = chain.contract;
    [, instA, instB, clinA, clinB] = chain.accounts as [Wallet, Wallet, Wallet, Wallet, Wallet];
    ada = patientWallet(TEST_PATIENTS[0], chain.provider);
    grace = patientWallet(TEST_PATIENTS[1], chain.provider);
    await mined(c.registerInstitution(instA.address));
    await mined(c.registerInstitution(instB.address));
    await mined(chain.as(instA).grantClinician(clinA.address));
    await mined(chain.as(instB).grantClinician(clinB.address));
  });
  afterAll(async () => chain?.stop());

  it('anchors one record per study with root, leaf count, storage, patient, institution, clinician and block time', async () => {
    expect(await c.hasRecord(v1.root)).toBe(false);
    const r = await mined(chain.as(clinA).anchor(v1.root, v1.length, ada.address, STORAGE_URI, ZeroHash));
    const names = eventsOf(r).map((e) => e.name);
    // the patient account was not registered yet: the clinician's institution registers it
    expect(names).toEqual(['StorageRegistered', 'RoleGranted', 'ScoreChanged', 'PatientRegistered', 'StudyAnchored']);
    expect(eventsOf(r).find((e) => e.name === 'PatientRegistered')?.args).toMatchObject({ patient: ada.address, by: instA.address });
    const block = await chain.provider.getBlock(r.blockNumber);
    const rec = await c.getRecord(v1.root);
    expect(rec.root).toBe(v1.root);
    expect(rec.study).toBe(v1.root);
    expect(rec.version).toBe(1n);
    expect(rec.leafCount).toBe(3n);
    expect(rec.patient).toBe(ada.address);
    expect(rec.institution).toBe(instA.address);
    expect(rec.clinician).toBe(clinA.address);
    expect(rec.time).toBe(BigInt(block!.timestamp));
    expect(rec.storageUri).toBe(STORAGE_URI);
    expect(rec.previous).toBe(ZeroHash);
    expect(rec.next).toBe(ZeroHash);
    expect(await c.hasRecord(v1.root)).toBe(true);
  });

  it('re-anchoring the same root is idempotent: returns false, writes and logs nothing', async () => {
    expect(await chain.as(clinA).anchor.staticCall(v1.root, v1.length, ada.address, STORAGE_URI, ZeroHash)).toBe(false);
    const r = await mined(chain.as(clinB).anchor(v1.root, 99, grace.address, 'blob://elsewhere/', ZeroHash));
    expect(r.logs).toHaveLength(0);
    const rec = await c.getRecord(v1.root);
    expect(rec.leafCount).toBe(3n);
    expect(rec.clinician).toBe(clinA.address);
    expect(await c.recordCount(ada.address)).toBe(1n);
    expect(await c.recordCount(grace.address)).toBe(0n);
    expect(await c.storageCount()).toBe(1n);
  });

  it('interns storage URIs: the same URI keeps its id, a new one gets the next', async () => {
    const r = await mined(chain.as(clinB).anchor(g1.root, g1.length, grace.address, STORAGE_URI, ZeroHash));
    expect(eventsOf(r).some((e) => e.name === 'StorageRegistered')).toBe(false);
    expect((await c.getRecord(g1.root)).storageId).toBe(1n);
    const other = studyTree(TEST_PATIENTS[1], 9);
    const r2 = await mined(chain.as(clinB).anchor(other.root, other.length, grace.address, 'dicomweb://pacs.region.example/dicom-web', ZeroHash));
    expect(eventsOf(r2).find((e) => e.name === 'StorageRegistered')?.args).toMatchObject({ storageId: 2n, uri: 'dicomweb://pacs.region.example/dicom-web' });
    expect(await c.storageUriOf(2)).toBe('dicomweb://pacs.region.example/dicom-web');
  });

  it('rejects invalid records with named errors', async () => {
    const k = chain.as(clinA);
    const x = studyTree(TEST_PATIENTS[2]).root;
    await expectRevert(k.anchor(ZeroHash, 1, ada.address, STORAGE_URI, ZeroHash), 'InvalidRoot');
    await expectRevert(k.anchor(x, 0, ada.address, STORAGE_URI, ZeroHash), 'InvalidLeafCount');
    await expectRevert(k.anchor(x, 1, '0x0000000000000000000000000000000000000000', STORAGE_URI, ZeroHash), 'ZeroAddress');
    await expectRevert(k.anchor(x, 1, ada.address, '', ZeroHash), 'InvalidStorageUri');
    await expectRevert(k.anchor(x, 1, ada.address, 'blob://' + 'x'.repeat(250), ZeroHash), 'InvalidStorageUri');
    await expectRevert(c.getRecord(x), 'UnknownRecord');
  });

  it('a new version supersedes, never overwrites; the chain of versions is readable from any version', async () => {
    const r = await mined(chain.as(clinA).anchor(v2.root, v2.length, ada.address, STORAGE_URI, v1.root));
    const ev = eventsOf(r);
    expect(ev.find((e) => e.name === 'StudySuperseded')?.args).toMatchObject({ previous: v1.root, root: v2.root, study: v1.root });
    expect(ev.find((e) => e.name === 'StudyAnchored')?.args).toMatchObject({ root: v2.root, study: v1.root, version: 2n, previous: v1.root });
    await mined(chain.as(clinA).anchor(v3.root, v3.length, ada.address, STORAGE_URI, v2.root));

    const old = await c.getRecord(v1.root);
    expect(old.leafCount).toBe(3n); // still there, unchanged
    expect(old.next).toBe(v2.root);
    const mid = await c.getRecord(v2.root);
    expect([mid.version, mid.previous, mid.next, mid.study]).toEqual([2n, v1.root, v3.root, v1.root]);
    for (const any of [v1.root, v2.root, v3.root]) {
      expect(await c.versions(any)).toEqual([v1.root, v2.root, v3.root]);
      expect(await c.latestVersion(any)).toBe(v3.root);
      expect(await c.studyOf(any)).toBe(v1.root);
    }
    expect(await c.versions(g1.root)).toEqual([g1.root]);
    expect(await c.latestVersion(g1.root)).toBe(g1.root);
  });

  it('refuses forks and foreign versions', async () => {
    const x = studyTree(TEST_PATIENTS[0], 7).root;
    await expectRevert(chain.as(clinA).anchor(x, 3, ada.address, STORAGE_URI, v1.root), 'AlreadySuperseded');
    await expectRevert(chain.as(clinA).anchor(x, 3, grace.address, STORAGE_URI, v3.root), 'VersionPatientMismatch');
    await expectRevert(chain.as(clinB).anchor(x, 3, ada.address, STORAGE_URI, v3.root), 'VersionInstitutionMismatch');
    await expectRevert(chain.as(clinA).anchor(x, 3, ada.address, STORAGE_URI, sha256('nothing')), 'UnknownRecord');
  });

  it("lists a patient's records by index, in anchoring order (Lin et al.'s count / get-by-index)", async () => {
    expect(await c.recordCount(ada.address)).toBe(3n);
    const roots = [];
    for (let i = 0; i < 3; i++) roots.push((await c.recordAt(ada.address, i)).root);
    expect(roots).toEqual([v1.root, v2.root, v3.root]);
    expect(await c.recordCount(grace.address)).toBe(2n);
    expect((await c.recordAt(grace.address, 0)).root).toBe(g1.root);
    await expectRevert(c.recordAt(ada.address, 3), 'UnknownRecord');
  });

  it('verifies every instance of a StandardMerkleTree made in TypeScript on chain, and rejects wrong ones', async () => {
    const leaves = studyLeaves(TEST_PATIENTS[0], 1);
    for (const [i, leaf] of v1.entries()) {
      const proof = v1.getProof(i);
      expect(StandardMerkleTree.verify(v1.root, ['bytes32', 'bytes32', 'bytes32'], leaf, proof)).toBe(true);
      expect(await c.verifyInstance(v1.root, proof, leaf[0], leaf[1], leaf[2])).toBe(true);
    }
    const [pixel, meta, uid] = leaves[0]!;
    const proof0 = v1.getProof(0);
    expect(await c.verifyInstance(v1.root, proof0, sha256('altered pixels'), meta, uid)).toBe(false);
    expect(await c.verifyInstance(v1.root, proof0, pixel, sha256('altered meta'), uid)).toBe(false);
    expect(await c.verifyInstance(v1.root, proof0, pixel, meta, leaves[1]![2])).toBe(false);
    expect(await c.verifyInstance(v2.root, proof0, pixel, meta, uid)).toBe(false); // right leaf, other study
    expect(await c.verifyInstance(v1.root, v1.getProof(1), pixel, meta, uid)).toBe(false); // proof of another leaf
  });

  it('verifies a 1,000-instance study proof (depth 10)', async () => {
    const values = Array.from({ length: 1000 }, (_, i) => [sha256(`p${i}`), sha256(`m${i}`), sha256(`u${i}`)] as [string, string, string]);
    const big = StandardMerkleTree.of(values, ['bytes32', 'bytes32', 'bytes32']);
    for (const i of [0, 499, 999]) {
      const v = values[i]!;
      const proof = big.getProof(v);
      expect(proof.length).toBeGreaterThanOrEqual(9);
      expect(await c.verifyInstance(big.root, proof, v[0], v[1], v[2])).toBe(true);
      expect(await c.verifyInstance(big.root, proof, v[1], v[0], v[2])).toBe(false);
    }
  });

  it('left no personal data in any calldata or event of this suite', async () => {
    const scan = await scanChainForPersonalData(chain);
    expect(scan.txs).toBeGreaterThan(8);
    expect(scan.found).toEqual([]);
  });
});
