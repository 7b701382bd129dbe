/**
 * The Inbox: a second institution (its own workstation and app-data folder, running the embedded
 * chain) shares the demo study through the share flow with the partner institution; this app is the
 * partner's workstation on the same chain. The package is added to the inbox, listed from its clear
 * header, received as the signed-in partner (decrypted, verified against the chain, the access
 * recorded on chain) and imported into the library. Screenshots at 1920×1080 and 1280×720.
 */
import { join } from 'node:path';
import { createHandlerTable, dispatch } from '../../src/node/handlers';
import { DEMO_PASSPHRASE } from '../../src/node/ledger';
import { Services } from '../../src/node/services';
import type { Channel, RequestOf, ResponseOf } from '../../src/shared/api';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';
import { test as base, expect } from './rig';
import { invoke } from './support/viewer';

interface Sender {
  services: Services;
  rpcUrl: string;
  contract: string;
  partner: string;
  packagePath: string;
  studyUid: string;
  instances: number;
  institution: string;
}

const test = base.extend<{ sender: Sender }>({
  sender: async ({}, use) => {
    const dir = tempDir('medimg-e2e-sender-');
    const s = await Services.open({ home: join(dir.path, 'sender'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    const table = createHandlerTable(s);
    const call = async <C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
      const r = await dispatch(table, channel, request, { url: 'app://sender', trusted: true }, s.log);
      if (!r.ok) throw new Error(`${channel}: ${r.error.message}`);
      return r.value as ResponseOf<C>;
    };
    try {
      const demo = await call('ledger.setupDemo', {});
      expect(demo.ready).toBe(true);
      const studyUid = demo.study!.studyInstanceUid;
      const addrs = s.ledgerService.demo.addresses();
      await call('identity.unlock', { address: addrs.clinician!, passphrase: DEMO_PASSPHRASE });
      expect((await call('ledger.anchor', { studyInstanceUid: studyUid, waitMs: 60_000 })).anchor.delivery).toBe('confirmed');
      const partner = (await call('share.demoPartner', {})).address;
      await call('share.collectConsent', { studyInstanceUid: studyUid, recipient: partner, patientIdentity: addrs.patient!, passphrase: DEMO_PASSPHRASE, days: 30 });
      const sent = await call('share.send', { studyInstanceUid: studyUid, recipient: partner });
      const conn = await s.ledgerService.contract();
      await use({ services: s, rpcUrl: s.ledger.current().rpcUrl!, contract: conn.address, partner, packagePath: sent.path, studyUid, instances: sent.instances, institution: addrs.institution! });
    } finally {
      await s.close();
      dir.cleanup();
    }
  },
  // This app is the partner's workstation, on the sender's chain.
  servicesOptions: async ({ sender }, use) => {
    await use({ ledger: { mode: 'remote', rpcUrl: sender.rpcUrl }, ledgerPollMs: 200, ledgerService: { contractAddress: sender.contract } });
  },
});

test.describe('inbox', () => {
  test.skip(!component('anvil'), 'anvil not installed');

  test('a package from another institution is listed, received as the partner, verified and imported', async ({ app, sender }) => {
    test.setTimeout(300_000);
    const { page, services } = app;
    // The partner institution's identity on this workstation (its key opens the package).
    const json = sender.services.identity.exportKeystore(sender.partner).keystoreJson;
    await services.identity.import({ displayName: 'Partner Hospital (us)', keystoreJson: json, passphrase: DEMO_PASSPHRASE });
    await invoke(page, 'identity.unlock', { address: sender.partner, passphrase: DEMO_PASSPHRASE });
    await page.reload();

    await page.getByTestId('inbox-open').click();
    const inbox = page.getByTestId('inbox');
    await expect(inbox).toContainText('No share packages have arrived.');
    app.setPickedPaths([sender.packagePath]);
    await inbox.getByTestId('inbox-add').click();
    await expect(inbox).toContainText('1 package(s) added.');
    const row = inbox.getByTestId('inbox-row');
    await expect(row).toHaveCount(1);
    await expect(row).toHaveAttribute('data-state', 'new');
    await expect(row).toContainText(`${sender.instances} image(s)`);
    await expect(row).toContainText('for Partner Hospital (us)');
    const detail = inbox.getByTestId('inbox-detail');
    await expect(detail).toContainText(`${sender.instances} image(s)`);
    await expect(detail).toContainText(sender.institution.slice(0, 8));
    for (const [w, h] of [
      [1920, 1080],
      [1280, 720],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await app.screenshot(`inbox-new-${w}x${h}`);
    }

    await detail.getByTestId('inbox-receive').click();
    const verdict = inbox.getByTestId('inbox-verdict');
    await expect(verdict).toHaveAttribute('data-verified', 'true', { timeout: 180_000 });
    await expect(verdict).toHaveText(`Verified: all ${sender.instances} image(s) match the record on the ledger. ${sender.instances} image(s) added to the library.`);
    await expect(row).toHaveAttribute('data-state', 'received');
    await expect(row).toContainText('verified · imported');
    await expect(detail).toContainText('recorded (granted)');
    await expect(detail).toContainText('confirmed on chain');
    // The access is on chain (the sender's node holds the chain).
    const listed = await invoke<{ items: { result: { access: { txHash: string } } | null }[] }>(page, 'inbox.list', {});
    const chain = await sender.services.ledgerService.chain.require();
    expect((await chain.provider.getTransactionReceipt(listed.items[0]!.result!.access.txHash))?.status).toBe(1);
    for (const [w, h] of [
      [1920, 1080],
      [1280, 720],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await app.screenshot(`inbox-received-${w}x${h}`);
    }
    await inbox.getByLabel('Close').click();
    await expect(page.getByTestId('study-row')).toHaveCount(1, { timeout: 30_000 });
    const { studies } = await invoke<{ studies: { studyInstanceUid: string; instanceCount: number }[] }>(page, 'library.studies', {});
    expect(studies).toEqual([expect.objectContaining({ studyInstanceUid: sender.studyUid, instanceCount: sender.instances })]);
    const audit = await invoke<{ entries: { action: string }[] }>(page, 'audit.list', { action: 'receive' });
    expect(audit.entries).toHaveLength(1);
  });
});
