/**
 * A PACS copy next to the local original. The demo study is anchored from its original files,
 * which stay in the library, and sent to a real Orthanc; there, one image's PatientName is changed
 * through Orthanc's REST API (UIDs kept). Retrieved through the UI: the report says one image came
 * back with other bytes and was kept as the PACS copy; the viewer shows the series as the PACS has
 * it, and on that image says "PACS copy · Orthanc" above an "altered: metadata" badge — never
 * "verified". The study browser lists the copy under the series; the series itself opens the
 * library's original, verified, with no PACS mark.
 */
import { orthancRenamePatient, type OrthancServer } from '../support/orthanc';
import { component } from '../support/components';
import { storescu } from '../support/dcmtk';
import { test, expect } from './rig';
import { expandAll, invoke, viewport } from './support/viewer';
import { login, setupDemo } from './support/ledger';
import { addWebConnection, browsePacs, havePacsTools, orthancWith, screenshotsAtTwoSizes } from './support/pacs';
import { anchorConfirmed } from './support/trust';

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

let orthanc: OrthancServer | null = null;
test.afterAll(async () => {
  await orthanc?.stop();
});

test('a PACS copy that differs from the local original: shown as the PACS copy, "altered" with what differs; the original stays verified', async ({ app }) => {
  test.skip(!component('anvil') || !havePacsTools(), 'anvil, Orthanc or dcmtk not installed');
  test.setTimeout(240_000);
  const { page } = app;
  const demo = await setupDemo(app);
  const uid = demo.study!.studyInstanceUid;
  await login(page, 'clinician');
  await anchorConfirmed(page, uid);

  // The originals go to the PACS and stay in the library.
  orthanc = await orthancWith([], { config: { OverwriteInstances: true } });
  const files = (app.services.db.prepare('SELECT file_path FROM instances ORDER BY file_path').all() as { file_path: string }[]).map((r) => r.file_path);
  expect(files).toHaveLength(40);
  const sent = await storescu(files, { port: orthanc.dicomPort, calledAet: orthanc.aet });
  expect(sent.code, sent.stderr).toBe(0);
  const local = await invoke<{ studies: { id: number; studyInstanceUid: string }[] }>(page, 'library.studies', {});
  const studyId = local.studies.find((s) => s.studyInstanceUid === uid)!.id;
  const { series } = await invoke<{ series: { id: number }[] }>(page, 'library.series', { studyId });
  const seriesId = series[0]!.id;
  const before = await invoke<{ instances: { id: number; sopInstanceUid: string }[] }>(page, 'library.instances', { seriesId });
  const at = 12; // the image (in reading order) whose copy is changed on the PACS
  const victim = before.instances[at]!.sopInstanceUid;

  // On Orthanc: that one instance's PatientName changed, its UIDs kept (stored in place of the original).
  await orthancRenamePatient(orthanc, victim, 'TAMPERED^ON^PACS');

  // Retrieved through the UI: one image kept as the PACS copy, "1 altered".
  await addWebConnection(page, 'Orthanc', orthanc.dicomWebUrl);
  await browsePacs(page, 'Orthanc');
  const row = page.getByTestId('pacs-study');
  await expect(row).toHaveCount(1, { timeout: 30_000 });
  await row.getByTestId('pacs-retrieve-study').click();
  const report = page.getByTestId('pacs-retrieve-report');
  await expect(report).toBeVisible({ timeout: 120_000 });
  await expect(report).toContainText('40 of 40 images');
  await expect(report.getByTestId('pacs-retrieve-verification')).toHaveText('Ledger check: 1 altered, 39 verified');
  await expect(report.getByTestId('pacs-retrieve-copies')).toContainText('1 image(s) came back from Orthanc with other bytes');

  // The viewer: the series as the PACS has it. On the changed image: "PACS copy · Orthanc", "altered: metadata".
  const vp = viewport(page);
  await expect(vp).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await expect(vp).toHaveAttribute('data-count', '40');
  const badge = vp.getByTestId('image-verification');
  const mark = vp.getByTestId('viewer-source');
  await vp.getByTestId('stack-scrollbar').fill(String(at));
  await expect(vp).toHaveAttribute('data-position', String(at));
  await expect(badge).toHaveAttribute('data-state', 'altered', { timeout: 60_000 });
  await expect(badge).toHaveText(/altered: metadata/);
  await expect(mark).toHaveText('PACS copy · Orthanc — differs from the library\'s image');
  await expect(mark).toHaveAttribute('data-source', 'pacs:Orthanc');
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-copy-viewer');
  // a neighbour the PACS returned unchanged: verified, no PACS-copy mark
  await vp.getByTestId('stack-scrollbar').fill(String(at + 1));
  await expect(vp).toHaveAttribute('data-position', String(at + 1));
  await expect(badge).toHaveAttribute('data-state', 'verified', { timeout: 60_000 });
  await expect(mark).toHaveCount(0);

  // The study browser: the series (still 40 images) with its PACS copy listed under it.
  await page.getByRole('button', { name: 'Show in the local library' }).click();
  const rows = await expandAll(page);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('40 images');
  const copy = rows.first().getByTestId('series-pacs-copy');
  await expect(copy).toHaveText('PACS copy · Orthanc: 1 differs');

  // The series itself: the library's original of that image, verified, no PACS mark.
  await rows.first().locator('.series__thumb').click();
  await expect(vp).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await vp.getByTestId('stack-scrollbar').fill(String(at));
  await expect(vp).toHaveAttribute('data-position', String(at));
  await expect(badge).toHaveAttribute('data-state', 'verified', { timeout: 60_000 });
  await expect(mark).toHaveCount(0);
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-copy-library');

  // The PACS copy from the browser: the mark and "altered" again on that image.
  await copy.click();
  await expect(vp).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await vp.getByTestId('stack-scrollbar').fill(String(at));
  await expect(vp).toHaveAttribute('data-position', String(at));
  await expect(mark).toBeVisible();
  await expect(badge).toHaveAttribute('data-state', 'altered', { timeout: 60_000 });
});
