/**
 * AI findings (issue 15): install a generated model through Settings → AI models (a card that does
 * not match the model is refused naming the shape), run it on a CR image, the findings panel shows
 * the probabilities this test computes from the image's stored values, the heat map lies over the
 * image, a view the model does not accept is skipped with the reason, one changed pixel makes the
 * result stale; with no model the panel says so and how to add one.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './rig';
import { importPaths, invoke, openSeries } from './support/viewer';
import { screenshotsAtTwoSizes } from './support/pacs';
import { blockImage, probeCard, writeCrImage, writeModelFolder } from '../support/ai';
import { tempDir } from '../support/tmp';
import type { AiModel } from '../../src/shared/api';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
// Stored 1024 (background) and 3072 (region), file window C 2048 W 4096 → 0.25 and 0.75 after
// windowing; the area resize 256 → 32 averages 8×8 blocks exactly. The probe model:
// A = sigmoid(4·(mean over input rows/cols 8..16 − 0.5)), B = mean over the whole 32×32 input.
const EXPECT = { a: sigmoid(4 * (0.75 - 0.5)), b: (64 * 0.75 + 960 * 0.25) / 1024 };

test('no model installed: the AI button and panel say so and how to add one, never a result', async ({ app }) => {
  const { page } = app;
  const t = tempDir('medimg-ai-e2e-');
  try {
    writeCrImage(join(t.path, 'cr.dcm'), { rows: 256, columns: 256, pixels: blockImage(1024, 3072) });
    await importPaths(page, [t.path]);
    await expect(await openSeries(page)).toHaveAttribute('data-state', 'ready');
    const button = page.getByTestId('ai-button');
    await expect(button).toHaveText('AI (no model)');
    await expect(button).toHaveAttribute('title', /no model installed.*medimgshr model add <folder>/);
    await button.click();
    const panel = page.getByTestId('ai-panel');
    await expect(panel.getByTestId('ai-disclaimer')).toHaveText('AI — not for diagnostic use');
    await expect(panel.getByTestId('ai-no-model')).toContainText('No AI model is installed.');
    await expect(panel.getByTestId('ai-no-model')).toContainText('Settings → AI models');
    await expect(panel.getByTestId('ai-no-model')).toContainText('medimgshr model add <folder>');
    await expect(panel.getByTestId('ai-run-image')).toHaveCount(0);
    await expect(panel.getByTestId('ai-result')).toHaveCount(0);
    await expect(page.getByTestId('ai-models-status')).toHaveText('AI models: none');
    // the API refuses too, with the same words
    const r = (await page.evaluate(() => (window as unknown as { medimg: { invoke(c: string, q: unknown): Promise<unknown> } }).medimg.invoke('ai.run', { scope: { instanceId: 1 } }))) as {
      ok: boolean;
      error: { message: string };
    };
    expect(r.ok).toBe(false);
    expect(r.error.message).toMatch(/^No AI model is installed: Settings → AI models, or `medimgshr model add <folder>`/);
    for (const shot of await screenshotsAtTwoSizes(page, app.screenshot, 'ai-no-model')) expect(shot).toMatch(/\.png$/);
  } finally {
    t.cleanup();
  }
});

test('install a generated model, run it on a CR image: expected probabilities, heat map, skipped view, stale after one pixel changes', async ({ app }) => {
  const { page, services } = app;
  const t = tempDir('medimg-ai-e2e-');
  try {
    const images = join(t.path, 'images');
    mkdirSync(images);
    const pa = join(images, 'a-pa.dcm');
    const pixels = blockImage(1024, 3072);
    const { sopInstanceUid } = writeCrImage(pa, { rows: 256, columns: 256, pixels, instance: 'pa' });
    // the same study, a lateral view: the model (PA/AP only) skips it with the reason
    const ll = join(images, 'b-ll.dcm');
    writeCrImage(ll, { rows: 256, columns: 256, pixels, instance: 'll', viewPosition: 'LL' });
    await importPaths(page, [images]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-state', 'ready');
    const paId = services.library.instanceAtPath(pa)!.instanceId;
    await expect(vp).toHaveAttribute('data-instance-id', String(paId));

    // Settings → AI models: a card whose input size does not match the model is refused, naming the shape.
    const bad = writeModelFolder(join(t.path, 'bad-model'), probeCard({ input: { name: 'image', width: 64, height: 64, channels: 1 } }));
    await page.getByTestId('ai-models-status').click();
    const settings = page.getByTestId('ai-models-settings');
    await expect(settings.getByTestId('ai-models-empty')).toBeVisible();
    await settings.getByLabel('Add a model from a folder').fill(bad);
    await settings.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(settings.getByTestId('ai-models-error')).toContainText("the card says input 1×1×64×64, the model's input 'image' is 1×1×32×32");
    await expect(settings.getByTestId('ai-model')).toHaveCount(0);

    // the good folder, through the (stand-in) folder dialog
    const good = writeModelFolder(join(t.path, 'probe-model'));
    app.setPickedPaths([good]);
    await settings.getByRole('button', { name: 'Choose folder…' }).click();
    await expect(settings.getByTestId('ai-models-done')).toHaveText('Installed: Probe chest model (test) 1.0.0.');
    const row = settings.getByTestId('ai-model');
    await expect(row).toHaveCount(1);
    await expect(row).toContainText('Probe chest model (test)');
    await expect(row).toContainText('Tests of the MedImgShr AI pipeline');
    await expect(row).toContainText('CR, DX · CHEST · PA, AP');
    await expect(row).toContainText('CC0-1.0 (generated by the MedImgShr tests)');
    await expect(row).toContainText('Not for diagnostic use');
    await expect(row).toContainText('Opacity (region) (threshold 50 %), Mean brightness (threshold 40 %) · heat map');
    const models = (await invoke<{ models: AiModel[] }>(page, 'ai.models.list', {})).models;
    expect(models.map((m) => m.name)).toEqual(['Probe chest model (test)']);
    await screenshotsAtTwoSizes(page, app.screenshot, 'ai-models-settings');
    await settings.getByRole('button', { name: 'Close' }).click();
    await expect(page.getByTestId('ai-models-status')).toHaveText('AI models: 1');

    // Run on the displayed image.
    await expect(page.getByTestId('ai-button')).toHaveText('AI');
    await page.getByTestId('ai-button').click();
    const panel = page.getByTestId('ai-panel');
    await expect(panel.getByTestId('ai-no-results')).toBeVisible();
    await panel.getByTestId('ai-run-image').click();
    const result = panel.getByTestId('ai-result');
    await expect(result).toHaveCount(1);
    await expect(result).toHaveAttribute('data-state', 'current');
    const a = result.locator('[data-testid=ai-finding][data-label="Opacity (region)"]');
    const b = result.locator('[data-testid=ai-finding][data-label="Mean brightness"]');
    expect(Number(await a.getAttribute('data-probability'))).toBeCloseTo(EXPECT.a, 5);
    expect(Number(await b.getAttribute('data-probability'))).toBeCloseTo(EXPECT.b, 5);
    // as text: the probability, the card's threshold, positive / negative
    await expect(a).toHaveText(['Opacity (region)', `${(EXPECT.a * 100).toFixed(1)} %`, '50.0 %', 'positive'].join(''));
    await expect(b).toHaveText(['Mean brightness', `${(EXPECT.b * 100).toFixed(1)} %`, '40.0 %', 'negative'].join(''));
    await expect(panel.getByTestId('ai-disclaimer')).toHaveText('AI — not for diagnostic use');
    // bound to the image: the result's pixel digest is the fingerprint of this file
    const stored = services.ai.results.forInstance(sopInstanceUid);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.findings[0]!.probability).toBeCloseTo(EXPECT.a, 5);

    // Anchoring needs a clinician signed in (here: nobody, no ledger): it says so, nothing is sent.
    await panel.getByTestId('ai-anchor').click();
    await expect(panel.getByTestId('ai-anchor-message')).toContainText('Anchoring findings needs an unlocked clinician identity.');

    // The heat map (8×8 AveragePool of the input) over the image: it covers the image's box on screen.
    await panel.getByTestId('ai-heatmap-toggle').check();
    const heat = vp.getByTestId('ai-heatmap');
    await expect(heat).toHaveAttribute('data-map-size', '8x8');
    await expect(heat).toHaveAttribute('data-box', /\d/);
    const box = (await heat.getAttribute('data-box'))!.split(',').map(Number);
    const canvasBox = (await vp.locator('.viewport__canvas canvas').first().boundingBox())!;
    const vpBox = (await vp.locator('.viewport__canvas').boundingBox())!;
    // the image is square and fitted: the map is square, inside the viewport, as tall as the canvas
    expect(box[2]! - box[0]!).toBeCloseTo(box[3]! - box[1]!, 0);
    expect(box[0]!).toBeGreaterThanOrEqual(-1);
    expect(box[2]!).toBeLessThanOrEqual(vpBox.width + 1);
    expect(Math.abs(box[3]! - box[1]! - Math.min(canvasBox.width, canvasBox.height))).toBeLessThan(2);
    // the region (input 8..16 of 32 → heat cells 2..4 of 8) is where the map is hottest: sample its centre pixel
    const hot = await heat.evaluate((c: HTMLCanvasElement, b) => {
      const ctx = c.getContext('2d')!;
      const dpr = c.width / c.clientWidth;
      const at = (fx: number, fy: number) => Array.from(ctx.getImageData(Math.round((b[0]! + (b[2]! - b[0]!) * fx) * dpr), Math.round((b[1]! + (b[3]! - b[1]!) * fy) * dpr), 1, 1).data);
      return { region: at(3 / 8, 3 / 8), background: at(6 / 8, 6 / 8) };
    }, box);
    expect(hot.region[3]!).toBeGreaterThan(hot.background[3]!);
    expect(hot.region[0]!).toBeGreaterThan(hot.background[0]!);
    await screenshotsAtTwoSizes(page, app.screenshot, 'ai-findings-heatmap');

    // The whole study: the lateral view is skipped with the reason.
    await panel.getByTestId('ai-run-study').click();
    const summary = panel.getByTestId('ai-run-summary');
    await expect(summary).toContainText('whole study): 1 result(s), 1 skipped, 0 failed');
    await expect(summary.getByTestId('ai-skipped-item')).toHaveText(
      `Image ${services.library.instanceAtPath(ll)!.instanceId} skipped: the model accepts PA/AP views; this one's View Position is LL`,
    );

    // One pixel of the file changes (same size, same UIDs): the result is marked stale, with why.
    const changed = Uint16Array.from(pixels);
    changed[200 * 256 + 200] = 1025;
    writeCrImage(pa, { rows: 256, columns: 256, pixels: changed, instance: 'pa' });
    await panel.getByTestId('ai-recheck').click();
    await expect(result).toHaveAttribute('data-state', 'stale');
    await expect(result.getByTestId('ai-result-state')).toHaveText('Stale');
    await expect(result.getByTestId('ai-stale-reasons')).toContainText("the image's pixels changed since the finding");
    // a stale heat map would lie over pixels it was not computed from: it is taken down
    await expect(vp.getByTestId('ai-heatmap')).toHaveCount(0);
    await expect(result.getByTestId('ai-heatmap-toggle')).toBeDisabled();
    await expect(panel.getByTestId('ai-disclaimer')).toBeVisible();
    await screenshotsAtTwoSizes(page, app.screenshot, 'ai-findings-stale');
  } finally {
    t.cleanup();
  }
});
