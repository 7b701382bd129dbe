/**
 * The overlays a radiologist expects: patient age/sex, kVp/mAs, the window preset's name, the
 * value under the pointer (HU on CT with the rescale applied; the stored value elsewhere, and the
 * rescaled value with its unit when the file has a rescale), MR presets from the image's own
 * values and PET presets on stored values (0 → a fraction of the maximum; not SUV). Screenshots at
 * 1920×1080 and 1280×720 with measurements drawn.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { test, expect } from './rig';
import { animationFrames, drag, importPaths, openSeries, pixelStats, PYDICOM, sampleSeries } from './support/viewer';
import { tempDir } from '../support/tmp';

/** Moves the mouse to a fraction of the canvas and returns the image pixel under it as the overlay reports it. */
async function pointAt(page: Page, vp: Locator, fx: number, fy: number): Promise<{ text: string; x: number; y: number }> {
  const b = (await vp.locator('canvas.cornerstone-canvas').boundingBox())!;
  await page.mouse.move(b.x + b.width * fx - 3, b.y + b.height * fy - 3);
  await page.mouse.move(b.x + b.width * fx, b.y + b.height * fy);
  await animationFrames(page);
  const el = vp.getByTestId('overlay-pointer');
  await expect(el).toBeVisible();
  const text = (await el.textContent())!;
  const m = /\((\d+), (\d+)\)$/.exec(text)!;
  return { text, x: Number(m[1]), y: Number(m[2]) };
}

const fmtValue = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** The modality value of one pixel, computed by the diagnostics from getPixelData (not by the overlay). */
async function valueAt(page: Page, x: number, y: number): Promise<number> {
  return (await page.evaluate(([px, py]) => window.medimgDiagnostics!.regionStats(0, px, py, px + 1, py + 1), [x, y] as const))!.mean;
}

test('CT: age/sex, kVp/mAs, HU under the pointer, the preset name', async ({ app }) => {
  const { page } = app;
  await importPaths(page, [join(PYDICOM, 'CT_small.dcm')]);
  const vp = await openSeries(page);
  await expect(vp).toHaveAttribute('data-state', 'ready');
  // CT_small: Patient's Age 000Y, Sex O, KVP 120, Exposure 170 mAs.
  await expect(vp.getByTestId('overlay-age-sex')).toHaveText(/0 Y · O$/);
  await expect(vp.getByTestId('overlay-exposure')).toHaveText('120 kVp · 170 mAs');

  for (const [fx, fy] of [[0.5, 0.5], [0.3, 0.6], [0.7, 0.35]] as const) {
    const p = await pointAt(page, vp, fx, fy);
    const hu = await valueAt(page, p.x, p.y);
    expect(p.text).toBe(`HU ${Number.isInteger(hu) ? hu : hu.toFixed(1)} · (${p.x}, ${p.y})`);
    // stored value − 1024 (CT_small's intercept): a soft-tissue phantom reads tens of HU, not ~1000.
    const stats = (await pixelStats(page))!;
    expect(stats.intercept).toBe(-1024);
  }

  await page.keyboard.press('4');
  await expect(vp).toHaveAttribute('data-wc', '-600');
  await expect(vp.getByTestId('overlay-preset')).toHaveText('Lung');
  await page.keyboard.press('8');
  await expect(vp.getByTestId('overlay-preset')).toHaveText('Bone');
  // Dragging the window away from a preset: the name goes.
  await page.keyboard.press('w');
  await drag(page, vp, [0.5, 0.5], [0.55, 0.6]);
  await expect(vp.getByTestId('overlay-preset')).toHaveCount(0);
  // Leaving the image: no pointer value.
  await page.mouse.move(1, 1);
  await expect(vp.getByTestId('overlay-pointer')).toHaveCount(0);
});

test('MR: presets from the image\'s own values, the stored value under the pointer', async ({ app }) => {
  const { page } = app;
  await importPaths(page, [join(PYDICOM, 'MR_small.dcm')]);
  const vp = await openSeries(page);
  await expect(vp).toHaveAttribute('data-state', 'ready');
  await expect(vp.getByTestId('overlay-age-sex')).toHaveText(/F$/);
  await expect(vp.getByTestId('overlay-exposure')).toHaveCount(0);
  const stats = (await pixelStats(page))!;
  // Key 1 on MR: full range = [min, max] of the image's values.
  await page.keyboard.press('1');
  await expect(vp.getByTestId('overlay-preset')).toHaveText('MR full range');
  await expect(vp).toHaveAttribute('data-ww', String(stats.max - stats.min));
  await expect(vp).toHaveAttribute('data-wc', String((stats.max + stats.min) / 2));
  // Key 2: 2nd–98th percentile, narrower and inside the range.
  await page.keyboard.press('2');
  await expect(vp.getByTestId('overlay-preset')).toHaveText('MR soft tissue');
  const ww = Number(await vp.getAttribute('data-ww'));
  const wc = Number(await vp.getAttribute('data-wc'));
  expect(ww).toBeLessThan(stats.max - stats.min);
  expect(wc - ww / 2).toBeGreaterThanOrEqual(stats.min);
  expect(wc + ww / 2).toBeLessThanOrEqual(stats.max);
  // The toolbar lists the MR presets.
  await expect(page.getByLabel('Window preset').locator('option', { hasText: 'MR high contrast' })).toHaveCount(1);
  await page.getByLabel('Window preset').selectOption('mr-bright');
  await expect(vp.getByTestId('overlay-preset')).toHaveText('MR bright (fluid / fat)');

  const p = await pointAt(page, vp, 0.5, 0.5);
  const v = await valueAt(page, p.x, p.y);
  expect(p.text).toBe(`Val ${v} · (${p.x}, ${p.y})`);
});

