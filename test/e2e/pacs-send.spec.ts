/**
 * Send to PACS from the study browser (a real Orthanc): the DEMO study, anchored on the embedded
 * chain after "Record Orthanc as the store of new anchors", goes to Orthanc by STOW-RS with a result
 * per image; Orthanc's REST API then holds every SOP Instance UID byte for byte (SHA-256 of
 * /instances/{id}/file = SHA-256 of the local file), and the dialog says the anchor's record names
 * this PACS. A second Orthanc (DIMSE only) gets it by C-STORE in its
 * own transfer syntax; the receiver re-encodes (its File Meta Information, sequence lengths), so the
 * check there is what the anchor commits to: the same pixel and metadata digests and leaf. (Orthanc 1.10
 * answers Success even for an instance its Lua filter drops, so a refusal is tested in the unit test
 * of send: STOW-RS failure reasons and C-STORE statuses in DICOM terms.)
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { orthancId, orthancRest, type OrthancServer } from '../support/orthanc';
import { fingerprintBytes } from '../../src/node/fingerprint/compute';
import { dataSetOf } from '../../src/node/pacs/part10';
import { component } from '../support/components';
import { test, expect } from './rig';
import { login, setupDemo } from './support/ledger';
import { havePacsTools, orthancWith, screenshotsAtTwoSizes } from './support/pacs';
import { anchorConfirmed } from './support/trust';

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

const servers: OrthancServer[] = [];
test.afterAll(async () => {
  for (const o of servers) await o.stop();
});

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');


test('send an anchored study to a PACS: STOW-RS stores every file byte for byte, C-STORE the anchored fingerprints, a result per image', async ({ app }) => {
  test.skip(!component('anvil') || !havePacsTools(), 'anvil, Orthanc or dcmtk not installed');
  test.setTimeout(300_000);
  const { page } = app;

  const orthanc = await orthancWith([]);
  servers.push(orthanc);
  app.services.pacs.add({ name: 'Orthanc', dicomweb: { url: orthanc.dicomWebUrl, auth: 'none' }, dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet } });
  // A second PACS, DIMSE only.
  const archive = await orthancWith([], { aet: 'ARCHIVE2' });
  servers.push(archive);
  app.services.pacs.add({ name: 'Archive 2', dimse: { host: '127.0.0.1', port: archive.dicomPort, calledAet: 'ARCHIVE2' } });
  const demo = await setupDemo(app);
  const uid = demo.study!.studyInstanceUid;
  await login(page, 'clinician');

  const local = app.services.db
    .prepare('SELECT i.sop_uid AS sop, i.file_path AS path FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id WHERE st.study_uid = ?')
    .all(uid) as { sop: string; path: string }[];
  expect(local).toHaveLength(40);

  // Not anchored yet: the dialog says so and offers to make Orthanc the store new anchors record.
  const studyRow = page.getByTestId('study-row').first();
  await studyRow.getByTestId('send-to-pacs').click();
  const dialog = page.getByTestId('pacs-send');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('pacs-send-what')).toContainText('40 images');
  const anchorNote = dialog.getByTestId('pacs-send-anchor');
  await expect(anchorNote).toContainText('not anchored on the ledger yet');
  await dialog.getByLabel('PACS').selectOption({ label: 'Orthanc' });
  await anchorNote.getByRole('button', { name: 'Record Orthanc as the store of new anchors' }).click();
  await expect(dialog.getByTestId('pacs-send-store-note')).toHaveText(`New anchors will record dicomweb:${orthanc.dicomWebUrl}.`);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();

  const anchored = await anchorConfirmed(page, uid);
  expect(anchored.anchor.storageUri).toBe(`dicomweb:${orthanc.dicomWebUrl}`);

  // Send by STOW-RS: the anchor's record names this PACS; a result per image.
  await studyRow.getByTestId('send-to-pacs').click();
  await expect(anchorNote).toHaveAttribute('data-names-this-pacs', 'true');
  await expect(anchorNote).toContainText('its record names this PACS as the store');
  // the PACS the anchor's record names is offered first
  await expect(dialog.getByLabel('PACS').locator('option:checked')).toHaveText('Orthanc');
  await expect(dialog.getByRole('radio', { name: 'DICOMweb STOW-RS' })).toBeEnabled();
  await expect(dialog.getByRole('radio', { name: 'DICOM C-STORE' })).toBeEnabled();
  await dialog.getByRole('radio', { name: 'DICOMweb STOW-RS' }).check();
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-send-dialog');
  await dialog.getByRole('button', { name: 'Send', exact: true }).click();
  const report = dialog.getByTestId('pacs-send-report');
  await expect(report).toBeVisible({ timeout: 120_000 });
  await expect(report).toContainText('40 of 40 images stored on Orthanc by DICOMweb STOW-RS');
  await expect(report).toHaveAttribute('data-failed', '0');
  const results = dialog.getByTestId('pacs-send-result');
  await expect(results).toHaveCount(40);
  await expect(dialog.locator('[data-testid=pacs-send-result][data-ok=true]')).toHaveCount(40);
  const shownSops = await results.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.sop).sort());
  expect(shownSops).toEqual(local.map((l) => l.sop).sort());
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-send-done');

  // Orthanc holds every instance, byte for byte.
  for (const l of local) {
    const onPacs = new Uint8Array((await orthancRest(orthanc, `/instances/${await orthancId(orthanc, l.sop, 'Instance')}/file`)) as Buffer);
    expect(sha256(onPacs), `bytes of ${l.sop}`).toBe(sha256(readFileSync(l.path)));
  }
  await dialog.locator('.modal__actions').getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();

  // A second PACS with DIMSE only: STOW-RS is not offered, C-STORE is; every image arrives there too.
  await studyRow.getByTestId('send-to-pacs').click();
  await dialog.getByLabel('PACS').selectOption({ label: 'Archive 2' });
  await expect(dialog.getByRole('radio', { name: 'DICOMweb STOW-RS' })).toBeDisabled();
  await expect(dialog.getByRole('radio', { name: 'DICOM C-STORE' })).toBeChecked();
  await expect(anchorNote).toHaveAttribute('data-names-this-pacs', 'false');
  await expect(anchorNote).toContainText('its record names another store');
  await dialog.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(report).toBeVisible({ timeout: 120_000 });
  await expect(report).toContainText('40 of 40 images stored on Archive 2 by DICOM C-STORE');
  await expect(dialog.locator('[data-testid=pacs-send-result][data-ok=true]')).toHaveCount(40);
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-send-cstore');
  for (const l of local) {
    const raw = new Uint8Array((await orthancRest(archive, `/instances/${await orthancId(archive, l.sop, 'Instance')}/file`)) as Buffer);
    const onPacs = await fingerprintBytes(raw);
    const mine = await fingerprintBytes(new Uint8Array(readFileSync(l.path)));
    // what the anchor's leaf commits to: the same pixels, the same metadata (the receiver re-encodes
    // sequence lengths and its own File Meta Information, so the files are not the same bytes)
    expect(dataSetOf(raw)!.transferSyntaxUid).toBe(dataSetOf(readFileSync(l.path))!.transferSyntaxUid);
    expect([onPacs.pixel, onPacs.meta, onPacs.leaf], `fingerprint of ${l.sop} (C-STORE)`).toEqual([mine.pixel, mine.meta, mine.leaf]);
  }
  // The method chosen is remembered per connection: Orthanc offers STOW-RS again, as last used there.
  await dialog.locator('.modal__actions').getByRole('button', { name: 'Close' }).click();
  await studyRow.getByTestId('send-to-pacs').click();
  await dialog.getByLabel('PACS').selectOption({ label: 'Orthanc' });
  await expect(dialog.getByRole('radio', { name: 'DICOMweb STOW-RS' })).toBeChecked();
});
