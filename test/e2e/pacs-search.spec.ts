/**
 * The study browser on a PACS (a real Orthanc filled with dcmtk's storescu): the default query is
 * today's studies; a patient-name wildcard, a patient ID and a modality find exactly the pydicom
 * test studies they should; a row expands to its series; paging shows counts and moves.
 */
import { join } from 'node:path';
import { writeSampleSeries } from '../../src/node/dicom/sample';
import type { OrthancServer } from '../support/orthanc';
import { tempDir } from '../support/tmp';
import { test, expect } from './rig';
import { addWebConnection, browsePacs, havePacsTools, orthancWith, pacsSearch, PYDICOM, screenshotsAtTwoSizes } from './support/pacs';

let orthanc: OrthancServer | null = null;
const tmp = tempDir('medimg-pacs-search-');
test.afterAll(async () => {
  await orthanc?.stop();
  tmp.cleanup();
});

test('search a PACS by name wildcard, ID, modality and date; series on expand; paging', async ({ app }) => {
  test.skip(!havePacsTools(), 'Orthanc or dcmtk not installed');
  test.setTimeout(150_000);
  const { page } = app;
  // 12 one-image synthetic MR studies dated today, plus four pydicom test studies (older dates)
  const synthetic: string[] = [];
  for (let seed = 1; seed <= 12; seed++) synthetic.push(...(await writeSampleSeries({ outDir: join(tmp.path, `s${seed}`), slices: 1, kind: 'mr', seed: 500 + seed })).files);
  orthanc = await orthancWith([...['CT_small.dcm', 'MR_small.dcm', 'SC_rgb_small_odd.dcm', 'test-SR.dcm'].map((f) => join(PYDICOM, f)), ...synthetic]);
  await addWebConnection(page, 'Orthanc', orthanc.dicomWebUrl);
  await browsePacs(page, 'Orthanc');

  // Default query: today → the 12 synthetic studies (one page of 25).
  const rows = page.getByTestId('pacs-study');
  await expect(page.getByTestId('pacs-count')).toHaveText('12 studies', { timeout: 30_000 });
  await expect(rows).toHaveCount(12);
  await expect(rows.first()).toContainText('SYNTHETIC PHANTOM');

  // Name with a wildcard, any date: the two CompressedSamples patients.
  await pacsSearch(page, { name: 'CompressedSamples^*' });
  await expect(page.getByTestId('pacs-count')).toHaveText('2 studies');
  await expect(rows).toHaveCount(2);
  const names = (await rows.locator('td.pacs-table__name').allInnerTexts()).map((t) => t.trim()).sort();
  expect(names).toEqual(['CompressedSamples CT1', 'CompressedSamples MR1']);
  // "?" matches one character
  await pacsSearch(page, { name: 'CompressedSamples^?R1' });
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('CompressedSamples MR1');
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-search-name');

  // By patient ID.
  await pacsSearch(page, { id: '1CT1' });
  await expect(rows).toHaveCount(1);
  const ct = rows.first();
  await expect(ct).toContainText('CompressedSamples CT1');
  await expect(ct).toContainText('2004-01-19');
  await expect(ct).toContainText('CT');
  await expect(ct.locator('td.pacs-table__series')).toHaveText('1'); // series
  await expect(ct.locator('td.pacs-table__images')).toHaveText('1'); // images

  // Expand: its series.
  await ct.click();
  const series = page.getByTestId('pacs-series');
  await expect(series).toHaveCount(1);
  await expect(series.first()).toContainText('CT');
  await expect(series.first()).toContainText('1 im');
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-search-series');

  // Modality filter, any date.
  await pacsSearch(page, { modality: 'SR' });
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('Test S R');
  await expect(rows.first().locator('td.pacs-table__mod')).toHaveText('SR');

  // Paging: 10 per page over the 16 studies.
  await pacsSearch(page, {});
  await page.getByLabel('Studies per page').selectOption('10');
  await expect(page.getByTestId('pacs-count')).toHaveText('Studies 1–10 (more on the next page)');
  await expect(rows).toHaveCount(10);
  const firstPage = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-uid')));
  await page.getByRole('button', { name: 'Next ›' }).click();
  await expect(page.getByTestId('pacs-count')).toHaveText('Studies 11–16');
  await expect(rows).toHaveCount(6);
  const secondPage = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-uid')));
  expect(new Set([...firstPage, ...secondPage]).size).toBe(16);
  await expect(page.getByRole('button', { name: 'Next ›' })).toBeDisabled();
  await page.getByRole('button', { name: '‹ Previous' }).click();
  await expect(page.getByTestId('pacs-count')).toHaveText('Studies 1–10 (more on the next page)');
  await screenshotsAtTwoSizes(page, app.screenshot, 'pacs-search-paged');

  // Back to the local library: it is still there (empty here) and works.
  await page.getByTestId('study-source').selectOption('local');
  await expect(page.getByTestId('studies-empty')).toBeVisible();
});
