/**
 * The Inbox through the handler table (real embedded chain, real Orthanc): institution A shares the
 * demo study with the partner; the partner's workstation (own folder, same chain) finds the package
 * dropped into its inbox folder, lists it from its clear header, refuses to open it while the
 * wrong identity is signed in, receives it as the partner (verified, access on chain, imported) and
 * sends the received images on to its local PACS (Orthanc) — where they arrive.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlerTable, dispatch, type HandlerTable } from '../../../src/node/handlers';
import { DEMO_PASSPHRASE } from '../../../src/node/ledger';
import { Services } from '../../../src/node/services';
import type { Channel, RequestOf, ResponseOf } from '../../../src/shared/api';
import { component } from '../../support/components';
import { startOrthanc, type OrthancServer } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const haveAll = Boolean(component('anvil')) && Boolean(component('orthanc'));
const tmp = tempDir('medimg-inbox-');
let a: Services;
let b: Services;
let orthanc: OrthancServer;
let partner: string;
let packagePath: string;
let studyUid: string;

const caller = (s: Services, table: HandlerTable) => async <C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
  const r = await dispatch(table, channel, request, { url: 'app://test', trusted: true }, s.log);
  if (!r.ok) throw Object.assign(new Error(r.error.message), r.error);
  return r.value as ResponseOf<C>;
};

describe.skipIf(!haveAll)('Inbox (embedded chain, Orthanc as the local PACS)', () => {
  beforeAll(async () => {
    orthanc = await startOrthanc();
    a = await Services.open({ home: join(tmp.path, 'A'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    const callA = caller(a, createHandlerTable(a));
    const demo = await callA('ledger.setupDemo', {});
    studyUid = demo.study!.studyInstanceUid;
    const addrs = a.ledgerService.demo.addresses();
    await callA('identity.unlock', { address: addrs.clinician!, passphrase: DEMO_PASSPHRASE });
    expect((await callA('ledger.anchor', { studyInstanceUid: studyUid })).anchor.delivery).toBe('confirmed');
    partner = (await callA('share.demoPartner', {})).address;
    await callA('share.collectConsent', { studyInstanceUid: studyUid, recipient: partner, patientIdentity: addrs.patient!, passphrase: DEMO_PASSPHRASE, days: 7 });
    packagePath = (await callA('share.send', { studyInstanceUid: studyUid, recipient: partner })).path;
    const conn = await a.ledgerService.contract();
    b = await Services.open({ home: join(tmp.path, 'B'), ledger: { mode: 'remote', rpcUrl: a.ledger.current().rpcUrl! }, ledgerPollMs: 200, ledgerService: { contractAddress: conn.address, sync: { auto: false } } });
    void b.ledgerService;
    await b.ledger.check();
  }, 240_000);

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await orthanc?.stop();
    tmp.cleanup();
  });

  it('listed from the inbox folder, refused for the wrong identity, received as the partner, sent on to the PACS', async () => {
    const callB = caller(b, createHandlerTable(b));
    expect((await callB('inbox.list', {})).items).toEqual([]);
    // a package copied into the inbox folder (a shared folder, a USB stick), and a file that is not a package
    mkdirSync(b.inbox.folder, { recursive: true });
    copyFileSync(packagePath, join(b.inbox.folder, 'from-hospital-a.medimgshr'));
    writeFileSync(join(b.inbox.folder, 'notes.txt'), 'not a package');
    const rejected = await callB('inbox.add', { paths: [join(b.inbox.folder, 'notes.txt')] });
    expect(rejected).toEqual({ added: [], rejected: [{ path: join(b.inbox.folder, 'notes.txt'), message: 'Not a MedImgShr share package (or cut short).' }] });
    let list = await callB('inbox.list', {});
    expect(list.items).toHaveLength(1);
    const item = list.items[0]!;
    expect(item).toMatchObject({ source: 'inbox-folder', state: 'new', instances: 40, recipient: { address: partner, here: false }, result: null });

    // the partner's identity arrives on this workstation; another identity signed in cannot open it
    const other = await b.identity.create({ displayName: 'Someone else', passphrase: 'another passphrase 123' });
    await b.identity.import({ displayName: 'Partner Hospital', keystoreJson: a.identity.exportKeystore(partner).keystoreJson, passphrase: DEMO_PASSPHRASE });
    await b.identity.unlock(other.address, 'another passphrase 123');
    await expect(callB('inbox.receive', { address: item.address })).rejects.toMatchObject({ code: 'LOCKED', message: 'This package is encrypted for Partner Hospital; Someone else is signed in.' });
    await b.identity.unlock(partner, DEMO_PASSPHRASE);
    const got = await callB('inbox.receive', { address: item.address });
    expect(got).toMatchObject({ state: 'received', recipient: { here: true }, result: { verified: true, integrityConfirmed: true, indexed: 40, access: { granted: true } } });
    list = await callB('inbox.list', {});
    expect(list.items.map((i) => i.state)).toEqual(['received']);

    b.pacs.add({ name: 'local-pacs', dicomweb: { url: orthanc.dicomWebUrl } });
    expect((await callB('inbox.list', {})).connections).toEqual(['local-pacs']);
    const sent = await callB('inbox.sendOn', { address: item.address, connection: 'local-pacs' });
    expect(sent.sentOn).toMatchObject({ connection: 'local-pacs', sent: 40, failed: 0 });
    expect(sent.sentOn!.message).toBe('40 image(s) sent to local-pacs by stow-rs.');
    const found = await b.pacs.searchStudies('local-pacs', { studyInstanceUid: studyUid });
    expect(found.studies).toHaveLength(1);
    expect(found.studies[0]!.instanceCount).toBe(40);
  }, 240_000);
});
