import { test, expect } from './rig';
import { drag, importPaths, num, openSeries, sampleSeries } from './support/viewer';

test('zoom, pan, fit, 1:1, rotate, flip and reset, with orientation markers that follow', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(2, 'ct', 41);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    const fit = await num(vp, 'data-scale');
    // Axial CT: patient right on screen left, anterior up.
    await expect(vp.getByTestId('marker-left')).toHaveText('R');
    await expect(vp.getByTestId('marker-right')).toHaveText('L');
    await expect(vp.getByTestId('marker-top')).toHaveText('A');
    await expect(vp.getByTestId('marker-bottom')).toHaveText('P');

    // Right-drag zooms (down = in, cornerstone's convention), whatever the active tool.
    await drag(page, vp, [0.5, 0.3], [0.5, 0.6], 'right');
    const zoomed = await num(vp, 'data-scale');
    expect(zoomed).toBeGreaterThan(fit * 1.1);
    await expect(vp.getByTestId('overlay-wl')).toContainText(`Zoom ${Math.round(zoomed * 100)}%`);

    // Pan tool (P) with the left button moves the image.
    await page.keyboard.press('p');
    await expect(page.getByRole('button', { name: 'Pan', exact: true })).toHaveAttribute('aria-pressed', 'true');
    await drag(page, vp, [0.5, 0.5], [0.6, 0.55]);
    await expect.poll(async () => Math.abs(await num(vp, 'data-tx'))).toBeGreaterThan(5);
    await app.screenshot('zoom-pan-zoomed-panned');

    // Middle button pans whatever the tool.
    await page.keyboard.press('w');
    const tx = await num(vp, 'data-tx');
    await drag(page, vp, [0.5, 0.5], [0.4, 0.5], 'middle');
    await expect.poll(() => num(vp, 'data-tx')).not.toBe(tx);

    // 1:1 and fit.
    await page.keyboard.press('0');
    await expect(vp).toHaveAttribute('data-scale', '1.0000');
    await page.keyboard.press('f');
    await expect.poll(() => num(vp, 'data-scale')).toBeCloseTo(fit, 3);

    // Rotate 90° clockwise: anterior moves to the right edge.
    await page.keyboard.press(']');
    await expect(vp).toHaveAttribute('data-rotation', '90');
    await expect(vp.getByTestId('marker-right')).toHaveText('A');
    await expect(vp.getByTestId('marker-top')).toHaveText('R');
    await app.screenshot('zoom-pan-rotated');
    await page.keyboard.press('[');
    await expect(vp).toHaveAttribute('data-rotation', '0');

    // Flip horizontally: left/right markers swap; vertically: top/bottom swap.
    await page.keyboard.press('h');
    await expect(vp).toHaveAttribute('data-hflip', 'true');
    await expect(vp.getByTestId('marker-left')).toHaveText('L');
    await page.keyboard.press('v');
    await expect(vp).toHaveAttribute('data-vflip', 'true');
    await expect(vp.getByTestId('marker-top')).toHaveText('P');
    await app.screenshot('zoom-pan-flipped');

    // Toolbar buttons do the same as the keys.
    await page.getByRole('button', { name: 'Rotate right' }).click();
    await expect(vp).toHaveAttribute('data-rotation', '90');

    // Reset restores everything.
    await page.keyboard.press('x');
    await expect(vp).toHaveAttribute('data-rotation', '0');
    await expect(vp).toHaveAttribute('data-hflip', 'false');
    await expect(vp).toHaveAttribute('data-vflip', 'false');
    await expect.poll(() => num(vp, 'data-scale')).toBeCloseTo(fit, 3);
    await expect.poll(() => num(vp, 'data-tx')).toBe(0);
    await expect(vp.getByTestId('marker-left')).toHaveText('R');
  } finally {
    ct.cleanup();
  }
});
