/**
 * Property-based tests of MedImgShr over random action sequences on a real anvil (fast-check):
 *  - every access outcome (granted / denied and the reason) equals an independent TypeScript model;
 *  - scores stay in 0..1000 and equal the model's;
 *  - a revoked or expired consent never allows an access (checked by replaying the consent events);
 *  - the event history replays to the current state (scores and consents read back from the chain).
 * Each run starts from the same snapshot (evm_snapshot / evm_revert), with block times set explicitly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type ContractTransactionResponse, type Log, type Wallet, ZeroHash } from 'ethers';
import { component } from '../../support/components';
import { ALL_STUDIES, confirmed, decodeContractError, decodeEvents, type MedImgShr } from '../../../src/node/ledger/contracts';
import { CREDIT_POLICY as P, Denial, ScoreReason, applyScoreDelta, patientRewardPoints, rewardPeriod } from '../../../src/core/credit-policy';
import { STORAGE_URI, TEST_PATIENTS, scanChainForPersonalData, startChain, studyTree, type Chain } from './chain';

const anvil = component('anvil');
const NUM_RUNS = Number(process.env.MEDIMG_PROPERTY_RUNS ?? 40);

type Action =
  | { kind: 'grant'; p: number; i: number; target: number; duration: number }
  | { kind: 'revoke'; p: number; i: number; target: number }
  | { kind: 'time'; seconds: number }
  | { kind: 'access'; i: number; root: number }
  | { kind: 'confirm'; i: number }
  | { kind: 'report'; i: number }
  | { kind: 'rule'; upheld: boolean }
  | { kind: 'adjust'; who: number; delta: number; reason: number }
  | { kind: 'suspend'; i: number; on: boolean };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('grant' as const), p: fc.nat(1), i: fc.nat(2), target: fc.nat(2), duration: fc.constantFrom(2, 5, 40, 3600, 40 * 86400) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), p: fc.nat(1), i: fc.nat(2), target: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time' as const), seconds: fc.constantFrom(1, 3, 30, 3600, 31 * 86400) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('access' as const), i: fc.nat(3), root: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('confirm' as const), i: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('report' as const), i: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rule' as const), upheld: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('adjust' as const), who: fc.nat(5), delta: fc.integer({ min: -500, max: 500 }).filter((d) => d !== 0), reason: fc.constantFrom(100, 101, 102, 103) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('suspend' as const), i: fc.nat(2), on: fc.boolean() }) },
);

interface ConsentM { expiry: number; revoked: boolean }

describe.skipIf(!anvil)('MedImgShr properties over random action sequences (real anvil)', () => {
  let chain: Chain;
  let c: MedImgShr;
  let owner: Wallet, clin: Wallet;
  let recipients: Wallet[];
  let patients: Wallet[];
  // roots[k] = { root, study, patient index }
  let roots: { root: string; study: string; p: number }[];
  let baseSnapshot: string;
  let baseTime: number;

  beforeAll(async () => {
    chain = await startChain();
    c = chain.contract;
    const [, a, r1, r2, r3, cl, p1, p2] = chain.accounts as Wallet[];
    owner = a!;
    clin = cl!;
    recipients = [r1!, r2!, r3!];
    patients = [p1!, p2!];
    for (const w of [owner, ...recipients]) await confirmed(c.registerInstitution(w.address));
    await confirmed(chain.as(owner).grantClinician(clin.address));
    const s1 = studyTree(TEST_PATIENTS[0], 1).root;
    const s1v2 = studyTree(TEST_PATIENTS[0], 2).root;
    const s2 = studyTree(TEST_PATIENTS[0], 3).root;
    const t1 = studyTree(TEST_PATIENTS[1], 1).root;
    const k = chain.as(clin);
    await confirmed(k.anchor(s1, 3, patients[0]!.address, STORAGE_URI, ZeroHash));
    await confirmed(k.anchor(s1v2, 3, patients[0]!.address, STORAGE_URI, s1));
    await confirmed(k.anchor(s2, 3, patients[0]!.address, STORAGE_URI, ZeroHash));
    await confirmed(k.anchor(t1, 2, patients[1]!.address, STORAGE_URI, ZeroHash));
    roots = [
      { root: s1, study: s1, p: 0 },
      { root: s1v2, study: s1, p: 0 },
      { root: s2, study: s2, p: 0 },
      { root: t1, study: t1, p: 1 },
    ];
    baseTime = await chain.now();
    baseSnapshot = await chain.snapshot();
  });
  afterAll(async () => chain?.stop());

  it(`holds for ${NUM_RUNS} random sequences of up to 25 actions`, async () => {
    let runs = 0;
    let accessesChecked = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 4, maxLength: 25 }), async (actions) => {
        runs++;
        await chain.revert(baseSnapshot);
        baseSnapshot = await chain.snapshot();
        const startBlock = (await chain.provider.getBlockNumber()) + 1;

        // ── the model ──
        let now = baseTime;
        const score = new Map<string, number>();
        const parties = [...recipients, owner, ...patients];
        for (const w of parties) score.set(w.address, P.startScore);
        const suspended = new Set<string>();
        const consents = new Map<string, ConsentM>();
        const rewarded = new Set<string>();
        const earned = new Map<string, { period: number; points: number }>();
        const accesses: { id: bigint; root: number; recipient: string; state: 'open' | 'confirmed' | 'reported' | 'ruled' }[] = [];
        const key = (p: string, i: string, study: string) => `${p}|${i}|${study}`;
        const addScore = (a: string, d: number) => score.set(a, applyScoreDelta(score.get(a)!, d).score);
        const consentState = (cm: ConsentM | undefined, t: number) =>
          !cm ? Denial.NoConsent : cm.revoked ? Denial.Revoked : t >= cm.expiry ? Denial.Expired : Denial.None;

        const send = async (fn: () => Promise<ContractTransactionResponse>) => {
          now += 1;
          await chain.provider.send('evm_setNextBlockTimestamp', [now]);
          try {
            const receipt = await confirmed(fn());
            return { ok: true as const, events: decodeEvents(receipt.logs as unknown as Log[]) };
          } catch (e) {
            const d = decodeContractError(e);
            if (!d) throw e;
            return { ok: false as const, error: d.name };
          }
        };

        for (const a of actions) {
          if (a.kind === 'time') {
            now += a.seconds;
            continue;
          }
          if (a.kind === 'grant' || a.kind === 'revoke') {
            const patient = patients[a.p]!;
            const inst = recipients[a.i]!;
            const own = roots.filter((r) => r.p === a.p);
            const pick = a.target === 0 ? null : own[(a.target - 1) % own.length]!;
            const studyArg = pick ? pick.root : ALL_STUDIES;
            const studyId = pick ? pick.study : ALL_STUDIES;
            if (a.kind === 'grant') {
              const t = now + 1;
              const expiry = t + a.duration;
              const expect_ = suspended.has(inst.address) ? 'InstitutionIsSuspended' : score.get(inst.address)! < P.receiveThreshold ? 'InstitutionScoreTooLow' : null;
              const r = await send(() => chain.as(patient).grantConsent(inst.address, studyArg, expiry));
              if (expect_) expect(r.ok ? 'ok' : r.error).toBe(expect_);
              else {
                expect(r.ok ? 'ok' : r.error).toBe('ok');
                consents.set(key(patient.address, inst.address, studyId), { expiry, revoked: false });
              }
            } else {
              const r = await send(() => chain.as(patient).revokeConsent(inst.address, studyArg));
              const k = key(patient.address, inst.address, studyId);
              const cur = consents.get(k);
              expect(r.ok ? 'ok' : r.error).toBe(cur ? 'ok' : 'NoSuchConsent');
              if (cur) consents.set(k, { expiry: cur.expiry, revoked: true });
            }
            continue;
          }
          if (a.kind === 'access') {
            const rec = roots[a.root]!;
            const accessor = a.i === 3 ? clin : recipients[a.i]!;
            const recipient = a.i === 3 ? owner : recipients[a.i]!;
            const patient = patients[rec.p]!.address;
            const t = now + 1;
            let denial: number = Denial.None;
            let rewardable = false;
            if (suspended.has(recipient.address)) denial = Denial.Suspended;
            else if (recipient === owner) denial = Denial.None;
            else if (score.get(recipient.address)! < P.receiveThreshold) denial = Denial.ScoreTooLow;
            else {
              const one = consents.get(key(patient, recipient.address, rec.study));
              const all = consents.get(key(patient, recipient.address, ALL_STUDIES));
              const d1 = consentState(one, t);
              const d2 = consentState(all, t);
              denial = d1 === Denial.None || d2 === Denial.None ? Denial.None : one ? d1 : d2;
              rewardable = denial === Denial.None;
            }
            const r = await send(() => chain.as(accessor).recordAccess(rec.root));
            expect(r.ok).toBe(true);
            if (!r.ok) return;
            accessesChecked++;
            const ev = r.events[0]!;
            if (denial === Denial.None) {
              expect(ev.name).toBe('AccessGranted');
              if (ev.name !== 'AccessGranted') return;
              accesses.push({ id: ev.args.accessId, root: a.root, recipient: recipient.address, state: 'open' });
              const rk = `${rec.study}|${recipient.address}|patient`;
              if (rewardable && !rewarded.has(rk)) {
                rewarded.add(rk);
                const period = rewardPeriod(t);
                const e = earned.get(patient);
                const cur = e && e.period === period ? e.points : 0;
                const pts = patientRewardPoints(cur);
                earned.set(patient, { period, points: cur + pts });
                if (pts > 0) addScore(patient, pts);
              }
            } else {
              expect(ev.name).toBe('AccessDenied');
              if (ev.name === 'AccessDenied') expect(Number(ev.args.reason)).toBe(denial);
            }
            continue;
          }
          if (a.kind === 'confirm' || a.kind === 'report') {
            const inst = recipients[a.i]!;
            const open = accesses.filter((x) => x.recipient === inst.address && x.state === 'open').at(-1);
            if (!open) continue;
            const rec = roots[open.root]!;
            if (a.kind === 'confirm') {
              const r = await send(() => chain.as(inst).confirmIntegrity(open.id));
              expect(r.ok ? 'ok' : r.error).toBe('ok');
              open.state = 'confirmed';
              const rk = `${rec.study}|${inst.address}|integrity`;
              if (!rewarded.has(rk)) {
                rewarded.add(rk);
                addScore(owner.address, P.integrityReward);
              }
            } else {
              const r = await send(() => chain.as(inst).reportMismatch(open.id));
              expect(r.ok ? 'ok' : r.error).toBe('ok');
              open.state = 'reported';
            }
            continue;
          }
          if (a.kind === 'rule') {
            const rep = accesses.find((x) => x.state === 'reported');
            if (!rep) continue;
            const r = await send(() => c.ruleOnReport(rep.id, a.upheld));
            expect(r.ok ? 'ok' : r.error).toBe('ok');
            rep.state = 'ruled';
            if (a.upheld) {
              addScore(owner.address, -P.mismatchPenalty);
              addScore(rep.recipient, P.reportUpheldReward);
            } else addScore(rep.recipient, -P.reportRejectedPenalty);
            continue;
          }
          if (a.kind === 'adjust') {
            const who = parties[a.who]!;
            const r = await send(() => c.adjustScore(who.address, a.delta, a.reason));
            expect(r.ok ? 'ok' : r.error).toBe('ok');
            addScore(who.address, a.delta);
            continue;
          }
          if (a.kind === 'suspend') {
            const inst = recipients[a.i]!;
            const r = await send(() => (a.on ? c.suspendInstitution(inst.address) : c.reinstateInstitution(inst.address)));
            expect(r.ok ? 'ok' : r.error).toBe('ok');
            if (a.on) suspended.add(inst.address);
            else suspended.delete(inst.address);
          }
        }

        // ── scores: in range, equal to the model ──
        for (const w of parties) {
          const s = Number(await c.scoreOf(w.address));
          expect(s).toBeGreaterThanOrEqual(P.minScore);
          expect(s).toBeLessThanOrEqual(P.maxScore);
          expect(s, `score of ${w.address}`).toBe(score.get(w.address));
        }

        // ── the history replays to the current state ──
        const latest = await chain.provider.getBlockNumber();
        const logs = latest < startBlock ? [] : await chain.provider.getLogs({ address: chain.address, fromBlock: startBlock, toBlock: latest });
        const history = decodeEvents(logs);
        const blockTime = new Map<number, number>();
        const replayScore = new Map<string, number>(parties.map((w) => [w.address, P.startScore]));
        const replayConsent = new Map<string, { expiry: bigint; revoked: boolean }>();
        for (const e of history) {
          if (!blockTime.has(e.log.blockNumber)) blockTime.set(e.log.blockNumber, Number((await chain.provider.getBlock(e.log.blockNumber))!.timestamp));
          const t = BigInt(blockTime.get(e.log.blockNumber)!);
          if (e.name === 'ScoreChanged') {
            const prev = replayScore.get(e.args.account)!;
            const next = prev + Number(e.args.delta);
            expect(next).toBe(Number(e.args.newScore));
            expect(next).toBeGreaterThanOrEqual(P.minScore);
            expect(next).toBeLessThanOrEqual(P.maxScore);
            replayScore.set(e.args.account, next);
            if (Number(e.args.reason) === ScoreReason.PatientAccessReward) expect(Number(e.args.delta)).toBeLessThanOrEqual(P.patientAccessReward);
          } else if (e.name === 'ConsentGranted') {
            replayConsent.set(key(e.args.patient, e.args.institution, e.args.study), { expiry: e.args.expiry, revoked: false });
          } else if (e.name === 'ConsentRevoked') {
            const k = key(e.args.patient, e.args.institution, e.args.study);
            replayConsent.set(k, { expiry: replayConsent.get(k)?.expiry ?? 0n, revoked: true });
          } else if (e.name === 'AccessGranted' && Number(e.args.basis) !== 3) {
            // a revoked or expired consent never allows an access
            const valid = [e.args.study, ALL_STUDIES].some((s) => {
              const cm = replayConsent.get(key(e.args.patient, e.args.recipient, s));
              return cm !== undefined && !cm.revoked && t < cm.expiry;
            });
            expect(valid, `access ${e.args.accessId} at ${t} rests on a live consent`).toBe(true);
          }
        }
        for (const w of parties) expect(replayScore.get(w.address)).toBe(Number(await c.scoreOf(w.address)));
        for (const [k, cm] of replayConsent) {
          const [p, i, s] = k.split('|') as [string, string, string];
          const onChain = await c.consentOf(p, i, s);
          expect([onChain.expiry, onChain.revoked]).toEqual([cm.expiry, cm.revoked]);
        }
      }),
      { numRuns: NUM_RUNS, endOnFailure: false },
    );
    expect(runs).toBeGreaterThanOrEqual(NUM_RUNS);
    expect(accessesChecked).toBeGreaterThan(NUM_RUNS); // the runs really exercised accesses
  }, 170_000);

  it('left no personal data in any calldata or event of the last run', async () => {
    const scan = await scanChainForPersonalData(chain);
    expect(scan.txs).toBeGreaterThan(8);
    expect(scan.found).toEqual([]);
  });
});
