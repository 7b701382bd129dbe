/**
 * A study anchored on the embedded chain from its original files, sent to a real Orthanc with
 * storescu, then its PatientName changed on Orthanc through the REST API (UIDs kept): retrieved
 * through the UI, the retrieve report says "altered" for every image and the viewer's badges show
 * "altered" — never "verified", at any moment.
 */
import { orthancId, orthancRest, type OrthancServer } from '../support/orthanc';
import { component } from '../support/components';
import { storescu } from '../support/dcmtk';
import { test, expect } from './rig';
import { invoke, viewport } from './support/viewer';
import { login, setupDemo } from './support/ledger';
import { addWebConnection, browsePacs, havePacsTools, orthancWith, recordRetrieve, retrieveRecord, screenshotsAtTwoSizes } from './support/pacs';
import { anchorConfirmed } from './support/trust';

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

let orthanc: OrthancServer | null = null;
test.afterAll(async () => {
  await orthanc?.stop();
});

test('PatientName changed on the PACS after anchoring: retrieved images are "altered", never "verified"', async ({ app }) => {
  test.skip(!component('anvil') || !havePacsTools(), 'anvil, Orthanc or dcmtk not installed');
  test.setTimeout(240_000);
  const { page } = app;
  await recordRetrieve(page);
  const demo = await setupDemo(app);
  const uid = demo.study!.studyInstanceUid;
  await login(page, 'clinician');
  await anchorConfirmed(page, uid);

  // The original files go to the PACS; then the local copy leaves the library (files stay on disk),
  // so the retrieved copy is what the library indexes and the viewer shows.
  // (A modification keeping the UIDs replaces the stored instance only with OverwriteInstances.)
  orthanc = await orthancWith([], { config: { OverwriteInstances: true } });
  const files = (app.services.db.prepare('SELECT file_path FROM instances ORDER BY file_path').all() as { file_path: string }[]).map((r) => r.file_path);
  expect(files).toHaveLength(40);
  const sent = await storescu(files, { port: orthanc.dicomPort, calledAet: orthanc.aet });
  expect(sent.code, sent.stderr).toBe(0);
  const local = await invoke<{ studies: { id: number; studyInstanceUid: string }[] }>(page, 'library.studies', {});
  await invoke(page, 'library.remove', { studyId: local.studies.find((s) => s.studyInstanceUid === uid)!.id });

  // PatientName changed on Orthanc for the whole study, UIDs kept.
  const id = await orthancId(orthanc, uid, 'Study');
  await orthancRest(orthanc, `/studies/${id}/modify`, {
    method: 'POST',
    body: JSON.stringify({ Replace: { PatientName: 'TAMPERED^ON^PACS' }, Keep: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID'], KeepSource: true, Force: true, Synchronous: true }),
  });

  // Found on the PACS with the new name, retrieved through the UI.
  await addWebConnection(page, 'Orthanc', orthanc.dicomWebUrl);
  await browsePacs(page, 'Orthanc');
  const row = page.getByTestId('pacs-study').filter({ hasText: 'TAMPERED ON PACS' });
  await expect(row).toHaveCount(1, { timeout: 30_000 });
  // from here on (the original local copy, before it left the library, was rightly "verified")
  await page.evaluate(() => ((window as unknown as { __pacsRec: { badges: string[] } }).__pacsRec.badges = []));
  await row.getByTestId('pacs-retrieve-study').click();
  const report = page.getByTestId('pacs-retrieve-report');
  await expect(report).toBeVisible({ timeout: 120_000 });
  await expect(report).toContainText('40 of 40 images');
  await expect(report.getByTestId('pacs-retrieve-verification')).toHaveText('Ledger check: 40 altered');

  // The viewer: the image and the study are "altered" (what differs: the metadata).
  const vp = viewport(page);
  await expect(vp).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await expect(vp).toHaveAttribute('data-count', '40');
  const badge = vp.getByTestId('image-verification');
  await expect(badge).toHaveAttribute('data-state', 'altered', { timeout: 60_000 });
  await expect(badge).toHaveText(/altered: metadata/);
  await expect(vp.getByTestId('viewer-study-verification')).toHaveAttribute('data-state', 'altered', { timeout: 60_000 });
  for (const n of [10, 39]) {
    await vp.getByTestId('stack-scrollbar').fill(String(n));
    await expect(vp).toHaveAttribute('data-position', String(n));
    await expect(badge).toHaveAttribute('data-state', 'altered', { timeout: 30_000 });
  }
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-altered-viewer');

  // In the local library too.
  await page.getByRole('button', { name: 'Show in the local library' }).click();
  await expect(page.getByTestId('study-row').getByTestId('study-verification')).toHaveAttribute('data-state', 'altered', { timeout: 60_000 });

  // At no moment since the retrieve started did any badge say "verified".
  const rec = await retrieveRecord(page);
  expect(rec.badges.filter((b) => b.endsWith(':verified')), rec.badges.join(', ')).toEqual([]);
  expect(rec.badges).toContain('image-verification:altered');
});
