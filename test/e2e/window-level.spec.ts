import { test, expect } from './rig';
import { drag, importPaths, num, openSeries, sampleSeries } from './support/viewer';

test('window/level by dragging, invert, and reset to the image default', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(3, 'ct', 21);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    const wc0 = await num(vp, 'data-wc');
    const ww0 = await num(vp, 'data-ww');
    // The first image opens with its own window (the sample series stores C 40 / W 400).
    expect([wc0, ww0]).toEqual([40, 400]);
    await expect(vp.getByTestId('overlay-wl')).toContainText('W 400 L 40');
    await app.screenshot('window-level-default');

    // Left drag with the W/L tool: right = wider, down = higher centre (cornerstone's convention).
    await drag(page, vp, [0.5, 0.5], [0.7, 0.65]);
    // The viewport's attributes follow the drag's last render: wait for them, do not read once.
    await expect.poll(() => num(vp, 'data-ww')).toBeGreaterThan(ww0);
    await expect.poll(() => num(vp, 'data-wc')).not.toBe(wc0);
    const wc1 = await num(vp, 'data-wc');
    const ww1 = await num(vp, 'data-ww');
    await expect(vp.getByTestId('overlay-wl')).toContainText(`W ${Math.round(ww1)} L ${Math.round(wc1)}`);
    await app.screenshot('window-level-dragged');

    // Narrow the window again by dragging left.
    await drag(page, vp, [0.7, 0.5], [0.3, 0.5]);
    await expect.poll(() => num(vp, 'data-ww')).toBeLessThan(ww1);

    // Invert (I) and reset (X).
    await page.keyboard.press('i');
    await expect(vp).toHaveAttribute('data-invert', 'true');
    await app.screenshot('window-level-inverted');
    await page.keyboard.press('x');
    await expect(vp).toHaveAttribute('data-invert', 'false');
    expect([await num(vp, 'data-wc'), await num(vp, 'data-ww')]).toEqual([40, 400]);

    // The W/L stays while scrolling the stack (a reader's window is kept across slices).
    await drag(page, vp, [0.5, 0.5], [0.6, 0.5]);
    const ww2 = await num(vp, 'data-ww');
    await page.keyboard.press('ArrowDown');
    await expect(vp).toHaveAttribute('data-position', '1');
    await expect(vp).toHaveAttribute('data-state', 'ready');
    expect(await num(vp, 'data-ww')).toBe(ww2);
  } finally {
    ct.cleanup();
  }
});
