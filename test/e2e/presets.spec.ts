import { test, expect } from './rig';
import { animationFrames, drawnGreys, importPaths, num, openSeries, pixelStats, sampleSeries } from './support/viewer';
import { CT_PRESETS } from '../../src/shared/viewer/presets';

test('CT window presets apply the standard centre/width (brain and bone not swapped)', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(2, 'ct', 31);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    // The standard values themselves (Radiopaedia, see docs/viewer.md).
    const table = Object.fromEntries(CT_PRESETS.map((p) => [p.id, [p.center, p.width]]));
    expect(table).toEqual({
      brain: [40, 80],
      subdural: [75, 215],
      stroke: [40, 40],
      lung: [-600, 1500],
      mediastinum: [50, 350],
      abdomen: [40, 400],
      liver: [60, 160],
      bone: [400, 1800],
    });
    // By key…
    for (const p of CT_PRESETS) {
      await page.keyboard.press(p.key);
      await expect(vp).toHaveAttribute('data-wc', String(p.center));
      await expect(vp).toHaveAttribute('data-ww', String(p.width));
      await expect(vp.getByTestId('overlay-wl')).toContainText(`W ${p.width} L ${p.center}`);
      if (p.id === 'lung' || p.id === 'bone' || p.id === 'brain') await app.screenshot(`presets-${p.id}`);
    }
    // …and from the toolbar menu.
    await page.getByLabel('Window preset').selectOption('brain');
    await expect.poll(async () => [await num(vp, 'data-wc'), await num(vp, 'data-ww')]).toEqual([40, 80]);
    await page.getByLabel('Window preset').selectOption('bone');
    await expect.poll(async () => [await num(vp, 'data-wc'), await num(vp, 'data-ww')]).toEqual([400, 1800]);

    // The window works in HU: the image has a rescale, and the rendered grey of a pixel follows
    // (HU - (C - W/2)) / W under the brain window.
    const stats = await pixelStats(page);
    expect(stats?.slope).toBe(1);
    expect(stats?.intercept).toBe(-1024);
    await page.keyboard.press('1');
    await animationFrames(page); // cornerstone draws on the next animation frame
    // the image as drawn (composited onto black when it is the CPU renderer's image layer)
    const grey = (await drawnGreys(page)).mean;
    await page.keyboard.press('8');
    await animationFrames(page);
    const greyBone = (await drawnGreys(page)).mean;
    // Soft tissue (~40 HU) is mid-grey or brighter under the brain window and dark under the bone window.
    expect(grey).toBeGreaterThan(greyBone);
  } finally {
    ct.cleanup();
  }
});
