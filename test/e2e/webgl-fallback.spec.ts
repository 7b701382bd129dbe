/**
 * Graceful WebGL failure: Chromium started with WebGL switched off (--disable-webgl,
 * --disable-3d-apis), as on a machine whose GPU is blocklisted or missing. The CT stack still
 * renders — Cornerstone3D's CPU renderer — with a visible note, and the value under the pointer is
 * the file's own pixel (read here from the file with dicom-parser, independently of the viewer).
 */
import { readFileSync } from 'node:fs';
import { chromium, type Browser } from '@playwright/test';
import dicomParser from 'dicom-parser';
import { findChromium } from '../../src/node/components';
import { CHROMIUM_ARGS, expect, test as rigTest } from './rig';
import { animationFrames, drawnGreys, importPaths, openSeries, sampleSeries } from './support/viewer';

const test = rigTest.extend<object, { browser: Browser }>({
  browser: [
    async ({}, use) => {
      const executablePath = findChromium();
      if (!executablePath) throw new Error('Chromium not found: apt-get install chromium (or set CHROMIUM_PATH)');
      const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, '--disable-webgl', '--disable-webgl2', '--disable-3d-apis'] });
      await use(browser);
      await browser.close();
    },
    { scope: 'worker' },
  ],
});

/** The modality value (HU) of pixel (col, row) of an uncompressed CT file, from its own header. */
function huOf(path: string, col: number, row: number): number {
  const bytes = new Uint8Array(readFileSync(path));
  const ds = dicomParser.parseDicom(bytes);
  const cols = ds.uint16('x00280011')!;
  const signed = ds.uint16('x00280103') === 1;
  const px = ds.elements.x7fe00010!;
  const view = new DataView(bytes.buffer, bytes.byteOffset + px.dataOffset, px.length);
  const i = (row * cols + col) * 2;
  const stored = signed ? view.getInt16(i, true) : view.getUint16(i, true);
  const slope = Number(ds.string('x00281053') ?? 1);
  const intercept = Number(ds.string('x00281052') ?? 0);
  return stored * slope + intercept;
}

test('without WebGL a CT stack renders on the CPU, says so, and shows the file’s values under the pointer', async ({ app }) => {
  const { page } = app;
  // The browser really has no WebGL.
  expect(await page.evaluate(() => !!document.createElement('canvas').getContext('webgl2') || !!document.createElement('canvas').getContext('webgl'))).toBe(false);
  const ct = await sampleSeries(3, 'ct', 5);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    await expect(vp).toHaveAttribute('data-render', 'cpu');
    await expect(vp.getByTestId('cpu-rendering-note')).toHaveText('CPU rendering');
    expect(await page.evaluate(() => window.medimgDiagnostics!.renderMode())).toEqual({ mode: 'cpu', reason: 'WebGL is not available' });

    // Pixels on the canvas: the phantom in grey levels, not a black (or blank) canvas.
    await animationFrames(page, 4);
    const canvasStats = await drawnGreys(page);
    expect(canvasStats.layer).toBe(true); // the CPU renderer's image layer (cpuImageLayer.ts)
    expect(canvasStats.levels).toBeGreaterThan(20);
    expect(canvasStats.litFraction).toBeGreaterThan(0.1);

    // The value under the pointer at a few places equals the file's own pixel there.
    const instanceId = Number(await vp.getAttribute('data-instance-id'));
    const file = app.services.library.instanceFile(instanceId)!.path;
    const box = (await vp.locator('canvas.cornerstone-canvas').boundingBox())!;
    const pointer = vp.getByTestId('overlay-pointer');
    for (const [fx, fy] of [
      [0.5, 0.5],
      [0.42, 0.55],
      [0.6, 0.4],
    ] as const) {
      await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy);
      await expect(pointer).toHaveText(/^HU -?\d+(\.\d)? · \(\d+, \d+\)$/);
      const m = /^HU (-?[\d.]+) · \((\d+), (\d+)\)$/.exec((await pointer.textContent()) ?? '')!;
      const [hu, col, row] = [Number(m[1]), Number(m[2]), Number(m[3])];
      expect(col).toBeGreaterThan(100);
      expect(row).toBeGreaterThan(100);
      expect(hu).toBe(huOf(file, col, row));
    }
    for (const size of [
      { width: 1920, height: 1080 },
      { width: 1280, height: 720 },
    ]) {
      await page.setViewportSize(size);
      await animationFrames(page, 4);
      await expect(vp.getByTestId('cpu-rendering-note')).toBeVisible();
      await app.screenshot(`webgl-fallback-${size.width}x${size.height}`);
    }
  } finally {
    ct.cleanup();
  }
});
