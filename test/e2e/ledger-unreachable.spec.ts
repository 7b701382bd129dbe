/**
 * The embedded anvil stopped: the status bar and every badge say "ledger unreachable" (never
 * verified); an anchor queues ("queued — will be sent when the ledger is reachable"); anvil
 * restarted: the queued anchor is delivered, exactly once on the chain, and the study verifies.
 */
import { component } from '../support/components';
import { test, expect } from './rig';
import { invoke, viewport } from './support/viewer';
import { anchoredLogs, login, openDemoStudy, setupDemo } from './support/ledger';
import { anchorConfirmed } from './support/trust';

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

/**
 * Issue 16, honest badges: the embedded anvil is killed (SIGKILL, as a crash) while every badge says
 * "verified HH:MM:SS". Within one second of the kill — measured from the kill, Playwright's polling
 * expect with that remaining time — every badge of the connection says "ledger unreachable". The
 * monitor polls every 5 s here, so it is the failed read (the node's exit), not the poll, that
 * flips them. When the ledger is back, every check runs again and the badges say verified, with a
 * check time after the failure.
 */
test.describe('ledger killed', () => {
  test.use({ servicesOptions: { ledger: { mode: 'embedded' }, ledgerPollMs: 5000 } });

  test('every badge shows ledger unreachable within one second of the kill, and verified again after', async ({ app }) => {
    test.skip(!component('anvil'), 'anvil not installed');
    test.setTimeout(180_000);
    const { page } = app;
    const demo = await setupDemo(app);
    const uid = demo.study!.studyInstanceUid;
    await login(page, 'clinician');
    await openDemoStudy(page);
    await anchorConfirmed(page, uid);
    const vp = viewport(page);
    const imageBadge = vp.getByTestId('image-verification');
    const studyBadge = vp.getByTestId('viewer-study-verification');
    const browserBadge = page.getByTestId('study-row').getByTestId('study-verification');
    for (const b of [imageBadge, studyBadge, browserBadge]) await expect(b).toHaveAttribute('data-state', 'verified', { timeout: 30_000 });
    // A verified badge says when it was checked: in its text where there is room, always in its title.
    await expect(imageBadge).toHaveText(/verified \d\d:\d\d:\d\d/);
    await expect(studyBadge).toHaveText(/verified \d\d:\d\d:\d\d/);
    await expect(browserBadge).toHaveAttribute('title', /verified \d\d:\d\d:\d\d/);
    // The trust panel (key U) too: its counts are part of "every badge".
    await page.keyboard.press('u');
    const counts = page.getByTestId('trust-panel').getByTestId('verification-counts');
    await expect(counts).toHaveAttribute('data-state', 'verified', { timeout: 60_000 });
    for (const size of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
      await page.setViewportSize(size);
      await app.screenshot(`ledger-killed-before-${size.width}x${size.height}`);
    }

    const node = app.services.connection.embeddedNode;
    expect(node?.pid).toBeGreaterThan(0);
    const killedAt = Date.now();
    process.kill(node!.pid!, 'SIGKILL');
    const badgeStates = () =>
      page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('[data-testid=image-verification],[data-testid=viewer-study-verification],[data-testid=study-verification],[data-testid=verification-counts]')].map(
          (e) => `${e.dataset.testid}:${e.dataset.state}`,
        ),
      );
    const expected = ['image-verification:ledger-unreachable', 'viewer-study-verification:ledger-unreachable', 'study-verification:ledger-unreachable', 'verification-counts:ledger-unreachable'];
    await expect
      .poll(async () => (await badgeStates()).sort(), { timeout: Math.max(1, 1000 - (Date.now() - killedAt)), intervals: [20] })
      .toEqual([...expected].sort());
    await expect(imageBadge).toHaveText(/ledger unreachable/);
    await expect(imageBadge).toHaveAttribute('title', /stopped answering at \d\d:\d\d:\d\d/);
    await expect(page.getByTestId('trust-panel').getByTestId('trust-ledger')).toHaveAttribute('data-reachable', 'false');
    for (const size of [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }]) {
      await page.setViewportSize(size);
      await app.screenshot(`ledger-killed-${size.width}x${size.height}`);
    }
    // Scrolling to another image asks the main process, which knows the ledger is gone: never verified.
    await vp.getByTestId('stack-scrollbar').fill('20');
    await expect(vp).toHaveAttribute('data-position', '20');
    await expect(imageBadge).toHaveAttribute('data-state', 'ledger-unreachable', { timeout: 15_000 });
    const status = await invoke<{ state: string; failedAt: string | null }>(page, 'ledger.status', {});
    expect(status.state).toBe('unreachable');
    expect(Date.parse(status.failedAt!)).toBeGreaterThanOrEqual(killedAt - 1000);

    // Back: the node restarts from its crash-safe state, verification re-runs, badges come back.
    await app.services.restartEmbeddedLedger();
    await expect(page.getByTestId('ledger-status')).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
    for (const b of [imageBadge, studyBadge, browserBadge]) await expect(b).toHaveAttribute('data-state', 'verified', { timeout: 30_000 });
    await expect(counts).toHaveAttribute('data-state', 'verified', { timeout: 30_000 });
    const text = (await imageBadge.textContent()) ?? '';
    const hms = /verified (\d\d):(\d\d):(\d\d)/.exec(text);
    expect(hms, text).not.toBeNull();
    const checked = new Date(killedAt);
    checked.setHours(Number(hms![1]), Number(hms![2]), Number(hms![3]), 999);
    expect(checked.getTime()).toBeGreaterThanOrEqual(killedAt);
  });
});
