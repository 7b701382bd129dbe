/**
 * Settings → PACS against a real Orthanc (DICOMweb plugin, HTTP basic sign-in, DICOM port): a
 * connection added through the dialog tests OK over DICOMweb (studies seen) and DIMSE (C-ECHO); a
 * wrong port says "refused" with what to do; a wrong password says 401; the password never
 * appears in the page or in what the renderer receives.
 */
import { join } from 'node:path';
import { freeLoopbackPort } from '../../src/node/net';
import type { OrthancServer } from '../support/orthanc';
import { test, expect } from './rig';
import { invoke } from './support/viewer';
import { havePacsTools, openPacsSettings, orthancWith, PYDICOM, screenshotsAtTwoSizes } from './support/pacs';

const PASSWORD = 'S3cret-pw-4711';
let orthanc: OrthancServer | null = null;
test.afterEach(async () => {
  await orthanc?.stop();
  orthanc = null;
});

test('add a PACS, Test says OK; a wrong port says refused with the hint; the password never reaches the page', async ({ app }) => {
  test.skip(!havePacsTools(), 'Orthanc or dcmtk not installed');
  test.setTimeout(120_000);
  const { page } = app;
  orthanc = await orthancWith([join(PYDICOM, 'CT_small.dcm')], { config: { AuthenticationEnabled: true, RegisteredUsers: { rad: PASSWORD } } });

  const dialog = await openPacsSettings(page);
  await expect(dialog.getByTestId('pacs-connections')).toContainText('No PACS connection yet.');
  await dialog.getByRole('button', { name: 'Add a PACS…' }).click();
  await dialog.getByLabel('Name').fill('Hospital Orthanc');
  await dialog.getByLabel('Base URL').fill(orthanc.dicomWebUrl);
  await dialog.getByLabel('Sign-in').selectOption('basic');
  await dialog.getByLabel('User name').fill('rad');
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('checkbox', { name: 'DICOM (DIMSE)' }).check();
  await dialog.getByLabel('Host').fill('127.0.0.1');
  await dialog.getByLabel('Port').fill(String(orthanc.dicomPort));
  await dialog.getByLabel('PACS AE title').fill(orthanc.aet);
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-settings-form');
  await dialog.getByRole('button', { name: 'Save and test' }).click();

  const row = dialog.getByTestId('pacs-connection').filter({ hasText: 'Hospital Orthanc' });
  const result = row.getByTestId('pacs-test-result');
  await expect(result).toHaveAttribute('data-ok', 'true', { timeout: 30_000 });
  await expect(row.getByTestId('pacs-test-dicomweb')).toContainText('DICOMweb: OK');
  await expect(row.getByTestId('pacs-test-dicomweb')).toContainText('studies seen on the PACS');
  await expect(row.getByTestId('pacs-test-dimse')).toContainText('DIMSE (C-ECHO): OK');
  await expect(row).toContainText('user rad, password stored');
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-settings-ok');

  // A wrong port: refused, and what to do.
  const port = await freeLoopbackPort();
  await dialog.getByRole('button', { name: 'Add a PACS…' }).click();
  await dialog.getByLabel('Name').fill('Wrong port');
  await dialog.getByLabel('Base URL').fill(`http://127.0.0.1:${port}/dicom-web`);
  await dialog.getByRole('button', { name: 'Save and test' }).click();
  const bad = dialog.getByTestId('pacs-connection').filter({ hasText: 'Wrong port' });
  await expect(bad.getByTestId('pacs-test-result')).toHaveAttribute('data-ok', 'false', { timeout: 30_000 });
  const web = bad.getByTestId('pacs-test-dicomweb');
  await expect(web).toHaveAttribute('data-reason', 'CONNECTION_REFUSED');
  await expect(web).toContainText('Connection refused');
  await expect(web).toContainText(`127.0.0.1:${port} refused the connection`);
  await expect(web).toContainText('What to do: Check the port number, and that the PACS service is running.');
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-settings-refused');

  // A wrong password (edit keeps the name; a new password replaces the stored one): 401.
  await row.getByRole('button', { name: 'Edit' }).click();
  const secret = dialog.getByLabel('Password');
  await expect(secret).toHaveValue('');
  await expect(secret).toHaveAttribute('placeholder', 'stored — leave empty to keep it');
  await secret.fill('not-the-password');
  await dialog.getByRole('button', { name: 'Save and test' }).click();
  const web401 = row.getByTestId('pacs-test-dicomweb');
  await expect(web401).toHaveAttribute('data-reason', 'UNAUTHORIZED', { timeout: 30_000 });
  await expect(web401).toContainText('Sign-in refused (401)');
  await expect(web401).toContainText('What to do: Check the user name and password');

  // Back to the right password; leaving the field empty on a later edit keeps it.
  await row.getByRole('button', { name: 'Edit' }).click();
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Save and test' }).click();
  await expect(row.getByTestId('pacs-test-result')).toHaveAttribute('data-ok', 'true', { timeout: 30_000 });
  await row.getByRole('button', { name: 'Edit' }).click();
  await dialog.getByLabel('Time limit (s)').fill('20');
  await dialog.getByRole('button', { name: 'Save and test' }).click();
  await expect(row.getByTestId('pacs-test-result')).toHaveAttribute('data-ok', 'true', { timeout: 30_000 });

  // The password is nowhere in the page, nor in any answer the renderer gets.
  expect(await page.content()).not.toContain(PASSWORD);
  expect(await page.evaluate(() => document.body.innerText)).not.toContain(PASSWORD);
  const listed = await invoke<{ connections: unknown[] }>(page, 'pacs.connections.list', {});
  expect(JSON.stringify(listed)).not.toContain(PASSWORD);
  expect(listed.connections).toEqual(
    expect.arrayContaining([expect.objectContaining({ name: 'Hospital Orthanc', dicomweb: expect.objectContaining({ auth: 'basic', username: 'rad', hasPassword: true, hasToken: false }) })]),
  );
  // The source switch offers both connections.
  await dialog.getByRole('button', { name: 'Close' }).last().click();
  await expect(page.getByTestId('study-source').locator('option')).toHaveText(['Local library', 'PACS: Hospital Orthanc', 'PACS: Wrong port']);
});
