/**
 * Key images (issue 14): mark 3 images (the ☆ in the viewport's badge row, and K), "Key only" shows exactly those 3,
 * Save KOS writes a Key Object Selection document listed in the study as a KO series, and after reopening the app
 * the images are still marked; opening the KO series shows its key images (a KOS is never drawn as pixels).
 */
import { test, expect } from './rig';
import { expandAll, importPaths, invoke, openSeries, sampleSeries, viewport } from './support/viewer';
import type { KeyImageList } from '../../src/shared/api';

test('mark three key images, filter to them, save a KOS, reopen: still marked', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(12, 'ct', 141);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    const controls = vp.getByTestId('key-image-controls');
    const star = controls.getByTestId('key-image-toggle');
    const only = controls.getByTestId('key-images-only');
    await expect(star).toHaveAttribute('aria-pressed', 'false');
    await expect(only).toHaveCount(0); // shown once the series has a key image

    const marked: string[] = [];
    const showImage = async (pos: number) => {
      await vp.getByTestId('stack-scrollbar').fill(String(pos));
      await expect(vp).toHaveAttribute('data-position', String(pos));
      await expect(vp).toHaveAttribute('data-state', 'ready');
    };
    // image 1 with the star, images 5 and 10 with K
    await star.click();
    await expect(star).toHaveAttribute('aria-pressed', 'true');
    await expect(star).toContainText('Key image'); // the label shows where the viewport is wide enough
    marked.push((await vp.getAttribute('data-instance-id'))!);
    for (const pos of [4, 9]) {
      await showImage(pos);
      await expect(star).toHaveAttribute('aria-pressed', 'false');
      await page.keyboard.press('k');
      await expect(star).toHaveAttribute('aria-pressed', 'true');
      marked.push((await vp.getAttribute('data-instance-id'))!);
    }
    // K again on a marked image unmarks it; once more marks it again (one key image, not two)
    await page.keyboard.press('k');
    await expect(star).toHaveAttribute('aria-pressed', 'false');
    await page.keyboard.press('k');
    await expect(star).toHaveAttribute('aria-pressed', 'true');
    await expect(only.locator('.keyimg__count')).toHaveText('3');
    const seriesId = Number((await page.getByTestId('series-row').first().getAttribute('data-series-id'))!);
    const listed = await invoke<KeyImageList>(page, 'keyImages.list', { seriesId });
    expect(listed.images.map((i) => String(i.instanceId)).sort()).toEqual([...marked].sort());

    // the shortcuts help lists K, and no other action uses it
    await page.keyboard.press('?');
    const help = page.getByTestId('help-overlay');
    await expect(help.locator('.help__row', { hasText: 'Mark / unmark the image as a key image' }).locator('kbd')).toHaveText('K');
    await expect(help.locator('kbd', { hasText: /^K$/ })).toHaveCount(1);
    await page.keyboard.press('Escape');
    await expect(help).toHaveCount(0);

    // Key only: exactly the three, in series order
    await only.click();
    await expect(only).toHaveAttribute('aria-pressed', 'true');
    await expect(vp).toHaveAttribute('data-count', '3');
    const shown: string[] = [];
    for (let pos = 0; pos < 3; pos++) {
      await showImage(pos);
      await expect(star).toHaveAttribute('aria-pressed', 'true');
      shown.push((await vp.getAttribute('data-instance-id'))!);
    }
    expect(shown).toEqual(marked);
    for (const size of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
      await page.setViewportSize(size);
      await expect(controls).toBeInViewport();
      await app.screenshot(`key-images-only-${size.width}x${size.height}`);
    }

    // Save as a KOS: title from CID 7010
    await controls.getByTestId('key-images-save').click();
    const dialog = page.getByTestId('save-kos-dialog');
    await expect(dialog).toContainText('3 key images of this study');
    await dialog.getByLabel('Document title').selectOption({ label: 'For Conference' });
    await dialog.getByLabel('Note').fill('tumour board');
    await dialog.getByTestId('save-kos-confirm').click();
    await expect(dialog.getByTestId('save-kos-result')).toHaveText('Saved “For Conference” with 3 key image(s). It is listed in the study as a KO series.');
    await app.screenshot('key-images-saved-1280x720');
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
    await expect(dialog).toHaveCount(0);

    // the KOS is listed in the study, as a KO series of one non-image instance
    const rows = await expandAll(page);
    const koRow = rows.filter({ has: page.locator('.badge', { hasText: /^KO$/ }) });
    await expect(koRow).toHaveCount(1);
    await expect(koRow).toContainText('Key images: For Conference');
    await expect(koRow).toContainText('1 key image document');
    const after = await invoke<KeyImageList>(page, 'keyImages.list', { seriesId });
    expect(after.documents).toEqual([expect.objectContaining({ origin: 'saved', referenced: 3, title: { code: '113005', meaning: 'For Conference' }, description: 'tumour board' })]);
    await page.setViewportSize({ width: 1920, height: 1080 });
    await app.screenshot('key-images-saved-1920x1080');

    // reopen the app: still marked
    await app.open();
    const vp2 = await openSeries(page);
    await expect(vp2).toHaveAttribute('data-state', 'ready');
    const star2 = vp2.getByTestId('key-image-toggle');
    await expect(star2).toHaveAttribute('aria-pressed', 'true'); // image 1 was marked
    await vp2.getByTestId('key-images-only').click();
    await expect(vp2).toHaveAttribute('data-count', '3');
    await vp2.getByTestId('key-images-only').click();
    await expect(vp2).toHaveAttribute('data-count', '12');
    // opening the KO series shows its key images (never the document as pixels)
    const rows2 = await expandAll(page);
    await rows2.filter({ has: page.locator('.badge', { hasText: /^KO$/ }) }).click();
    const vp3 = viewport(page);
    await expect(vp3).toHaveAttribute('data-count', '3');
    await expect(vp3).toHaveAttribute('data-state', 'ready');
    await expect(vp3.getByTestId('key-images-only')).toHaveAttribute('aria-pressed', 'true');
    expect(marked).toContain(await vp3.getAttribute('data-instance-id'));
    await app.screenshot('key-images-reopened-1920x1080');
  } finally {
    ct.cleanup();
  }
});
