/**
 * Anchor → verified: a clinician anchors the open DEMO study from the viewer (real anvil), the
 * dialog shows progress then the record; every image and the study turn "verified" with the
 * evidence the backend returned. Verification is asked only after the first image is on screen.
 */
import { component } from '../support/components';
import { test, expect } from './rig';
import { invoke, viewport } from './support/viewer';
import { anchoredLogs, bridgeLog, login, openDemoStudy, setupDemo, traceBridgeCalls } from './support/ledger';

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

test('anchor on ledger from the viewer, then verified badges with evidence', async ({ app }) => {
  test.skip(!component('anvil'), 'anvil not installed');
  test.setTimeout(150_000);
  const { page } = app;
  await traceBridgeCalls(page);
  const demo = await setupDemo(app);
  await login(page, 'clinician');
  await openDemoStudy(page);

  // Verification came after the first image: no verify call while the viewport was not ready.
  const vp = viewport(page);
  const imageBadge = vp.getByTestId('image-verification');
  await expect(imageBadge).toHaveAttribute('data-state', 'not-registered', { timeout: 30_000 });
  const log = await bridgeLog(page);
  const verifies = log.filter((c) => c.channel === 'ledger.verifyInstances');
  expect(verifies.length).toBeGreaterThan(0);
  for (const c of verifies) expect(c.vpState).toBe('ready');
  // While the first image was loading, no verification call of any kind was started.
  expect(log.some((c) => c.vpState === 'loading')).toBe(true);
  for (const c of log) if (c.channel.startsWith('ledger.verify')) expect(c.vpState).not.toBe('loading');

  const browserBadge = page.getByTestId('study-row').getByTestId('study-verification');
  await expect(browserBadge).toHaveAttribute('data-state', 'not-registered', { timeout: 30_000 });
  await expect(vp.getByTestId('viewer-study-verification')).toHaveAttribute('data-state', 'not-registered');

  // Anchor from the top bar.
  const button = page.getByTestId('anchor-button');
  await expect(button).toBeEnabled();
  await button.click();
  const dialog = page.getByTestId('anchor-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('anchor-start').click();
  const result = dialog.getByTestId('anchor-result');
  await expect(result).toHaveAttribute('data-delivery', 'confirmed', { timeout: 60_000 });
  await expect(result).toContainText('40 image(s) in one record');
  const evidence = result.getByTestId('evidence');
  await expect(evidence).toContainText('Record root');
  await expect(evidence).toContainText('Block');
  await app.screenshot('anchor-record');

  // The chain has exactly one record of this root.
  const anchors = await invoke<{ anchors: { root: string; delivery: string; block: number | null }[] }>(page, 'ledger.anchors', { studyInstanceUid: demo.study!.studyInstanceUid });
  expect(anchors.anchors).toHaveLength(1);
  expect(anchors.anchors[0]!.delivery).toBe('confirmed');
  expect(await anchoredLogs(app.services, anchors.anchors[0]!.root)).toBe(1);
  await expect(evidence).toContainText(String(anchors.anchors[0]!.block));
  await dialog.getByRole('button', { name: 'Close' }).first().click();

  // Every image: verified (scroll through a few), the study too — in the viewer and the browser.
  await expect(imageBadge).toHaveAttribute('data-state', 'verified', { timeout: 30_000 });
  await expect(imageBadge).toHaveText(/verified/);
  await expect(vp.getByTestId('viewer-study-verification')).toHaveAttribute('data-state', 'verified', { timeout: 30_000 });
  await expect(browserBadge).toHaveAttribute('data-state', 'verified', { timeout: 30_000 });
  for (const n of [5, 20, 39]) {
    await vp.getByTestId('stack-scrollbar').fill(String(n));
    await expect(vp).toHaveAttribute('data-position', String(n));
    await expect(imageBadge).toHaveAttribute('data-state', 'verified');
  }
  // The backend agrees for every instance of the study, in this call.
  const sv = await invoke<{ state: string; counts: Record<string, number> }>(page, 'ledger.verifyStudy', { studyInstanceUid: demo.study!.studyInstanceUid });
  expect(sv.state).toBe('verified');
  expect(sv.counts.verified).toBe(40);

  // Evidence on click: root, block, institution, clinician, time.
  await imageBadge.click();
  const detail = vp.getByTestId('image-verification-detail');
  await expect(detail).toBeVisible();
  for (const t of ['Record root', 'Block', 'Institution', 'Clinician', 'Time', 'Transaction']) await expect(detail).toContainText(t);
  await expect(detail).toContainText(String(anchors.anchors[0]!.block));
  await app.screenshot('verified-study');
});
