import { test, expect } from './rig';
import { animationFrames, drag, importPaths, invoke, openSeries, sampleSeries } from './support/viewer';
import type { Measurement } from '../../src/shared/api';

type Pt = { x: number; y: number };

test('length, angle, rectangle and ellipse ROI (HU statistics), probe: saved per instance, restored on reopen, deletable', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(2, 'ct', 71);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    const instanceId = Number(await vp.getAttribute('data-instance-id'));
    const list = async () => (await invoke<{ measurements: Measurement[] }>(page, 'measurements.list', { instanceId })).measurements;

    await page.keyboard.press('m');
    const panel = page.getByTestId('measurement-panel');
    await expect(panel).toBeVisible();

    // Rectangle ROI over the middle of the phantom.
    await page.keyboard.press('r');
    await drag(page, vp, [0.45, 0.45], [0.55, 0.55]);
    await expect(panel.getByTestId('measurement-row')).toHaveCount(1);
    await expect(panel.getByTestId('measurement-row').first()).toContainText('HU');
    await expect.poll(async () => (await list()).length).toBe(1);
    const rect = (await list())[0]!;
    expect(rect.kind).toBe('rectangleRoi');
    // The tool's HU statistics agree with our own computation over the same pixels.
    const h = rect.data.handles as { start: Pt; end: Pt };
    const mine = await page.evaluate(
      ([a, b]) => window.medimgDiagnostics!.regionStats(0, Math.min(a.x, b.x), Math.min(a.y, b.y), Math.max(a.x, b.x), Math.max(a.y, b.y)),
      [h.start, h.end] as const,
    );
    expect(mine).not.toBeNull();
    expect(Number(rect.stats.mean)).toBeCloseTo(mine!.mean, 0);
    // cornerstone rounds the rectangle to whole pixels its own way: the extremes may differ by an edge pixel's noise.
    expect(Math.abs(Number(rect.stats.min) - mine!.min)).toBeLessThanOrEqual(5);
    expect(Math.abs(Number(rect.stats.max) - mine!.max)).toBeLessThanOrEqual(5);
    expect(Math.abs(Number(rect.stats.sd) - mine!.sd)).toBeLessThan(Math.max(1, mine!.sd * 0.05));
    // Values are in HU: the phantom's soft tissue is far below the stored values (intercept −1024).
    expect(Number(rect.stats.min)).toBeLessThan(1000);

    // Ellipse ROI.
    await page.keyboard.press('e');
    await drag(page, vp, [0.3, 0.3], [0.4, 0.42]);
    await expect(panel.getByTestId('measurement-row')).toHaveCount(2);

    // Length: stored in mm using the pixel spacing.
    await page.keyboard.press('l');
    await drag(page, vp, [0.3, 0.7], [0.6, 0.7]);
    await expect(panel.getByTestId('measurement-row')).toHaveCount(3);
    await expect(panel.getByTestId('measurement-row').filter({ hasText: 'Length' })).toContainText('mm');

    // Angle: drag the first arm, then the third point follows the mouse until the click.
    await page.keyboard.press('a');
    await drag(page, vp, [0.6, 0.3], [0.7, 0.4]);
    const box = (await vp.boundingBox())!;
    for (let i = 1; i <= 5; i++) await page.mouse.move(box.x + box.width * (0.7 + 0.02 * i), box.y + box.height * (0.4 - 0.02 * i));
    await page.mouse.down();
    await page.mouse.up();
    await animationFrames(page);
    await expect(panel.getByTestId('measurement-row').filter({ hasText: /^Angle/ })).toHaveCount(1);
    await expect(panel.getByTestId('measurement-row').filter({ hasText: /^Angle/ })).toContainText(/Angle \d+\.\d°/);

    // Probe.
    await page.keyboard.press('b');
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.5);
    await expect(panel.getByTestId('measurement-row')).toHaveCount(5);
    await expect(panel.getByTestId('measurement-row').filter({ hasText: 'Probe' })).toContainText('HU');
    await app.screenshot('measurements-drawn');

    await expect.poll(async () => (await list()).map((m) => m.kind).sort()).toEqual(['angle', 'ellipticalRoi', 'length', 'probe', 'rectangleRoi']);
    const length = (await list()).find((m) => m.kind === 'length')!;
    const lh = length.data.handles as { start: Pt; end: Pt };
    const inst = await invoke<{ instances: { id: number; geometry: { pixelSpacing: number[] | null } }[] }>(page, 'library.instances', { seriesId: (await invoke<{ series: { id: number }[] }>(page, 'library.series', { studyId: (await invoke<{ studies: { id: number }[] }>(page, 'library.studies', {})).studies[0]!.id })).series[0]!.id });
    const sp = inst.instances.find((i) => i.id === instanceId)!.geometry.pixelSpacing!;
    const mm = Math.hypot((lh.end.x - lh.start.x) * sp[1]!, (lh.end.y - lh.start.y) * sp[0]!);
    expect(Number(length.stats.length)).toBeCloseTo(mm, 1);

    // Reopen the app: the measurements come back from SQLite.
    await app.open();
    const vp2 = await openSeries(page);
    await expect(vp2).toHaveAttribute('data-state', 'ready');
    await page.keyboard.press('m');
    await expect(page.getByTestId('measurement-row')).toHaveCount(5);
    await app.screenshot('measurements-restored');

    // Delete one from the list, and the newest with the Delete key.
    await page.getByTestId('measurement-row').filter({ hasText: 'Ellipse' }).getByRole('button').click();
    await expect(page.getByTestId('measurement-row')).toHaveCount(4);
    await page.keyboard.press('Delete');
    await expect(page.getByTestId('measurement-row')).toHaveCount(3);
    await expect.poll(async () => (await list()).length).toBe(3);
    expect((await list()).map((m) => m.kind)).not.toContain('ellipticalRoi');
  } finally {
    ct.cleanup();
  }
});
