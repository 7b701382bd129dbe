/**
 * The embedded anvil stopped: the status bar and every badge say "ledger unreachable" (never
 * verified); an anchor queues ("queued — will be sent when the ledger is reachable"); anvil
 * restarted: the queued anchor is delivered, exactly once on the chain, and the study verifies.
 */
import { component } from '../support/components';
import { test, expect } from './rig';
import { invoke, viewport } from './support/viewer';
import { anchoredLogs, login, openDemoStudy, setupDemo } from './support/ledger';

test.use({ servicesOptions: { ledger: { mode: 'embedded' }, ledgerPollMs: 500 } });

test('ledger down: unreachable badges, anchor queued, delivered once after restart', async ({ app }) => {
  test.skip(!component('anvil'), 'anvil not installed');
  test.setTimeout(180_000);
  const { page } = app;
  const demo = await setupDemo(app);
  const uid = demo.study!.studyInstanceUid;
  await login(page, 'clinician');
  await openDemoStudy(page);
  const vp = viewport(page);
  const badge = vp.getByTestId('image-verification');
  await expect(badge).toHaveAttribute('data-state', 'not-registered', { timeout: 30_000 });

  await app.services.stopEmbeddedLedger();
  await expect(page.getByTestId('ledger-status')).toHaveAttribute('data-state', 'unreachable', { timeout: 20_000 });
  await expect(badge).toHaveAttribute('data-state', 'ledger-unreachable', { timeout: 30_000 });
  await expect(badge).toHaveText(/ledger unreachable/);
  await expect(vp.getByTestId('viewer-study-verification')).toHaveAttribute('data-state', 'ledger-unreachable', { timeout: 30_000 });
  const browserBadge = page.getByTestId('study-row').getByTestId('study-verification');
  await expect(browserBadge).toHaveAttribute('data-state', 'ledger-unreachable', { timeout: 30_000 });
  await app.screenshot('ledger-unreachable');

  // Anchor while down: queued.
  const button = page.getByTestId('anchor-button');
  await expect(button).toBeEnabled(); // the clinician role was read before the ledger went away
  await button.click();
  const dialog = page.getByTestId('anchor-dialog');
  await dialog.getByTestId('anchor-start').click();
  await expect(dialog.getByTestId('anchor-queued')).toContainText('Queued — will be sent when the ledger is reachable', { timeout: 60_000 });
  await expect(page.getByTestId('outbox-status')).toHaveAttribute('data-queued', '1', { timeout: 15_000 });
  await app.screenshot('anchor-queued');
  const local = await invoke<{ anchors: { root: string; delivery: string }[] }>(page, 'ledger.anchors', { studyInstanceUid: uid });
  expect(local.anchors).toHaveLength(1);
  expect(local.anchors[0]!.delivery).toBe('queued');
  // Still never "verified" while down.
  await expect(badge).toHaveAttribute('data-state', 'ledger-unreachable');

  // Back: delivered from the outbox, once.
  await app.services.restartEmbeddedLedger();
  await expect(page.getByTestId('ledger-status')).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
  await expect(dialog.getByTestId('anchor-result')).toHaveAttribute('data-delivery', 'confirmed', { timeout: 60_000 });
  await expect(dialog).toContainText('delivered from the queue');
  await app.screenshot('anchor-delivered');
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  expect(await anchoredLogs(app.services, local.anchors[0]!.root)).toBe(1);
  await expect(badge).toHaveAttribute('data-state', 'verified', { timeout: 30_000 });
  await expect(browserBadge).toHaveAttribute('data-state', 'verified', { timeout: 30_000 });
  await expect(page.getByTestId('outbox-status')).toHaveAttribute('data-queued', '0', { timeout: 15_000 });
  // Anchoring again changes nothing on chain (idempotent by root).
  const again = await invoke<{ existing: boolean; anchor: { delivery: string } }>(page, 'ledger.anchor', { studyInstanceUid: uid, waitMs: 10_000 });
  expect(again.existing).toBe(true);
  expect(await anchoredLogs(app.services, local.anchors[0]!.root)).toBe(1);
});
