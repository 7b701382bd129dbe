/**
 * Prior comparison: the same patient's (Patient ID + issuer) earlier CT opened beside the current one (1×2), each
 * labelled CURRENT / PRIOR with its study date. A prior in another frame of reference is synced by hand ("Sync
 * here" keeps the offset along the normal); one in the same frame of reference is linked by position at once;
 * a patient without a prior is told so.
 */
import { join } from 'node:path';
import { test, expect } from './rig';
import { importPaths, sampleSeries, viewport, dropSeries } from './support/viewer';
import { ready, screenshotsAtBothSizes, seriesOfFile } from './support/linked';
import { writeAsStudy, writeLinkedStudy } from '../support/linked-series';
import { tempDir } from '../support/tmp';

test('the earlier study of the same patient and modality beside the current one, labelled and synced', async ({ app }) => {
  const { page } = app;
  const dir = tempDir('medimg-prior-');
  const mr = await sampleSeries(4, 'mr', 7503);
  try {
    // Patient A: a current CT and a 2025 prior of another frame of reference, its table 20 mm further in (z + 20).
    const a = await writeLinkedStudy(join(dir.path, 'a'), { seed: 7500, slices: 60, matrix: 256, sagittals: 1 });
    const priorA = writeAsStudy(a.axial.files, join(dir.path, 'a-prior'), { key: 'a-prior-7500', patientId: a.patientId, studyDate: '20250310', frameOfReferenceUid: '2.25.75001234', shiftZ: 20 });
    // Patient B: a prior in the same frame of reference (same positions).
    const b = await writeLinkedStudy(join(dir.path, 'b'), { seed: 7600, slices: 30, matrix: 128, sagittals: 1 });
    const priorB = writeAsStudy(b.axial.files, join(dir.path, 'b-prior'), { key: 'b-prior-7600', patientId: b.patientId, studyDate: '20240615' });
    await importPaths(page, [a.axial.dir, join(priorA[0]!, '..'), b.axial.dir, join(priorB[0]!, '..'), mr.dir]);
    const curA = await seriesOfFile(page, a.axial.files[0]!);
    const prA = await seriesOfFile(page, priorA[0]!);
    const curB = await seriesOfFile(page, b.axial.files[0]!);
    const prB = await seriesOfFile(page, priorB[0]!);
    const mrs = await seriesOfFile(page, mr.files[0]!);

    // ---- A: another frame of reference
    await dropSeries(page, curA.series.id, 0);
    await ready(viewport(page, 0));
    await page.getByTestId('link-menu').click();
    await page.getByTestId('compare-prior').click();
    await expect(page.locator('main.viewport-area')).toHaveAttribute('data-layout', '1x2');
    await ready(viewport(page, 0));
    await ready(viewport(page, 1));
    await expect(viewport(page, 0)).toHaveAttribute('data-instance-id', String(curA.instances[0]!.id));
    await expect(viewport(page, 1)).toHaveAttribute('data-instance-id', String(prA.instances[0]!.id));
    const label0 = viewport(page, 0).getByTestId('comparison-label');
    const label1 = viewport(page, 1).getByTestId('comparison-label');
    await expect(label0).toHaveAttribute('data-which', 'current');
    await expect(label0).toHaveAttribute('data-date', curA.study.date!);
    await expect(label0).toHaveText(`CURRENT${curA.study.date!.slice(0, 4)}-${curA.study.date!.slice(4, 6)}-${curA.study.date!.slice(6, 8)}`);
    await expect(label1).toHaveAttribute('data-which', 'prior');
    await expect(label1).toHaveText('PRIOR2025-03-10');
    const notice = page.getByTestId('prior-notice');
    await expect(notice).toContainText('another frame of reference');

    // Not linked yet: scrolling the current leaves the prior.
    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    await viewport(page, 0).getByTestId('stack-scrollbar').fill('30');
    await expect(viewport(page, 0)).toHaveAttribute('data-position', '30');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '0');
    // The reader brings the prior to the same anatomy (its slice 30) and syncs there.
    await viewport(page, 1).getByTestId('stack-scrollbar').fill('30');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '30');
    await notice.getByRole('button', { name: 'Sync here' }).click();
    await expect(notice).toHaveCount(0);
    const z = (s: typeof curA, k: number) => s.instances[k]!.geometry.imagePositionPatient![2]!;
    const offset = z(prA, 30) - z(curA, 30);
    expect(offset).toBeCloseTo(20, 3);
    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    for (const k of [41, 12]) {
      await viewport(page, 0).getByTestId('stack-scrollbar').fill(String(k));
      await expect(viewport(page, 0)).toHaveAttribute('data-position', String(k));
      // the prior slice at the current's position + the synced offset
      const want = prA.instances.findIndex((_, j) => Math.abs(z(prA, j) - (z(curA, k) + offset)) < 1e-3);
      expect(want).toBe(k);
      await expect(viewport(page, 1)).toHaveAttribute('data-position', String(want));
    }
    await viewport(page, 0).getByTestId('stack-scrollbar').fill('36');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '36');
    await screenshotsAtBothSizes(page, app.screenshot, 'prior-comparison', async () => {
      await expect(label0).toBeVisible();
      await expect(label1).toBeVisible();
    });

    // ---- B: the same frame of reference: linked by position at once, no notice.
    await dropSeries(page, curB.series.id, 0);
    await ready(viewport(page, 0));
    await page.getByTestId('link-menu').click();
    await page.getByTestId('compare-prior').click();
    await expect(viewport(page, 1)).toHaveAttribute('data-instance-id', String(prB.instances[0]!.id));
    await ready(viewport(page, 1));
    await expect(viewport(page, 1).getByTestId('comparison-label')).toHaveText('PRIOR2024-06-15');
    await expect(page.getByTestId('prior-notice')).toHaveCount(0);
    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    await viewport(page, 0).getByTestId('stack-scrollbar').fill('17');
    await expect(viewport(page, 0)).toHaveAttribute('data-position', '17');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '17');

    // ---- no prior: said plainly.
    await dropSeries(page, mrs.series.id, 0);
    await ready(viewport(page, 0));
    // B's prior is still on screen, but not labelled PRIOR beside another study.
    await expect(page.getByTestId('comparison-label')).toHaveCount(0);
    await page.getByTestId('link-menu').click();
    await page.getByTestId('compare-prior').click();
    await expect(page.getByTestId('prior-notice')).toContainText(`No earlier MR study of patient ${mrs.study.patient.patientId} in the local library. Import or retrieve the prior study first.`);
    await screenshotsAtBothSizes(page, app.screenshot, 'prior-comparison-none');
  } finally {
    dir.cleanup();
    mr.cleanup();
  }
});
