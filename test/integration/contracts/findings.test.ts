/**
 * AI findings beside a study record on a real anvil (contract compiled with solc): a clinician
 * anchors one Merkle root of the study's result records; the contract checks the caller's role like
 * `anchor`, needs the study record, is idempotent, and verifies each result's proof, so a recipient
 * can check which model said what about which image. No identifier reaches the chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Wallet, ZeroHash } from 'ethers';
import { component } from '../../support/components';
import { buildResultTree, RESULT_RECORD_SPEC, resultLeaf, sha256Hex, type ResultRecord } from '../../../src/core/ai/result-record';
import { STORAGE_URI, TEST_PATIENTS, eventsOf, expectRevert, mined, patientWallet, scanChainForPersonalData, startChain, studyLeaves, studyTree, type Chain } from './chain';
import type { MedImgShr } from '../../../src/node/ledger/contracts';

const anvil = component('anvil');

/** One result record per image of the test patient's study: the probe model's two labels. */
function records(p: (typeof TEST_PATIENTS)[number], probabilities: number[]): ResultRecord[] {
  const leaves = studyLeaves(p, 1);
  return p.sopUids.map((uid, i) => ({
    spec: RESULT_RECORD_SPEC,
    uidHash: sha256Hex(uid),
    pixel: leaves[i]![0].slice(2),
    model: { sha256: sha256Hex('model.onnx bytes'), cardSha256: sha256Hex('card.json bytes'), name: 'Probe chest model (test)', version: '1.0.0' },
    preprocessing: 'medimgshr-ai-preprocess/1',
    findings: [
      { label: 'Opacity (region)', probability: probabilities[i]!, threshold: 0.5, present: probabilities[i]! >= 0.5 },
      { label: 'Mean brightness', probability: 0.28125, threshold: 0.4, present: false },
    ],
    heatMap: null,
  }));
}

describe.skipIf(!anvil)('MedImgShr AI findings (real anvil)', () => {
  let chain: Chain;
  let c: MedImgShr;
  let instA: Wallet, clinA: Wallet, outsider: Wallet;
  const study = studyTree(TEST_PATIENTS[0], 1);
  const recs = records(TEST_PATIENTS[0], [0.731, 0.2, 0.55]);
  const tree = buildResultTree(recs);

  beforeAll(async () => {
    chain = await startChain();
    c = chain.contract;
    [, instA, , clinA, , outsider] = chain.accounts as [Wallet, Wallet, Wallet, Wallet, Wallet, Wallet];
    await mined(c.registerInstitution(instA.address));
    await mined(chain.as(instA).grantClinician(clinA.address));
    const ada = patientWallet(TEST_PATIENTS[0], chain.provider);
    await mined(chain.as(clinA).anchor(study.root, study.length, ada.address, STORAGE_URI, ZeroHash));
  });
  afterAll(async () => chain?.stop());

  it('refuses callers that are not clinicians, unknown studies, a zero root and a zero count', async () => {
    expect((await expectRevert(chain.as(outsider).anchorFindings(study.root, tree.root, tree.leafCount), 'AccessControlUnauthorizedAccount')).account).toBe(outsider.address);
    expect((await expectRevert(chain.as(clinA).anchorFindings(studyTree(TEST_PATIENTS[1], 1).root, tree.root, tree.leafCount), 'UnknownRecord')).root).toBe(studyTree(TEST_PATIENTS[1], 1).root);
    await expectRevert(chain.as(clinA).anchorFindings(study.root, ZeroHash, 1), 'InvalidRoot');
    await expectRevert(chain.as(clinA).anchorFindings(study.root, tree.root, 0), 'InvalidFindingsCount');
    expect((await c.getFindings(tree.root)).count).toBe(0n);
  });

  it('anchors one root of the result records beside the study record, with the event; again changes nothing', async () => {
    const r = await mined(chain.as(clinA).anchorFindings(study.root, tree.root, tree.leafCount));
    const ev = eventsOf(r);
    expect(ev.map((e) => e.name)).toEqual(['FindingsAnchored']);
    expect(ev[0]!.args).toMatchObject({ studyRoot: study.root, findingsRoot: tree.root, institution: instA.address, clinician: clinA.address, count: 3n });
    const block = await chain.provider.getBlock(r.blockNumber);
    const f = await c.getFindings(tree.root);
    expect(f.findingsRoot).toBe(tree.root);
    expect(f.studyRoot).toBe(study.root);
    expect(f.count).toBe(3n);
    expect(f.institution).toBe(instA.address);
    expect(f.clinician).toBe(clinA.address);
    expect(f.time).toBe(BigInt(block!.timestamp));
    // idempotent: the same root again writes nothing (static call says false, no event)
    expect(await chain.as(clinA).anchorFindings.staticCall(study.root, tree.root, tree.leafCount)).toBe(false);
    const again = await mined(chain.as(clinA).anchorFindings(study.root, tree.root, tree.leafCount));
    expect(eventsOf(again)).toEqual([]);
  });

  it('verifies which model said what about which image; a changed probability, pixel or model fails', async () => {
    for (const { leaf, proof } of tree.proofs) expect(await c.verifyFinding(tree.root, proof, ...leaf)).toBe(true);
    const { leaf, proof } = tree.proofs.find((p) => p.leaf[0] === `0x${recs[0]!.uidHash}`)!;
    // the recipient re-hashes the record it was given: another probability is another record digest
    const edited = { ...recs[0]!, findings: [{ ...recs[0]!.findings[0]!, probability: 0.9 }, recs[0]!.findings[1]!] };
    expect(await c.verifyFinding(tree.root, proof, ...resultLeaf(edited))).toBe(false);
    const otherPixels = [leaf[0], `0x${sha256Hex('other pixels')}`, leaf[2], leaf[3], leaf[4]] as const;
    expect(await c.verifyFinding(tree.root, proof, ...otherPixels)).toBe(false);
    const otherModel = [leaf[0], leaf[1], `0x${sha256Hex('another model')}`, leaf[3], leaf[4]] as const;
    expect(await c.verifyFinding(tree.root, proof, ...otherModel)).toBe(false);
  });

  it('keeps findings roots to one study, and puts no identifier on chain', async () => {
    const ada = patientWallet(TEST_PATIENTS[0], chain.provider);
    const v2 = studyTree(TEST_PATIENTS[0], 2);
    await mined(chain.as(clinA).anchor(v2.root, v2.length, ada.address, STORAGE_URI, study.root));
    const e = await expectRevert(chain.as(clinA).anchorFindings(v2.root, tree.root, tree.leafCount), 'FindingsOfAnotherStudy');
    expect(e.studyRoot).toBe(study.root);
    const scan = await scanChainForPersonalData(chain);
    expect(scan.txs).toBeGreaterThan(5);
    expect(scan.found).toEqual([]);
  });
});
