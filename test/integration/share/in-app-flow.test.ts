/**
 * The flow the UI drives, through the handler table on the EMBEDDED chain with the demo: the demo
 * clinician anchors the demo study; share.gate to the demo partner is denied for lack of consent (the
 * patient's identity is on this workstation); share.collectConsent with the demo patient's passphrase
 * (a wrong one signs nothing); the gate allows; share.send stores the package; a second workstation
 * (its own app-data folder, same chain) receives it as the partner; the sender's trust panel then shows
 * the access, the consent and the patient's +5.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDIT_POLICY } from '../../../src/core/credit-policy';
import { createHandlerTable, type HandlerTable } from '../../../src/node/handlers';
import { DEMO_PASSPHRASE } from '../../../src/node/ledger';
import { Services } from '../../../src/node/services';
import type { Channel, RequestOf } from '../../../src/shared/api';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';
import { callHandler } from '../../support/handlers';

const anvil = component('anvil');
const tmp = tempDir('medimg-share-app-');
let s: Services;
let table: HandlerTable;
let studyUid: string;
let partner: string;

const call = <C extends Channel>(channel: C, request: RequestOf<C>) => callHandler(table, s.log, channel, request);

describe.skipIf(!anvil)('share in the app (embedded chain, demo)', () => {
  beforeAll(async () => {
    s = await Services.open({ home: join(tmp.path, 'A'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    table = createHandlerTable(s);
    const demo = await call('ledger.setupDemo', {});
    expect(demo.ready).toBe(true);
    studyUid = demo.study!.studyInstanceUid;
    const clin = s.ledgerService.demo.addresses().clinician!;
    await call('identity.unlock', { address: clin, passphrase: DEMO_PASSPHRASE });
    const a = await call('ledger.anchor', { studyInstanceUid: studyUid });
    expect(a.anchor.delivery).toBe('confirmed');
    const p = await call('share.demoPartner', {});
    expect(p.registered).toBe(true);
    partner = p.address;
    expect((await call('share.demoPartner', {})).address).toBe(partner); // idempotent
  }, 240_000);

  afterAll(async () => {
    await s?.close();
    tmp.cleanup();
  });

  it('denied without consent → the patient signs here → allowed → package; the partner receives on its own workstation', async () => {
    const reg = await call('trust.institutions', {});
    expect(reg.institutions.map((i) => [i.party.address, i.publicKeyKnown, i.canReceive])).toContainEqual([partner, true, true]);
    const denied = await call('share.gate', { studyInstanceUid: studyUid, recipient: partner });
    expect(denied.allowed).toBe(false);
    expect(denied.checks.filter((c) => !c.ok).map((c) => c.code)).toEqual(['consent']);
    const patient = s.ledgerService.demo.addresses().patient!;
    expect(denied.patientIdentityHere).toBe(patient);

    await expect(call('share.collectConsent', { studyInstanceUid: studyUid, recipient: partner, patientIdentity: patient, passphrase: 'wrong passphrase' })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect((await call('share.gate', { studyInstanceUid: studyUid, recipient: partner })).allowed).toBe(false);
    const consent = await call('share.collectConsent', { studyInstanceUid: studyUid, recipient: partner, patientIdentity: patient, passphrase: DEMO_PASSPHRASE, days: 7 });
    expect(consent.submittedBy).toBe(s.ledgerService.demo.addresses().clinician);
    const allowed = await call('share.gate', { studyInstanceUid: studyUid, recipient: partner });
    expect(allowed.allowed).toBe(true);
    expect(allowed.contract).toMatchObject({ denial: 0, basis: 1 });
    const sent = await call('share.send', { studyInstanceUid: studyUid, recipient: partner });
    expect(sent.instances).toBe(40);

    // The partner's workstation: its own folder, the same (embedded) chain reached over JSON-RPC.
    const conn = await s.ledgerService.contract();
    const b = await Services.open({ home: join(tmp.path, 'B'), ledger: { mode: 'remote', rpcUrl: s.ledger.current().rpcUrl! }, ledgerPollMs: 200, ledgerService: { contractAddress: conn.address, sync: { auto: false } } });
    try {
      void b.ledgerService;
      await b.ledger.check();
      const json = s.identity.exportKeystore(partner).keystoreJson;
      await b.identity.import({ displayName: 'Partner', keystoreJson: json, passphrase: DEMO_PASSPHRASE });
      await b.identity.unlock(partner, DEMO_PASSPHRASE);
      const r = await b.share.receive(sent.path);
      expect(r).toMatchObject({ verified: true, integrityConfirmed: true, indexed: 40, access: { granted: true } });
    } finally {
      await b.close();
    }
    const panel = await call('trust.panel', { studyInstanceUid: studyUid, verify: false });
    expect(panel.accesses).toEqual([expect.objectContaining({ outcome: 'granted', followUp: 'confirmed', recipient: expect.objectContaining({ address: partner, label: 'DEMO Partner Hospital (institution)' }) })]);
    expect(panel.patient!.score).toBe(CREDIT_POLICY.startScore + CREDIT_POLICY.patientAccessReward);
    expect(panel.actingInstitution!.score).toBe(CREDIT_POLICY.startScore + CREDIT_POLICY.integrityReward);
    const audit = await call('audit.list', { order: 'asc' });
    // The clinician's sign-in is recorded too (docs/audit.md).
    expect(audit.entries.map((e) => e.action)).toEqual(['login', 'consent.collected', 'share']);
  }, 240_000);
});
