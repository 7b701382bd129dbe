/**
 * A PACS that fails: Orthanc stopped (refused), a server that accepts and never answers (timed
 * out), a DIMSE PACS that rejects our called AE title (association rejected). Each search shows one
 * clear message with what to do; the local library keeps working (a series opens in the viewer).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import type { OrthancServer } from '../support/orthanc';
import { test, expect } from './rig';
import { importPaths, openSeries, PYDICOM } from './support/viewer';
import { browsePacs, havePacsTools, openPacsSettings, orthancWith, pacsSearch, screenshotsAtTwoSizes } from './support/pacs';

let orthanc: OrthancServer | null = null;
let silent: Server | null = null;
const sockets = new Set<Socket>();
test.afterAll(async () => {
  await orthanc?.stop();
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
});

async function addConnection(page: Page, f: { name: string; url?: string; dimse?: { port: number; calledAet: string }; timeoutS?: string }) {
  const dialog = await openPacsSettings(page);
  await dialog.getByRole('button', { name: 'Add a PACS…' }).click();
  await dialog.getByLabel('Name').fill(f.name);
  if (f.url) await dialog.getByLabel('Base URL').fill(f.url);
  else await dialog.getByRole('checkbox', { name: 'DICOMweb' }).uncheck();
  if (f.dimse) {
    await dialog.getByRole('checkbox', { name: 'DICOM (DIMSE)' }).check();
    await dialog.getByLabel('Host').fill('127.0.0.1');
    await dialog.getByLabel('Port').fill(String(f.dimse.port));
    await dialog.getByLabel('PACS AE title').fill(f.dimse.calledAet);
  }
  if (f.timeoutS) await dialog.getByLabel('Time limit (s)').fill(f.timeoutS);
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(dialog.getByTestId('pacs-connection').filter({ hasText: f.name })).toBeVisible();
  await dialog.getByRole('button', { name: 'Close' }).last().click();
}

test('PACS down, silent or rejecting: one clear message with what to do; the local library still works', async ({ app }) => {
  test.skip(!havePacsTools(), 'Orthanc or dcmtk not installed');
  test.setTimeout(150_000);
  const { page } = app;
  const local = await importPaths(page, [join(PYDICOM, 'MR_small.dcm')]);
  expect(local.added).toBe(1);
  orthanc = await orthancWith([join(PYDICOM, 'CT_small.dcm')], { config: { DicomCheckCalledAet: true } });
  // a server that accepts connections and never says a word
  silent = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', () => r()));
  const silentPort = (silent.address() as { port: number }).port;

  await addConnection(page, { name: 'Orthanc', url: orthanc.dicomWebUrl });
  await addConnection(page, { name: 'Silent', url: `http://127.0.0.1:${silentPort}/dicom-web`, timeoutS: '1' });
  await addConnection(page, { name: 'Wrong AE', dimse: { port: orthanc.dicomPort, calledAet: 'NOT_ORTHANC' } });

  // Up: the search answers (CT_small is from 2004).
  await browsePacs(page, 'Orthanc');
  await pacsSearch(page, { id: '1CT1' });
  await expect(page.getByTestId('pacs-study')).toHaveCount(1);

  // A DIMSE PACS that does not answer to our called AE title: association rejected, reason named.
  const err = page.getByTestId('pacs-error');
  await browsePacs(page, 'Wrong AE');
  await expect(err).toHaveAttribute('data-reason', 'ASSOCIATION_REJECTED', { timeout: 30_000 });
  await expect(err).toHaveCount(1);
  await expect(err).toContainText('Association rejected');
  await expect(err).toContainText('called AE title not recognised');
  await expect(err).toContainText('What to do: Correct the called AE title of the connection');
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-down-rejected');

  // Down: refused.
  await browsePacs(page, 'Orthanc');
  await expect(page.getByTestId('pacs-count')).toBeVisible({ timeout: 30_000 });
  await orthanc.stop();
  orthanc = null;
  await pacsSearch(page, { id: '1CT1' });
  await expect(err).toHaveCount(1);
  await expect(err).toHaveAttribute('data-reason', 'CONNECTION_REFUSED');
  await expect(err).toContainText('Connection refused');
  await expect(err).toContainText('refused the connection: nothing is listening on that port');
  await expect(err).toContainText('What to do: Check the port number, and that the PACS service is running.');
  await expect(page.getByTestId('pacs-study')).toHaveCount(0);
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-down-refused');

  // Silent: timed out.
  await browsePacs(page, 'Silent');
  await expect(err).toHaveAttribute('data-reason', 'TIMED_OUT', { timeout: 30_000 });
  await expect(err).toHaveCount(1);
  await expect(err).toContainText('did not answer in time');
  await expect(err).toContainText('What to do: Check that the host and port are right and that a firewall lets this workstation through');

  // The local library still works: the study is listed and a series opens.
  await page.getByTestId('study-source').selectOption('local');
  await expect(page.getByTestId('study-row')).toHaveCount(1);
  const vp = await openSeries(page, 0);
  await expect(vp).toHaveAttribute('data-state', 'ready');
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-down-local');
});
