import { execFileSync } from 'node:child_process';
import { test, expect } from './rig';
import { animationFrames, importPaths, num, openSeries, pixelStats, PYDICOM, sampleSeries, watchAttribute } from './support/viewer';

/** Stored min / max of each frame of a multi-frame file, read by pydicom (independently of the viewer). */
function frameRanges(path: string): [number, number][] {
  const out = execFileSync('/usr/bin/python3', ['-c', 'import pydicom,sys,json\na=pydicom.dcmread(sys.argv[1]).pixel_array\nprint(json.dumps([[int(f.min()),int(f.max())] for f in a]))', path]);
  return JSON.parse(String(out)) as [number, number][];
}

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
    const positions = await watchAttribute(page, '[data-testid=viewport][data-index="0"]', 'data-position');
    await page.keyboard.press('c');
    await expect(vp).toHaveAttribute('data-cine', 'playing');
    await expect(page.getByRole('button', { name: 'Stop cine' })).toBeVisible();
    // The position keeps moving through the whole stack and wraps around at the end: wait for it to pass every slice
    // and come back (how fast is the bench's business, not this test's).
    await expect.poll(async () => (await positions()).length, { timeout: 30_000 }).toBeGreaterThan(25);
    const seen = (await positions()).map(Number);
    expect(new Set(seen).size).toBe(20);
    expect(seen.slice(1).some((p, i) => p < seen[i]!)).toBe(true); // wrapped
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
    const after = (await positions()).length;
    await animationFrames(page, 30); // at 15 fps a running cine would step within these frames
    expect(await num(vp, 'data-position')).toBe(stopped);
    expect((await positions()).length).toBe(after);
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
  // The first and the last frame on screen are the file's own frames (pixel values, not just the counter).
  const ranges = frameRanges(`${PYDICOM}/rtdose.dcm`);
  await expect.poll(async () => ((s) => (s ? [s.min, s.max] : null))(await pixelStats(page))).toEqual(ranges[0]);
  await page.keyboard.press('End');
  await expect(vp).toHaveAttribute('data-position', '14');
  await expect.poll(async () => ((s) => (s ? [s.min, s.max] : null))(await pixelStats(page))).toEqual(ranges[14]);
  await expect(vp.getByTestId('overlay-slice')).toContainText('Im 15/15');
  await expect(vp.getByTestId('overlay-slice')).toContainText('fr 15');
  await page.keyboard.press('c');
  await expect.poll(async () => num(vp, 'data-position')).not.toBe(14);
  await page.keyboard.press('c');
  await app.screenshot('cine-multiframe');
});
