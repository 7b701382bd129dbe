import { test, expect } from './rig';
import { importPaths, openSeries, PYDICOM } from './support/viewer';

test('tag inspector: the current instance’s tags, searchable, sequences expandable', async ({ app }) => {
  const { page } = app;
  // A real file with sequences (pydicom's CT_small has none at top level that matter; rtdose has several).
  await importPaths(page, [`${PYDICOM}/CT_small.dcm`]);
  await openSeries(page);
  await page.keyboard.press('t');
  const inspector = page.getByTestId('tag-inspector');
  await expect(inspector).toBeVisible();
  await expect(inspector.locator('[data-tag="(0010,0010)"]')).toContainText('CompressedSamples^CT1');
  await expect(inspector.locator('[data-tag="(0002,0010)"]')).toContainText('1.2.840.10008.1.2.1');
  await app.screenshot('tag-inspector');
  // Search by keyword, by tag number and by value.
  await inspector.getByLabel('Search tags').fill('SliceThickness');
  await expect(inspector.getByTestId('tag-row')).toHaveCount(1);
  await expect(inspector.getByTestId('tag-row')).toContainText('(0018,0050)');
  await inspector.getByLabel('Search tags').fill('0028,0010');
  await expect(inspector.locator('[data-tag="(0028,0010)"]')).toContainText('128');
  await inspector.getByLabel('Search tags').fill('');
  // Close with Escape.
  await page.keyboard.press('Escape');
  await expect(inspector).toBeHidden();
});

test('sequences expand to their items', async ({ app }) => {
  const { page } = app;
  await importPaths(page, [`${PYDICOM}/rtdose.dcm`]);
  await openSeries(page);
  await page.getByRole('button', { name: 'Tags', exact: true }).click();
  const inspector = page.getByTestId('tag-inspector');
  // Referenced RT Plan Sequence (300C,0002) with one item holding a Referenced SOP Class UID.
  const seq = inspector.locator('[data-tag="(300C,0002)"]');
  await expect(seq).toContainText('1 item');
  await expect(inspector.locator('[data-tag="(0008,1150)"]')).toHaveCount(0);
  await seq.getByRole('button', { name: /Expand/ }).click();
  await expect(inspector.locator('[data-tag="(0008,1150)"]').first()).toBeVisible();
  await app.screenshot('tag-inspector-sequence');
  // Searching inside a sequence opens it.
  await seq.getByRole('button', { name: /Collapse/ }).click();
  await inspector.getByLabel('Search tags').fill('ReferencedSOPInstanceUID');
  await expect(inspector.locator('[data-tag="(0008,1155)"]').first()).toBeVisible();
});