test('PET: presets on stored values (0 → fraction of max, not SUV), the rescaled value and its unit under the pointer', async ({ app }) => {
  const { page } = app;
  const dir = tempDir('medimg-e2e-pet-');
  try {
    // A PET image made for the test from MR_small: Modality PT, Units BQML, Rescale Slope 2.5.
    const out = join(dir.path, 'pet.dcm');
    execFileSync('/usr/bin/python3', [
      '-c',
      `import pydicom,sys
from pydicom.uid import generate_uid
d=pydicom.dcmread(sys.argv[1])
d.Modality='PT'; d.Units='BQML'; d.RescaleSlope='2.5'; d.RescaleIntercept='0'
d.StudyInstanceUID=generate_uid(); d.SeriesInstanceUID=generate_uid(); d.SOPInstanceUID=generate_uid(); d.file_meta.MediaStorageSOPInstanceUID=d.SOPInstanceUID
d.SOPClassUID='1.2.840.10008.5.1.4.1.1.128'; d.file_meta.MediaStorageSOPClassUID=d.SOPClassUID
d.save_as(sys.argv[2])`,
      join(PYDICOM, 'MR_small.dcm'),
      out,
    ]);
    await importPaths(page, [out]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    const stats = (await pixelStats(page))!;
    const max = stats.max * 2.5;
    const min = Math.min(0, stats.min * 2.5);
    await page.keyboard.press('1');
    await expect(vp.getByTestId('overlay-preset')).toHaveText('PET full (0–100 % max)');
    await expect(vp).toHaveAttribute('data-ww', String(max - min));
    await page.keyboard.press('2');
    await expect(vp.getByTestId('overlay-preset')).toHaveText('PET hot spots (0–50 % max)');
    await expect(vp).toHaveAttribute('data-ww', String(max / 2 - min));
    const p = await pointAt(page, vp, 0.5, 0.5);
    const v = await valueAt(page, p.x, p.y);
    const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
    expect(p.text).toBe(`Val ${fmt(v / 2.5)} = ${fmt(v)} BQML · (${p.x}, ${p.y})`);
  } finally {
    dir.cleanup();
  }
});

test('screenshots: measurements and overlays at 1920×1080 and 1280×720', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(3, 'ct', 41);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    await page.keyboard.press('5'); // mediastinum
    await page.keyboard.press('l');
    await drag(page, vp, [0.35, 0.62], [0.62, 0.7]);
    await page.keyboard.press('a');
    await drag(page, vp, [0.3, 0.3], [0.42, 0.42]);
    const b = (await vp.boundingBox())!;
    await page.mouse.move(b.x + b.width * 0.55, b.y + b.height * 0.3);
    await page.mouse.down();
    await page.mouse.up();
    await page.keyboard.press('r');
    await drag(page, vp, [0.55, 0.45], [0.63, 0.55]);
    await page.keyboard.press('m');
    await expect(page.getByTestId('measurement-row')).toHaveCount(3);
    for (const size of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
      await page.setViewportSize(size);
      await animationFrames(page, 4);
      const c = (await vp.locator('canvas.cornerstone-canvas').boundingBox())!;
      await page.mouse.move(c.x + c.width * 0.48, c.y + c.height * 0.52);
      await expect(vp.getByTestId('overlay-pointer')).toBeVisible();
      await app.screenshot(`overlays-measurements-${size.width}x${size.height}`);
    }
    // The mouse stays still while the next image comes: the value under it is read again.
    const c = (await vp.locator('canvas.cornerstone-canvas').boundingBox())!;
    const at = await pointAt(page, vp, 0.48, 0.52);
    expect(at.text).toBe(`HU ${fmtValue(await valueAt(page, at.x, at.y))} · (${at.x}, ${at.y})`);
    expect(c.width).toBeGreaterThan(0);
    for (const pos of ['1', '2']) {
      await page.keyboard.press('ArrowDown');
      await expect(vp).toHaveAttribute('data-position', pos);
      await expect(vp).toHaveAttribute('data-state', 'ready');
      await animationFrames(page);
      await expect
        .poll(async () => (await vp.getByTestId('overlay-pointer').textContent()) === `HU ${fmtValue(await valueAt(page, at.x, at.y))} · (${at.x}, ${at.y})`)
        .toBe(true);
    }
  } finally {
    ct.cleanup();
  }
});
