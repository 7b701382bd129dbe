/**
 * Gas report of the MedImgShr contract on a real anvil: anchoring a 1,000-instance study as one
 * record (Merkle root) against one record per image on the same chain (the seed design of Lin et
 * al.: one on-chain entry per image), then the consent, access and score operations.
 */
import { createHash } from 'node:crypto';
import { HDNodeWallet, JsonRpcProvider, Network, Wallet, ZeroHash, type ContractTransactionResponse, type Log, type TransactionReceipt } from 'ethers';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { row, type Bench, type BenchRow } from './harness';
import { findAnvilBinary, startAnvil } from '../../src/node/ledger/anvil';
import { ALL_STUDIES, confirmed, connect, decodeEvents, deployMedImgShr, signConsent } from '../../src/node/ledger/contracts';

const MNEMONIC = 'test test test test test test test test test test test junk';
const STUDY_SIZE = Number(process.env.MEDIMG_BENCH_STUDY_SIZE ?? 1000);
const URI = 'blob://store-7f3a/';
const h = (s: string) => '0x' + createHash('sha256').update(s).digest('hex');

async function gasOf(p: Promise<ContractTransactionResponse>): Promise<{ gas: number; receipt: TransactionReceipt }> {
  const receipt = await confirmed(p);
  return { gas: Number(receipt.gasUsed), receipt };
}

