/**
 * Hanging protocols: "Open study" lays a study out by the first protocol that applies — CT chest: the axial in a
 * soft-tissue (mediastinum) window beside the same series in a lung window; MR: its series side by side (2×2 for
 * three); CR: one image. A reader's edit in Settings → Hanging protocols is saved (SQLite) and followed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './rig';
import { importPaths, sampleSeries, viewport } from './support/viewer';
import { ready, screenshotsAtBothSizes, seriesOfFile } from './support/linked';
import { writeAsStudy, writeLinkedStudy } from '../support/linked-series';
import { writeCrImage } from '../support/ai';
import { tempDir } from '../support/tmp';

test('a study opens by its hanging protocol; an edited protocol is saved and followed', async ({ app }) => {
  const { page } = app;
  const dir = tempDir('medimg-hanging-');
  const mr = await sampleSeries(5, 'mr', 7701);
  try {
    const ct = await writeLinkedStudy(join(dir.path, 'ct'), { seed: 7700, slices: 40, matrix: 256, sagittals: 4 });
    // An MR study of three series (the generator's series and two more of the same study).
    const mrUid = mr.studyInstanceUid;
    const mr2 = writeAsStudy(mr.files, join(dir.path, 'mr2'), { key: 'mr2-7701', patientId: 'SYNTH-07701', studyDate: '20261129', studyInstanceUid: mrUid, seriesNumber: '4', seriesDescription: 'SYNTHETIC — T2' });
    const mr3 = writeAsStudy(mr.files, join(dir.path, 'mr3'), { key: 'mr3-7701', patientId: 'SYNTH-07701', studyDate: '20261129', studyInstanceUid: mrUid, seriesNumber: '5', seriesDescription: 'SYNTHETIC — FLAIR' });
    mkdirSync(join(dir.path, 'cr'));
    const px = new Uint16Array(256 * 256).map((_, i) => 1000 + ((i * 7) % 2000));
    writeCrImage(join(dir.path, 'cr', 'cr.dcm'), { rows: 256, columns: 256, pixels: px, study: 'hanging-cr-7702' });
    await importPaths(page, [ct.axial.dir, ct.sagittal.dir, mr.dir, join(mr2[0]!, '..'), join(mr3[0]!, '..'), join(dir.path, 'cr')]);
    const axial = await seriesOfFile(page, ct.axial.files[0]!);
    const mrA = await seriesOfFile(page, mr.files[0]!);
    const mrB = await seriesOfFile(page, mr2[0]!);
    const mrC = await seriesOfFile(page, mr3[0]!);
    const cr = await seriesOfFile(page, join(dir.path, 'cr', 'cr.dcm'));
    const openStudy = (studyId: number) => page.locator(`[data-testid=study-row][data-study-id="${studyId}"] [data-testid=open-study]`).click();
    const area = page.locator('main.viewport-area');
    const status = page.getByTestId('hanging-settings-open');

    // CT chest: axial soft tissue beside axial lung.
    await openStudy(axial.study.id);
    await expect(area).toHaveAttribute('data-layout', '1x2');
    for (const i of [0, 1]) {
      await ready(viewport(page, i));
      await expect(viewport(page, i)).toHaveAttribute('data-count', '40');
      await expect(viewport(page, i)).toHaveAttribute('data-instance-id', String(axial.instances[0]!.id));
    }
    await expect(viewport(page, 0)).toHaveAttribute('data-wc', '50');
    await expect(viewport(page, 0)).toHaveAttribute('data-ww', '350');
    await expect(viewport(page, 1)).toHaveAttribute('data-wc', '-600');
    await expect(viewport(page, 1)).toHaveAttribute('data-ww', '1500');
    await expect(status).toHaveAttribute('data-applied', 'CT chest: soft tissue beside lung window');
    // The same series twice is linked by position: scrolling one moves the other to the same slice.
    await viewport(page, 0).click({ position: { x: 20, y: 60 } });
    await viewport(page, 0).getByTestId('stack-scrollbar').fill('22');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '22');
    await screenshotsAtBothSizes(page, app.screenshot, 'hanging-protocols-ct-chest');

    // MR with three series: 2×2, series in series-number order, the fourth viewport empty.
    await openStudy(mrA.study.id);
    await expect(area).toHaveAttribute('data-layout', '2x2');
    const mrIds = [mrA, mrB, mrC].map((s) => String(s.instances[0]!.id));
    for (const i of [0, 1, 2]) {
      await ready(viewport(page, i));
      await expect(viewport(page, i)).toHaveAttribute('data-instance-id', mrIds[i]!);
    }
    await expect(viewport(page, 3)).toHaveAttribute('data-state', 'empty');
    await expect(status).toHaveAttribute('data-applied', 'MR: series side by side (up to 2×2)');

    // CR: one image.
    await openStudy(cr.study.id);
    await expect(area).toHaveAttribute('data-layout', '1x1');
    await ready(viewport(page, 0));
    await expect(viewport(page, 0)).toHaveAttribute('data-instance-id', String(cr.instances[0]!.id));
    await expect(status).toHaveAttribute('data-applied', 'Radiograph (CR/DX): 1×1');

    // Settings: the CT chest protocol's second viewport gets the bone window; saved.
    await status.click();
    const dialog = page.getByTestId('hanging-settings');
    await expect(dialog.getByTestId('hanging-protocol')).toHaveCount(4);
    const chest = dialog.locator('[data-testid=hanging-protocol][data-id="ct-chest"]');
    await chest.getByLabel('Viewport 2 window').selectOption('bone');
    await screenshotsAtBothSizes(page, app.screenshot, 'hanging-protocols-settings');
    await dialog.getByTestId('hanging-save').click();
    await expect(dialog.getByTestId('hanging-saved')).toContainText('Saved 4 protocol(s)');
    const saved = app.services.db.prepare('SELECT protocols_json AS json FROM hanging_protocols').get() as { json: string };
    expect(JSON.parse(saved.json)[1]).toMatchObject({ id: 'ct-chest', cells: [{ series: 1, window: 'mediastinum' }, { series: 1, window: 'bone' }] });
    // A bad edit is refused with the reason and nothing changes.
    await chest.getByLabel('Modalities').fill('');
    await dialog.getByTestId('hanging-save').click();
    await expect(dialog.getByTestId('hanging-error')).toContainText('give one or more modalities');
    await page.keyboard.press('Escape');

    // After a reload (the app reads the saved list again), the CT opens with lung → bone.
    await app.open();
    await openStudy(axial.study.id);
    await expect(page.locator('main.viewport-area')).toHaveAttribute('data-layout', '1x2');
    await ready(viewport(page, 1));
    await expect(viewport(page, 1)).toHaveAttribute('data-wc', '400');
    await expect(viewport(page, 1)).toHaveAttribute('data-ww', '1800');
    await expect(viewport(page, 0)).toHaveAttribute('data-ww', '350');
  } finally {
    dir.cleanup();
    mr.cleanup();
  }
});
