/**
 * One pixel byte changed in one file on disk after anchoring: that image shows "altered: pixels",
 * the study (in the viewer and in the browser) shows it too, the other images stay verified.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { component } from '../support/components';
import { test, expect } from './rig';
import { invoke, viewport } from './support/viewer';
import { instancePath, login, openDemoStudy, setupDemo } from './support/ledger';

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

test('a changed pixel byte on disk: that image "altered: pixels", the study altered, the rest verified', async ({ app }) => {
  test.skip(!component('anvil'), 'anvil not installed');
  test.setTimeout(150_000);
  const { page } = app;
  const demo = await setupDemo(app);
  const uid = demo.study!.studyInstanceUid;
  await login(page, 'clinician');
  const anchored = await invoke<{ anchor: { delivery: string } }>(page, 'ledger.anchor', { studyInstanceUid: uid, waitMs: 30_000 });
  expect(anchored.anchor.delivery).toBe('confirmed');

  await openDemoStudy(page);
  const vp = viewport(page);
  const badge = vp.getByTestId('image-verification');
  await expect(badge).toHaveAttribute('data-state', 'verified', { timeout: 30_000 });

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

  // Neighbours are still verified.
  for (const n of [8, 10]) {
    await vp.getByTestId('stack-scrollbar').fill(String(n));
    await expect(vp).toHaveAttribute('data-position', String(n));
    await expect(badge).toHaveAttribute('data-state', 'verified');
  }
  await vp.getByTestId('stack-scrollbar').fill('9');
  await expect(badge).toHaveAttribute('data-state', 'altered');
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
