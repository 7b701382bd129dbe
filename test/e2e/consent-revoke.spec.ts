/**
 * A consent a patient can trust (issue 17), on the embedded chain with the DEMO study anchored: the
 * consent text says its purpose, the recipient by name, the study by description and date, and how
 * long it runs in words; the patient signs it; the patient revokes it from the trust panel (their
 * passphrase, their key signs); the history shows the revocation; a share that depended on it is
 * refused with the reason; the patient console lists it as revoked. Screenshots at 1920×1080 and
 * 1280×720.
 */
import { test, expect } from './rig';
import { component } from '../support/components';
import { invoke } from './support/viewer';
import { anchoredDemo, DEMO_PASSPHRASE, openFirstSeries, openTrustDrawer } from './support/trust';
import { lock, login } from './support/ledger';
import { dateInWords, dicomDateInWords } from '../../src/shared/words';
import type { Locator, Page } from '@playwright/test';
import type { AppFixture } from './rig';

const anvil = component('anvil');
test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

async function shots(app: AppFixture, page: Page, name: string, show: Locator): Promise<void> {
  for (const [w, h] of [[1920, 1080], [1280, 720]] as const) {
    await page.setViewportSize({ width: w, height: h });
    await show.scrollIntoViewIfNeeded();
    await app.screenshot(`${name}-${w}x${h}`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

test('consent: plain text, signed, revoked from the trust panel; the history shows it and the share is refused with the reason', async ({ app }) => {
  test.skip(!anvil, 'anvil not installed');
  test.setTimeout(300_000);
  const { page } = app;
  const demo = await anchoredDemo(app);
  await openFirstSeries(page);

  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const dialog = page.getByTestId('share-dialog');
  await expect(dialog.getByTestId('trust-panel').getByTestId('trust-ledger')).toHaveAttribute('data-reachable', 'true', { timeout: 60_000 });
  // Your own institution cannot be chosen, and says why.
  const own = dialog.getByTestId('registry-row').filter({ hasText: 'your institution' });
  await expect(own.locator('input[type=radio]')).toBeDisabled();
  await dialog.getByTestId('add-demo-partner').click();
  const partnerRow = dialog.getByTestId('registry-row').filter({ hasText: 'DEMO Partner Hospital' });
  await expect(partnerRow).toBeVisible({ timeout: 60_000 });
  const partner = (await partnerRow.getAttribute('data-address'))!;
  const gate = dialog.getByTestId('share-gate');
  await expect(gate).toHaveAttribute('data-allowed', 'false', { timeout: 60_000 });

  // The consent text: purpose, recipient by name, the study by description and date, the length in words.
  await dialog.getByTestId('ask-consent').click();
  const step = dialog.getByTestId('consent-step');
  await step.getByLabel('Consent days').fill('30');
  const text = step.getByTestId('consent-text');
  await expect(text.getByTestId('consent-recipient')).toHaveText('DEMO Partner Hospital');
  const studyDate = dicomDateInWords(demo.study.date)!;
  expect(studyDate).toMatch(/^\d{1,2} [A-Z][a-z]+ \d{4}$/);
  await expect(text.getByTestId('consent-study')).toHaveText(`${demo.study.description} of ${studyDate}`);
  const until = dateInWords(new Date(Date.now() + 30 * 86_400_000).toISOString())!;
  await expect(text.getByTestId('consent-expiry')).toHaveText(`for 30 days, until ${until}`);
  await expect(text).toContainText('Purpose: DEMO Partner Hospital receives a copy of the images as they were acquired, with my name and details on them');
  await expect(text).toContainText('I can revoke this consent at any time');
  await expect(text).not.toContainText(demo.studyUid);
  await step.getByLabel('Patient passphrase').fill(DEMO_PASSPHRASE);
  await step.scrollIntoViewIfNeeded();
  await shots(app, page, 'consent-dialog', step.getByTestId('sign-consent'));
  await step.getByTestId('sign-consent').click();
  await expect(dialog.getByTestId('consent-signed')).toContainText(`Valid until ${until}`, { timeout: 60_000 });
  await expect(gate).toHaveAttribute('data-allowed', 'true', { timeout: 60_000 });
  await dialog.getByRole('button', { name: 'Close', exact: true }).click();

  // The patient revokes it from the trust panel: what it does is said first, then the patient's key signs.
  const panel = await openTrustDrawer(page);
  const row = panel.getByTestId('consent-row');
  await expect(row).toHaveAttribute('data-state', 'active', { timeout: 60_000 });
  await row.getByTestId('revoke-consent').click();
  const revoke = page.getByTestId('revoke-step');
  await expect(revoke.getByTestId('revoke-text')).toContainText(`The patient withdraws the consent for DEMO Partner Hospital to receive ${demo.study.description} of ${studyDate} (granted until ${until}).`);
  await expect(revoke.getByTestId('revoke-text')).toContainText('every new share to DEMO Partner Hospital and every access by it under this consent is refused');
  await revoke.getByLabel('Patient passphrase for revocation').fill('wrong passphrase');
  await revoke.getByTestId('confirm-revoke').click();
  await expect(revoke.getByTestId('revoke-error')).toContainText("The patient's passphrase is not correct; nothing was revoked.", { timeout: 60_000 });
  await revoke.getByLabel('Patient passphrase for revocation').fill(DEMO_PASSPHRASE);
  await revoke.getByTestId('confirm-revoke').click();
  await expect(panel.getByTestId('consent-revoked')).toContainText('Consent revoked: DEMO Partner Hospital may no longer receive this study. Recorded on the ledger in block ', { timeout: 60_000 });
  await expect(row).toHaveAttribute('data-state', 'revoked', { timeout: 60_000 });
  await expect(row).toContainText('revoked');
  const history = panel.getByTestId('history-row').filter({ hasText: 'consent revoked' });
  await expect(history).toHaveCount(1, { timeout: 60_000 });
  await expect(history).toContainText('The patient revoked the consent for DEMO Partner Hospital');
  await history.scrollIntoViewIfNeeded();
  await shots(app, page, 'consent-revoked-history', history);

  // The chain says so, and a share that depended on the consent is refused with the reason.
  const decision = await invoke<{ allowed: boolean; checks: { code: string; ok: boolean; message: string }[] }>(page, 'share.gate', { studyInstanceUid: demo.studyUid, recipient: partner });
  expect(decision.allowed).toBe(false);
  expect(decision.checks.filter((c) => !c.ok).map((c) => [c.code, c.message])).toEqual([['consent', 'No valid consent: the patient revoked the consent.']]);
  await expect(invoke(page, 'share.send', { studyInstanceUid: demo.studyUid, recipient: partner })).rejects.toThrow(
    'share.send failed: Sharing is not allowed: No valid consent: the patient revoked the consent.',
  );

  // The patient console lists it as revoked.
  await lock(page);
  await login(page, 'patient');
  await page.getByTestId('account').click();
  await page.getByRole('menuitem', { name: 'Ledger console…' }).click();
  const consoleRows = page.getByTestId('console').getByTestId('patient-consent-row');
  await expect(consoleRows).toHaveCount(1, { timeout: 60_000 });
  await expect(consoleRows).toHaveAttribute('data-state', 'revoked');
  await expect(consoleRows).toContainText('DEMO Partner Hospital');
  await expect(consoleRows.getByTestId('revoke-consent')).toHaveCount(0);
});
