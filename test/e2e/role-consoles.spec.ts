/**
 * Role consoles on the real embedded chain: the UI adapts to the on-chain roles of the signed-in
 * identity. Regulator: register / suspend an institution. Institution admin: grant and remove a
 * clinician, register a verified patient, a refused action explained. Patient: own console. Every
 * result is checked against the chain itself.
 */
import { Wallet } from 'ethers';
import { component } from '../support/components';
import { test, expect } from './rig';
import { DEMO_PASSPHRASE, lock, login, setupDemo } from './support/ledger';
import { invoke } from './support/viewer';
import type { Page } from '@playwright/test';
import { anchorConfirmed } from './support/trust';

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

async function openConsole(page: Page) {
  await page.getByTestId('account').click();
  await page.getByRole('menuitem', { name: 'Ledger console…' }).click();
  await expect(page.getByTestId('console')).toBeVisible();
  return page.getByTestId('console');
}

test('regulator, institution and patient consoles follow the chain roles', async ({ app }) => {
  test.skip(!component('anvil'), 'anvil not installed');
  test.setTimeout(180_000);
  const { page } = app;
  const demo = await setupDemo(app);
  const roles = (a: string) => app.services.ledgerService.roles(a);
  // One record for the demo patient (anchored by the demo clinician through the real handler table).
  const clinician = demo.identities.find((i) => i.role === 'clinician')!.address;
  await invoke(page, 'identity.unlock', { address: clinician, passphrase: DEMO_PASSPHRASE });
  await anchorConfirmed(page, demo.study!.studyInstanceUid);
  await invoke(page, 'identity.lock', {});
  await app.open();

  // ---- regulator
  await login(page, 'regulator');
  await expect(page.getByTestId('topbar-roles')).toHaveAttribute('data-roles', 'regulator');
  const anchor = page.getByTestId('anchor-button');
  await expect(anchor).toBeDisabled();
  await expect(anchor).toHaveAttribute('title', /DEMO Regulator is not a clinician on the ledger/);
  let c = await openConsole(page);
  await expect(c.getByTestId('console-regulator')).toBeVisible();
  await expect(c.getByTestId('console-institution')).toHaveCount(0);
  await expect(c.getByTestId('console-clinician')).toHaveCount(0);
  await expect(c.getByTestId('institution-list')).toContainText('DEMO Clinic');
  const newInst = Wallet.createRandom().address;
  const reg = c.getByTestId('regulator-form');
  await reg.getByLabel('Institution account').fill(newInst);
  await reg.getByRole('button', { name: 'Register institution' }).click();
  await expect(reg.getByTestId('regulator-form-roles')).toHaveAttribute('data-roles', 'institution', { timeout: 30_000 });
  expect((await roles(newInst)).institution).toBe(true);
  await reg.getByRole('button', { name: 'Suspend' }).click();
  await expect(reg.getByTestId('regulator-form-result')).toContainText('Suspend done', { timeout: 30_000 });
  await expect(reg.getByTestId('regulator-form-roles')).toContainText('suspended');
  expect((await roles(newInst)).suspended).toBe(true);
  await expect(c.getByTestId('institution-list')).toContainText('suspended');
  await app.screenshot('console-regulator');
  await c.getByRole('button', { name: 'Close console' }).click();

  // ---- institution admin
  await lock(page);
  await login(page, 'institution');
  await expect(page.getByTestId('topbar-roles')).toHaveAttribute('data-roles', 'institution');
  c = await openConsole(page);
  await expect(c.getByTestId('console-institution')).toBeVisible();
  await expect(c.getByTestId('console-regulator')).toHaveCount(0);
  const doc = Wallet.createRandom().address;
  const cf = c.getByTestId('clinician-form');
  await cf.getByLabel('Clinician account').fill(doc);
  await cf.getByRole('button', { name: 'Grant clinician' }).click();
  await expect(cf.getByTestId('clinician-form-roles')).toHaveAttribute('data-roles', 'clinician', { timeout: 30_000 });
  const r1 = await roles(doc);
  expect(r1.clinician).toBe(true);
  expect(r1.clinicianOf).toBe((await page.getByTestId('console').locator('.console__addr').textContent())?.trim());
  const pat = Wallet.createRandom().address;
  const pf = c.getByTestId('patient-form');
  await pf.getByLabel('Patient account (identity checked in person)').fill(pat);
  await pf.getByRole('button', { name: 'Register verified patient' }).click();
  await expect(pf.getByTestId('patient-form-roles')).toHaveAttribute('data-roles', 'patient', { timeout: 30_000 });
  expect((await roles(pat)).patient).toBe(true);
  await app.screenshot('console-institution');
  await cf.getByRole('button', { name: 'Remove clinician' }).click();
  await expect(cf.getByTestId('clinician-form-roles')).toHaveAttribute('data-roles', '', { timeout: 30_000 });
  expect((await roles(doc)).clinician).toBe(false);
  // A refused action: registering the same patient twice — the contract says no, the UI says why.
  await pf.getByRole('button', { name: 'Register verified patient' }).click();
  await expect(pf.getByTestId('patient-form-error')).toContainText('The contract refused registerPatientFor', { timeout: 30_000 });
  await c.getByRole('button', { name: 'Close console' }).click();

  // ---- patient
  await lock(page);
  await login(page, 'patient');
  await expect(page.getByTestId('topbar-roles')).toHaveAttribute('data-roles', 'patient');
  c = await openConsole(page);
  await expect(c.getByTestId('console-patient')).toBeVisible();
  await expect(c.getByTestId('console-patient')).toContainText('credit score is');
  await expect(c.getByTestId('patient-record-count')).toHaveAttribute('data-total', '1');
  await expect(c.getByTestId('patient-records')).toContainText('40');
  await expect(c.getByTestId('console-regulator')).toHaveCount(0);
  await expect(c.getByTestId('console-institution')).toHaveCount(0);
  await expect(page.getByTestId('anchor-button')).toBeDisabled();
  await app.screenshot('console-patient');
});
