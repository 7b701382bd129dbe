import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './rig';
import { importPaths, invoke, openSeries, pixelStats, sampleSeries } from './support/viewer';

/** Files under a folder, recursively (the viewer's rebuild cache). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

test('split storage: Settings → Storage on, import splits, the browser marks SPLIT, the viewer rebuilds on demand', async ({ app }) => {
  const { page, services } = app;
  const ct = await sampleSeries(3, 'ct', 31);
  try {
    await page.setViewportSize({ width: 1920, height: 1080 });
    // Settings → Storage: split on import, the default folder store, its Test.
    await page.getByTestId('split-status').click();
    const dlg = page.getByTestId('split-storage-settings');
    await expect(dlg).toBeVisible();
    await dlg.getByTestId('split-on').check();
    await dlg.getByTestId('split-test').click();
    await expect(dlg.getByTestId('split-test-result')).toHaveAttribute('data-ok', 'true');
    await expect(dlg.getByTestId('split-test-result')).toContainText('stored, returned and deleted a test blob');
    // A store that cannot work says so and what to do.
    await dlg.getByTestId('split-store-custom').check();
    await dlg.getByTestId('split-store-input').fill('http://127.0.0.1:9/blobs/');
    await dlg.getByTestId('split-test').click();
    await expect(dlg.getByTestId('split-test-result')).toHaveAttribute('data-ok', 'false');
    await expect(dlg.getByTestId('split-test-result')).toContainText('http://127.0.0.1:9/blobs/');
    await app.screenshot('split-storage-settings-1920x1080');
    await dlg.getByTestId('split-store-default').check();
    await dlg.getByTestId('split-save').click();
    await expect(dlg.getByRole('status').filter({ hasText: 'Saved.' })).toContainText('Split on import is on');
    await page.setViewportSize({ width: 1280, height: 720 });
    await app.screenshot('split-storage-settings-1280x720');
    await dlg.getByRole('button', { name: 'Close' }).last().click();
    await expect(page.getByTestId('split-status')).toContainText('split on import');

    // Import: every image is split; the browser marks the study (a text mark, not colour only).
    await page.setViewportSize({ width: 1920, height: 1080 });
    const report = await importPaths(page, [ct.dir]);
    expect(report.added).toBe(3);
    const row = page.getByTestId('study-row').filter({ has: page.getByTestId('split-mark') });
    await expect(row).toHaveCount(1, { timeout: 30_000 });
    await expect(row.getByTestId('split-mark')).toHaveText('SPLIT');
    const settings = await invoke<{ instances: number }>(page, 'split.settings', {});
    expect(settings.instances).toBe(3);

    // The source files go away: what the viewer shows can only come from the rebuild.
    rmSync(ct.dir, { recursive: true, force: true });
    const cache = join(services.home.cache, 'split-rebuilt');
    expect(filesUnder(cache)).toEqual([]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    const stats = (await pixelStats(page))!;
    expect(stats.rows).toBeGreaterThan(0);
    expect(stats.count).toBe(stats.rows * stats.columns);
    expect(stats.max).toBeGreaterThan(stats.min); // a real image, not a blank
    expect(filesUnder(cache).length).toBeGreaterThanOrEqual(1); // rebuilt on demand and cached
    await app.screenshot('split-storage-viewer-1920x1080');
    await page.setViewportSize({ width: 1280, height: 720 });
    await expect(vp).toHaveAttribute('data-state', 'ready');
    await app.screenshot('split-storage-viewer-1280x720');
  } finally {
    ct.cleanup();
  }
});
