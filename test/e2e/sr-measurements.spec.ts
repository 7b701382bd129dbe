/**
 * Measurements as DICOM SR (issue 14): a length drawn in the viewer, "Save as SR" in the measurements panel writes a
 * TID 1500 Measurement Report that appears in the study as an SR series; the length deleted and read back from
 * that report is the same length.
 */
import { test, expect } from './rig';
import { drag, expandAll, openForMeasuring, sampleSeries } from './support/viewer';

test('draw a length, Save as SR: the report joins the study and gives the length back', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(3, 'ct', 181);
  try {
    const { vp, list, panel } = await openForMeasuring(page, ct.dir);
    await page.keyboard.press('l');
    await drag(page, vp, [0.3, 0.4], [0.7, 0.6]);
    await expect(panel.getByTestId('measurement-row')).toHaveCount(1);
    await expect.poll(async () => (await list()).length).toBe(1);
    const length = (await list())[0]!;
    expect(length.kind).toBe('length');
    expect(length.stats.unit).toBe('mm');

    await panel.getByTestId('save-as-sr').click();
    const result = panel.getByTestId('save-as-sr-result');
    await expect(result).toHaveText('Saved as SR: 1 measurement(s) (1 length) on 1 image(s), now an SR series of the study.');
    for (const size of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
      await page.setViewportSize(size);
      await expect(panel.getByTestId('save-as-sr')).toBeInViewport();
      await expect(result).toBeInViewport();
      await app.screenshot(`sr-measurements-saved-${size.width}x${size.height}`);
    }

    // the report is listed in the study, as an SR series
    const rows = await expandAll(page);
    const srRow = rows.filter({ has: page.locator('.badge', { hasText: /^SR$/ }) });
    await expect(srRow).toHaveCount(1);
    await expect(srRow).toContainText('Measurement Report');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await app.screenshot('sr-measurements-in-study-1920x1080');

    await expect(srRow).toContainText('1 structured report');
    await expect(srRow.locator('.series__thumb--document')).toBeVisible();

    // deleted, then the report opened from the study browser: its length is saved again on its image, whose series
    // opens in the viewport with the length drawn, and a notice says what was restored
    await panel.getByTestId('measurement-row').getByRole('button', { name: /^Delete / }).click();
    await expect(panel.getByTestId('measurement-row')).toHaveCount(0);
    await expect.poll(list).toEqual([]);
    await srRow.click();
    const notice = page.getByTestId('open-notice');
    await expect(notice).toHaveText(/^Measurement Report: 1 measurement\(s\) on image \d+ of this series; 1 restored, 0 already saved\.$/);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    await expect(vp).toHaveAttribute('data-instance-id', String(length.instanceId));
    await expect(panel.getByTestId('measurement-row')).toHaveCount(1);
    await app.screenshot('sr-measurements-reopened-1920x1080');
    // opening it again restores nothing twice
    await srRow.click();
    await expect(notice).toHaveText(/; 0 restored, 1 already saved\.$/);
    const restored = await list();
    expect(restored.map((m) => [m.kind, m.stats.length, m.stats.unit])).toEqual([['length', length.stats.length, 'mm']]);
    // SCOORD Graphic Data is FL (32-bit float): the points come back to well under a thousandth of a pixel
    type P = { x: number; y: number };
    const [was, now] = [length.data.handles as { start: P; end: P }, restored[0]!.data.handles as { start: P; end: P }];
    for (const k of ['start', 'end'] as const) {
      expect(now[k].x).toBeCloseTo(was[k].x, 3);
      expect(now[k].y).toBeCloseTo(was[k].y, 3);
    }
  } finally {
    ct.cleanup();
  }
});
