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

test('at 1280×720 the values are readable: whole, wrapped, in the tooltip, and copied by the copy button', async ({ app }) => {
  const { page } = app;
  await page.setViewportSize({ width: 1280, height: 720 });
  await importPaths(page, [`${PYDICOM}/CT_small.dcm`]);
  await openSeries(page);
  await page.keyboard.press('t');
  const inspector = page.getByTestId('tag-inspector');
  await expect(inspector).toBeVisible();
  const box = (await inspector.boundingBox())!;
  // Beside the viewports, not over them.
  const area = (await page.locator('.viewport-area').boundingBox())!;
  expect(area.x + area.width).toBeLessThanOrEqual(box.x + 0.5);

  for (const tag of ['(0008,0018)', '(0002,0003)', '(0010,0010)', '(0008,0016)']) {
    const row = inspector.locator(`[data-tag="${tag}"]`).first();
    const value = row.getByTestId('tag-value');
    const cell = row.locator('.tags__value');
    const full = (await cell.getAttribute('title'))!;
    expect(full.length).toBeGreaterThan(0);
    // The whole value is shown (wrapped, not cut with an ellipsis) and is the tooltip.
    await expect(value).toHaveText(full);
    const m = await value.evaluate((el) => ({ sw: el.scrollWidth, cw: el.clientWidth, r: el.getBoundingClientRect() }));
    expect(m.sw).toBeLessThanOrEqual(m.cw + 1);
    expect(m.r.x).toBeGreaterThanOrEqual(box.x);
    expect(m.r.x + m.r.width).toBeLessThanOrEqual(box.x + box.width + 0.5);
    // Wide enough to read: the value has (nearly) the inspector's width, not a sliver of it.
    expect((await cell.boundingBox())!.width).toBeGreaterThan(box.width * 0.7);
    // The keyword is whole or in its tooltip.
    const name = row.locator('.tags__name');
    const n = await name.evaluate((el) => ({ sw: el.scrollWidth, cw: el.clientWidth, title: el.getAttribute('title') ?? '' }));
    expect(n.sw <= n.cw + 1 || n.title.length > 0).toBe(true);
  }
  await app.screenshot('tag-inspector-1280x720');

  // Copy: the full value of the SOP Instance UID lands on the clipboard.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.origin });
  const row = inspector.locator('[data-tag="(0008,0018)"]').first();
  const uid = (await row.locator('.tags__value').getAttribute('title'))!;
  expect(uid).toMatch(/^[0-9.]+$/);
  const copy = row.getByRole('button', { name: /Copy value of SOPInstanceUID/ });
  await copy.click();
  await expect(copy).toHaveAttribute('data-copied', 'copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(uid);

  // At 1920×1080 the same: the whole value, beside the image.
  await page.setViewportSize({ width: 1920, height: 1080 });
  await expect(row.getByTestId('tag-value')).toHaveText(uid);
  const wide = (await inspector.boundingBox())!;
  expect((await page.locator('.viewport-area').boundingBox())!.x + (await page.locator('.viewport-area').boundingBox())!.width).toBeLessThanOrEqual(wide.x + 0.5);
  const v = await row.getByTestId('tag-value').evaluate((el) => ({ sw: el.scrollWidth, cw: el.clientWidth }));
  expect(v.sw).toBeLessThanOrEqual(v.cw + 1);
  await app.screenshot('tag-inspector-1920x1080');
});
