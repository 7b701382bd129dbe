/**
 * MPR: a generated 300-slice CT (the project's own phantom generator, 512² — its only size)
 * reformatted into axial, sagittal and coronal planes of one streaming volume. What each plane
 * drew is compared, point by point, with the phantom volume computed here from the generator's
 * own files; the sagittal must show the spine and the air in front of the chest where they are.
 * Series that cannot form a volume say why; without WebGL the MPR area says so (never a blank).
 */
import { rmSync } from 'node:fs';
import { test, expect } from './rig';
import { importPaths, openSeries, pixelStats, sampleSeries } from './support/viewer';
import { greyOf, huAt, mprScreens, pearson, planes, readPhantom, sample, settle } from './support/mpr';

test('a 300-slice CT reformats into three planes that show the phantom\'s anatomy', async ({ app }) => {
  test.setTimeout(420_000);
  const { page } = app;
  const ct = await sampleSeries(300, 'ct', 141);
  try {
    await importPaths(page, [ct.dir]);
    await openSeries(page);
    const button = page.getByTestId('mpr-button');
    await expect(button).toBeEnabled({ timeout: 30_000 });
    // Cornerstone3D looks up every slice's position whenever the crosshairs draw; slices not read
    // yet answer from the library's index, not with a warning each (≈ 5,000 per open before).
    const missing: string[] = [];
    page.on('console', (m) => {
      if (/Missing imagePositionPatient/.test(m.text())) missing.push(m.text());
    });
    await button.click();
    const mpr = page.getByTestId('mpr');
    await expect(mpr).toBeVisible();
    await expect(mpr).toHaveAttribute('data-phase', 'complete', { timeout: 300_000 });
    await settle(page);
    // Progress was shown while the volume came in, and the first reformatted frame was drawn
    // before the last slice had arrived (streaming).
    const timing = await page.evaluate(() => window.medimgMpr!.timing());
    expect(timing.stages).toEqual(['reading', 'streaming', 'complete']);
    expect(timing.firstFrameSlices).toBeGreaterThan(0);
    expect(timing.firstFrameSlices).toBeLessThan(300);
    expect(missing).toEqual([]);
    // Drawn at full resolution once the last slice is in (reduced while streaming under software GL).
    expect(await page.evaluate(() => window.medimgMpr!.session.interacting)).toBe(false);

    // The 16-bit CT is drawn from a half-float texture (half the memory of Cornerstone3D's R32F);
    // half floats hold every integer HU in −2048…2048 exactly, so the comparison below is still
    // with the files' own values.
    expect(await page.evaluate(() => window.medimgMpr!.textureFormat())).toBe('R16F');
    // The volume is held once: each slice's decoded copy is dropped once it is in the texture (two
    // kept: the first and the middle). Everything below is drawn from the texture alone.
    expect(await page.evaluate(() => window.medimgMpr!.decodedSlicesHeld())).toBeLessThanOrEqual(2);
    // Nothing else of the load stays behind: the image loader's decode workers are ended once the
    // last slice is in (their heaps still held tens of MiB of the files' buffers, renderer memory
    // that fell only when they next collected) and one fresh worker is started for the next
    // decode; the MPR's WebGL contexts are single-sampled (no 4× multisampled colour and depth
    // buffers beside each canvas; see glContexts).
    const workers = await page.evaluate(() => window.medimgMpr!.decodeWorkers());
    expect(workers.ended).toBeGreaterThanOrEqual(1);
    expect(workers.running).toBe(1);
    // The second try a few seconds later (for a worker that was busy) leaves the fresh one alone.
    await page.waitForTimeout(3500);
    expect(await page.evaluate(() => window.medimgMpr!.decodeWorkers())).toEqual(workers);
    const antialiased = await page.evaluate(() => window.medimgMpr!.contextsAntialiased());
    expect(antialiased.length).toBeGreaterThan(0);
    expect(antialiased.every((a) => a === false)).toBe(true);
    // The stack view's engine, left without viewports while the MPR shows, keeps no reading-area
    // sized canvas (its drawing buffer lived in the GPU process all along); the MPR's is pane-sized.
    const sizes = await page.evaluate(() => window.medimgMpr!.canvasSizes());
    expect(sizes.stack.length).toBeGreaterThan(0);
    for (const [w, h] of sizes.stack) expect(w * h).toBeLessThanOrEqual(1);
    expect(Math.max(...sizes.mpr.map(([w, h]) => w * h))).toBeGreaterThan(100_000);
    const vol = readPhantom(ct.files);
    const ps = await planes(page);
    // Three orthogonal planes through the centre of the volume.
    expect(ps.axial.normal.map((c) => Math.abs(Math.round(c)))).toEqual([0, 0, 1]);
    expect(ps.sagittal.normal.map((c) => Math.abs(Math.round(c)))).toEqual([1, 0, 0]);
    expect(ps.coronal.normal.map((c) => Math.abs(Math.round(c)))).toEqual([0, 1, 0]);
    // Soft-tissue window on all three (CT opens at W 400 / L 40).
    for (const p of Object.values(ps)) expect(p.voi).toEqual({ lower: -160, upper: 240 });

    for (const plane of ['sagittal', 'coronal', 'axial'] as const) {
      const pts = await sample(page, plane, 64);
      const rendered: number[] = [];
      const expected: number[] = [];
      for (const s of pts) {
        const hu = huAt(vol, s.world);
        if (hu === null) continue;
        rendered.push(s.grey);
        expected.push(greyOf(hu, ps[plane].voi!));
      }
      // Most of each frame is the volume (the rest is the black margin of a fitted view).
      expect(rendered.length, `${plane}: points inside the volume`).toBeGreaterThan(1000);
      const r = pearson(rendered, expected);
      const meanAbs = rendered.reduce((a, g, i) => a + Math.abs(g - expected[i]!), 0) / rendered.length;
      console.log(`${plane}: ${rendered.length} points, r = ${r.toFixed(4)}, mean |Δgrey| = ${meanAbs.toFixed(2)}`);
      expect(r, `${plane}: drawn frame vs the phantom computed here`).toBeGreaterThan(0.95);
      expect(meanAbs).toBeLessThan(10);
    }

    // The sagittal frame's anatomy: the vertebral bodies (300–1100 HU, y ≈ 59–97 mm) white all the
    // way from the abdomen to the apex; the air in front of the chest (y < −125 mm) black.
    const sag = await sample(page, 'sagittal', 96);
    const inside = sag.filter((s) => huAt(vol, s.world) !== null);
    const spine = inside.filter((s) => Math.abs(s.world[1]! - 78) < 12);
    const air = inside.filter((s) => s.world[1]! < -125);
    const mean = (a: { grey: number }[]) => a.reduce((x, s) => x + s.grey, 0) / a.length;
    expect(spine.length).toBeGreaterThan(100);
    expect(air.length).toBeGreaterThan(100);
    expect(mean(spine)).toBeGreaterThan(245);
    expect(mean(air)).toBeLessThan(5);
    // …and it spans the whole scan length (300 × 1.25 mm): the spine column is white at both ends.
    const zs = spine.map((s) => s.world[2]!);
    expect(Math.max(...zs) - Math.min(...zs)).toBeGreaterThan(0.9 * 299 * 1.25);

    // Orientation markers a radiologist expects on each plane.
    await expect(page.getByTestId('mpr-axial').locator('.mpr__m--right')).toHaveText('L');
    await expect(page.getByTestId('mpr-axial').locator('.mpr__m--top')).toHaveText('A');
    await expect(page.getByTestId('mpr-sagittal').locator('.mpr__m--top')).toHaveText('H');
    await expect(page.getByTestId('mpr-coronal').locator('.mpr__m--top')).toHaveText('H');
    await expect(page.getByTestId('mpr-coronal').locator('.mpr__m--right')).toHaveText('L');
    await mprScreens(page, app.screenshot, 'mpr-1x3');

    // 2×2: the axial large on the left, the same volume (no reload).
    await page.getByRole('button', { name: 'MPR layout 2x2' }).click();
    await expect(mpr).toHaveAttribute('data-layout', '2x2');
    const axialBox = (await page.getByTestId('mpr-axial').boundingBox())!;
    const sagBox = (await page.getByTestId('mpr-sagittal').boundingBox())!;
    expect(axialBox.height).toBeGreaterThan(1.8 * sagBox.height);
    await expect(mpr).toHaveAttribute('data-phase', 'complete');
    await mprScreens(page, app.screenshot, 'mpr-2x2');

    // Window/level dragged on the sagittal (its speed comes from the kept middle slice): the
    // window changes on all three planes.
    await page.getByRole('button', { name: '◐ W/L' }).click();
    const sagPane = (await page.locator('[data-testid=mpr-sagittal] .mpr__viewport').boundingBox())!;
    await page.mouse.move(sagPane.x + sagPane.width / 2, sagPane.y + sagPane.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 5; i++) await page.mouse.move(sagPane.x + sagPane.width / 2 + 20 * i, sagPane.y + sagPane.height / 2 + 10 * i);
    await page.mouse.up();
    await settle(page);
    const dragged = await planes(page);
    for (const p of Object.values(dragged)) {
      expect(p.voi).not.toEqual({ lower: -160, upper: 240 });
      expect(p.voi).toEqual(dragged.sagittal.voi);
    }

    // Escape returns to the stack, and the volume's texture leaves the GPU with it (the MPR engine
    // is kept for the next MPR; before, every closed MPR left its whole texture there).
    await page.evaluate(() => {
      const w = window as unknown as { medimgMpr: { session: { volume: { vtkOpenGLTexture: unknown } }; canvasSizes: unknown }; __mprTexture: unknown; __mprSizes: unknown };
      w.__mprTexture = w.medimgMpr.session.volume.vtkOpenGLTexture;
      w.__mprSizes = w.medimgMpr.canvasSizes;
    });
    const handle = () => page.evaluate(() => Boolean((window as unknown as { __mprTexture: { getHandle(): unknown } }).__mprTexture.getHandle()));
    expect(await handle()).toBe(true);
    await page.keyboard.press('Escape');
    await expect(mpr).toHaveCount(0);
    expect(await handle()).toBe(false);
    // …and the kept MPR engine's canvas shrinks with it (sized again by the next MPR).
    const closed = await page.evaluate(() => (window as unknown as { __mprSizes(): { mpr: [number, number][]; stack: [number, number][] } }).__mprSizes());
    for (const [w, h] of closed.mpr) expect(w * h).toBeLessThanOrEqual(1);
    const stack = page.locator('[data-testid=viewport][data-index="0"]');
    await expect(stack).toHaveAttribute('data-state', 'ready');
    // A slice whose decoded copy the MPR dropped shows again in the stack: decoded afresh, by a
    // decode worker the loader starts again after the MPR ended its own.
    await stack.getByTestId('stack-scrollbar').fill('150');
    await expect(stack).toHaveAttribute('data-position', '150');
    const want = await stack.getAttribute('data-image-id');
    await expect.poll(async () => (await pixelStats(page))?.imageId ?? null, { timeout: 30_000 }).toBe(want);
    await expect(stack).toHaveAttribute('data-state', 'ready');
  } finally {
    ct.cleanup();
  }
});

