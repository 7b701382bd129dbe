/**
 * Reference lines: an axial CT beside its sagittal reformat (one frame of reference, written by the sample
 * generator and resliced in test/support/linked-series.ts). The active viewport's slice is drawn on the other
 * image where the test's own arithmetic puts it; parallel planes and another frame of reference draw nothing.
 */
import { join } from 'node:path';
import { test, expect } from './rig';
import { drag, importPaths, sampleSeries, viewport, dropSeries } from './support/viewer';
import { lineOf, ordered, ready, screenshotsAtBothSizes, seriesOfFile } from './support/linked';
import { writeLinkedStudy } from '../support/linked-series';
import { tempDir } from '../support/tmp';

test('the active slice is drawn on the other viewport of the same frame of reference, where the geometry says', async ({ app }) => {
  const { page } = app;
  const dir = tempDir('medimg-reflines-');
  const mr = await sampleSeries(6, 'mr', 7301);
  try {
    const study = await writeLinkedStudy(join(dir.path, 'ct'), { seed: 7300, slices: 120, matrix: 256, sagittals: 6 });
    await importPaths(page, [study.axial.dir, study.sagittal.dir, mr.dir]);
    const axial = await seriesOfFile(page, study.axial.files[0]!);
    const sag = await seriesOfFile(page, study.sagittal.files[0]!);
    const mrSeries = await seriesOfFile(page, mr.files[0]!);

    await page.getByRole('button', { name: 'Layout 1x2' }).click();
    await dropSeries(page, axial.series.id, 0);
    await dropSeries(page, sag.series.id, 1);
    await ready(viewport(page, 0));
    await ready(viewport(page, 1));
    await page.getByTestId('link-menu').click();
    await expect(page.getByTestId('link-referenceLines')).toBeChecked();
    await page.getByTestId('link-menu').click();
    // The sagittal through the heart (its 4th of 6), for the screenshots.
    await viewport(page, 1).getByTestId('stack-scrollbar').fill('3');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '3');

    // Axial active, at slice 80 (instances are in position order; z of slice k from its own header).
    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    await viewport(page, 0).getByTestId('stack-scrollbar').fill('80');
    await expect(viewport(page, 0)).toHaveAttribute('data-position', '80');
    const at = (k: number) => axial.instances.findIndex((i) => i.filePath === study.axial.files[k]);
    const instanceAt80 = axial.instances[80]!;
    const z = instanceAt80.geometry.imagePositionPatient![2]!;
    const sagPlane = study.sagittal.planes[0]!;
    const [rowSpacing] = sagPlane.pixelSpacing; // 1.25 mm between sagittal rows (the axial slice thickness)
    const expectedRow = (sagPlane.imagePositionPatient[2] - z) / rowSpacing;
    expect(at(0)).toBeGreaterThanOrEqual(0);

    const line1 = viewport(page, 1).getByTestId('reference-line');
    await expect(line1).toHaveCount(1);
    await expect(viewport(page, 0).getByTestId('reference-line')).toHaveCount(0);
    let l = ordered(await lineOf(line1));
    // Image coordinates: a horizontal line at the slice's row, across the whole sagittal (the axial covers every y).
    expect(l.from[1]).toBeCloseTo(expectedRow, 2);
    expect(l.to[1]).toBeCloseTo(expectedRow, 2);
    expect(l.from[0]).toBeCloseTo(-0.5, 2);
    expect(l.to[0]).toBeCloseTo(sagPlane.columns - 0.5, 2);
    // Screen: at the pixel row's centre within the image's box on screen.
    const box = (await lineOf(line1)).box;
    const yOnScreen = box[1] + ((expectedRow + 0.5) / sagPlane.rows) * (box[3] - box[1]);
    expect(Math.abs(l.p1[1] - yOnScreen)).toBeLessThan(0.6);
    expect(Math.abs(l.p2[1] - yOnScreen)).toBeLessThan(0.6);
    expect(Math.abs(l.p1[0] - box[0])).toBeLessThan(0.6);
    expect(Math.abs(l.p2[0] - box[2])).toBeLessThan(0.6);
    // The image box is where the viewport draws the image: fitted inside the viewport's image area.
    const area = (await viewport(page, 1).locator('.viewport__canvas').boundingBox())!;
    const svg = (await line1.boundingBox())!;
    expect(svg.width).toBeCloseTo(area.width, 0);
    expect(box[0]).toBeGreaterThanOrEqual(-0.5);
    expect(box[2]).toBeLessThanOrEqual(area.width + 0.5);
    expect(Math.min(Math.abs(box[2] - box[0] - area.width), Math.abs(box[3] - box[1] - area.height))).toBeLessThan(1.5);

    // Scrolling the axial moves the line: slice 20 is 60 slices lower (75 mm at 1.25 mm).
    await viewport(page, 0).getByTestId('stack-scrollbar').fill('20');
    await expect(viewport(page, 0)).toHaveAttribute('data-position', '20');
    const z20 = axial.instances[20]!.geometry.imagePositionPatient![2]!;
    await expect.poll(async () => ordered(await lineOf(line1)).from[1]).toBeCloseTo((sagPlane.imagePositionPatient[2] - z20) / rowSpacing, 2);
    await app.screenshot('reference-lines-axial-active');
    await screenshotsAtBothSizes(page, app.screenshot, 'reference-lines', async () => {
      await expect(line1).toHaveCount(1);
    });

    // The sagittal zoomed, panned, rotated and flipped by the reader: the line stays on the same image pixels. The
    // pointer readout (screen → image through the viewport's own inverse) names the pixel under points along the line.
    const vp1 = viewport(page, 1);
    await drag(page, vp1, [0.5, 0.3], [0.5, 0.42], 'right');
    await drag(page, vp1, [0.5, 0.5], [0.46, 0.53], 'middle');
    await page.keyboard.press(']');
    await page.keyboard.press('h');
    await expect(vp1).toHaveAttribute('data-rotation', '90');
    await expect(vp1).toHaveAttribute('data-hflip', 'true');
    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    await expect(line1).toHaveCount(1);
    const row20 = Math.round((sagPlane.imagePositionPatient[2] - z20) / rowSpacing);
    const t = ordered(await lineOf(line1));
    expect(t.from[1]).toBeCloseTo(row20, 2);
    // rotated a quarter turn: the image's rows run across the screen, so the line is vertical now
    expect(Math.abs(t.p1[0] - t.p2[0])).toBeLessThan(0.6);
    const area1 = (await vp1.locator('.viewport__canvas').boundingBox())!;
    let probed = 0;
    for (const k of [20, 60, 100, 140, 180, 220].filter((c) => c < sagPlane.columns)) {
      const f = (k - t.from[0]) / (t.to[0] - t.from[0]);
      const sx = t.p1[0] + f * (t.p2[0] - t.p1[0]);
      const sy = t.p1[1] + f * (t.p2[1] - t.p1[1]);
      if (sx < 4 || sy < 4 || sx > area1.width - 4 || sy > area1.height - 4) continue; // zoomed off screen
      await page.mouse.move(area1.x + sx, area1.y + sy);
      await expect(vp1.getByTestId('overlay-pointer')).toContainText(`(${k}, ${row20})`);
      probed++;
    }
    expect(probed).toBeGreaterThanOrEqual(2);
    await screenshotsAtBothSizes(page, app.screenshot, 'reference-lines-rotated-flipped', async () => {
      await expect(line1).toHaveCount(1);
    });
    await viewport(page, 1).click({ position: { x: 20, y: 60 } });
    await page.keyboard.press('x');
    await expect(vp1).toHaveAttribute('data-rotation', '0');

    // The sagittal active: its plane (x of sagittal 3) is a vertical line on the axial, at column (x − x0) / Δc.
    await viewport(page, 1).click({ position: { x: 20, y: 60 } });
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '3');
    const sagInst = sag.instances[3]!;
    const x = sagInst.geometry.imagePositionPatient![0]!;
    const ax = study.axial.planes[0]!;
    const expectedCol = (x - ax.imagePositionPatient[0]) / ax.pixelSpacing[1];
    const line0 = viewport(page, 0).getByTestId('reference-line');
    await expect(line0).toHaveCount(1);
    await expect(viewport(page, 1).getByTestId('reference-line')).toHaveCount(0);
    l = ordered(await lineOf(line0));
    expect(l.from[0]).toBeCloseTo(expectedCol, 2);
    expect(l.to[0]).toBeCloseTo(expectedCol, 2);
    expect(l.from[1]).toBeCloseTo(-0.5, 2);
    expect(l.to[1]).toBeCloseTo(ax.rows - 0.5, 2);
    await screenshotsAtBothSizes(page, app.screenshot, 'reference-lines-sagittal-active');

    // Toggle off: no lines; on again: back.
    await page.getByTestId('link-menu').click();
    await page.getByTestId('link-referenceLines').uncheck();
    await expect(page.getByTestId('reference-line')).toHaveCount(0);
    await page.getByTestId('link-referenceLines').check();
    await expect(line0).toHaveCount(1);
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('link-referenceLines')).toHaveCount(0);

    // Parallel planes (axial beside axial): nothing.
    await dropSeries(page, axial.series.id, 1);
    await ready(viewport(page, 1));
    await viewport(page, 1).getByTestId('stack-scrollbar').fill('50');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '50');
    await expect(page.getByTestId('reference-line')).toHaveCount(0);

    // Another frame of reference (an MR beside the sagittal): nothing.
    await dropSeries(page, sag.series.id, 0);
    await dropSeries(page, mrSeries.series.id, 1);
    await ready(viewport(page, 0));
    await ready(viewport(page, 1));
    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    await viewport(page, 0).getByTestId('stack-scrollbar').fill('2');
    await expect(viewport(page, 0)).toHaveAttribute('data-position', '2');
    await expect(page.getByTestId('reference-line')).toHaveCount(0);
  } finally {
    dir.cleanup();
    mr.cleanup();
  }
});
