/**
 * Prior comparison from a PACS: when the local library has no earlier study of the patient, the
 * configured PACS (a real Orthanc filled with storescu) is searched by Patient ID, modality and date;
 * the most recent earlier study is offered; "Retrieve and compare" fetches its most similar series
 * with progress and opens it beside the current one (1×2, PRIOR with its date, linked by position in
 * the shared frame of reference). A patient with no prior on the PACS, and a PACS that is down, are
 * told so in words the reader can act on.
 */
import { join } from 'node:path';
import type { OrthancServer } from '../support/orthanc';
import type { InstanceSummary, SeriesSummary, StudySummary } from '../../src/shared/api';
import { testUid, writeAsStudy, writeLinkedStudy } from '../support/linked-series';
import { tempDir } from '../support/tmp';
import { test, expect } from './rig';
import { importPaths, invoke, viewport, dropSeries } from './support/viewer';
import { ready, screenshotsAtBothSizes, seriesOfFile } from './support/linked';
import { addWebConnection, havePacsTools, orthancWith } from './support/pacs';

let orthanc: OrthancServer | null = null;
const dir = tempDir('medimg-prior-pacs-');
test.afterAll(async () => {
  await orthanc?.stop();
  dir.cleanup();
});

test('an earlier study found on the PACS is retrieved and opened as the prior; none, and a PACS down, are said plainly', async ({ app }) => {
  test.skip(!havePacsTools(), 'Orthanc or dcmtk not installed');
  test.setTimeout(180_000);
  const { page } = app;
  // Patient A: the current CT is local; its 2024 prior is only on the PACS (same frame of reference), beside
  // a scout series of that study, a study of another patient and a later study of the same patient.
  const a = await writeLinkedStudy(join(dir.path, 'a'), { seed: 7700, slices: 30, matrix: 128, sagittals: 1 });
  const prior = writeAsStudy(a.axial.files, join(dir.path, 'prior'), { key: 'pacs-prior-7700', patientId: a.patientId, studyDate: '20240901', description: 'CT CHEST PRIOR', seriesNumber: '2' });
  const priorStudyUid = testUid('pacs-prior-7700:study');
  const scout = writeAsStudy(a.axial.files.slice(0, 2), join(dir.path, 'scout'), { key: 'pacs-scout-7700', patientId: a.patientId, studyDate: '20240901', studyInstanceUid: priorStudyUid, description: 'CT CHEST PRIOR', seriesDescription: 'SCOUT', seriesNumber: '1' });
  const other = writeAsStudy(a.axial.files.slice(0, 3), join(dir.path, 'other'), { key: 'pacs-other-7700', patientId: `${a.patientId}-OTHER`, studyDate: '20250101' });
  const later = writeAsStudy(a.axial.files.slice(0, 3), join(dir.path, 'later'), { key: 'pacs-later-7700', patientId: a.patientId, studyDate: '20991231' });
  // Patient B: nothing earlier anywhere.
  const b = await writeLinkedStudy(join(dir.path, 'b'), { seed: 7800, slices: 12, matrix: 128, sagittals: 1 });
  orthanc = await orthancWith([...prior, ...scout, ...other, ...later]);

  await importPaths(page, [a.axial.dir, b.axial.dir]);
  const curA = await seriesOfFile(page, a.axial.files[0]!);
  const curB = await seriesOfFile(page, b.axial.files[0]!);
  await addWebConnection(page, 'Orthanc', orthanc.dicomWebUrl);

  // ---- A: the prior is on the PACS only.
  await dropSeries(page, curA.series.id, 0);
  await ready(viewport(page, 0));
  await page.getByTestId('link-menu').click();
  await page.getByTestId('compare-prior').click();
  const notice = page.getByTestId('prior-notice');
  await expect(notice).toHaveAttribute('data-offer', 'pacs', { timeout: 30_000 });
  await expect(notice).toContainText(`No earlier CT study of patient ${a.patientId} in the local library. On the PACS “Orthanc”:`);
  const offered = notice.getByTestId('prior-pacs-study');
  await expect(offered).toHaveAttribute('data-study-uid', priorStudyUid);
  await expect(offered).toContainText('2024-09-01');
  await expect(offered).toContainText('CT CHEST PRIOR');
  await expect(offered).toContainText('32 images'); // the prior's 30 axial images and its 2-image scout
  await screenshotsAtBothSizes(page, app.screenshot, 'prior-from-pacs-offer', async () => {
    await expect(notice.getByTestId('prior-retrieve')).toBeVisible();
  });

  await notice.getByTestId('prior-retrieve').click();
  await expect(page.locator('main.viewport-area')).toHaveAttribute('data-layout', '1x2', { timeout: 60_000 });
  await ready(viewport(page, 0));
  await ready(viewport(page, 1));
  await expect(viewport(page, 0)).toHaveAttribute('data-instance-id', String(curA.instances[0]!.id));
  await expect(viewport(page, 1).getByTestId('comparison-label')).toHaveText('PRIOR2024-09-01');
  await expect(viewport(page, 0).getByTestId('comparison-label')).toHaveAttribute('data-which', 'current');
  await expect(notice).toHaveCount(0);
  // The axial series was fetched (30 images), not the 2-image scout.
  const { studies } = await invoke<{ studies: StudySummary[] }>(page, 'library.studies', {});
  const priorStudy = studies.find((st) => st.studyInstanceUid === priorStudyUid);
  expect(priorStudy, 'the prior study is in the library').toBeDefined();
  const { series: fetched } = await invoke<{ series: SeriesSummary[] }>(page, 'library.series', { studyId: priorStudy!.id });
  expect(fetched.map((x) => x.instanceCount)).toEqual([30]);
  const { instances: priorImages } = await invoke<{ instances: InstanceSummary[] }>(page, 'library.instances', { seriesId: fetched[0]!.id });
  const { frameOfReferenceUid } = await invoke<{ frameOfReferenceUid: string | null }>(page, 'viewing.frameOfReference', { seriesId: fetched[0]!.id });
  const { frameOfReferenceUid: currentFor } = await invoke<{ frameOfReferenceUid: string | null }>(page, 'viewing.frameOfReference', { seriesId: curA.series.id });
  expect(frameOfReferenceUid).toBe(currentFor);
  expect(priorImages.filter((i) => i.geometry.imagePositionPatient !== null)).toHaveLength(30);
  // The same frame of reference: linked by position at once (a scroll before the prior's geometry has
  // arrived is followed when it does).
  await viewport(page, 0).click({ position: { x: 20, y: 60 } });
  await viewport(page, 0).getByTestId('stack-scrollbar').fill('17');
  await expect(viewport(page, 0)).toHaveAttribute('data-position', '17');
  await expect(viewport(page, 1)).toHaveAttribute('data-position', '17');
  await screenshotsAtBothSizes(page, app.screenshot, 'prior-from-pacs-compared', async () => {
    await expect(viewport(page, 1).getByTestId('comparison-label')).toBeVisible();
  });

  // ---- B: nothing earlier on the PACS either.
  await dropSeries(page, curB.series.id, 0);
  await ready(viewport(page, 0));
  // A's prior stays in the other viewport, but no longer labelled as a prior: it is not B's.
  await expect(page.getByTestId('comparison-label')).toHaveCount(0);
  await page.getByTestId('link-menu').click();
  await page.getByTestId('compare-prior').click();
  await expect(notice).toContainText(`No earlier CT study of patient ${b.patientId} in the local library. Import or retrieve the prior study first. None on “Orthanc” either.`, { timeout: 30_000 });

  // ---- the PACS is down: the local answer, and what to do about the PACS.
  await orthanc.stop();
  orthanc = null;
  await notice.getByRole('button', { name: 'Dismiss' }).click();
  await page.getByTestId('link-menu').click();
  await page.getByTestId('compare-prior').click();
  await expect(notice).toContainText('“Orthanc” could not be searched', { timeout: 30_000 });
  await expect(notice).toContainText(`No earlier CT study of patient ${b.patientId} in the local library.`);
  await screenshotsAtBothSizes(page, app.screenshot, 'prior-from-pacs-down');
});
