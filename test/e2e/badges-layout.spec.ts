/**
 * Badges never cover overlay text, overlay text is never cut off, and no panel covers the images:
 * every layout (1×1, 1×2, 2×2), at 1920×1080, 1440×900 and 1280×720, with no panel, the trust drawer,
 * the tag inspector, the measurement list, and the tag inspector with the trust drawer; with verified
 * images and altered ones (their banner sits in the same badge row). Boxes come from
 * getBoundingClientRect in the page.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { component } from '../support/components';
import { test, expect } from './rig';
import { animationFrames, expandAll, importPaths, num, openSeries, pixelStats, sampleSeries, viewport } from './support/viewer';
import { instancePath, login, openDemoStudy, setupDemo } from './support/ledger';
import { boxes, intersects } from './support/layout';
import { anchorConfirmed } from './support/trust';

const SIZES = [
  { width: 1920, height: 1080 },
  { width: 1440, height: 900 },
  { width: 1280, height: 720 },
] as const;
const LAYOUTS = ['1x1', '1x2', '2x2'] as const;
const CELLS = { '1x1': 1, '1x2': 2, '2x2': 4 } as const;
type PanelState = 'none' | 'trust' | 'tags' | 'measurements' | 'tags+trust';
const PANELS: PanelState[] = ['none', 'trust', 'tags', 'measurements', 'tags+trust'];

const OVERLAY_TEXT = '[data-testid=overlay] .overlay__corner > *, [data-testid=overlay] .overlay__marker';
const BADGES = '[data-testid=viewport-badges] .vbadge, [data-testid=viewport-badges] .valert';

async function setPanels(page: Page, state: PanelState): Promise<void> {
  const want = { tags: state === 'tags' || state === 'tags+trust', measurements: state === 'measurements', trust: state === 'trust' || state === 'tags+trust' };
  await page.keyboard.press('Escape'); // closes the trust drawer or the side panel
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('trust-drawer')).toHaveCount(0);
  await expect(page.getByTestId('tag-inspector')).toHaveCount(0);
  await expect(page.getByTestId('measurement-panel')).toHaveCount(0);
  if (want.tags) await page.keyboard.press('t');
  if (want.measurements) await page.keyboard.press('m');
  if (want.trust) await page.keyboard.press('u');
  await expect(page.getByTestId('tag-inspector')).toHaveCount(want.tags ? 1 : 0);
  await expect(page.getByTestId('measurement-panel')).toHaveCount(want.measurements ? 1 : 0);
  await expect(page.getByTestId('trust-drawer')).toHaveCount(want.trust ? 1 : 0);
  await animationFrames(page);
}

/** Scrolls viewport `i` to the altered image (position 5) and waits for its banner; keys go back to the viewer. */
async function showAltered(page: Page, i: number): Promise<void> {
  await viewport(page, i).getByTestId('stack-scrollbar').fill('5');
  await expect(viewport(page, i)).toHaveAttribute('data-position', '5');
  await expect(viewport(page, i).getByTestId('altered-banner')).toBeVisible({ timeout: 60_000 });
  await expect(viewport(page, i).getByTestId('altered-frame')).toBeVisible();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

/** What is wrong with the layout now, as readable lines (empty when all is well). */
async function layoutProblems(page: Page, cells: number, where: string): Promise<string[]> {
  const problems: string[] = [];
  const area = (await page.locator('.viewport-area').boundingBox())!;
  for (const other of ['trust-drawer', 'tag-inspector', 'measurement-panel']) {
    const el = page.getByTestId(other);
    if (!(await el.count())) continue;
    const b = (await el.boundingBox())!;
    // Nothing laid over the viewports: every panel is beside them.
    if (intersects(area, b)) problems.push(`${where}: ${other} overlaps the viewport area`);
    if (area.x + area.width > b.x + 0.5) problems.push(`${where}: viewport area right edge ${area.x + area.width} > ${other} left edge ${b.x}`);
  }
  for (let i = 0; i < cells; i++) {
    const vp = viewport(page, i);
    const v = (await vp.boundingBox())!;
    const text = await boxes(vp, OVERLAY_TEXT);
    const badges = await boxes(vp, BADGES);
    if (text.length < 6) problems.push(`${where} vp${i}: only ${text.length} overlay texts`);
    if (badges.length < 2) problems.push(`${where} vp${i}: only ${badges.length} badges`);
    for (const b of badges) {
      for (const t of text) if (intersects(b, t)) problems.push(`${where} vp${i}: badge "${b.text}" covers overlay "${t.text}"`);
      if (b.x < v.x - 0.5 || b.x + b.width > v.x + v.width + 0.5) problems.push(`${where} vp${i}: badge "${b.text}" sticks out of the viewport`);
    }
    text.forEach((t, n) => {
      for (const u of text.slice(n + 1)) if (intersects(t, u)) problems.push(`${where} vp${i}: overlay "${t.text}" runs into overlay "${u.text}"`);
    });
    for (const t of text) {
      if (t.clipped) problems.push(`${where} vp${i}: overlay "${t.text}" is cut off`);
      if (t.x < v.x - 0.5 || t.x + t.width > v.x + v.width + 0.5 || t.y < v.y - 0.5 || t.y + t.height > v.y + v.height + 0.5) problems.push(`${where} vp${i}: overlay "${t.text}" leaves the viewport`);
    }
    for (const t of await boxes(vp, '[data-testid=viewport-badges] .vbadge__text')) if (t.clipped) problems.push(`${where} vp${i}: badge text "${t.text}" is cut off`);
  }
  return problems;
}

test.describe('with the embedded ledger (verified and altered images)', () => {
  test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

  test('badges never cover overlay text, nothing is cut off, no panel covers the images (3 layouts × 3 sizes × 5 panel states)', async ({ app }) => {
    test.skip(!component('anvil'), 'anvil not installed');
    test.setTimeout(300_000);
    const { page } = app;
    const demo = await setupDemo(app);
    await login(page, 'clinician');
    await anchorConfirmed(page, demo.study!.studyInstanceUid);
    await openDemoStudy(page);
    const row = (await expandAll(page)).first();

    // The widest badges a verified image has: "✓ verified" and "✓ study verified", in every viewport.
    await page.getByRole('button', { name: 'Layout 2x2' }).click();
    await expect(page.getByTestId('viewport')).toHaveCount(4);
    for (const i of [1, 2, 3]) {
      await row.dragTo(viewport(page, i));
      await expect(viewport(page, i)).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
    }
    for (let i = 0; i < 4; i++) {
      await expect(viewport(page, i).getByTestId('image-verification')).toHaveAttribute('data-state', 'verified', { timeout: 60_000 });
      await expect(viewport(page, i).getByTestId('viewer-study-verification')).toHaveAttribute('data-state', 'verified', { timeout: 60_000 });
    }

    // Viewports 1 and 3 show an image whose pixels were changed on disk after anchoring: the banner is
    // in the badge row too (the longest thing it holds), and every study badge says "study altered: pixels".
    await viewport(page, 1).getByTestId('stack-scrollbar').fill('5');
    await expect(viewport(page, 1)).toHaveAttribute('data-position', '5');
    const file = instancePath(app.services, await num(viewport(page, 1), 'data-instance-id'));
    const bytes = readFileSync(file);
    bytes[bytes.length - 2000] = bytes[bytes.length - 2000]! ^ 0x5a;
    writeFileSync(file, bytes);
    await viewport(page, 1).getByTestId('image-verification').click();
    await viewport(page, 1).getByTestId('image-verification-detail').getByRole('button', { name: 'Check again' }).click();
    await viewport(page, 1).getByTestId('altered-banner').waitFor({ timeout: 60_000 });
    await showAltered(page, 3);
    for (const i of [0, 2]) {
      await expect(viewport(page, i).getByTestId('image-verification')).toHaveAttribute('data-state', 'verified', { timeout: 60_000 });
      await expect(viewport(page, i).getByTestId('altered-banner')).toHaveCount(0);
    }
    for (let i = 0; i < 4; i++) await expect(viewport(page, i).getByTestId('viewer-study-verification')).toHaveText(/study altered: pixels/, { timeout: 60_000 });
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur()); // keys go to the viewer, not the scrollbar

    const problems: string[] = [];
    let checked = 0;
    for (const size of SIZES) {
      await page.setViewportSize(size);
      for (const layout of LAYOUTS) {
        await page.getByRole('button', { name: `Layout ${layout}` }).click();
        await expect(page.getByTestId('viewport')).toHaveCount(CELLS[layout]);
        for (let i = 0; i < CELLS[layout]; i++) await expect(viewport(page, i)).toHaveAttribute('data-state', 'ready');
      // A layout change remounts the other viewports at their first image: back to the altered one.
      for (const i of [1, 3].filter((n) => n < CELLS[layout])) await showAltered(page, i);
        for (const panel of PANELS) {
          await setPanels(page, panel);
          for (const i of [1, 3].filter((n) => n < CELLS[layout])) await expect(viewport(page, i).getByTestId('altered-banner')).toBeVisible();
        problems.push(...(await layoutProblems(page, CELLS[layout], `${size.width}x${size.height} ${layout} ${panel}`)));
          checked++;
          if ((size.width === 1920 || size.width === 1280) && (panel === 'none' || panel === 'tags+trust' || (layout === '2x2' && panel === 'trust'))) {
            await app.screenshot(`badges-${layout}-${panel.replace('+', '-')}-${size.width}x${size.height}`);
          }
        }
        await setPanels(page, 'none');
      }
    }
    expect(checked).toBe(SIZES.length * LAYOUTS.length * PANELS.length);
    expect(problems).toEqual([]);
  });
});

