/**
 * First start on a fresh app-data folder, as electron/main.ts runs it: the window is up before the
 * DEMO exists; the app's own DEMO set-up (with the study anchored) then runs. Without a reload the
 * login screen lists the DEMO identities with the published passphrase; after the DEMO clinician logs
 * in, the DEMO study's image is on screen and verified; "Anchor" is disabled and says why (the study
 * is anchored at this version). Screenshots at 1920×1080 and 1280×720.
 */
import { test, expect } from './rig';
import type { AppFixture } from './rig';
import type { Page } from '@playwright/test';
import { component } from '../support/components';
import { invoke, viewport } from './support/viewer';
import { DEMO_PASSPHRASE } from './support/ledger';
import { startDemo } from '../../src/node/ledger';
import type { DemoStatus } from '../../src/shared/api';

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

async function shots(app: AppFixture, page: Page, name: string): Promise<void> {
  for (const [w, h] of [[1920, 1080], [1280, 720]] as const) {
    await page.setViewportSize({ width: w, height: h });
    await app.screenshot(`${name}-${w}x${h}`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

test('first start: the demo hint without a reload, the verified demo study open after login, Anchor disabled with the reason', async ({ app }) => {
  test.skip(!component('anvil'), 'anvil not installed');
  test.setTimeout(300_000);
  const { page, services } = app;
  // A fresh folder: the window is open and nothing exists yet.
  expect((await invoke<{ identities: unknown[] }>(page, 'identity.list', {})).identities).toHaveLength(0);
  await expect(page.getByTestId('login')).toHaveCount(0);

  // The app's first start (electron/main.ts): the DEMO set-up runs after the window is up.
  startDemo(services.ledgerService, { anchorDemoStudy: true });
  const screen = page.getByTestId('login');
  await expect(screen).toBeVisible({ timeout: 120_000 });
  await expect(screen.getByTestId('identity-option')).toHaveCount(4, { timeout: 60_000 });
  const clinician = screen.getByTestId('identity-option').filter({ hasText: 'DEMO Dr. Clinician' });
  await expect(clinician).toHaveAttribute('aria-checked', 'true');
  await expect(screen.getByTestId('demo-hint')).toContainText(`Its published passphrase is ${DEMO_PASSPHRASE}`);

  // The set-up anchors the study as the DEMO clinician; log in once it is done (it locks that identity after).
  await expect
    .poll(async () => (await invoke<DemoStatus>(page, 'ledger.demoStatus', {})).ready, { timeout: 180_000 })
    .toBe(true);
  const demo = await invoke<DemoStatus>(page, 'ledger.demoStatus', {});
  await expect
    .poll(async () => (await invoke<{ anchors: { delivery: string }[] }>(page, 'ledger.anchors', { studyInstanceUid: demo.study!.studyInstanceUid })).anchors[0]?.delivery ?? null, { timeout: 180_000 })
    .toBe('confirmed');
  await expect(screen.getByTestId('demo-hint')).toBeVisible();
  await shots(app, page, 'first-start-login');

  await screen.getByLabel('Passphrase', { exact: true }).fill(DEMO_PASSPHRASE);
  await screen.getByRole('button', { name: 'Unlock' }).click();
  await expect(screen).toBeHidden();

  // The DEMO study is open: its image on screen, verified.
  const vp = viewport(page);
  await expect(vp).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(vp).not.toContainText('No series open');
  await expect(vp.getByTestId('image-verification')).toHaveAttribute('data-state', 'verified', { timeout: 60_000 });
  await expect(vp.getByTestId('viewer-study-verification')).toHaveAttribute('data-state', 'verified', { timeout: 60_000 });

  // Anchor: disabled, with the reason.
  const anchor = page.getByTestId('anchor-button');
  await expect(anchor).toBeDisabled({ timeout: 30_000 });
  await expect(anchor).toHaveAttribute('title', /^Already anchored at this version: record 0x[0-9a-f]+…[0-9a-f]* in block \d+, .*Anchoring again would write nothing/);
  await expect(page.getByTestId('anchor-why')).toContainText('Already anchored at this version');
  await shots(app, page, 'first-start-viewer');
});