test('series that cannot form a volume keep the MPR button disabled with the reason', async ({ app }) => {
  const { page } = app;
  const gap = await sampleSeries(20, 'ct', 142);
  try {
    // Three missing slices (files 12–14): a 5.0 mm gap where the others are 1.25 mm apart.
    for (const f of gap.files.slice(11, 14)) rmSync(f);
    await importPaths(page, [gap.dir]);
    await openSeries(page);
    const button = page.getByTestId('mpr-button');
    await expect(button).toBeDisabled();
    await expect(button).toHaveAttribute('title', 'This series cannot be reformatted: gap of 5.0 mm between slices 11 and 12 (the others are 1.3 mm apart)');
  } finally {
    gap.cleanup();
  }
});

test('without WebGL the MPR area says so, and the stack view still works', async ({ app }) => {
  const { page } = app;
  // This computer's graphics "provide" no WebGL: every WebGL context request fails.
  await page.addInitScript(() => {
    const get = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, type: string, ...rest: unknown[]) {
      if (/webgl/i.test(type)) return null;
      return (get as (...a: unknown[]) => RenderingContext | null).call(this, type, ...rest);
    } as typeof HTMLCanvasElement.prototype.getContext;
  });
  await app.open();
  const ct = await sampleSeries(12, 'ct', 143);
  try {
    await importPaths(page, [ct.dir]);
    await openSeries(page);
    await page.getByTestId('mpr-button').click();
    const msg = page.getByTestId('mpr-message');
    await expect(msg).toContainText("3D reformatting needs WebGL, which this computer's graphics do not provide; the stack view still works");
    await expect(page.getByTestId('mpr')).toHaveAttribute('data-phase', 'no-webgl');
    for (const [w, h] of [[1920, 1080], [1280, 720]] as const) {
      await page.setViewportSize({ width: w, height: h });
      await app.screenshot(`mpr-no-webgl-${w}x${h}`);
    }
    await msg.getByRole('button', { name: 'Back to stack' }).click();
    await expect(page.locator('[data-testid=viewport][data-index="0"]')).toHaveAttribute('data-state', 'ready');
  } finally {
    ct.cleanup();
  }
});

