/**
 * Crosshairs in MPR: dragging the crosshair centre on the axial plane moves the sagittal and
 * coronal planes to the world position under the mouse (read from the viewports' cameras), and
 * what they then draw is the phantom at that position (computed here from the generator's files).
 */
import { test, expect } from './rig';
import { importPaths, openSeries, sampleSeries } from './support/viewer';
import { greyOf, huAt, mprScreens, openMpr, pearson, planes, readPhantom, sample, settle } from './support/mpr';

test('dragging the crosshair centre moves the other two planes to the point under the mouse', async ({ app }) => {
  test.setTimeout(300_000);
  const { page } = app;
  // 120 slices (150 mm): enough length for the planes to show the chest; the 300-slice case is mpr.spec's.
  const ct = await sampleSeries(120, 'ct', 151);
  try {
    await importPaths(page, [ct.dir]);
    await openSeries(page);
    await openMpr(page);
    const before = await planes(page);
    const axial = page.getByTestId('mpr-axial').locator('.mpr__viewport');
    const box = (await axial.boundingBox())!;
    // The crosshair centre on the axial canvas (the three planes cross at the volume's centre).
    const centre = await page.evaluate((w) => window.medimgMpr!.worldToCanvas('axial', w as [number, number, number]), before.sagittal.focalPoint.map((c, i) => (i === 0 ? c : i === 1 ? before.coronal.focalPoint[1]! : before.axial.focalPoint[2]!)));
    // Towards the patient's left and posterior: over the left lung / the spine's side.
    const target: [number, number] = [centre[0]! + 70, centre[1]! + 55];
    const expected = await page.evaluate((xy) => window.medimgMpr!.canvasToWorld('axial', xy as [number, number]), target);

    await page.mouse.move(box.x + centre[0]!, box.y + centre[1]!);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + centre[0]! + (70 * i) / 10, box.y + centre[1]! + (55 * i) / 10);
    // Under software GL (the rig's Chromium runs with --disable-gpu: SwiftShader) the moving planes
    // are drawn at reduced resolution while the button is held, at full resolution once released.
    expect(await page.evaluate(() => window.medimgMpr!.session.interacting)).toBe(true);
    await page.mouse.up();
    expect(await page.evaluate(() => window.medimgMpr!.session.interacting)).toBe(false);
    await settle(page);

    // One screen pixel in mm (mouse events land on whole pixels) plus one voxel (the planes snap to slices).
    const px = await page.evaluate((xy) => {
      const a = window.medimgMpr!.canvasToWorld('axial', xy as [number, number]);
      const b = window.medimgMpr!.canvasToWorld('axial', [xy[0]! + 1, xy[1]!]);
      return Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
    }, target);
    const tol = px + 0.703125;
    const after = await planes(page);
    console.log('expected', expected.map((c) => c.toFixed(2)), 'sagittal x', after.sagittal.focalPoint[0]!.toFixed(2), 'coronal y', after.coronal.focalPoint[1]!.toFixed(2));
    // The sagittal plane is now at the x, the coronal at the y under the mouse (within one voxel and one screen pixel).
    expect(Math.abs(after.sagittal.focalPoint[0]! - expected[0]!)).toBeLessThan(tol);
    expect(Math.abs(after.coronal.focalPoint[1]! - expected[1]!)).toBeLessThan(tol);
    // They moved (by ~49 mm and ~39 mm at this zoom), and the axial stays at its z.
    expect(Math.abs(after.sagittal.focalPoint[0]! - before.sagittal.focalPoint[0]!)).toBeGreaterThan(20);
    expect(Math.abs(after.coronal.focalPoint[1]! - before.coronal.focalPoint[1]!)).toBeGreaterThan(15);
    expect(Math.abs(after.axial.focalPoint[2]! - before.axial.focalPoint[2]!)).toBeLessThan(0.01);
    // Still orthogonal: a drag of the centre translates, it does not rotate.
    expect(after.sagittal.normal.map((c) => Math.abs(Math.round(c * 1000) / 1000))).toEqual([1, 0, 0]);

    // What the sagittal draws now is the phantom at the new x.
    const vol = readPhantom(ct.files);
    const pts = await sample(page, 'sagittal', 64);
    const r: number[] = [];
    const e: number[] = [];
    for (const s of pts) {
      expect(Math.abs(s.world[0]! - after.sagittal.focalPoint[0]!)).toBeLessThan(1e-3);
      const hu = huAt(vol, s.world);
      if (hu === null) continue;
      r.push(s.grey);
      e.push(greyOf(hu, after.sagittal.voi!));
    }
    expect(r.length).toBeGreaterThan(300);
    expect(pearson(r, e)).toBeGreaterThan(0.95);
    // The overlay says where the sagittal is (patient's left, in mm).
    await expect(page.getByTestId('mpr-sagittal-position')).toHaveText(`${expected[0]! >= 0 ? 'L' : 'R'} ${Math.abs(after.sagittal.focalPoint[0]!).toFixed(1)} mm`);
    await mprScreens(page, app.screenshot, 'crosshairs');
  } finally {
    ct.cleanup();
  }
});
