import { test, expect } from './rig';
import { importPaths, num, openSeries, PYDICOM, sampleSeries } from './support/viewer';

test('cine plays through the stack at the chosen frame rate and stops', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(20, 'ct', 61);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-count', '20');
    // Frame rate from the toolbar.
    await page.getByLabel('Frames per second').fill('20');
    await expect(vp).toHaveAttribute('data-fps', '20');
    await page.getByLabel('Frames per second').blur();
    await page.keyboard.press('c');
    await expect(vp).toHaveAttribute('data-cine', 'playing');
    await expect(page.getByRole('button', { name: 'Stop cine' })).toBeVisible();
    // Sample the position for a second: it keeps moving (and wraps around at the end).
    const t0 = Date.now();
    const seen: number[] = [];
    while (Date.now() - t0 < 1000) {
      seen.push(await num(vp, 'data-position'));
      await page.waitForTimeout(50);
    }
    const elapsed = (Date.now() - t0) / 1000;
    const moves = seen.slice(1).filter((p, i) => p !== seen[i]).length;
    expect(moves).toBeGreaterThan(5);
    expect(new Set(seen).size).toBeGreaterThan(5);
    await expect(vp.getByTestId('overlay-wl')).toContainText('Cine 20 fps');
    await app.screenshot('cine-playing');
    // Faster / slower keys.
    await page.keyboard.press('+');
    await expect(vp).toHaveAttribute('data-fps', '25');
    await page.keyboard.press('-');
    await page.keyboard.press('-');
    await expect(vp).toHaveAttribute('data-fps', '15');
    // Stop: the position stays put.
    await page.keyboard.press('c');
    await expect(vp).toHaveAttribute('data-cine', 'stopped');
    const stopped = await num(vp, 'data-position');
    await page.waitForTimeout(400);
    expect(await num(vp, 'data-position')).toBe(stopped);
    expect(elapsed).toBeGreaterThan(0.9);
  } finally {
    ct.cleanup();
  }
});

test('a multi-frame instance scrolls and plays frame by frame', async ({ app }) => {
  const { page } = app;
  await importPaths(page, [`${PYDICOM}/rtdose.dcm`, `${PYDICOM}/SC_rgb_rle_2frame.dcm`]);
  await page.getByLabel('Search studies').fill('');
  const rows = page.getByTestId('study-row');
  await expect(rows).toHaveCount(2);
  // Open the RT dose grid (15 frames) — find its series by the frame count.
  const toggles = page.locator('[data-testid=study-row] .tree__toggle');
  for (let i = 0; i < 2; i++) await toggles.nth(i).click();
  const dose = page.getByTestId('series-row').filter({ hasText: '15 frames' });
  await dose.click();
  const vp = page.locator('[data-testid=viewport][data-index="0"]');
  await expect(vp).toHaveAttribute('data-count', '15');
  await expect(vp).toHaveAttribute('data-state', 'ready');
  await page.keyboard.press('End');
  await expect(vp).toHaveAttribute('data-position', '14');
  await expect(vp.getByTestId('overlay-slice')).toContainText('Im 15/15');
  await expect(vp.getByTestId('overlay-slice')).toContainText('fr 15');
  await page.keyboard.press('c');
  await expect.poll(async () => num(vp, 'data-position')).not.toBe(14);
  await page.keyboard.press('c');
  await app.screenshot('cine-multiframe');
});
