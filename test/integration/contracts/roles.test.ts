/**
 * MedImgShr roles on a real anvil: behaviour of each role, the two-step regulator handover, and a
 * role × function matrix proving every unauthorised call reverts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Wallet, ZeroHash, id as keccakId } from 'ethers';
import { component } from '../../support/components';
import { ALL_STUDIES, type MedImgShr } from '../../../src/node/ledger/contracts';
import { CREDIT_POLICY } from '../../../src/core/credit-policy';
import { STORAGE_URI, TEST_PATIENTS, eventsOf, expectRevert, mined, patientWallet, scanChainForPersonalData, startChain, studyTree, type Chain } from './chain';

const anvil = component('anvil');
const INSTITUTION_ROLE = keccakId('INSTITUTION_ROLE');
const CLINICIAN_ROLE = keccakId('CLINICIAN_ROLE');
const PATIENT_ROLE = keccakId('PATIENT_ROLE');
const AUTH_ERRORS = ['AccessControlUnauthorizedAccount', 'NotYourClinician', 'NotAccessRecipient'];

describe.skipIf(!anvil)('MedImgShr roles (real anvil)', () => {
  let chain: Chain;
  let c: MedImgShr;
  let regulator: Wallet, instA: Wallet, instB: Wallet, clinA: Wallet, clinB: Wallet, stranger: Wallet, patient: Wallet;
  const tree = studyTree(TEST_PATIENTS[0]);
  const root = tree.root;

  beforeAll(async () => {
    chain = await startChain();
    c = chain.contract;
    [regulator, instA, instB, clinA, clinB, stranger] = chain.accounts as [Wallet, Wallet, Wallet, Wallet, Wallet, Wallet];
    patient = patientWallet(TEST_PATIENTS[0], chain.provider);
    await chain.fund(patient.address);
  });
  afterAll(async () => chain?.stop());

  describe('regulator', () => {
    it('is the deployer, the default admin, and registers institutions with the start score', async () => {
      expect(await c.defaultAdmin()).toBe(regulator.address);
      const r = await mined(c.registerInstitution(instA.address));
      const ev = eventsOf(r);
      expect(ev.map((e) => e.name)).toEqual(['RoleGranted', 'InstitutionRegistered', 'ScoreChanged']);
      const reg = ev[1]!;
      if (reg.name !== 'InstitutionRegistered') throw new Error('unexpected');
      expect(reg.args.institution).toBe(instA.address);
      expect(reg.args.institutionId).toBe(1n);
      expect(await c.hasRole(INSTITUTION_ROLE, instA.address)).toBe(true);
      expect(await c.scoreOf(instA.address)).toBe(BigInt(CREDIT_POLICY.startScore));
      await mined(c.registerInstitution(instB.address));
      expect(await c.institutionCount()).toBe(2n);
      expect(await c.institutionById(2)).toBe(instB.address);
      await expectRevert(c.registerInstitution(instA.address), 'AlreadyRegistered');
      await expectRevert(c.registerInstitution(ZeroHash.slice(0, 42)), 'ZeroAddress');
    });

    it('suspends and reinstates an institution, and adjusts scores only with a regulator reason code', async () => {
      const r = await mined(c.suspendInstitution(instB.address));
      expect(eventsOf(r)[0]?.name).toBe('InstitutionSuspended');
      expect(await c.isSuspended(instB.address)).toBe(true);
      await expectRevert(chain.as(instB).grantClinician(clinB.address), 'InstitutionIsSuspended');
      await mined(c.reinstateInstitution(instB.address));
      expect(await c.isSuspended(instB.address)).toBe(false);
      await expectRevert(c.suspendInstitution(stranger.address), 'NotAnInstitution');

      await expectRevert(c.adjustScore(instB.address, -10, 5), 'InvalidReasonCode');
      await expectRevert(c.adjustScore(instB.address, 501, 100), 'AdjustmentOutOfRange');
      await expectRevert(c.adjustScore(stranger.address, 10, 100), 'UnknownParty');
      const adj = await mined(c.adjustScore(instB.address, -40, 101));
      const sc = eventsOf(adj).find((e) => e.name === 'ScoreChanged');
      expect(sc?.args).toMatchObject({ account: instB.address, by: regulator.address, delta: -40n, reason: 101n, newScore: 460n });
      await mined(c.adjustScore(instB.address, 500, 103));
      expect(await c.scoreOf(instB.address)).toBe(960n);
      const top = await mined(c.adjustScore(instB.address, 500, 103));
      expect(await c.scoreOf(instB.address)).toBe(1000n); // clamped at the top
      expect(eventsOf(top)[0]?.args).toMatchObject({ delta: 40n, newScore: 1000n }); // the event tells what was applied
      await mined(c.adjustScore(instB.address, -500, 100));
      expect(await c.scoreOf(instB.address)).toBe(500n);
    });
  });

  describe('institution', () => {
    it('grants its clinicians, cannot take another institution’s clinician, removes only its own', async () => {
      const r = await mined(chain.as(instA).grantClinician(clinA.address));
      expect(eventsOf(r).map((e) => e.name)).toEqual(['RoleGranted', 'ClinicianGranted']);
      expect(await c.institutionOf(clinA.address)).toBe(instA.address);
      await mined(chain.as(instB).grantClinician(clinB.address));
      await expectRevert(chain.as(instB).grantClinician(clinA.address), 'ClinicianOfAnotherInstitution');
      await expectRevert(chain.as(instA).grantClinician(clinA.address), 'AlreadyRegistered');
      await expectRevert(chain.as(instB).removeClinician(clinA.address), 'NotYourClinician');
      // the role cannot be handed out around the institution's bookkeeping, not even by the regulator
      await expectRevert(c.grantRole(CLINICIAN_ROLE, stranger.address), 'AccessControlUnauthorizedAccount');
      await expectRevert(c.grantRole(PATIENT_ROLE, stranger.address), 'AccessControlUnauthorizedAccount');
    });

    it('registers a patient account it verified', async () => {
      const r = await mined(chain.as(instA).registerPatientFor(patient.address));
      const ev = eventsOf(r);
      expect(ev.map((e) => e.name)).toEqual(['RoleGranted', 'ScoreChanged', 'PatientRegistered']);
      expect(ev[2]?.args).toMatchObject({ patient: patient.address, by: instA.address });
      expect(await c.scoreOf(patient.address)).toBe(500n);
      await expectRevert(chain.as(instA).registerPatientFor(patient.address), 'AlreadyRegistered');
    });
  });

  describe('clinician', () => {
    it('anchors for its institution; a removed clinician can no longer write (Lin et al.)', async () => {
      const r = await mined(chain.as(clinA).anchor(root, tree.length, patient.address, STORAGE_URI, ZeroHash));
      const anchored = eventsOf(r).find((e) => e.name === 'StudyAnchored');
      expect(anchored?.args).toMatchObject({ root, study: root, patient: patient.address, institution: instA.address, clinician: clinA.address, leafCount: 3n, version: 1n });
      const temp = chain.accounts[7]!;
      await mined(chain.as(instA).grantClinician(temp.address));
      const other = studyTree(TEST_PATIENTS[0], 2).root;
      expect(await chain.as(temp).anchor.staticCall(other, 3, patient.address, STORAGE_URI, ZeroHash)).toBe(true);
      const rm = await mined(chain.as(instA).removeClinician(temp.address));
      expect(eventsOf(rm).map((e) => e.name)).toEqual(['RoleRevoked', 'ClinicianRemoved']);
      expect(await c.institutionOf(temp.address)).toBe('0x0000000000000000000000000000000000000000');
      await expectRevert(chain.as(temp).anchor(other, 3, patient.address, STORAGE_URI, ZeroHash), 'AccessControlUnauthorizedAccount');
    });

    it('cannot anchor while its institution is suspended or below the anchor threshold', async () => {
      const other = studyTree(TEST_PATIENTS[0], 3).root;
      await mined(c.suspendInstitution(instA.address));
      await expectRevert(chain.as(clinA).anchor(other, 3, patient.address, STORAGE_URI, ZeroHash), 'InstitutionIsSuspended');
      await mined(c.reinstateInstitution(instA.address));
      await mined(c.adjustScore(instA.address, -450, 101)); // 500 → 50 < anchor threshold 100
      const args = await expectRevert(chain.as(clinA).anchor(other, 3, patient.address, STORAGE_URI, ZeroHash), 'InstitutionScoreTooLow');
      expect(args).toMatchObject({ score: 50n, threshold: BigInt(CREDIT_POLICY.anchorThreshold) });
      await mined(c.adjustScore(instA.address, 450, 103));
    });
  });

  describe('deregistration and renouncing', () => {
    it('a clinician who renounces its role is off its institution; a deregistered institution’s clinicians cannot write', async () => {
      const snap = await chain.snapshot();
      const quitter = chain.accounts[7]!;
      await mined(chain.as(instA).grantClinician(quitter.address));
      const r = await mined(chain.as(quitter).renounceRole(CLINICIAN_ROLE, quitter.address));
      expect(eventsOf(r).map((e) => e.name)).toEqual(['RoleRevoked', 'ClinicianRemoved']);
      expect(await c.institutionOf(quitter.address)).toBe('0x0000000000000000000000000000000000000000');
      await expectRevert(chain.as(quitter).recordAccess(root), 'AccessControlUnauthorizedAccount');

      await mined(c.revokeRole(INSTITUTION_ROLE, instA.address));
      const other = studyTree(TEST_PATIENTS[0], 4).root;
      await expectRevert(chain.as(clinA).anchor(other, 3, patient.address, STORAGE_URI, ZeroHash), 'NotAnInstitution');
      await expectRevert(chain.as(clinA).recordAccess(root), 'NotAnInstitution');
      await expectRevert(chain.as(instA).grantClinician(stranger.address), 'AccessControlUnauthorizedAccount');
      // its records stay readable
      expect((await c.getRecord(root)).institution).toBe(instA.address);
      await chain.revert(snap);
      expect(await c.hasRole(INSTITUTION_ROLE, instA.address)).toBe(true);
    });
  });

  describe('patient', () => {
    it('registers itself, grants and revokes consent; cannot anchor or record accesses', async () => {
      const self = chain.accounts[8]!;
      const r = await mined(chain.as(self).registerPatient());
      expect(eventsOf(r).find((e) => e.name === 'PatientRegistered')?.args).toMatchObject({ patient: self.address, by: self.address });
      await expectRevert(chain.as(self).registerPatient(), 'AlreadyRegistered');
      const expiry = (await chain.now()) + 3600;
      const g = await mined(chain.as(patient).grantConsent(instB.address, root, expiry));
      expect(eventsOf(g)[0]?.args).toMatchObject({ patient: patient.address, institution: instB.address, study: root, expiry: BigInt(expiry), bySignature: false });
      const v = await mined(chain.as(patient).revokeConsent(instB.address, root));
      expect(eventsOf(v)[0]?.name).toBe('ConsentRevoked');
      expect((await c.consentOf(patient.address, instB.address, root)).revoked).toBe(true);
      // a patient's consent only covers its own studies
      await expectRevert(chain.as(self).grantConsent(instB.address, root, expiry), 'StudyNotOfPatient');
      await expectRevert(chain.as(patient).anchor(ZeroHash.replace(/0$/, '1'), 1, patient.address, STORAGE_URI, ZeroHash), 'AccessControlUnauthorizedAccount');
      await expectRevert(chain.as(patient).recordAccess(root), 'AccessControlUnauthorizedAccount');
    });
  });

  describe('role × function matrix', () => {
    type Role = 'regulator' | 'institutionA' | 'institutionB' | 'clinicianA' | 'clinicianB' | 'patient' | 'stranger';
    const roles: Role[] = ['regulator', 'institutionA', 'institutionB', 'clinicianA', 'clinicianB', 'patient', 'stranger'];
    let wallet: Record<Role, Wallet>;
    let accessId: bigint;
    let reportedId: bigint;

    beforeAll(async () => {
      wallet = { regulator, institutionA: instA, institutionB: instB, clinicianA: clinA, clinicianB: clinB, patient, stranger };
      const expiry = (await chain.now()) + 30 * 86400;
      await mined(chain.as(patient).grantConsent(instB.address, ALL_STUDIES, expiry));
      await mined(chain.as(instB).recordAccess(root));
      await mined(chain.as(instB).recordAccess(root));
      accessId = (await c.accessCount()) - 1n;
      reportedId = accessId + 1n;
      await mined(chain.as(instB).reportMismatch(reportedId));
    });

    const fresh = '0x00000000000000000000000000000000000000aa';
    const cases: { fn: string; allowed: Role[]; call: (k: MedImgShr) => Promise<unknown> }[] = [
      { fn: 'registerInstitution', allowed: ['regulator'], call: (k) => k.registerInstitution.staticCall(fresh) },
      { fn: 'suspendInstitution', allowed: ['regulator'], call: (k) => k.suspendInstitution.staticCall(instB.address) },
      { fn: 'reinstateInstitution', allowed: ['regulator'], call: (k) => k.reinstateInstitution.staticCall(instB.address) },
      { fn: 'adjustScore', allowed: ['regulator'], call: (k) => k.adjustScore.staticCall(instB.address, -5, 100) },
      { fn: 'ruleOnReport', allowed: ['regulator'], call: (k) => k.ruleOnReport.staticCall(reportedId, true) },
      { fn: 'beginDefaultAdminTransfer', allowed: ['regulator'], call: (k) => k.beginDefaultAdminTransfer.staticCall(fresh) },
      { fn: 'grantRole(INSTITUTION)', allowed: ['regulator'], call: (k) => k.grantRole.staticCall(INSTITUTION_ROLE, fresh) },
      { fn: 'revokeRole(INSTITUTION)', allowed: ['regulator'], call: (k) => k.revokeRole.staticCall(INSTITUTION_ROLE, instB.address) },
      { fn: 'grantRole(CLINICIAN)', allowed: [], call: (k) => k.grantRole.staticCall(CLINICIAN_ROLE, fresh) },
      { fn: 'revokeRole(CLINICIAN)', allowed: [], call: (k) => k.revokeRole.staticCall(CLINICIAN_ROLE, clinA.address) },
      { fn: 'grantRole(PATIENT)', allowed: [], call: (k) => k.grantRole.staticCall(PATIENT_ROLE, fresh) },
      { fn: 'revokeRole(PATIENT)', allowed: [], call: (k) => k.revokeRole.staticCall(PATIENT_ROLE, patient.address) },
      { fn: 'grantClinician', allowed: ['institutionA', 'institutionB'], call: (k) => k.grantClinician.staticCall(fresh) },
      { fn: 'removeClinician(clinicianA)', allowed: ['institutionA'], call: (k) => k.removeClinician.staticCall(clinA.address) },
      { fn: 'registerPatientFor', allowed: ['institutionA', 'institutionB'], call: (k) => k.registerPatientFor.staticCall(fresh) },
      { fn: 'grantConsent', allowed: ['patient'], call: async (k) => k.grantConsent.staticCall(instB.address, ALL_STUDIES, (await chain.now()) + 100) },
      { fn: 'revokeConsent', allowed: ['patient'], call: (k) => k.revokeConsent.staticCall(instB.address, ALL_STUDIES) },
      { fn: 'anchor', allowed: ['clinicianA', 'clinicianB'], call: (k) => k.anchor.staticCall(studyTree(TEST_PATIENTS[1]).root, 2, fresh, STORAGE_URI, ZeroHash) },
      { fn: 'recordAccess', allowed: ['institutionA', 'institutionB', 'clinicianA', 'clinicianB'], call: (k) => k.recordAccess.staticCall(root) },
      { fn: 'confirmIntegrity', allowed: ['institutionB', 'clinicianB'], call: (k) => k.confirmIntegrity.staticCall(accessId) },
      { fn: 'reportMismatch', allowed: ['institutionB', 'clinicianB'], call: (k) => k.reportMismatch.staticCall(accessId) },
    ];

    it.each(cases.map((x) => [x.fn, x] as const))('%s: allowed roles succeed, every other role reverts', async (_name, x) => {
      const outcome: Record<string, string> = {};
      for (const role of roles) {
        try {
          await x.call(chain.as(wallet[role]));
          outcome[role] = 'ok';
        } catch (e) {
          const { decodeContractError } = await import('../../../src/node/ledger/contracts');
          const d = decodeContractError(e);
          outcome[role] = d ? d.name : `other: ${String((e as Error).message).slice(0, 120)}`;
        }
      }
      for (const role of roles) {
        if (x.allowed.includes(role)) expect(outcome[role], `${x.fn} by ${role}`).toBe('ok');
        else expect(AUTH_ERRORS, `${x.fn} by ${role} gave ${outcome[role]}`).toContain(outcome[role]);
      }
    });
  });

  describe('regulator handover (two-step)', () => {
    it('begins, the new regulator accepts, and only then the old one loses its powers', async () => {
      const next = chain.accounts[9]!;
      await mined(c.beginDefaultAdminTransfer(next.address));
      expect(await c.defaultAdmin()).toBe(regulator.address); // nothing changes until accepted
      await expectRevert(chain.as(stranger).acceptDefaultAdminTransfer(), 'AccessControlInvalidDefaultAdmin');
      await chain.increaseTime(1);
      await mined(chain.as(next).acceptDefaultAdminTransfer());
      expect(await c.defaultAdmin()).toBe(next.address);
      await expectRevert(c.registerInstitution(stranger.address), 'AccessControlUnauthorizedAccount');
      await mined(chain.as(next).registerInstitution(stranger.address));
      expect(await c.hasRole(INSTITUTION_ROLE, stranger.address)).toBe(true);
    });
  });

  it('left no personal data in any calldata or event of this suite', async () => {
    const scan = await scanChainForPersonalData(chain);
    expect(scan.txs).toBeGreaterThan(20);
    expect(scan.events).toBeGreaterThan(20);
    expect(scan.found).toEqual([]);
  });
});
