/**
 * Share by metadata through the BUILT CLI, two app-data folders (institution A, institution B) on
 * one real anvil chain: A shares a generated MR series `--by-metadata --json`; B's `receive` refuses
 * the unknown pixel store (naming it and `medimgshr split-store add`), records nothing; after
 * `split-store add` it rebuilds every image byte-identical from A's folder store, verifies it
 * against the chain and records the access.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { type Services } from '../../../src/node/services';
import { component } from '../../support/components';
import { openRemoteHome, runCli } from '../../support/cli-homes';
import { tempDir } from '../../support/tmp';
import { startChain, type Chain } from '../contracts/chain';

const anvil = component('anvil');
const tmp = tempDir('medimg-split-share-cli-');
const PASS = 'institution-passphrase';
const PATIENT_PASS = 'patient-passphrase';
const SLICES = 5;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let chain: Chain;
let homeA: string;
let homeB: string;
let instB: Wallet;
let clinA: Wallet;
let patient: Wallet;
let studyUid: string;
let sampleDir: string;
let env: NodeJS.ProcessEnv;

const cli = (home: string, args: string[]) => runCli(home, args, env);
const openHome = (home: string): Promise<Services> => openRemoteHome(home, chain);

describe.skipIf(!anvil)('share by metadata: CLI A → B on one chain', () => {
  beforeAll(async () => {
    chain = await startChain();
    let instA: Wallet;
    [, instA, clinA, instB] = chain.accounts as [Wallet, Wallet, Wallet, Wallet];
    patient = Wallet.createRandom() as unknown as Wallet;
    env = { ...process.env, MEDIMG_RPC_URL: chain.node.rpcUrl, MEDIMG_CONTRACT_ADDRESS: chain.address, MEDIMG_PASSPHRASE: PASS, MEDIMG_PATIENT_PASSPHRASE: PATIENT_PASS, MEDIMG_SCRYPT_N: '1024' };
    process.env.MEDIMG_SCRYPT_N = '1024';
    homeA = join(tmp.path, 'A');
    homeB = join(tmp.path, 'B');
    const reg = chain.as(chain.regulator);
    await (await reg.registerInstitution(instA.address)).wait();
    await (await reg.registerInstitution(instB.address)).wait();
    await (await chain.as(instA).grantClinician(clinA.address)).wait();
    const a = await openHome(homeA);
    try {
      await a.identity.import({ displayName: 'Clinician A', privateKey: clinA.privateKey, passphrase: PASS });
      await a.identity.import({ displayName: 'Institution A', privateKey: instA.privateKey, passphrase: PASS });
      await a.identity.import({ displayName: 'Patient', privateKey: patient.privateKey, passphrase: PATIENT_PASS });
      sampleDir = join(tmp.path, 'sample');
      studyUid = (await writeSampleSeries({ outDir: sampleDir, slices: SLICES, kind: 'mr', seed: 1313 })).studyInstanceUid;
      await a.tasks.run('import', null, (task) => a.library.import([sampleDir], task));
      await a.identity.unlock(clinA.address, PASS);
      expect((await a.ledgerService.anchors.anchorStudy(studyUid, { patient: patient.address })).anchor.delivery).toBe('confirmed');
      await a.ledgerService.sync.sync();
      await new Promise((r) => setTimeout(r, 300));
      await a.ledgerService.sync.sync();
    } finally {
      await a.close();
    }
    const b = await openHome(homeB);
    try {
      await b.identity.import({ displayName: 'Institution B', privateKey: instB.privateKey, passphrase: PASS });
    } finally {
      await b.close();
    }
  }, 240_000);

  afterAll(async () => {
    await chain?.stop();
    tmp.cleanup();
  });

  it('share --by-metadata; receive refuses the unknown store; split-store add; receive rebuilds byte-identical and verifies', async () => {
    // B's key card at A (the package is encrypted to B's key).
    const card = join(tmp.path, 'b.card.json');
    expect((await cli(homeB, ['share-key', 'export', '--identity', instB.address, '--out', card])).code).toBe(0);
    expect((await cli(homeA, ['share-key', 'import', card])).code).toBe(0);
    const c = await cli(homeA, ['consent', studyUid, '--to', instB.address, '--patient', patient.address, '--identity', clinA.address, '--days', '30']);
    expect(c.code, c.stderr + c.stdout).toBe(0);

    const r = await cli(homeA, ['share', studyUid, '--to', instB.address, '--identity', clinA.address, '--by-metadata']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const sh = r.out as { shared: boolean; path: string; size: number; instances: number; split: { store: string; metadataBytes: number; pixelBytesInStore: number } };
    expect(sh).toMatchObject({ shared: true, instances: SLICES });
    expect(sh.split.store).toBe(`file://${join(homeA, 'blobs', 'split')}`);
    expect(sh.size).toBeLessThan(sh.split.metadataBytes + SLICES * 2_000);
    expect(sh.size * 10).toBeLessThan(sh.split.pixelBytesInStore);

    const refused = await cli(homeB, ['receive', sh.path, '--identity', instB.address]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toContain(sh.split.store);
    expect(refused.stderr + refused.stdout).toContain(`medimgshr split-store add ${sh.split.store}`);
    expect(Number(await chain.contract.accessCount())).toBe(0);

    const add = await cli(homeB, ['split-store', 'add', sh.split.store]);
    expect(add.code, add.stderr).toBe(0);
    expect((add.out as { knownStores: { uri: string }[] }).knownStores.map((k) => k.uri)).toEqual([sh.split.store]);
    const ok = await cli(homeB, ['receive', sh.path, '--identity', instB.address]);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    const rec = ok.out as { verified: boolean; integrityConfirmed: boolean; access: { granted: boolean }; folder: string; split: { store: string; rebuilt: number; pixelBytesFetched: number } };
    expect(rec).toMatchObject({ verified: true, integrityConfirmed: true, access: { granted: true }, split: { store: sh.split.store, rebuilt: SLICES } });
    expect(rec.split.pixelBytesFetched).toBe(sh.split.pixelBytesInStore);
    expect(Number(await chain.contract.accessCount())).toBe(1);
    const want = readdirSync(sampleDir).map((f) => sha(readFileSync(join(sampleDir, f)))).sort();
    const got = readdirSync(join(rec.folder, 'series-001')).map((f) => sha(readFileSync(join(rec.folder, 'series-001', f)))).sort();
    expect(got).toEqual(want);
    console.info(`share by metadata, ${SLICES} MR slices: package ${sh.size} bytes (metadata parts ${sh.split.metadataBytes}); pixel blobs left in the store ${sh.split.pixelBytesInStore} bytes`);
  }, 240_000);
});
