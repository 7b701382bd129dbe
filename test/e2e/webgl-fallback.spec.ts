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

/**
 * A lost WebGL context switches the viewer to the CPU renderer only when the viewer was drawing
 * with it. Every WebGL context the page creates is recorded here; after the MPR opens, exactly one
 * of Cornerstone3D's pooled contexts draws (the three planes share the MPR engine's first context,
 * sized to the panes), the others are idle (the stack engine's, as stacks draw on the CPU under
 * SwiftShader, and the MPR engine's spare ones). Losing idle ones changes nothing; losing the one
 * in use falls back, says so on the stack, and the stack still shows its image.
 */
rigTest('only the loss of a WebGL context in use switches the viewer to the CPU renderer', async ({ app }) => {
  rigTest.setTimeout(180_000);
  const { page } = app;
  await page.addInitScript(() => {
    const w = window as unknown as { __gl: WebGLRenderingContext[] };
    w.__gl = [];
    const get = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, type: string, ...rest: unknown[]) {
      const ctx = (get as (...a: unknown[]) => RenderingContext | null).call(this, type, ...rest);
      if (ctx && /webgl/i.test(type) && !w.__gl.includes(ctx as WebGLRenderingContext)) w.__gl.push(ctx as WebGLRenderingContext);
      return ctx;
    } as typeof HTMLCanvasElement.prototype.getContext;
  });
  await app.open();
  const ct = await sampleSeries(24, 'ct', 144);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    const before = await page.evaluate(() => window.medimgDiagnostics!.renderMode());
    expect(before.mode).toBe('cpu');
    expect(before.reason).toMatch(/software rasteriser/);
    await page.getByTestId('mpr-button').click();
    const mpr = page.getByTestId('mpr');
    await expect(mpr).toHaveAttribute('data-phase', 'complete', { timeout: 120_000 });

    /** The recorded contexts in creation order: lost yet, and the size of their canvas. */
    const contexts = () =>
      page.evaluate(() =>
        (window as unknown as { __gl: WebGLRenderingContext[] }).__gl.map((gl) => ({ lost: gl.isContextLost(), w: (gl.canvas as HTMLCanvasElement).width, h: (gl.canvas as HTMLCanvasElement).height })),
      );
    const lose = (i: number) =>
      page.evaluate((k) => (window as unknown as { __gl: WebGLRenderingContext[] }).__gl[k]!.getExtension('WEBGL_lose_context')!.loseContext(), i);
    const settleLoss = async (i: number) => {
      await expect.poll(async () => (await contexts())[i]!.lost).toBe(true);
      await animationFrames(page, 4);
      await page.waitForTimeout(200);
    };
    // A pooled context is sized to the viewports assigned to it: the MPR engine's first context to
    // a pane (the three planes draw through it); the stack engine's, created before it, are 1×1
    // while the MPR replaces the stack view (shrinkIdleContexts); the spare ones keep their first size.
    const pane = await page.locator('[data-testid=mpr-sagittal] .mpr__viewport canvas').first().evaluate((c: HTMLCanvasElement) => ({ w: c.width, h: c.height }));
    const all = await contexts();
    const sized = (size: { w: number; h: number }) => all.flatMap((c, i) => (!c.lost && c.w === size.w && c.h === size.h ? [i] : []));
    const inUse = sized(pane);
    expect(inUse, JSON.stringify(all)).toHaveLength(1);
    const stackFirst = sized({ w: 1, h: 1 }).filter((i) => i < inUse[0]!);
    expect(stackFirst.length, JSON.stringify(all)).toBeGreaterThanOrEqual(1);
    const spare = all.findIndex((c, i) => i > inUse[0]! && !c.lost && c.w === 300 && c.h === 300);
    expect(spare).toBeGreaterThan(inUse[0]!);

    // The stack engine's first context (idle: stacks on the CPU) and a spare one of the MPR engine are lost.
    for (const i of [stackFirst[0]!, spare]) {
      await lose(i);
      await settleLoss(i);
    }
    expect(await page.evaluate(() => window.medimgDiagnostics!.renderMode())).toEqual(before);
    await expect(mpr).toHaveAttribute('data-phase', 'complete');
    // The MPR still draws: the sagittal plane redrawn shows the phantom (many grey levels).
    await page.evaluate(() => window.medimgMpr!.settle());
    const levels = await page.evaluate(() => new Set(window.medimgMpr!.sample('sagittal', 32).map((s) => s.grey)).size);
    expect(levels).toBeGreaterThan(10);

    // The context the three planes draw with is lost: the viewer falls back to the CPU renderer.
    await lose(inUse[0]!);
    await settleLoss(inUse[0]!);
    await expect.poll(() => page.evaluate(() => window.medimgDiagnostics!.renderMode())).toEqual({ mode: 'cpu', reason: 'WebGL context lost' });
    await page.keyboard.press('Escape');
    await expect(mpr).toBeHidden();
    const stack = page.locator('[data-testid=viewport][data-index="0"]');
    await expect(stack).toHaveAttribute('data-state', 'ready');
    await expect(stack.getByTestId('cpu-rendering-note')).toHaveText('CPU rendering');
    await animationFrames(page, 4);
    // the stack is drawn again, on the CPU renderer's image layer
    const drawn = await drawnGreys(page, 0);
    expect(drawn.layer).toBe(true);
    expect(drawn.litFraction).toBeGreaterThan(0.1);
    await app.screenshot('webgl-context-lost-in-use');
  } finally {
    ct.cleanup();
  }
});
