/**
 * Linked scrolling by position and linked W/L: an axial CT (1.25 mm), a 2.5 mm axial series of the same frame of
 * reference (every other slice: same position ≠ same number), its sagittal reformat and an MR of another frame of
 * reference, 2×2. Scrolling the thin axial moves the thick one to the slice the test finds nearest by position;
 * the sagittal (another orientation) and the MR (another frame of reference) stay. Linked W/L reaches the CTs only.
 */
import { join } from 'node:path';
import { test, expect } from './rig';
import { drag, importPaths, num, sampleSeries, viewport, dropSeries } from './support/viewer';
import { ready, screenshotsAtBothSizes, seriesOfFile } from './support/linked';
import { writeAsStudy, writeLinkedStudy } from '../support/linked-series';
import { tempDir } from '../support/tmp';

test('scrolling one viewport moves the others of its frame of reference to the nearest slice by position; linked W/L by modality', async ({ app }) => {
  const { page } = app;
  const dir = tempDir('medimg-linkscroll-');
  const mr = await sampleSeries(12, 'mr', 7401);
  try {
    const study = await writeLinkedStudy(join(dir.path, 'ct'), { seed: 7400, slices: 80, matrix: 256, sagittals: 4 });
    const thickFiles = writeAsStudy(
      study.axial.files.filter((_, i) => i % 2 === 1),
      join(dir.path, 'thick'),
      { key: 'thick-7400', patientId: study.patientId, studyDate: '20261129', studyInstanceUid: study.studyInstanceUid, seriesNumber: '4', seriesDescription: 'SYNTHETIC — axial 2.5 mm', sliceThickness: '2.5' },
    );
    await importPaths(page, [study.axial.dir, join(thickFiles[0]!, '..'), study.sagittal.dir, mr.dir]);
    const thin = await seriesOfFile(page, study.axial.files[0]!);
    const thick = await seriesOfFile(page, thickFiles[0]!);
    const sag = await seriesOfFile(page, study.sagittal.files[0]!);
    const mrs = await seriesOfFile(page, mr.files[0]!);
    expect(thick.instances).toHaveLength(40);

    await page.getByRole('button', { name: 'Layout 2x2' }).click();
    await dropSeries(page, thin.series.id, 0);
    await dropSeries(page, thick.series.id, 1);
    await dropSeries(page, sag.series.id, 2);
    await dropSeries(page, mrs.series.id, 3);
    for (const i of [0, 1, 2, 3]) await ready(viewport(page, i));
    await viewport(page, 2).getByTestId('stack-scrollbar').fill('2');
    await viewport(page, 3).getByTestId('stack-scrollbar').fill('5');
    await expect(viewport(page, 3)).toHaveAttribute('data-position', '5');

    const z = (s: typeof thin, k: number) => s.instances[k]!.geometry.imagePositionPatient![2]!;
    /** The thick slice nearest to thin slice k, by the test's own arithmetic (ties to the lower index). */
    const nearestThick = (k: number) => {
      let best = 0;
      for (let j = 1; j < thick.instances.length; j++) if (Math.abs(z(thick, j) - z(thin, k)) < Math.abs(z(thick, best) - z(thin, k)) - 1e-9) best = j;
      return best;
    };

    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    for (const k of [41, 40, 10, 79]) {
      await viewport(page, 0).getByTestId('stack-scrollbar').fill(String(k));
      await expect(viewport(page, 0)).toHaveAttribute('data-position', String(k));
      const want = nearestThick(k);
      expect(want).not.toBe(k); // by position, not by number
      await expect(viewport(page, 1)).toHaveAttribute('data-position', String(want));
      const got = Number(await viewport(page, 1).getAttribute('data-position'));
      expect(Math.abs(z(thick, got) - z(thin, k))).toBeLessThanOrEqual(1.25 + 1e-6);
    }
    // Keyboard scrolling links too; the sagittal and the MR never moved.
    await page.keyboard.press('PageUp');
    await expect(viewport(page, 0)).toHaveAttribute('data-position', '69');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', String(nearestThick(69)));
    await expect(viewport(page, 2)).toHaveAttribute('data-position', '2');
    await expect(viewport(page, 3)).toHaveAttribute('data-position', '5');

    // The thick series scrolled: the thin one follows to the exact slice at that position.
    await viewport(page, 1).click({ position: { x: 20, y: 60 } });
    await viewport(page, 1).getByTestId('stack-scrollbar').fill('15');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '15');
    const thinAt = thin.instances.findIndex((i) => Math.abs(z(thin, thin.instances.indexOf(i)) - z(thick, 15)) < 1e-6);
    await expect(viewport(page, 0)).toHaveAttribute('data-position', String(thinAt));
    await screenshotsAtBothSizes(page, app.screenshot, 'linked-scroll');

    // Linked W/L off by default: a lung preset on the thin axial stays there.
    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    const mrWindow = [await num(viewport(page, 3), 'data-wc'), await num(viewport(page, 3), 'data-ww')];
    await page.keyboard.press('4');
    await expect(viewport(page, 0)).toHaveAttribute('data-ww', '1500');
    await expect(viewport(page, 1)).toHaveAttribute('data-ww', '400');
    // On: the window is copied to the CTs (same modality), not to the MR.
    await page.getByTestId('link-menu').click();
    await page.getByTestId('link-windowLevel').check();
    await page.keyboard.press('Escape');
    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    await page.keyboard.press('8'); // bone 400/1800
    await expect(viewport(page, 0)).toHaveAttribute('data-ww', '1800');
    await expect(viewport(page, 1)).toHaveAttribute('data-ww', '1800');
    await expect(viewport(page, 1)).toHaveAttribute('data-wc', '400');
    await expect(viewport(page, 2)).toHaveAttribute('data-ww', '1800');
    expect([await num(viewport(page, 3), 'data-wc'), await num(viewport(page, 3), 'data-ww')]).toEqual(mrWindow);
    // A W/L drag: the others get exactly the dragged window.
    await drag(page, viewport(page, 0).locator('.viewport__canvas'), [0.5, 0.5], [0.6, 0.45]);
    const wc = await viewport(page, 0).getAttribute('data-wc');
    const ww = await viewport(page, 0).getAttribute('data-ww');
    expect(ww).not.toBe('1800');
    await expect(viewport(page, 1)).toHaveAttribute('data-wc', wc!);
    await expect(viewport(page, 1)).toHaveAttribute('data-ww', ww!);
    await expect(viewport(page, 2)).toHaveAttribute('data-ww', ww!);
    expect([await num(viewport(page, 3), 'data-wc'), await num(viewport(page, 3), 'data-ww')]).toEqual(mrWindow);

    // Linked scrolling off: the thick axial stays where it is.
    await page.getByTestId('link-menu').click();
    await page.getByTestId('link-scroll').uncheck();
    await page.keyboard.press('Escape');
    const before = await viewport(page, 1).getAttribute('data-position');
    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    await viewport(page, 0).getByTestId('stack-scrollbar').fill('5');
    await expect(viewport(page, 0)).toHaveAttribute('data-position', '5');
    await page.keyboard.press('ArrowDown');
    await expect(viewport(page, 0)).toHaveAttribute('data-position', '6');
    expect(await viewport(page, 1).getAttribute('data-position')).toBe(before);
  } finally {
    dir.cleanup();
    mr.cleanup();
  }
});