async function run(): Promise<BenchRow[]> {
  if (!findAnvilBinary()) throw new Error('anvil not found (npm ci installs @foundry-rs/anvil)');
  const node = await startAnvil({ accounts: 10 });
  const provider = new JsonRpcProvider(node.rpcUrl, Network.from(31337), { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
  provider.pollingInterval = 20;
  try {
    const w = Array.from({ length: 10 }, (_, i) => new Wallet(HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey, provider));
    const [regulator, instA, instB, clinA, patient, relayer, patient2, instC] = w as [Wallet, Wallet, Wallet, Wallet, Wallet, Wallet, Wallet, Wallet];
    const c = await deployMedImgShr(regulator);
    const address = await c.getAddress();
    const as = (x: Wallet) => connect(address, x);
    const rows: BenchRow[] = [];

    const reg = await gasOf(c.registerInstitution(instA.address));
    await confirmed(c.registerInstitution(instB.address));
    await confirmed(c.registerInstitution(instC.address));
    const clin = await gasOf(as(instA).grantClinician(clinA.address));
    const pat = await gasOf(as(patient).registerPatient());
    await confirmed(as(instA).registerPatientFor(patient2.address));

    // A 1,000-instance study: the leaves the fingerprint work produces, one tree, one record.
    const leaves = Array.from({ length: STUDY_SIZE }, (_, i) => [h(`pixel ${i}`), h(`meta ${i}`), h(`uid ${i}`)] as [string, string, string]);
    const tree = StandardMerkleTree.of(leaves, ['bytes32', 'bytes32', 'bytes32']);
    // warm-up record: interns the storage URI, as any workstation's first record does
    const first = await gasOf(as(clinA).anchor(h('warm-up study'), 1, patient2.address, URI, ZeroHash));
    const t0 = process.hrtime.bigint();
    const study = await gasOf(as(clinA).anchor(tree.root, STUDY_SIZE, patient.address, URI, ZeroHash));
    const studyMs = Number(process.hrtime.bigint() - t0) / 1e6;

    // Peer: one record per image, same contract, same chain (Lin et al.'s granularity).
    let perImageGas = 0;
    const t1 = process.hrtime.bigint();
    for (const [i, leaf] of leaves.entries()) {
      const leafRoot = StandardMerkleTree.of([leaf], ['bytes32', 'bytes32', 'bytes32']).root;
      void i;
      perImageGas += (await gasOf(as(clinA).anchor(leafRoot, 1, patient.address, URI, ZeroHash))).gas;
    }
    const perImageMs = Number(process.hrtime.bigint() - t1) / 1e6;

    rows.push(row({ metric: `anchor a ${STUDY_SIZE}-instance study: gas per image`, ours: study.gas / STUDY_SIZE, peer: perImageGas / STUDY_SIZE, peerName: 'one record per image (Lin et al.)', unit: 'gas/image', better: 'lower', goal: '≤ 100', met: study.gas / STUDY_SIZE <= 100, note: `one transaction of ${study.gas} gas vs ${STUDY_SIZE} transactions of ${Math.round(perImageGas / STUDY_SIZE)} gas` }));
    rows.push(row({ metric: `anchor a ${STUDY_SIZE}-instance study: total gas`, ours: study.gas, peer: perImageGas, peerName: 'one record per image (Lin et al.)', unit: 'gas', better: 'lower' }));
    rows.push(row({ metric: `anchor a ${STUDY_SIZE}-instance study: wall time per image on anvil`, ours: studyMs / STUDY_SIZE, peer: perImageMs / STUDY_SIZE, peerName: 'one record per image (Lin et al.)', unit: 'ms/image', better: 'lower', note: 'Lin et al. report ~568 ms per image (56,830 ms / 100 images) on their 10-node chain' }));
    rows.push(row({ metric: 'anchor: first record on a new storage URI (interning it)', ours: first.gas, unit: 'gas', better: 'lower' }));

    // verification cost if another contract verified one instance on chain (eth_estimateGas of the view)
    const proof = tree.getProof(0);
    const verifyGas = Number(await c.verifyInstance.estimateGas(tree.root, proof, leaves[0]![0], leaves[0]![1], leaves[0]![2]));
    rows.push(row({ metric: `verifyInstance, ${proof.length}-step proof (as a call inside a transaction)`, ours: verifyGas, unit: 'gas', better: 'lower', note: 'a view: free over eth_call, as the viewer uses it' }));

    // Version
    const tree2 = StandardMerkleTree.of(leaves.map(([p, m, u]) => [h(p + 'v2'), m, u]), ['bytes32', 'bytes32', 'bytes32']);
    const version = await gasOf(as(clinA).anchor(tree2.root, STUDY_SIZE, patient.address, URI, tree.root));
    rows.push(row({ metric: 'anchor a new version (supersedes the previous)', ours: version.gas, peer: study.gas, peerName: 'first version', unit: 'gas', better: 'lower' }));

    // Consent
    const now = Number((await provider.getBlock('latest'))!.timestamp);
    const direct = await gasOf(as(patient).grantConsent(instB.address, tree.root, now + 86400));
    const signed = await signConsent(patient2, c, { institution: instB.address, study: ALL_STUDIES, expiry: now + 86400, deadline: now + 3600 });
    const bySig = await gasOf(as(relayer).grantConsentBySig(signed.patient, signed.institution, signed.study, signed.expiry, signed.deadline, signed.signature));
    rows.push(row({ metric: 'grantConsent (patient pays)', ours: direct.gas, unit: 'gas', better: 'lower' }));
    rows.push(row({ metric: 'grantConsentBySig (EIP-712, relayed; patient pays nothing)', ours: bySig.gas, peer: direct.gas, peerName: 'grantConsent', unit: 'gas', better: 'lower' }));

    // Access
    const accessFirst = await gasOf(as(instB).recordAccess(tree.root));
    const accessRepeat = await gasOf(as(instB).recordAccess(tree.root));
    const denied = await gasOf(as(instC).recordAccess(tree.root)); // instC has no consent
    const names = (r: TransactionReceipt) => decodeEvents(r.logs as unknown as Log[]).map((e) => e.name).join(',');
    // the rows below measure what their names say
    if (names(accessFirst.receipt) !== 'AccessGranted,ScoreChanged') throw new Error(`first access: ${names(accessFirst.receipt)}`);
    if (names(accessRepeat.receipt) !== 'AccessGranted') throw new Error(`repeat access: ${names(accessRepeat.receipt)}`);
    if (names(denied.receipt) !== 'AccessDenied') throw new Error(`denied access: ${names(denied.receipt)}`);
    rows.push(row({ metric: 'recordAccess granted, first by this recipient (rewards the patient)', ours: accessFirst.gas, unit: 'gas', better: 'lower' }));
    rows.push(row({ metric: 'recordAccess granted, repeat', ours: accessRepeat.gas, unit: 'gas', better: 'lower' }));
    rows.push(row({ metric: 'recordAccess denied (AccessDenied event, no revert)', ours: denied.gas, unit: 'gas', better: 'lower' }));
    const revoke = await gasOf(as(patient).revokeConsent(instB.address, tree.root));
    rows.push(row({ metric: 'revokeConsent', ours: revoke.gas, unit: 'gas', better: 'lower' }));

    // Scores
    const confirm = await gasOf(as(instB).confirmIntegrity(1));
    const report = await gasOf(as(instB).reportMismatch(2));
    const rule = await gasOf(c.ruleOnReport(2, true));
    const adjust = await gasOf(c.adjustScore(instA.address, -10, 100));
    rows.push(row({ metric: 'confirmIntegrity (anchoring institution earns)', ours: confirm.gas, unit: 'gas', better: 'lower' }));
    rows.push(row({ metric: 'reportMismatch', ours: report.gas, unit: 'gas', better: 'lower' }));
    rows.push(row({ metric: 'ruleOnReport upheld (two score changes)', ours: rule.gas, unit: 'gas', better: 'lower' }));
    rows.push(row({ metric: 'adjustScore by the regulator', ours: adjust.gas, unit: 'gas', better: 'lower' }));
    rows.push(row({ metric: 'registerInstitution', ours: reg.gas, unit: 'gas', better: 'lower' }));
    rows.push(row({ metric: 'grantClinician', ours: clin.gas, unit: 'gas', better: 'lower' }));
    rows.push(row({ metric: 'registerPatient (self)', ours: pat.gas, unit: 'gas', better: 'lower' }));
    return rows;
  } finally {
    provider.destroy();
    await node.stop();
  }
}

/** Benchmarks of the contracts work. */
export const contractsBenches: Bench[] = [
  { name: 'contracts', description: `gas of MedImgShr on anvil: a ${STUDY_SIZE}-instance study as one record vs one record per image; consent, access, scores`, run },
];
