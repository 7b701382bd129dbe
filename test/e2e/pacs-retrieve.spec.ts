/**
 * Retrieve from a PACS (a real Orthanc filled with storescu): the series' Retrieve button shows a
 * progress bar with images/s and MB/s and a Cancel button; the first image is indexed and shown
 * while the retrieve runs (a pacs-retrieve event before the answer); at the end the study is in
 * the local library and open in the viewer with every image.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { writeSampleSeries } from '../../src/node/dicom/sample';
import { holdPacs } from '../support/held-pacs';
import type { OrthancServer } from '../support/orthanc';
import { tempDir } from '../support/tmp';
import { test, expect } from './rig';
import { expandAll, viewport } from './support/viewer';
import { addWebConnection, browsePacs, havePacsTools, orthancWith, recordRetrieve, retrieveRecord, screenshotsAtTwoSizes } from './support/pacs';

let orthanc: OrthancServer | null = null;
const tmp = tempDir('medimg-pacs-retrieve-');
test.afterAll(async () => {
  await orthanc?.stop();
  tmp.cleanup();
});

test('retrieve a series: progress with images/s and MB/s, first image shown, then the study in the library and the viewer', async ({ app }) => {
  test.skip(!havePacsTools(), 'Orthanc or dcmtk not installed');
  test.setTimeout(150_000);
  const { page } = app;
  const ct = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 24, kind: 'ct', seed: 4242 });
  orthanc = await orthancWith(ct.files);
  await recordRetrieve(page);
  await app.open();
  await addWebConnection(page, 'Orthanc', orthanc.dicomWebUrl);
  await browsePacs(page, 'Orthanc');

  // Today's studies (the default query): the synthetic CT.
  const row = page.getByTestId('pacs-study');
  await expect(row).toHaveCount(1, { timeout: 30_000 });
  await expect(row).toContainText('SYNTHETIC PHANTOM');
  await expect(row.locator('td.pacs-table__images')).toHaveText('24');
  await row.click();
  const series = page.getByTestId('pacs-series');
  await expect(series).toHaveCount(1);
  await series.getByTestId('pacs-retrieve-series').click();

  const box = page.getByTestId('pacs-retrieval');
  await expect(box).toBeVisible();
  const report = box.getByTestId('pacs-retrieve-report');
  await expect(report).toBeVisible({ timeout: 60_000 });
  await expect(box).toHaveAttribute('data-running', 'false');
  await expect(report).toContainText('24 of 24 images');
  await expect(report).toContainText(/images\/s · [\d.]+ MB\/s/);

  // What was on screen while it ran: a progress bar with counts, images/s and MB/s.
  const rec = await retrieveRecord(page);
  expect(rec.progress.some((t) => /[\d.]+ images\/s, [\d.]+ MB\/s · \d+ of 24/.test(t)), rec.progress.join(' | ')).toBe(true);
  // The first image was indexed and announced before the retrieve answered.
  expect(rec.events.filter((e) => e.type === 'pacs-retrieve')).toHaveLength(1);

  // The viewer shows the series, every image of it.
  const vp = viewport(page);
  await expect(vp).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await expect(vp).toHaveAttribute('data-count', '24');
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-retrieve-done');
  // Once a series is open the image is the hero again: the browser narrows to what identifies a study.
  for (const [w, h, share] of [
    [1920, 1080, 0.65],
    [1280, 720, 0.6],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await expect.poll(async () => (await vp.boundingBox())!.width / w, { message: `viewer's share of ${w}×${h}` }).toBeGreaterThan(share);
  }
  // and the trust drawer takes its own column beside the image, not the image's place
  await page.keyboard.press('u');
  await expect(page.getByTestId('trust-drawer')).toBeVisible();
  await expect.poll(async () => (await vp.boundingBox())?.width ?? 0).toBeGreaterThan(440);
  const drawer = (await page.getByTestId('trust-drawer').boundingBox())!;
  expect(drawer.x).toBeGreaterThanOrEqual((await vp.boundingBox())!.x + (await vp.boundingBox())!.width - 1);
  await app.screenshot('pacs-retrieve-trust-1280x720');
  await page.keyboard.press('u');
  await expect(page.getByTestId('trust-drawer')).toHaveCount(0);
  await page.setViewportSize({ width: 1440, height: 900 });
  // while it arrived, the viewport showed the first image(s) before the whole series (when the PACS was slower than one render)
  test.info().annotations.push({ type: 'viewport states', description: rec.viewport.join(' → ') });

  // The study is in the local library.
  await page.getByRole('button', { name: 'Show in the local library' }).click();
  const rows = await expandAll(page);
  await expect(page.getByTestId('study-row')).toHaveCount(1);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('24 images');
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-retrieve-library');

  // Retrieving again fetches nothing (everything cached) and still opens the series.
  await page.getByTestId('study-source').selectOption({ label: 'PACS: Orthanc' });
  await page.getByTestId('pacs-study').first().getByTestId('pacs-retrieve-study').click();
  await expect(page.getByTestId('pacs-retrieve-report')).toContainText('(24 already here)', { timeout: 60_000 });
});

test('retrieve method: WADO-RS, C-GET or C-MOVE as the connection offers; the choice is remembered for that PACS', async ({ app }) => {
  test.skip(!havePacsTools(), 'Orthanc or dcmtk not installed');
  test.setTimeout(150_000);
  const { page } = app;
  const mr = await writeSampleSeries({ outDir: join(tmp.path, 'mr'), slices: 8, kind: 'mr', seed: 77 });
  // Orthanc answers C-GET only for a calling AE it knows (it lets an unknown one time out)
  const o = await orthancWith(mr.files, { config: { DicomModalities: { medimg: ['MEDIMGSHR', '127.0.0.1', 11112] } } });
  try {
    app.services.pacs.add({ name: 'Both', dicomweb: { url: o.dicomWebUrl, auth: 'none' }, dimse: { host: '127.0.0.1', port: o.dicomPort, calledAet: o.aet } });
    await app.open();
    await browsePacs(page, 'Both');
    const via = page.getByTestId('pacs-retrieve-via');
    await expect(via.locator('option')).toHaveText(['WADO-RS', 'C-GET', 'C-MOVE']);
    await expect(via).toHaveValue('wado-rs');
    await via.selectOption('c-get');

    const row = page.getByTestId('pacs-study');
    await expect(row).toHaveCount(1, { timeout: 30_000 });
    await row.getByTestId('pacs-retrieve-study').click();
    const report = page.getByTestId('pacs-retrieve-report');
    await expect(report).toContainText('8 of 8 images', { timeout: 60_000 });
    await expect(page.getByTestId('pacs-retrieve-via-used')).toHaveText('by C-GET');
    await expect(viewport(page)).toHaveAttribute('data-count', '8', { timeout: 30_000 });
    await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-retrieve-via');

    // Remembered for this connection: back to the local library and to the PACS again, after a reload.
    await app.open();
    await browsePacs(page, 'Both');
    await expect(page.getByTestId('pacs-retrieve-via')).toHaveValue('c-get');
  } finally {
    await o.stop();
  }
});

test('a large series: its first image is on screen before the retrieve completes; the stack grows and keeps the image being read', async ({ app }) => {
  test.skip(!havePacsTools(), 'Orthanc or dcmtk not installed');
  test.setTimeout(300_000);
  const { page } = app;
  const N = 200;
  const ct = await writeSampleSeries({ outDir: join(tmp.path, 'large'), slices: N, kind: 'ct', seed: 5150 });
  const o = await orthancWith(ct.files);
  // The images come through a relay that lets them arrive only as far as this test says, so what is
  // asserted "while the retrieve runs" does not depend on how fast this machine is at the moment.
  const slice = statSync(ct.files[0]!).size;
  const pacs = await holdPacs(o.dicomWebUrl, 20 * slice);
  try {
    await recordRetrieve(page);
    await app.open();
    await addWebConnection(page, 'Orthanc', pacs.url);
    await browsePacs(page, 'Orthanc');
    const row = page.getByTestId('pacs-study');
    await expect(row).toHaveCount(1, { timeout: 30_000 });
    await row.click();
    await page.getByTestId('pacs-series').getByTestId('pacs-retrieve-series').click();

    // About 20 images have come: the first is drawn in a stack shorter than the series, the retrieve still running.
    const vp = viewport(page);
    const box = page.getByTestId('pacs-retrieval');
    await expect(vp).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await expect(box).toHaveAttribute('data-running', 'true');
    const first = Number(await vp.getAttribute('data-count'));
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(N);
    expect(await vp.getAttribute('data-position')).toBe('0');

    // About 60 have come: the stack has grown, the image being read has not moved.
    pacs.allow(60 * slice);
    await expect.poll(async () => Number(await vp.getAttribute('data-count')), { timeout: 60_000 }).toBeGreaterThan(first);
    await expect(box).toHaveAttribute('data-running', 'true');
    expect(Number(await vp.getAttribute('data-count'))).toBeLessThan(N);
    await expect(vp).toHaveAttribute('data-position', '0');

    // The rest.
    pacs.allow(Infinity);
    await expect(page.getByTestId('pacs-retrieve-report')).toBeVisible({ timeout: 240_000 });
    await expect(box).toHaveAttribute('data-running', 'false');
    const rec = await retrieveRecord(page);
    // "ready:<count>:<position>" while it ran → [count, position]
    const shownWhileRunning = rec.during.filter((d) => d.startsWith('ready:')).map((d) => d.split(':').slice(1).map(Number) as [number, number]);
    const counts = [...new Set(shownWhileRunning.map((d) => d[0]))];
    expect(counts.length, rec.during.join(' | ')).toBeGreaterThan(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(N);
    // the image being read stayed the same while images arrived (position 0: no jump, no reset)
    expect(new Set(shownWhileRunning.map((d) => d[1]))).toEqual(new Set([0]));

    // At the end: the whole series, the image being read still on screen; scrolling reaches the last arrival.
    await expect(vp).toHaveAttribute('data-count', String(N), { timeout: 30_000 });
    await expect(vp).toHaveAttribute('data-position', '0');
    await vp.getByTestId('stack-scrollbar').fill(String(N - 1));
    await expect(vp).toHaveAttribute('data-position', String(N - 1));
    await expect(vp).toHaveAttribute('data-state', 'ready');
    await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-retrieve-large-series');
  } finally {
    await pacs.stop();
    await o.stop();
  }
});
