import { test, expect } from './rig';
import { expandAll, importPaths, invoke, openSeries, PYDICOM, sampleSeries } from './support/viewer';

test.describe('study browser', () => {
  test('patients → studies → series with thumbnails, counts, search, sort and removal', async ({ app }) => {
    const { page } = app;
    const ct = await sampleSeries(12, 'ct', 11);
    const mr = await sampleSeries(6, 'mr', 12);
    try {
      const r = await importPaths(page, [ct.dir, mr.dir, `${PYDICOM}/CT_small.dcm`, `${PYDICOM}/MR_small.dcm`]);
      expect(r.added).toBe(20);
      await expect(page.getByTestId('study-row')).toHaveCount(4);
      // Counts in the header agree with the index.
      const studies = await invoke<{ studies: { seriesCount: number; instanceCount: number }[] }>(page, 'library.studies', {});
      const images = studies.studies.reduce((a, s) => a + s.instanceCount, 0);
      expect(images).toBe(20);
      await expect(page.getByTestId('browser-counts')).toContainText('4 studies');
      await expect(page.getByTestId('browser-counts')).toContainText('20 images');

      const rows = await expandAll(page);
      await expect(rows).toHaveCount(4);
      // Thumbnails load (served by the main process under /thumbnail/).
      const thumbs = page.locator('.series__thumb');
      await expect(thumbs.first()).toBeVisible();
      await expect.poll(async () => thumbs.evaluateAll((imgs) => imgs.filter((i) => (i as HTMLImageElement).naturalWidth > 0).length), { timeout: 20_000 }).toBe(4);
      await app.screenshot('browser-tree');

      // Sort by modality, descending: MR first.
      await page.getByLabel('Sort by').selectOption('modality');
      await page.getByRole('button', { name: /Ascending/ }).click();
      await expect(page.getByTestId('study-row').first().locator('.badge').first()).toHaveText('MR');
      await page.getByRole('button', { name: /Descending/ }).click();
      await expect(page.getByTestId('study-row').first().locator('.badge').first()).toHaveText('CT');

      // Search narrows the list (by modality here) and says when nothing matches.
      await page.getByLabel('Search studies').fill('MR');
      await expect(page.getByTestId('study-row')).toHaveCount(2);
      await app.screenshot('browser-search');
      await page.getByLabel('Search studies').fill('no-such-patient-xyz');
      await expect(page.getByText('No study matches')).toBeVisible();
      await page.getByLabel('Search studies').fill('');
      await expect(page.getByTestId('study-row')).toHaveCount(4);

      // Clicking a series opens it in the viewport.
      const vp = await openSeries(page, 0);
      await expect(vp).toHaveAttribute('data-state', 'ready');

      // Remove a study from the index (two clicks: ask, confirm). Files stay on disk.
      const first = page.getByTestId('study-row').first();
      const removeBtn = first.getByRole('button', { name: /Remove study/ });
      await removeBtn.click();
      await expect(removeBtn).toHaveText('Remove?');
      await removeBtn.click();
      await expect(page.getByTestId('study-row')).toHaveCount(3);
      const after = await invoke<{ studies: unknown[] }>(page, 'library.studies', {});
      expect(after.studies).toHaveLength(3);
      await app.screenshot('browser-after-remove');
    } finally {
      ct.cleanup();
      mr.cleanup();
    }
  });

  test('fits at 1280×720 without clipping the study list or the toolbar', async ({ app }) => {
    const { page } = app;
    const ct = await sampleSeries(4, 'ct', 13);
    try {
      await page.setViewportSize({ width: 1280, height: 720 });
      await importPaths(page, [ct.dir]);
      await openSeries(page, 0);
      // Nothing in the top bar overflows the window.
      const overflow = await page.evaluate(() => {
        const bad: string[] = [];
        for (const el of document.querySelectorAll('.toolbar button, .toolbar select, .toolbar input, .panel, .statusbar')) {
          const r = el.getBoundingClientRect();
          if (r.right > window.innerWidth + 0.5 || r.bottom > window.innerHeight + 0.5) bad.push(el.outerHTML.slice(0, 80));
        }
        return bad;
      });
      expect(overflow).toEqual([]);
      // …and no viewer control is cut off inside the top bar (it is shared with the trust and ledger controls).
      const clipped = await page.evaluate(() => {
        const bar = document.querySelector('.toolbar')!.getBoundingClientRect();
        return [...document.querySelectorAll('.toolbar button, .toolbar select, .toolbar input')]
          .filter((el) => {
            const r = el.getBoundingClientRect();
            return r.right > bar.right + 0.5 || r.left < bar.left - 0.5;
          })
          .map((el) => el.getAttribute('aria-label') ?? el.textContent);
      });
      expect(clipped).toEqual([]);
      await app.screenshot('browser-1280x720');
      // With the tag panel open and four viewports, the viewports still get real space and the corners stay legible.
      await page.keyboard.press('Alt+3');
      await page.keyboard.press('t');
      await expect(page.getByTestId('tag-inspector')).toBeVisible();
      const sizes = await page.evaluate(() =>
        [...document.querySelectorAll('[data-testid=viewport]')].map((v) => {
          const r = v.getBoundingClientRect();
          return [Math.round(r.width), Math.round(r.height), r.right <= window.innerWidth + 0.5 ? 1 : 0];
        }),
      );
      for (const [w, h, inside] of sizes) {
        expect(w).toBeGreaterThan(250);
        expect(h).toBeGreaterThan(250);
        expect(inside).toBe(1);
      }
      await app.screenshot('browser-1280x720-2x2-tags');
    } finally {
      ct.cleanup();
    }
  });
});
