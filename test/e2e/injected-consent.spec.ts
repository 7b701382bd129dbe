/**
 * Issue 16: the patient's EIP-712 consent signed in an injected browser wallet (EIP-1193,
 * eth_signTypedData_v4). The wallet is a page-side window.ethereum whose requests go to the test,
 * which holds the key and signs (the patient's real key from the demo keystore, or a stranger's),
 * and forwards everything else to the app's real anvil — no mock chain. The main process builds the
 * typed data from the chain and checks that the signature recovers the study's patient before
 * anything is stored or sent: a stranger's signature is refused with a clear message and the gate
 * stays closed; the patient's own signature opens the gate. A revocation signed in the wallet closes
 * it again.
 */
import { JsonRpcProvider, Wallet, type HDNodeWallet, type TypedDataField } from 'ethers';
import { component } from '../support/components';
import { test, expect } from './rig';
import { invoke } from './support/viewer';
import { anchoredDemo, DEMO_PASSPHRASE, openFirstSeries, openTrustDrawer } from './support/trust';
import type { AuditEntryView } from '../../src/shared/api';

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

test('injected wallet signs the consent: a stranger is refused, the patient opens the gate, a wallet revocation closes it', async ({ app }) => {
  test.skip(!component('anvil'), 'anvil not installed');
  test.setTimeout(240_000);
  const { page, services } = app;
  const provider = new JsonRpcProvider(services.embeddedNode!.rpcUrl, undefined, { staticNetwork: true });
  const stranger = Wallet.createRandom();
  let signer: Wallet | HDNodeWallet = stranger; // the wallet's current account
  const calls: string[] = [];
  await page.exposeFunction('__walletRpc', async (method: string, params: unknown[]) => {
    calls.push(method);
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return [signer.address];
      case 'eth_signTypedData_v4': {
        const [account, json] = params as [string, string];
        if (account.toLowerCase() !== signer.address.toLowerCase()) throw new Error('unknown account');
        const td = JSON.parse(json) as { domain: Record<string, unknown>; types: Record<string, TypedDataField[]>; message: Record<string, unknown> };
        const { EIP712Domain: _domainType, ...types } = td.types;
        return signer.signTypedData(td.domain, types, td.message);
      }
      default:
        return provider.send(method, params ?? []);
    }
  });
  await page.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    const rpc = w.__walletRpc as (m: string, p: unknown[]) => Promise<unknown>;
    w.ethereum = {
      isMetaMask: false,
      request: ({ method, params }: { method: string; params?: unknown[] }) => rpc(method, params ?? []),
      on: () => undefined,
      removeListener: () => undefined,
    };
  });

  const demo = await anchoredDemo(app);
  // The patient's key, held by the wallet only (the test decrypts the demo keystore for it).
  const patient = await Wallet.fromEncryptedJson(services.identity.exportKeystore(demo.patient).keystoreJson, DEMO_PASSPHRASE);
  await openFirstSeries(page);
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const dialog = page.getByTestId('share-dialog');
  await dialog.getByTestId('add-demo-partner').click();
  const partnerRow = dialog.getByTestId('registry-row').filter({ hasText: 'DEMO Partner Hospital' });
  await expect(partnerRow).toBeVisible({ timeout: 60_000 });
  const partner = (await partnerRow.getAttribute('data-address'))!;
  const gate = dialog.getByTestId('share-gate');
  await expect(gate).toHaveAttribute('data-allowed', 'false', { timeout: 60_000 });
  await expect(gate.locator('li[data-ok=false]')).toHaveAttribute('data-code', 'consent');

  // A stranger's account signs: refused by the main process, nothing stored or sent.
  const button = dialog.getByTestId('wallet-consent');
  await expect(button).toHaveText('Patient signs in browser wallet');
  await button.click();
  const error = dialog.getByTestId('wallet-consent-error');
  await expect(error).toContainText(`The consent was signed by account ${stranger.address}, not by the patient of this study (${patient.address}); nothing was stored or sent.`, { timeout: 60_000 });
  await expect(error).toContainText(`Let the patient sign with their own account (${patient.address}) in the wallet.`);
  expect(calls).toContain('eth_signTypedData_v4');
  expect((await invoke<{ allowed: boolean }>(page, 'share.gate', { studyInstanceUid: demo.studyUid, recipient: partner })).allowed).toBe(false);
  expect((await invoke<{ entries: AuditEntryView[] }>(page, 'audit.list', { action: 'consent.collected' })).entries).toHaveLength(0);
  for (const size of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
    await page.setViewportSize(size);
    await app.screenshot(`injected-consent-refused-${size.width}x${size.height}`);
  }

  // The patient's own account signs: checked, submitted by the clinician, the gate opens.
  signer = patient;
  await button.click();
  await expect(dialog.getByTestId('consent-signed')).toBeVisible({ timeout: 60_000 });
  await expect(dialog.getByTestId('wallet-consent-error')).toHaveCount(0);
  await expect(gate).toHaveAttribute('data-allowed', 'true', { timeout: 60_000 });
  await expect(dialog.getByTestId('share-send')).toBeEnabled();
  for (const size of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
    await page.setViewportSize(size);
    await app.screenshot(`injected-consent-signed-${size.width}x${size.height}`);
  }
  const collected = (await invoke<{ entries: AuditEntryView[] }>(page, 'audit.list', { action: 'consent.collected' })).entries;
  expect(collected).toHaveLength(1);
  expect(JSON.stringify(collected[0])).toContain(patient.address);
  const study = (await invoke<{ consents: { institution: { address: string } | string; study: string; state?: string }[] }>(page, 'share.patientConsents', { patient: patient.address })).consents;
  expect(study.length).toBeGreaterThan(0);

  // The patient revokes it from the trust panel, signing the revocation in the wallet.
  await dialog.getByRole('button', { name: 'Close', exact: true }).click();
  const panel = await openTrustDrawer(page);
  const row = panel.getByTestId('consent-row');
  await expect(row).toHaveAttribute('data-state', 'active', { timeout: 60_000 });
  await row.getByTestId('revoke-consent').click();
  const revoke = page.getByTestId('revoke-step');
  signer = stranger; // a stranger first: refused, nothing revoked
  await revoke.getByTestId('wallet-revoke').click();
  await expect(revoke.getByTestId('revoke-error')).toContainText(`The revocation was signed by account ${stranger.address}, not by the patient of this study (${patient.address}); nothing was stored or sent.`, { timeout: 60_000 });
  signer = patient;
  await revoke.getByTestId('wallet-revoke').click();
  await expect(panel.getByTestId('consent-revoked')).toContainText('Consent revoked: DEMO Partner Hospital may no longer receive this study.', { timeout: 60_000 });
  await expect(row).toHaveAttribute('data-state', 'revoked', { timeout: 60_000 });
  expect((await invoke<{ allowed: boolean }>(page, 'share.gate', { studyInstanceUid: demo.studyUid, recipient: partner })).allowed).toBe(false);
  expect((await invoke<{ entries: AuditEntryView[] }>(page, 'audit.list', { action: 'consent.revoked' })).entries).toHaveLength(1);
  provider.destroy();
});
