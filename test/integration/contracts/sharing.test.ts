/**
 * Consent, access history and credit scores on a real anvil: every denial reason is an event (not a
 * revert), EIP-712 consents with nonces, patient rewards with their cap, integrity confirmations,
 * mismatch reports and rulings, and the TypeScript mirror of the policy numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Wallet, ZeroHash, hexlify, toUtf8Bytes } from 'ethers';
import { component } from '../../support/components';
import { ALL_STUDIES, signConsent, signRevocation, type MedImgShr } from '../../../src/node/ledger/contracts';
import { AccessBasis, AccessState, CREDIT_POLICY, Denial, ScoreReason } from '../../../src/core/credit-policy';
import { STORAGE_URI, TEST_PATIENTS, eventsOf, expectRevert, mined, patientWallet, scanChainForPersonalData, startChain, studyTree, type Chain } from './chain';

const anvil = component('anvil');

describe.skipIf(!anvil)('MedImgShr consent, access and credit scores (real anvil)', () => {
  let chain: Chain;
  let c: MedImgShr;
  let instA: Wallet, instB: Wallet, instC: Wallet, clinA: Wallet, clinB: Wallet, stranger: Wallet;
  let ada: Wallet, grace: Wallet;
  const s1 = studyTree(TEST_PATIENTS[0], 1);
  const s1v2 = studyTree(TEST_PATIENTS[0], 2);
  const s2 = studyTree(TEST_PATIENTS[0], 5); // a second study of the same patient
  const g1 = studyTree(TEST_PATIENTS[1], 1);
  const score = async (w: { address: string }) => Number(await c.scoreOf(w.address));

  beforeAll(async () => {
    chain = await startChain();
    c = chain.contract;
    [, instA, instB, instC, clinA, clinB, stranger] = chain.accounts as [Wallet, Wallet, Wallet, Wallet, Wallet, Wallet, Wallet];
    ada = patientWallet(TEST_PATIENTS[0], chain.provider);
    grace = patientWallet(TEST_PATIENTS[1], chain.provider);
    await chain.fund(ada.address);
    await chain.fund(grace.address);
    for (const i of [instA, instB, instC]) await mined(c.registerInstitution(i.address));
    await mined(chain.as(instA).grantClinician(clinA.address));
    await mined(chain.as(instB).grantClinician(clinB.address));
    await mined(chain.as(clinA).anchor(s1.root, s1.length, ada.address, STORAGE_URI, ZeroHash));
    await mined(chain.as(clinA).anchor(s1v2.root, s1v2.length, ada.address, STORAGE_URI, s1.root));
    await mined(chain.as(clinA).anchor(s2.root, s2.length, ada.address, STORAGE_URI, ZeroHash));
    await mined(chain.as(clinA).anchor(g1.root, g1.length, grace.address, STORAGE_URI, ZeroHash));
  });
  afterAll(async () => chain?.stop());

  it('the TypeScript policy mirror equals the numbers on chain', async () => {
    const onChain = (await c.creditPolicy()) as unknown as Record<string, bigint>;
    const asNumbers = Object.fromEntries(Object.keys(CREDIT_POLICY).map((k) => [k, Number(onChain[k])]));
    expect(asNumbers).toEqual({ ...CREDIT_POLICY });
    const result = (await c.creditPolicy()) as unknown as { toObject(): Record<string, bigint> };
    expect(Object.keys(result.toObject())).toEqual(Object.keys(CREDIT_POLICY)); // same fields, same order
  });

  it('grants a study (any version names the study) and records a granted access that rewards the patient once', async () => {
    const expiry = (await chain.now()) + 86400;
    const g = await mined(chain.as(ada).grantConsent(instB.address, s1v2.root, expiry));
    expect(eventsOf(g)[0]?.args).toMatchObject({ study: s1.root, expiry: BigInt(expiry) }); // normalised to the study id
    const before = await score(ada);
    expect(await chain.as(clinB).recordAccess.staticCall(s1v2.root)).toEqual([true, 1n]);
    const r = await mined(chain.as(clinB).recordAccess(s1v2.root)); // a clinician records for its institution
    const ev = eventsOf(r);
    expect(ev.map((e) => e.name)).toEqual(['AccessGranted', 'ScoreChanged']);
    expect(ev[0]?.args).toMatchObject({ accessId: 1n, study: s1.root, recipient: instB.address, root: s1v2.root, patient: ada.address, accessor: clinB.address, basis: BigInt(AccessBasis.StudyConsent) });
    expect(ev[1]?.args).toMatchObject({ account: ada.address, delta: BigInt(CREDIT_POLICY.patientAccessReward), reason: BigInt(ScoreReason.PatientAccessReward) });
    expect(await score(ada)).toBe(before + CREDIT_POLICY.patientAccessReward);
    const again = await mined(chain.as(instB).recordAccess(s1.root));
    expect(eventsOf(again).map((e) => e.name)).toEqual(['AccessGranted']); // once per recipient and study
    expect(await score(ada)).toBe(before + CREDIT_POLICY.patientAccessReward);
    const acc = await c.getAccess(2);
    expect([acc.root, acc.recipient, acc.state]).toEqual([s1.root, instB.address, BigInt(AccessState.Granted)]);
    // the consent covers that study only
    expect((await c.canAccess(s2.root, instB.address))[0]).toBe(BigInt(Denial.NoConsent));
  });

  it('records a denial (no revert) when there is no consent', async () => {
    expect(await chain.as(instC).recordAccess.staticCall(s1.root)).toEqual([false, 0n]);
    const r = await mined(chain.as(instC).recordAccess(s1.root));
    expect(r.status).toBe(1);
    const ev = eventsOf(r);
    expect(ev.map((e) => e.name)).toEqual(['AccessDenied']);
    expect(ev[0]?.args).toMatchObject({ study: s1.root, recipient: instC.address, patient: ada.address, root: s1.root, accessor: instC.address, reason: BigInt(Denial.NoConsent) });
  });

  it('records a denial when the consent expired', async () => {
    const expiry = (await chain.now()) + 30;
    await mined(chain.as(ada).grantConsent(instC.address, s1.root, expiry));
    expect((await c.canAccess(s1.root, instC.address))[0]).toBe(BigInt(Denial.None));
    await chain.increaseTime(31);
    expect((await c.canAccess(s1.root, instC.address))[0]).toBe(BigInt(Denial.Expired));
    const r = await mined(chain.as(instC).recordAccess(s1.root));
    expect(eventsOf(r)[0]?.args).toMatchObject({ reason: BigInt(Denial.Expired) });
  });

  it('records a denial after revocation; an all-studies consent then covers every study', async () => {
    await mined(chain.as(ada).revokeConsent(instB.address, s1.root));
    const r = await mined(chain.as(instB).recordAccess(s1.root));
    expect(eventsOf(r)[0]?.args).toMatchObject({ reason: BigInt(Denial.Revoked) });
    await mined(chain.as(ada).grantConsent(instB.address, ALL_STUDIES, (await chain.now()) + 86400));
    const ok = await mined(chain.as(instB).recordAccess(s2.root));
    expect(eventsOf(ok)[0]?.args).toMatchObject({ basis: BigInt(AccessBasis.AllStudiesConsent), study: s2.root });
    // the all-studies consent is only for this patient's studies
    const other = await mined(chain.as(instB).recordAccess(g1.root));
    expect(eventsOf(other)[0]?.args).toMatchObject({ reason: BigInt(Denial.NoConsent), patient: grace.address });
  });

  it('records a denial while the recipient is suspended, and when its score is below the receive threshold', async () => {
    await mined(c.suspendInstitution(instB.address));
    const r = await mined(chain.as(clinB).recordAccess(s2.root));
    expect(eventsOf(r)[0]?.args).toMatchObject({ reason: BigInt(Denial.Suspended), accessor: clinB.address });
    await expectRevert(chain.as(ada).grantConsent(instB.address, s2.root, (await chain.now()) + 100), 'InstitutionIsSuspended');
    await mined(c.reinstateInstitution(instB.address));

    const drop = (await score(instB)) - (CREDIT_POLICY.receiveThreshold - 1);
    await mined(c.adjustScore(instB.address, -drop, ScoreReason.RegulatorAuditFinding));
    const low = await mined(chain.as(instB).recordAccess(s2.root));
    expect(eventsOf(low)[0]?.args).toMatchObject({ reason: BigInt(Denial.ScoreTooLow) });
    const args = await expectRevert(chain.as(ada).grantConsent(instB.address, s2.root, (await chain.now()) + 100), 'InstitutionScoreTooLow');
    expect(args).toMatchObject({ score: BigInt(CREDIT_POLICY.receiveThreshold - 1), threshold: BigInt(CREDIT_POLICY.receiveThreshold) });
    await mined(c.adjustScore(instB.address, drop, ScoreReason.RegulatorReinstatement));
    expect((await c.canAccess(s2.root, instB.address))[0]).toBe(BigInt(Denial.None));
  });

  it('lets the anchoring institution access its own records without consent and without rewards', async () => {
    const before = await score(ada);
    const r = await mined(chain.as(clinA).recordAccess(s2.root));
    expect(eventsOf(r).map((e) => e.name)).toEqual(['AccessGranted']);
    expect(eventsOf(r)[0]?.args).toMatchObject({ basis: BigInt(AccessBasis.OwnInstitution) });
    expect(await score(ada)).toBe(before);
  });

  it('validates consents', async () => {
    const now = await chain.now();
    await expectRevert(chain.as(ada).grantConsent(instC.address, s1.root, now), 'ConsentExpiryInvalid');
    await expectRevert(chain.as(ada).grantConsent(instC.address, s1.root, now + CREDIT_POLICY.maxConsentSeconds + 10), 'ConsentExpiryInvalid');
    await expectRevert(chain.as(ada).grantConsent(stranger.address, s1.root, now + 100), 'NotAnInstitution');
    await expectRevert(chain.as(ada).grantConsent(instC.address, g1.root, now + 100), 'StudyNotOfPatient');
    await expectRevert(chain.as(ada).grantConsent(instC.address, '0x' + '42'.repeat(32), now + 100), 'UnknownRecord');
    await expectRevert(chain.as(instB).recordAccess('0x' + '42'.repeat(32)), 'UnknownRecord');
  });

  it('accepts an EIP-712 consent submitted by anyone, once (nonces stop replays)', async () => {
    const deadline = (await chain.now()) + 600;
    const expiry = (await chain.now()) + 86400;
    expect(await c.nonces(grace.address)).toBe(0n);
    const signed = await signConsent(grace, c, { institution: instC.address, study: g1.root, expiry, deadline });
    const relayer = chain.as(stranger); // the patient pays no gas
    const gasBefore = await chain.provider.getBalance(grace.address);
    const r = await mined(relayer.grantConsentBySig(signed.patient, signed.institution, signed.study, signed.expiry, signed.deadline, signed.signature));
    expect(eventsOf(r)[0]?.args).toMatchObject({ patient: grace.address, institution: instC.address, study: g1.root, bySignature: true });
    expect(await chain.provider.getBalance(grace.address)).toBe(gasBefore);
    expect(await c.nonces(grace.address)).toBe(1n);
    await expectRevert(relayer.grantConsentBySig(signed.patient, signed.institution, signed.study, signed.expiry, signed.deadline, signed.signature), 'InvalidSignature');
    // tampered terms
    const s2sig = await signConsent(grace, c, { institution: instC.address, study: g1.root, expiry, deadline });
    await expectRevert(relayer.grantConsentBySig(grace.address, instC.address, g1.root, expiry + 1, deadline, s2sig.signature), 'InvalidSignature');
    // signed by someone else
    const forged = await signConsent(ada, c, { institution: instC.address, study: g1.root, expiry, deadline, nonce: 1n });
    await expectRevert(relayer.grantConsentBySig(grace.address, instC.address, g1.root, expiry, deadline, forged.signature), 'InvalidSignature');
    // past its deadline
    const late = await signConsent(grace, c, { institution: instC.address, study: g1.root, expiry, deadline: (await chain.now()) - 1 });
    await expectRevert(relayer.grantConsentBySig(grace.address, instC.address, g1.root, expiry, late.deadline, late.signature), 'SignatureExpired');
    expect((await c.canAccess(g1.root, instC.address))[0]).toBe(BigInt(Denial.None));
    const rev = await signRevocation(grace, c, { institution: instC.address, study: g1.root, deadline });
    const rr = await mined(relayer.revokeConsentBySig(rev.patient, rev.institution, rev.study, rev.deadline, rev.signature));
    expect(eventsOf(rr)[0]?.args).toMatchObject({ patient: grace.address, bySignature: true });
    expect((await c.canAccess(g1.root, instC.address))[0]).toBe(BigInt(Denial.Revoked));
  });

  it('caps patient rewards per period and starts again in the next period', async () => {
    const patient = await chain.fresh();
    const study = studyTree(TEST_PATIENTS[2], 1);
    await mined(chain.as(clinA).anchor(study.root, study.length, patient.address, STORAGE_URI, ZeroHash));
    // align to the start of a reward period so the whole test runs inside one
    const period = CREDIT_POLICY.rewardPeriodSeconds;
    const now = await chain.now();
    await chain.provider.send('evm_setNextBlockTimestamp', [(Math.floor(now / period) + 1) * period + 1]);
    await chain.provider.send('evm_mine', []);
    const perPeriod = CREDIT_POLICY.patientRewardCapPerPeriod / CREDIT_POLICY.patientAccessReward;
    const recipients: Wallet[] = [];
    for (let i = 0; i < perPeriod + 2; i++) {
      const w = await chain.fresh();
      await mined(c.registerInstitution(w.address));
      await mined(chain.as(patient).grantConsent(w.address, ALL_STUDIES, (await chain.now()) + 86400 * 60));
      recipients.push(w);
    }
    for (const w of recipients) await mined(chain.as(w).recordAccess(study.root));
    expect(await score(patient)).toBe(CREDIT_POLICY.startScore + CREDIT_POLICY.patientRewardCapPerPeriod);
    expect(Number(await c.rewardedThisPeriod(patient.address))).toBe(CREDIT_POLICY.patientRewardCapPerPeriod);
    await chain.increaseTime(period);
    const late = await chain.fresh();
    await mined(c.registerInstitution(late.address));
    await mined(chain.as(patient).grantConsent(late.address, ALL_STUDIES, (await chain.now()) + 86400));
    await mined(chain.as(late).recordAccess(study.root));
    expect(await score(patient)).toBe(CREDIT_POLICY.startScore + CREDIT_POLICY.patientRewardCapPerPeriod + CREDIT_POLICY.patientAccessReward);
  });

  it('rewards the anchoring institution for a confirmed access, once per recipient and study', async () => {
    await mined(chain.as(ada).grantConsent(instC.address, ALL_STUDIES, (await chain.now()) + 86400));
    const a1 = (await chain.as(instC).recordAccess.staticCall(s1.root))[1];
    await mined(chain.as(instC).recordAccess(s1.root));
    const before = await score(instA);
    const r = await mined(chain.as(instC).confirmIntegrity(a1));
    expect(eventsOf(r).map((e) => e.name)).toEqual(['IntegrityConfirmed', 'ScoreChanged']);
    expect(eventsOf(r)[1]?.args).toMatchObject({ account: instA.address, delta: BigInt(CREDIT_POLICY.integrityReward), reason: BigInt(ScoreReason.IntegrityConfirmed) });
    expect(await score(instA)).toBe(before + CREDIT_POLICY.integrityReward);
    await expectRevert(chain.as(instC).confirmIntegrity(a1), 'AccessNotOpen');
    await expectRevert(chain.as(instB).confirmIntegrity(a1), 'NotAccessRecipient');
    await expectRevert(chain.as(instC).confirmIntegrity(9999), 'UnknownAccess');
    const a2 = (await chain.as(instC).recordAccess.staticCall(s1.root))[1];
    await mined(chain.as(instC).recordAccess(s1.root));
    const r2 = await mined(chain.as(instC).confirmIntegrity(a2));
    expect(eventsOf(r2).map((e) => e.name)).toEqual(['IntegrityConfirmed']);
    expect(await score(instA)).toBe(before + CREDIT_POLICY.integrityReward);
  });

  it('an upheld mismatch report costs the anchoring institution heavily; a rejected one costs the reporter', async () => {
    const a = (await chain.as(instC).recordAccess.staticCall(s2.root))[1];
    await mined(chain.as(instC).recordAccess(s2.root));
    const rep = await mined(chain.as(instC).reportMismatch(a));
    expect(eventsOf(rep)[0]).toMatchObject({ name: 'MismatchReported', args: { accessId: a, recipient: instC.address, anchoringInstitution: instA.address } });
    const [anchorBefore, reporterBefore] = [await score(instA), await score(instC)];
    const ruled = await mined(c.ruleOnReport(a, true));
    const ev = eventsOf(ruled);
    expect(ev.map((e) => e.name)).toEqual(['ScoreChanged', 'ScoreChanged', 'ReportRuled']);
    expect(ev[0]?.args).toMatchObject({ account: instA.address, delta: -BigInt(CREDIT_POLICY.mismatchPenalty), reason: BigInt(ScoreReason.MismatchUpheld) });
    expect(await score(instA)).toBe(anchorBefore - CREDIT_POLICY.mismatchPenalty);
    expect(await score(instC)).toBe(reporterBefore + CREDIT_POLICY.reportUpheldReward);
    expect((await c.getAccess(a)).state).toBe(BigInt(AccessState.ReportUpheld));
    await expectRevert(c.ruleOnReport(a, false), 'ReportNotOpen');

    const b = (await chain.as(instC).recordAccess.staticCall(s2.root))[1];
    await mined(chain.as(instC).recordAccess(s2.root));
    await mined(chain.as(instC).reportMismatch(b));
    await mined(c.ruleOnReport(b, false));
    expect(await score(instC)).toBe(reporterBefore + CREDIT_POLICY.reportUpheldReward - CREDIT_POLICY.reportRejectedPenalty);
    expect(await score(instA)).toBe(anchorBefore - CREDIT_POLICY.mismatchPenalty);
    // an institution cannot report its own record
    const own = (await chain.as(instA).recordAccess.staticCall(s2.root))[1];
    await mined(chain.as(instA).recordAccess(s2.root));
    await expectRevert(chain.as(instA).reportMismatch(own), 'OwnRecordReport');
  });

  it('the personal-data scan finds a planted identifier (so it can fail)', async () => {
    const snap = await chain.snapshot();
    await mined(stranger.sendTransaction({ to: stranger.address, data: hexlify(toUtf8Bytes(`patient ${TEST_PATIENTS[0].name}`)) }));
    const scan = await scanChainForPersonalData(chain);
    expect(scan.found.some((f) => f.startsWith('name as text'))).toBe(true);
    await chain.revert(snap);
  });

  it('left no personal data in any calldata or event of this suite', async () => {
    const scan = await scanChainForPersonalData(chain);
    expect(scan.txs).toBeGreaterThan(40);
    expect(scan.events).toBeGreaterThan(40);
    expect(scan.found).toEqual([]);
  });
});
