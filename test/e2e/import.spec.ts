import { test, expect } from './rig';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PYDICOM, sampleSeries } from './support/viewer';

test('import a folder by path: progress with counts and rate, then a report that lists each rejected file with a reason', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(120, 'ct', 101);
  try {
    // Junk next to the series: a text file, a fake zip, a truncated copy of one slice.
    writeFileSync(join(ct.dir, 'notes.txt'), 'not an image\n');
    writeFileSync(join(ct.dir, 'bundle.zip'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0]));
    const first = readFileSync(ct.files[0]!);
    writeFileSync(join(ct.dir, 'cut.dcm'), first.subarray(0, Math.floor(first.length / 3)));

    const progressSeen: string[] = [];
    await page.exposeFunction('__sawProgress', (t: string) => progressSeen.push(t));
    await page.evaluate(() => {
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid=import-counts]');
        if (el) (window as unknown as { __sawProgress(t: string): void }).__sawProgress(el.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });

    await page.getByLabel('Path to import').fill(ct.dir);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const report = page.getByTestId('import-report');
    await expect(report).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId('import-summary')).toContainText('120 added');
    await expect(page.getByTestId('import-summary')).toContainText('3 rejected');
    await expect(page.getByTestId('import-summary')).toContainText('files/s');
    const rejected = page.getByTestId('import-rejected');
    await expect(rejected.locator('li')).toHaveCount(3);
    await expect(rejected.locator('li', { hasText: 'notes.txt' })).toContainText(/DICOM/i);
    await expect(rejected.locator('li', { hasText: 'bundle.zip' })).toContainText(/zip|archive/i);
    await expect(rejected.locator('li', { hasText: 'cut.dcm' })).toContainText(/truncat|ends/i);
    await app.screenshot('import-report');
    // The progress line showed counts of the total while it ran.
    expect(progressSeen.some((t) => /\d+ \/ \d+ files/.test(t) || /\d+ files/.test(t))).toBe(true);
    // The study appears in the browser.
    await expect(page.getByTestId('study-row')).toHaveCount(1);
    await expect(page.getByTestId('browser-counts')).toContainText('120 images');

    // Importing again is idempotent: nothing added.
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(page.getByTestId('import-summary')).toContainText('0 added', { timeout: 60_000 });
    await expect(page.getByTestId('import-summary')).toContainText('120 unchanged');
  } finally {
    ct.cleanup();
  }
});

test('a running import can be cancelled; what was indexed stays', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(2500, 'mr', 102);
  try {
    await page.getByLabel('Path to import').fill(ct.dir);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(page.getByTestId('import-progress')).toBeVisible();
    // Cancel first, the screenshot after: on a loaded machine a screenshot taken before the click
    // took longer than the whole import of 2,500 files (seen once: "Import finished", no Cancel left).
    const cancel = page.getByRole('button', { name: 'Cancel' });
    await expect(cancel).toBeEnabled({ timeout: 20_000 });
    await cancel.click();
    await app.screenshot('import-progress');
    await expect(page.getByTestId('import-report')).toContainText('Import cancelled', { timeout: 60_000 });
    const text = (await page.getByTestId('import-summary').textContent()) ?? '';
    const added = Number(/(\d+) added/.exec(text)?.[1]);
    expect(added).toBeLessThan(2500);
    await app.screenshot('import-cancelled');
  } finally {
    ct.cleanup();
  }
});

test('drag-and-drop of OS files imports the paths the desktop shell resolves', async ({ app }) => {
  const { page } = app;
  // Without the preload's pathForFile (a plain browser), the user is told to type the path.
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'CT_small.dcm'));
    window.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.getByRole('alert')).toContainText('desktop app');

  // With it (as electron/preload.ts provides through webUtils.getPathForFile), dropped files import.
  await page.addInitScript((dir: string) => {
    const w = window as unknown as { medimg: Record<string, unknown> };
    w.medimg = Object.freeze({ ...w.medimg, pathForFile: (f: File) => `${dir}/${f.name}` });
  }, PYDICOM);
  await app.open();
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'CT_small.dcm'));
    dt.items.add(new File(['x'], 'MR_small.dcm'));
    window.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.getByTestId('import-summary')).toContainText('2 added', { timeout: 30_000 });
  await expect(page.getByTestId('study-row')).toHaveCount(2);
});
