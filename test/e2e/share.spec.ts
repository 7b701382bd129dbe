/**
 * Share through the dialog on the embedded chain with the demo study anchored: the recipient is chosen
 * from the chain's registry (the DEMO partner added from the dialog), the gate denies for lack of the
 * patient's consent and says what would change it; the patient signs the EIP-712 consent on this
 * workstation (a wrong passphrase signs nothing); the gate allows; the package is built and its storage
 * address shown; a second workstation receives it as the partner and the access appears in the
 * sender's trust panel.
 */
import { test, expect } from './rig';
import { CREDIT_POLICY } from '../../src/core/credit-policy';
import { component } from '../support/components';
import { invoke } from './support/viewer';
import { anchoredDemo, DEMO_PASSPHRASE, openFirstSeries, openTrustDrawer, receiveAsPartner } from './support/trust';
import type { AuditEntryView } from '../../src/shared/api';

const anvil = component('anvil');
test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

test.describe('share', () => {
  test.skip(!anvil, 'anvil not installed');

  test('denied without consent → the patient signs → allowed → package; the partner receives; its access is in the sender history', async ({ app }) => {
    test.setTimeout(240_000);
    const { page, services } = app;
    const demo = await anchoredDemo(app);
    await openFirstSeries(page);

    await page.getByRole('button', { name: 'Share', exact: true }).click();
    const dialog = page.getByTestId('share-dialog');
    await expect(dialog.getByTestId('trust-panel').getByTestId('trust-ledger')).toHaveAttribute('data-reachable', 'true', { timeout: 60_000 });
    // Only this institution is registered: the dialog offers the demo partner.
    await expect(dialog.getByTestId('registry-row')).toHaveCount(1);
    await dialog.getByTestId('add-demo-partner').click();
    const partnerRow = dialog.getByTestId('registry-row').filter({ hasText: 'DEMO Partner Hospital' });
    await expect(partnerRow).toBeVisible({ timeout: 60_000 });
    await expect(partnerRow).toContainText(String(CREDIT_POLICY.startScore));
    await expect(partnerRow).toContainText('may receive');
    const partner = (await partnerRow.getAttribute('data-address'))!;

    const gate = dialog.getByTestId('share-gate');
    await expect(gate).toHaveAttribute('data-allowed', 'false', { timeout: 60_000 });
    await expect(gate).toContainText('Denied: DEMO Partner Hospital may not receive this study');
    const failing = gate.locator('li[data-ok=false]');
    await expect(failing).toHaveCount(1);
    await expect(failing).toHaveAttribute('data-code', 'consent');
    await expect(failing).toContainText('What would change it:');
    await expect(dialog.getByTestId('share-send')).toBeDisabled();
    await app.screenshot('share-denied');

    // The patient's identity is on this workstation: collect the consent here.
    await dialog.getByTestId('ask-consent').click();
    const step = dialog.getByTestId('consent-step');
    await expect(step).toContainText('DEMO Partner Hospital');
    await step.getByLabel('Consent days').fill('30');
    await step.getByLabel('Patient passphrase').fill('not the passphrase');
    await step.getByTestId('sign-consent').click();
    await expect(step.getByTestId('consent-error')).toContainText("The patient's passphrase is not correct; nothing was signed.", { timeout: 60_000 });
    expect((await invoke<{ allowed: boolean }>(page, 'share.gate', { studyInstanceUid: demo.studyUid, recipient: partner })).allowed).toBe(false);
    await step.getByLabel('Patient passphrase').fill(DEMO_PASSPHRASE);
    await app.screenshot('share-consent');
    await step.getByTestId('sign-consent').click();
    await expect(dialog.getByTestId('consent-signed')).toBeVisible({ timeout: 60_000 });
    await expect(gate).toHaveAttribute('data-allowed', 'true', { timeout: 60_000 });
    await expect(gate.locator('li[data-ok=false]')).toHaveCount(0);
    await expect(dialog.getByTestId('trust-panel').getByTestId('consent-row')).toHaveAttribute('data-state', 'active', { timeout: 30_000 });
    await app.screenshot('share-allowed');

    await dialog.getByTestId('share-send').click();
    const result = dialog.getByTestId('share-result');
    await expect(result).toBeVisible({ timeout: 120_000 });
    await expect(result.getByTestId('share-storage')).toHaveText(new RegExp(`^medimg-blob://${demo.institution.toLowerCase()}/[0-9a-f]{64}$`));
    await expect(result).toContainText(`${demo.study.instanceCount}, encrypted for the recipient`);
    await app.screenshot('share-result');
    const shared = await invoke<{ entries: AuditEntryView[] }>(page, 'audit.list', { action: 'share' });
    expect(shared.entries).toHaveLength(1);
    const packagePath = (await result.locator('dd[title]').first().getAttribute('title'))!;

    // The partner's workstation receives it: decrypted, verified against the chain, access recorded.
    const received = await receiveAsPartner(services, partner, { path: packagePath });
    expect(received).toMatchObject({ verified: true, integrityConfirmed: true, indexed: demo.study.instanceCount, access: { granted: true } });
    await result.getByRole('button', { name: 'Done' }).click();

    // The sender's trust panel shows the access (refreshed by the synced chain events).
    const panel = await openTrustDrawer(page);
    const access = panel.getByTestId('access-row');
    await expect(access).toHaveCount(1, { timeout: 60_000 });
    await expect(access).toHaveAttribute('data-outcome', 'granted');
    await expect(access).toContainText('DEMO Partner Hospital');
    await expect(access.locator('td[title]').last()).toHaveAttribute('title', new RegExp(`^${received.access.txHash} `));
    await expect(panel.getByTestId('patient-score')).toHaveText(String(CREDIT_POLICY.startScore + CREDIT_POLICY.patientAccessReward));
    await panel.getByTestId('accesses').scrollIntoViewIfNeeded();
    await app.screenshot('share-access-in-history');
  });
});
