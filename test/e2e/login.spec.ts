/**
 * Login: the DEMO identities on the real embedded chain; wrong passphrase = a clear message and
 * nothing changed; right passphrase = signed in with the roles the chain reports; lock; create,
 * export (encrypted keystore download) and import identities through the UI.
 */
import { readFileSync } from 'node:fs';
import { Wallet } from 'ethers';
import { component } from '../support/components';
import { test, expect } from './rig';
import { invoke } from './support/viewer';
import { DEMO_PASSPHRASE, lock, setupDemo } from './support/ledger';

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

test('login: wrong then right passphrase, roles from chain, lock, create / export / import', async ({ app }) => {
  test.skip(!component('anvil'), 'anvil not installed');
  test.setTimeout(150_000);
  const { page } = app;
  await setupDemo(app);

  const screen = page.getByTestId('login');
  await expect(screen).toBeVisible();
  const options = screen.getByTestId('identity-option');
  await expect(options).toHaveCount(4);
  for (const o of await options.all()) await expect(o).toContainText('DEMO');
  await options.filter({ hasText: 'DEMO Dr. Clinician' }).click();
  await expect(screen.getByTestId('demo-hint')).toContainText(DEMO_PASSPHRASE);
  await app.screenshot('login');

  // Wrong passphrase: a clear message, still locked, every identity still there.
  await screen.getByLabel('Passphrase', { exact: true }).fill('not-the-passphrase');
  await screen.getByRole('button', { name: 'Unlock' }).click();
  await expect(screen.getByTestId('login-error')).toContainText('Wrong passphrase for DEMO Dr. Clinician');
  await expect(screen.getByTestId('login-error')).toContainText('Nothing was locked or changed');
  const after = await invoke<{ identities: unknown[]; current: string | null }>(page, 'identity.list', {});
  expect(after.current).toBeNull();
  expect(after.identities).toHaveLength(4);
  await app.screenshot('login-wrong-passphrase');

  // Right passphrase: in, with the clinician role as read from the chain.
  await screen.getByLabel('Passphrase', { exact: true }).fill(DEMO_PASSPHRASE);
  await screen.getByRole('button', { name: 'Unlock' }).click();
  await expect(screen).toBeHidden();
  await expect(page.getByTestId('account')).toContainText('DEMO Dr. Clinician');
  await expect(page.getByTestId('topbar-roles')).toHaveAttribute('data-roles', 'clinician');
  const me = await invoke<{ identity: { displayName: string } | null; roles: { clinician: boolean } | null; fromChain: boolean }>(page, 'ledger.me', {});
  expect(me.identity?.displayName).toBe('DEMO Dr. Clinician');
  expect(me.fromChain).toBe(true);
  expect(me.roles?.clinician).toBe(true);
  await app.screenshot('signed-in');
  // Signed in, the account and its roles take room in the top bar: every tool group still fits, none is cut off.
  for (const [w, h] of [
    [1920, 1080],
    [1440, 900],
    [1280, 720],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    const fit = await page.evaluate(() => {
      const bar = document.querySelector('.toolbar') as HTMLElement;
      const right = bar.getBoundingClientRect().right;
      const cut = [...bar.querySelectorAll<HTMLElement>('.toolbar__group')].filter((g) => g.getBoundingClientRect().right > right + 0.5).map((g) => g.getAttribute('aria-label') ?? g.textContent);
      return { cut, over: bar.scrollWidth - bar.clientWidth };
    });
    await app.screenshot(`signed-in-topbar-${w}x${h}`);
    expect(fit, `top bar at ${w}×${h}`).toEqual({ cut: [], over: 0 });
  }
  await page.setViewportSize({ width: 1440, height: 900 });

  // Lock from the top bar: the login screen is back.
  await lock(page);
  expect((await invoke<{ current: string | null }>(page, 'identity.list', {})).current).toBeNull();

  // Create a new identity through the UI.
  await screen.getByRole('button', { name: 'Create identity' }).click();
  const create = page.getByRole('form', { name: 'Create identity' });
  await create.getByLabel('Identity name').fill('Dr. Test Radiologist');
  await create.getByLabel('New passphrase').fill('correct horse battery');
  await create.getByLabel('Repeat passphrase').fill('correct horse battery');
  await app.screenshot('identity-create');
  await create.getByRole('button', { name: 'Create' }).click();
  await expect(options).toHaveCount(5);
  const mine = options.filter({ hasText: 'Dr. Test Radiologist' });
  await expect(mine).toHaveAttribute('aria-checked', 'true');
  await expect(mine).not.toContainText('DEMO');
  await expect(screen.getByTestId('demo-hint')).toHaveCount(0); // the hint is for DEMO identities only
  const address = (await mine.getAttribute('data-address'))!;

  // Export: the encrypted keystore is downloaded (never the raw key).
  const [download] = await Promise.all([page.waitForEvent('download'), screen.getByRole('button', { name: 'Export keystore' }).click()]);
  const json = readFileSync((await download.path())!, 'utf8');
  const ks = JSON.parse(json) as { address: string; crypto?: unknown; Crypto?: unknown };
  expect(`0x${ks.address.replace(/^0x/, '')}`.toLowerCase()).toBe(address.toLowerCase());
  expect(ks.crypto ?? ks.Crypto).toBeTruthy();
  expect(json).not.toContain('privateKey');

  // Import a raw private key through the UI; it unlocks with its new passphrase.
  const w = Wallet.createRandom();
  await screen.getByRole('button', { name: 'Import keystore or key' }).click();
  const imp = page.getByRole('form', { name: 'Import identity' });
  await imp.getByRole('radio', { name: 'Private key' }).click();
  await imp.getByLabel('Identity name').fill('Imported key');
  await imp.getByLabel('Private key').fill(w.privateKey);
  await imp.getByLabel('New passphrase').fill('imported-passphrase');
  await imp.getByRole('button', { name: 'Import' }).click();
  const imported = options.filter({ hasText: 'Imported key' });
  await expect(imported).toHaveAttribute('data-address', w.address);
  await screen.getByLabel('Passphrase', { exact: true }).fill('imported-passphrase');
  await screen.getByRole('button', { name: 'Unlock' }).click();
  await expect(screen).toBeHidden();
  await expect(page.getByTestId('account')).toContainText('Imported key');
  await expect(page.getByTestId('topbar-roles')).toHaveAttribute('data-roles', ''); // no role on chain
  // No role: anchoring is disabled, and the tooltip says why.
  await expect(page.getByTestId('anchor-button')).toBeDisabled();
});
