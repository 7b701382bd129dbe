import { test, expect } from './rig';
import { expandAll, importPaths, sampleSeries, viewport } from './support/viewer';

test('layouts 1×1, 1×2, 2×2 with series dragged from the browser into each viewport', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(8, 'ct', 81);
  const mr = await sampleSeries(5, 'mr', 82);
  try {
    await importPaths(page, [ct.dir, mr.dir]);
    const rows = await expandAll(page);
    await expect(rows).toHaveCount(2);
    const ctRow = rows.filter({ hasText: 'CT' });
    const mrRow = rows.filter({ hasText: 'MR' });

    await page.getByRole('button', { name: 'Layout 1x2' }).click();
    await expect(page.getByTestId('viewport')).toHaveCount(2);
    await ctRow.dragTo(viewport(page, 0));
    await mrRow.dragTo(viewport(page, 1));
    await expect(viewport(page, 0)).toHaveAttribute('data-state', 'ready');
    await expect(viewport(page, 1)).toHaveAttribute('data-state', 'ready');
    await expect(viewport(page, 0)).toHaveAttribute('data-count', '8');
    await expect(viewport(page, 1)).toHaveAttribute('data-count', '5');
    await app.screenshot('layouts-1x2');

    // Keys act on the active viewport only (the one last clicked/dropped into).
    await viewport(page, 0).click();
    await page.keyboard.press('End');
    await expect(viewport(page, 0)).toHaveAttribute('data-position', '7');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '0');
    await page.keyboard.press('Tab');
    await page.keyboard.press('End');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '4');

    // 2×2 by key; the first two keep their series, the new ones are empty until something is dropped.
    await page.keyboard.press('Alt+3');
    await expect(page.getByTestId('viewport')).toHaveCount(4);
    await expect(viewport(page, 0)).toHaveAttribute('data-count', '8');
    await expect(viewport(page, 2)).toHaveAttribute('data-state', 'empty');
    await mrRow.dragTo(viewport(page, 3));
    await expect(viewport(page, 3)).toHaveAttribute('data-state', 'ready');
    // Clicking a series opens it in the active viewport (the one it was dropped into last).
    await viewport(page, 2).click();
    await ctRow.click();
    await expect(viewport(page, 2)).toHaveAttribute('data-count', '8');
    await app.screenshot('layouts-2x2');

    // Each viewport keeps its own state.
    await page.keyboard.press('8');
    await expect(viewport(page, 2)).toHaveAttribute('data-ww', '1800');
    await expect(viewport(page, 0)).not.toHaveAttribute('data-ww', '1800');

    // Back to 1×1.
    await page.keyboard.press('Alt+1');
    await expect(page.getByTestId('viewport')).toHaveCount(1);
    await expect(viewport(page, 0)).toHaveAttribute('data-count', '8');
    await expect(viewport(page, 0)).toHaveAttribute('data-state', 'ready');
  } finally {
    ct.cleanup();
    mr.cleanup();
  }
});
