/**
 * One pixel byte changed in one file on disk after anchoring: that image shows "altered: pixels",
 * the study (in the viewer and in the browser) shows it too, the other images stay verified.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { component } from '../support/components';
import { test, expect } from './rig';
import type { Locator, Page } from '@playwright/test';
import { invoke, viewport } from './support/viewer';
import { instancePath, login, openDemoStudy, setupDemo } from './support/ledger';
import { boxes, css, intersects, RED } from './support/layout';
import { anchorConfirmed } from './support/trust';

/** The viewport shows the altered image's red frame and banner, above the image and clear of its overlay text. */
async function expectAlteredViewport(page: Page): Promise<void> {
  const vp = viewport(page);
  const frame = vp.getByTestId('altered-frame');
  await expect(frame).toBeVisible({ timeout: 30_000 });
  await expect(frame).toHaveAttribute('data-verification', 'altered');
  expect(await css(frame, 'border-top-color')).toBe(RED);
  expect(Number.parseFloat(await css(frame, 'border-top-width'))).toBeGreaterThanOrEqual(3);
  const [f, v] = [await frame.boundingBox(), await vp.boundingBox()];
  // The frame goes round the whole viewport.
  expect(Math.abs(f!.x - v!.x)).toBeLessThanOrEqual(1);
  expect(Math.abs(f!.width - v!.width)).toBeLessThanOrEqual(2);
  expect(Math.abs(f!.height - v!.height)).toBeLessThanOrEqual(2);
  const banner = vp.getByTestId('altered-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toHaveAttribute('role', 'alert');
  await expect(banner).toContainText('ALTERED IMAGE');
  await expect(banner).toContainText('pixel data differ from the anchored record');
  await expect(banner).toContainText(/pixel digest now [0-9a-f]{8}… anchored [0-9a-f]{8}…/);
  await expect(banner).not.toContainText('metadata digest');
  await expect(banner).toContainText('Do not rely on this image for diagnosis. Compare with the PACS copy; report to the anchoring institution DEMO Clinic.');
  // Above the image, not over it, and over no overlay text.
  const b = (await banner.boundingBox())!;
  const canvas = (await vp.locator('.viewport__canvas').boundingBox())!;
  expect(b.y + b.height).toBeLessThanOrEqual(canvas.y + 0.5);
  expect(canvas.height).toBeGreaterThan(v!.height * 0.6);
  const text = await boxes(vp, '[data-testid=overlay] .overlay__corner > *, [data-testid=overlay] .overlay__marker');
  expect(text.length).toBeGreaterThan(4);
  expect(text.filter((t) => intersects(t, b))).toEqual([]);
}

/** Nothing says altered: no frame, no banner, no series mark, the study badge a plain (compact) dot. */
async function expectNotAltered(page: Page): Promise<void> {
  const vp: Locator = viewport(page);
  await expect(vp.getByTestId('altered-frame')).toHaveCount(0);
  await expect(vp.getByTestId('altered-banner')).toHaveCount(0);
  await expect(page.getByTestId('series-altered')).toHaveCount(0);
  await expect(page.getByTestId('study-row').getByTestId('study-verification')).not.toHaveAttribute('data-state', 'altered');
  expect(await css(page.getByTestId('study-row').locator('.tree__study-head'), 'box-shadow')).not.toContain(RED);
}

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

test('a changed pixel byte on disk: that image "altered: pixels", the study altered, the rest verified', async ({ app }) => {
  test.skip(!component('anvil'), 'anvil not installed');
  test.setTimeout(150_000);
  const { page } = app;
  const demo = await setupDemo(app);
  const uid = demo.study!.studyInstanceUid;
  await login(page, 'clinician');
  await anchorConfirmed(page, uid);

  await openDemoStudy(page);
  const vp = viewport(page);
  const badge = vp.getByTestId('image-verification');
  await expect(badge).toHaveAttribute('data-state', 'verified', { timeout: 30_000 });
  // Verified: no frame, no banner, no mark in the browser.
  await expectNotAltered(page);

  // Scroll to image 10 and change one byte of its pixel data on disk (same size; Pixel Data is the last element).
  await vp.getByTestId('stack-scrollbar').fill('9');
  await expect(vp).toHaveAttribute('data-position', '9');
  const instanceId = Number(await vp.getAttribute('data-instance-id'));
  const file = instancePath(app.services, instanceId);
  const bytes = readFileSync(file);
  const pixelTag = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  expect(pixelTag).toBeGreaterThan(0);
  const at = bytes.length - 2000;
  expect(at).toBeGreaterThan(pixelTag + 12);
  bytes[at] = bytes[at]! ^ 0x5a;
  writeFileSync(file, bytes);

  // Ask again (the study badge's "Check again"): the answer comes from the backend in this call.
  await badge.click();
  await vp.getByTestId('image-verification-detail').getByRole('button', { name: 'Check again' }).click();
  await expect(badge).toHaveAttribute('data-state', 'altered', { timeout: 30_000 });
  await expect(badge).toHaveText(/altered: pixels/);
  const studyBadge = vp.getByTestId('viewer-study-verification');
  await expect(studyBadge).toHaveAttribute('data-state', 'altered', { timeout: 30_000 });
  await expect(studyBadge).toHaveText(/altered: pixels/);
  const browserBadge = page.getByTestId('study-row').getByTestId('study-verification');
  await expect(browserBadge).toHaveAttribute('data-state', 'altered', { timeout: 30_000 });
  await expect(browserBadge).toHaveAttribute('title', /altered: pixels/);

  // Impossible to miss: a red frame around the viewport, a banner saying what differs and what to do,
  // in the badge row above the image (not over it, not over the overlay text).
  await expectAlteredViewport(page);
  // The series row (thumbnail) and the study row say it in words and are framed in red.
  const seriesRow = page.getByTestId('series-row').first();
  await expect(seriesRow.getByTestId('series-altered')).toHaveText(/ALTERED · 1 of 40 images · pixel data/, { timeout: 30_000 });
  expect(await css(seriesRow, 'border-top-color')).toBe(RED);
  expect(await css(seriesRow.locator('.series__thumb'), 'border-top-color')).toBe(RED);
  const studyHead = page.getByTestId('study-row').locator('.tree__study-head');
  await expect(browserBadge).toHaveText(/altered: pixels/);
  await expect(browserBadge).toBeVisible();
  expect(await css(studyHead, 'box-shadow')).toContain(RED);

  // Neighbours are still verified: no frame, no banner on them (the series and the study stay marked).
  for (const n of [8, 10]) {
    await vp.getByTestId('stack-scrollbar').fill(String(n));
    await expect(vp).toHaveAttribute('data-position', String(n));
    await expect(badge).toHaveAttribute('data-state', 'verified');
    await expect(vp.getByTestId('altered-frame')).toHaveCount(0);
    await expect(vp.getByTestId('altered-banner')).toHaveCount(0);
    await expect(seriesRow.getByTestId('series-altered')).toBeVisible();
  }
  await vp.getByTestId('stack-scrollbar').fill('9');
  await expect(badge).toHaveAttribute('data-state', 'altered');
  await expectAlteredViewport(page);
  for (const size of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
    await page.setViewportSize(size);
    await expectAlteredViewport(page);
    await app.screenshot(`altered-image-${size.width}x${size.height}`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  await badge.click();
  const detail = vp.getByTestId('image-verification-detail');
  await expect(detail).toContainText('pixels now');
  await expect(detail).toContainText('Record root');
  await app.screenshot('altered-image');

  // The backend: exactly that instance altered (pixels), the rest verified.
  const sv = await invoke<{ state: string; counts: Record<string, number>; instances: { instanceId: number | null; state: string; differs: string[] }[] }>(page, 'ledger.verifyStudy', { studyInstanceUid: uid });
  expect(sv.state).toBe('altered');
  expect(sv.counts.altered).toBe(1);
  expect(sv.counts.verified).toBe(39);
  const alt = sv.instances.find((i) => i.state === 'altered')!;
  expect(alt.instanceId).toBe(instanceId);
  expect(alt.differs).toEqual(['pixels']);
});
