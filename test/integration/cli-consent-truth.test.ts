/**
 * Issue 16 / 17 through the BUILT CLI on one real anvil chain (institution A's workstation, with the
 * patient's identity on it; institution B registered on chain):
 *   - consent --list / --revoke <id> / --revoke by study + --to: the history shows the revocation and
 *     a share that depended on it is refused with the reason;
 *   - share to the sender's own institution is refused with a reason (exit 1, as every refusal);
 *   - share --check has no side effects (an anchor queued earlier stays queued, no audit entry but the sign-in, no package);
 *   - the share result says what is sent and how it arrives;
 *   - export goes through the app's gate and prints the trust summary first;
 *   - chain status with a dead MEDIMG_RPC_URL says unreachable and what to do, exits 3, no stack;
 *   - anchoring again says "already anchored at this version" when nothing new was written;
 *   - one clean sentence for a dead ledger, no "status bar", help text without line breaks in sentences.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { writeSampleSeries } from '../../src/node/dicom/sample';
import type { Services } from '../../src/node/services';
import { freeLoopbackPort } from '../../src/node/net';
import { buildProgram } from '../../src/cli/main';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';
import { openRemoteHome, runCli } from '../support/cli-homes';
import { startChain, type Chain } from './contracts/chain';

const anvil = component('anvil');
const tmp = tempDir('medimg-cli-consent-');
const PASS = 'institution-passphrase';
const PATIENT_PASS = 'patient-passphrase';

let chain: Chain;
let home: string;
let instA: Wallet;
let clinA: Wallet;
let instB: Wallet;
let patient: Wallet;
let studyUid: string;
let queuedUid: string;
let queuedRoot: string;
let looseUid: string;
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];

async function cli(args: string[], opts: { json?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; out: unknown; stdout: string; stderr: string }> {
  const r = await runCli(home, args, opts.env ?? env, { json: opts.json });
  outputs.push(r.stdout, r.stderr);
  return r;
}

const openHome = (): Promise<Services> => openRemoteHome(home, chain);

type Check = { code: string; ok: boolean; message: string; remedy: string | null };

describe.skipIf(!anvil)('CLI: consent revocation, share and export gates, chain status, anchor messages', () => {
  beforeAll(async () => {
    chain = await startChain();
    [, instA, clinA, instB] = chain.accounts as [Wallet, Wallet, Wallet, Wallet];
    patient = Wallet.createRandom() as unknown as Wallet;
    env = { ...process.env, MEDIMG_RPC_URL: chain.node.rpcUrl, MEDIMG_CONTRACT_ADDRESS: chain.address, MEDIMG_PASSPHRASE: PASS, MEDIMG_PATIENT_PASSPHRASE: PATIENT_PASS, MEDIMG_SCRYPT_N: '1024' };
    process.env.MEDIMG_SCRYPT_N = '1024';
    home = join(tmp.path, 'A');

    const reg = chain.as(chain.regulator);
    await (await reg.registerInstitution(instA.address)).wait();
    await (await reg.registerInstitution(instB.address)).wait();
    await (await chain.as(instA).grantClinician(clinA.address)).wait();
    // B sends a transaction, so its public key can be recovered from the chain (no key card needed).
    await (await chain.as(instB).grantClinician(Wallet.createRandom().address)).wait();

    const a = await openHome();
    try {
      const ids = a.identity;
      await ids.import({ displayName: 'Clinician A', privateKey: clinA.privateKey, passphrase: PASS });
      await ids.import({ displayName: 'Institution A', privateKey: instA.privateKey, passphrase: PASS });
      await ids.import({ displayName: 'Patient', privateKey: patient.privateKey, passphrase: PATIENT_PASS });
      const one = await writeSampleSeries({ outDir: join(tmp.path, 's1'), slices: 3, kind: 'mr', seed: 8101 });
      const two = await writeSampleSeries({ outDir: join(tmp.path, 's2'), slices: 2, kind: 'ct', seed: 8102 });
      const three = await writeSampleSeries({ outDir: join(tmp.path, 's3'), slices: 2, kind: 'mr', seed: 8103 });
      looseUid = three.studyInstanceUid;
      studyUid = one.studyInstanceUid;
      queuedUid = two.studyInstanceUid;
      const { library } = a;
      await a.tasks.run('import', null, (task) => library.import([join(tmp.path, 's1'), join(tmp.path, 's2'), join(tmp.path, 's3')], task));
      await ids.unlock(clinA.address, PASS);
      const anchored = await a.ledgerService.anchors.anchorStudy(studyUid, { patient: patient.address });
      expect(anchored.anchor.delivery).toBe('confirmed');
      // A second study's anchor waits in the outbox (as when the ledger was down): nothing may send it but a real write.
      await a.outbox.stop();
      const queued = await a.ledgerService.anchors.anchorStudy(queuedUid, { patient: patient.address, waitMs: 0 });
      expect(queued.anchor.delivery).toBe('queued');
      queuedRoot = queued.anchor.root;
      await a.ledgerService.sync.sync();
    } finally {
      await a.close();
    }
  }, 240_000);

  afterAll(async () => {
    await chain?.stop();
    tmp.cleanup();
  });

  it('share --check has no side effects: the queued anchor stays queued, no audit entry, no package', async () => {
    const before = await openHome();
    let audit: number;
    try {
      audit = before.trust.audit.count();
    } finally {
      await before.close();
    }
    const r = await cli(['share', studyUid, '--to', instB.address, '--identity', clinA.address, '--check']);
    // Refused (no consent yet), but a look: exit 1 like every refusal, and nothing written.
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect((r.out as { shared: boolean; decision: { allowed: boolean } }).decision.allowed).toBe(false);
    expect((r.out as { shared: boolean }).shared).toBe(false);
    expect(await chain.contract.hasRecord(queuedRoot)).toBe(false);
    const after = await openHome();
    try {
      expect(after.outbox.counts().queued).toBe(1);
      // The one new entry is the clinician's CLI sign-in (every sign-in is audited); nothing about a share.
      const added = after.trust.audit.list({ order: 'asc', offset: audit });
      expect(added.map((e) => [e.action, (e.details as { via?: string } | null)?.via])).toEqual([['login', 'cli']]);
    } finally {
      await after.close();
    }
    const blobs = join(home, 'blobs');
    expect(existsSync(blobs) ? readdirSync(blobs).length : 0).toBe(0);
  });

  it('consent: the text says who, what and until when in words; --list gives its id', async () => {
    const c = await cli(['consent', studyUid, '--to', instB.address, '--patient', patient.address, '--identity', clinA.address, '--days', '30'], { json: false });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(new RegExp(`^Consent recorded: the patient allows ${instB.address} to receive this study for 30 days, until \\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \\d{4} \\(tx 0x[0-9a-f]{64}, block \\d+\\)\\.\\n$`));
    const l = await cli(['consent', '--list', '--patient', patient.address]);
    expect(l.code, l.stderr).toBe(0);
    const consents = (l.out as { consents: { state: string; institution: { address: string }; granted: { txHash: string } }[] }).consents;
    expect(consents).toHaveLength(1);
    expect(consents[0]).toMatchObject({ state: 'active', institution: { address: instB.address } });
  });

  it('share says what is sent (identifiable original DICOM) and how it reaches the recipient', async () => {
    const r = await cli(['share', studyUid, '--to', instB.address, '--identity', clinA.address], { json: false });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('what is sent: 3 original DICOM image(s), identifiable (patient name, ID and dates as acquired, not anonymised)');
    expect(r.stdout).toMatch(/how it arrives: Encrypted so that only the recipient's key opens it, stored as one package at medimg-blob:\/\/0x[0-9a-f]{40}\/[0-9a-f]{64}\./);
  });

  it("share to the sender's own institution is refused with the reason, exit 1", async () => {
    const r = await cli(['share', studyUid, '--to', instA.address, '--identity', clinA.address]);
    expect(r.code).toBe(1);
    const d = r.out as { shared: boolean; decision: { allowed: boolean; checks: Check[] } };
    expect(d.shared).toBe(false);
    const failed = d.decision.checks.filter((c) => !c.ok);
    expect(failed).toEqual([
      { code: 'recipient-self', ok: false, message: 'The recipient is your own institution: its clinicians already see this study, so there is nothing to share.', remedy: 'Choose another institution.' },
    ]);
  });

  it('consent --revoke <id>: revoked on chain, in the history, and the share that depended on it is refused with the reason', async () => {
    const l = await cli(['consent', '--list', '--patient', patient.address]);
    const id = (l.out as { consents: { granted: { txHash: string } }[] }).consents[0]!.granted.txHash;
    const r = await cli(['consent', '--revoke', id.slice(0, 12), '--identity', clinA.address], { json: false });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Consent revoked: ${instB.address} may no longer receive this study; every share and access under it is refused from now on \\(tx 0x[0-9a-f]{64}, block \\d+\\)\\.`));
    const study = await chain.contract.studyOf((await chain.contract.recordAt(patient.address, 0)).root);
    const onChain = await chain.contract.consentOf(patient.address, instB.address, study);
    expect(onChain.revoked).toBe(true);

    const t = await cli(['trust', 'show', studyUid, '--no-verify']);
    const p = t.out as { consents: { state: string }[]; history: { title: string; detail: string }[] };
    expect(p.consents.map((c) => c.state)).toEqual(['revoked']);
    const rev = p.history.find((h) => h.title === 'consent revoked');
    expect(rev?.detail).toBe(`The patient revoked the consent for ${instB.address} (this study).`);

    const s = await cli(['share', studyUid, '--to', instB.address, '--identity', clinA.address]);
    expect(s.code).toBe(1);
    const failed = (s.out as { decision: { checks: Check[] } }).decision.checks.filter((c) => !c.ok);
    expect(failed.map((c) => [c.code, c.message])).toEqual([['consent', 'No valid consent: the patient revoked the consent.']]);
  });

  it('consent --revoke by study and --to: an already revoked consent is refused, exit 1, nothing changed', async () => {
    const r = await cli(['consent', studyUid, '--to', instB.address, '--revoke', '--identity', clinA.address]);
    expect(r.code).toBe(1);
    expect((r.out as { error: { code: string; message: string } }).error).toMatchObject({ code: 'CONFLICT', message: 'That consent is already revoked; nothing was changed.' });
    const none = await cli(['consent', '--revoke', '--identity', clinA.address]);
    expect(none.code).toBe(1);
    expect((none.out as { error: { code: string } }).error.code).toBe('INVALID_ARGUMENT');
  });

  it('export: the trust summary first, then the gate; identifiable and not verified is refused (exit 1) unless overridden with a reason', async () => {
    const anon = await cli(['export', studyUid, '--out', join(tmp.path, 'anon')], { json: false });
    expect(anon.code, anon.stderr).toBe(0);
    expect(anon.stdout.split('\n')[0]).toBe('trust summary');
    expect(anon.stdout).toMatch(/ {2}record {8}: version 1, 3 image\(s\), anchored \d{1,2} \w+ \d{4} by /);
    expect(anon.stdout).toContain(`  patient       : ${patient.address}, credit score `);
    expect(anon.stdout).toContain('Exported 3 of 3 image(s) as dicom-anonymised.');
    expect(readdirSync(join(tmp.path, 'anon')).length).toBeGreaterThan(0);

    // A study never anchored: its originals are not verified.
    const orig = await cli(['export', looseUid, '--format', 'original', '--out', join(tmp.path, 'orig')]);
    expect(orig.code).toBe(1);
    const o = orig.out as { exported: boolean; trust: { records: unknown[] }; decision: { allowed: boolean; identifiable: boolean; checks: Check[] } };
    expect(o.exported).toBe(false);
    expect(o.trust.records).toEqual([]);
    expect(o.decision).toMatchObject({ allowed: false, identifiable: true });
    expect(o.decision.checks.find((c) => c.code === 'verified')).toMatchObject({ ok: false, message: '2 of 2 image(s) are not verified (2 not-registered).' });
    expect(existsSync(join(tmp.path, 'orig'))).toBe(false);

    const over = await cli(['export', looseUid, '--format', 'original', '--out', join(tmp.path, 'orig'), '--override-reason', 'referral letter needs the originals']);
    expect(over.code, over.stderr).toBe(0);
    expect((over.out as { overridden: boolean; written: unknown[] }).overridden).toBe(true);
    expect((over.out as { written: unknown[] }).written).toHaveLength(2);
  });

  it('anchor: the anchor queued earlier went out with the first real write (consent); anchoring again says "already anchored at this version"', async () => {
    expect(await chain.contract.hasRecord(queuedRoot)).toBe(true);
    const again = await cli(['anchor', queuedUid, '--identity', clinA.address]);
    expect(again.code, again.stderr).toBe(0);
    const r = (again.out as { results: { existing: boolean; message: string; anchor: { root: string } }[] }).results[0]!;
    expect(r.existing).toBe(true);
    expect(r.anchor.root).toBe(queuedRoot);
    expect(r.message).toMatch(/^Already anchored at this version: 2 image\(s\), record 0x[0-9a-f]{8}… in block \d+; nothing new was written\.$/);
  });

  it('a dead ledger: chain status says UNREACHABLE and what to do, exit 3; a write says so in one sentence; no stack, no hang', async () => {
    const port = await freeLoopbackPort();
    const dead = { ...env, MEDIMG_RPC_URL: `http://127.0.0.1:${port}` };
    const st = await cli(['chain', 'status'], { json: false, env: dead });
    expect(st.code).toBe(3);
    expect(st.stdout).toContain('ledger       : UNREACHABLE (remote)');
    expect(st.stdout).toContain(`endpoint     : http://127.0.0.1:${port} (from MEDIMG_RPC_URL)`);
    expect(st.stdout).toContain(`message      : http://127.0.0.1:${port} does not answer (nothing is listening at that address).`);
    expect(st.stdout).toContain('what to do   : Start the ledger node at that address, or correct MEDIMG_RPC_URL');
    expect(st.stderr).toBe('');

    const sh = await cli(['share', studyUid, '--to', instB.address, '--identity', clinA.address, '--check'], { json: false, env: dead });
    expect(sh.code).toBe(1);
    const text = sh.stdout + sh.stderr;
    expect(text).not.toMatch(/fetch failed|\.\.|\n\s+at /);
  });

  it('no CLI text points at "the status bar"; help descriptions have no line breaks inside sentences', () => {
    for (const o of outputs) expect(o).not.toMatch(/status bar/i);
    const walk = (c: Command, path: string): void => {
      const d = c.description();
      expect(d.includes('\n'), `${path}: ${d}`).toBe(false);
      expect(d).not.toMatch(/status bar/i);
      for (const sub of c.commands) walk(sub, `${path} ${sub.name()}`);
    };
    walk(buildProgram(), 'medimgshr');
  });
});