test('the trust drawer narrows the viewport instead of covering it, and the image re-fits', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(6, 'ct', 171);
  try {
    await importPaths(page, [ct.dir]);
    for (const size of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
      await page.setViewportSize(size);
      const vp = await openSeries(page);
      await expect(vp).toHaveAttribute('data-state', 'ready');
      await animationFrames(page);
      const stats = (await pixelStats(page))!;
      const before = { scale: await num(vp, 'data-scale'), box: (await vp.boundingBox())! };
      await page.keyboard.press('u');
      const drawer = page.getByTestId('trust-drawer');
      await expect(drawer).toBeVisible();
      await expect.poll(async () => (await vp.boundingBox())!.width).toBeLessThan(before.box.width - 100);
      const d = (await drawer.boundingBox())!;
      const v = (await vp.boundingBox())!;
      // Beside, not over: the viewport's right edge at or left of the drawer's left edge.
      expect(v.x + v.width).toBeLessThanOrEqual(d.x + 0.5);
      expect(d.x + d.width).toBeLessThanOrEqual(size.width + 0.5);
      // The image re-fitted to the narrower canvas (cornerstone resize): the whole image is in view.
      const canvas = page.locator('[data-testid=viewport][data-index="0"] .viewport__canvas canvas.cornerstone-canvas');
      const fitError = async () => {
        const [cw, ch] = [Number(await canvas.getAttribute('width')), Number(await canvas.getAttribute('height'))];
        const fit = Math.min(cw / stats.columns, ch / stats.rows);
        return Math.abs((await num(vp, 'data-scale')) - fit) / fit;
      };
      await expect.poll(fitError).toBeLessThan(0.01);
      expect(Number(await canvas.getAttribute('width'))).toBeLessThanOrEqual(Math.ceil(v.width));
      // Where the width is what limits the image (1280), it became smaller to stay whole.
      if (Number(await canvas.getAttribute('width')) / stats.columns < before.scale) expect(await num(vp, 'data-scale')).toBeLessThan(before.scale);
      await app.screenshot(`trust-drawer-${size.width}x${size.height}`);
      // Closed again: the viewport takes the width back and re-fits to it.
      await page.keyboard.press('u');
      await expect(drawer).toHaveCount(0);
      await expect.poll(async () => Math.round((await vp.boundingBox())!.width)).toBe(Math.round(before.box.width));
      await expect.poll(async () => num(vp, 'data-scale')).toBeCloseTo(before.scale, 3);
    }
  } finally {
    ct.cleanup();
  }
});
