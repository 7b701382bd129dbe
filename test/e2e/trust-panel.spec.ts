/**
 * The trust panel on the embedded chain with the demo: the demo study anchored, consented by the
 * patient, shared to the demo partner and received on a second workstation. The drawer (toolbar
 * "Trust", key U) shows the patient's score (500 → 505) as a chart with its history, the acting
 * institution's score (502) and status, every image verified, the record, the consent, the granted
 * access; the history filters; CSV and PDF exports are written; with the chain stopped it says
 * "ledger unreachable" and nothing is shown as verified.
 */
import { readFileSync } from 'node:fs';
import { CREDIT_POLICY } from '../../src/core/credit-policy';
import { test, expect } from './rig';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';
import { anchoredDemo, openFirstSeries, openTrustDrawer, sharedAndReceived } from './support/trust';

const anvil = component('anvil');
test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

test.describe('trust panel', () => {
  test.skip(!anvil, 'anvil not installed');

  test('score chart and history of the open study; filter; CSV + PDF; ledger unreachable', async ({ app }) => {
    test.setTimeout(240_000);
    const { page, services } = app;
    const demo = await anchoredDemo(app);
    const { partner } = await sharedAndReceived(app, demo);
    await openFirstSeries(page);

    // Key U toggles the drawer as well as the toolbar button.
    await page.keyboard.press('u');
    await expect(page.getByTestId('trust-drawer')).toBeVisible();
    await page.keyboard.press('u');
    await expect(page.getByTestId('trust-drawer')).toHaveCount(0);
    const panel = await openTrustDrawer(page);

    await expect(panel.getByTestId('trust-ledger')).toHaveAttribute('data-reachable', 'true');
    await expect(panel.getByTestId('trust-ledger')).toContainText('synced');
    const patientScore = CREDIT_POLICY.startScore + CREDIT_POLICY.patientAccessReward;
    await expect(panel.getByTestId('patient-score')).toHaveText(String(patientScore));
    const chart = panel.getByTestId('patient-score-chart');
    await expect(chart).toBeVisible();
    const points = Number(await chart.getAttribute('data-points'));
    expect(points).toBeGreaterThanOrEqual(1);
    await expect(chart.getByTestId('chart-point')).toHaveCount(points);
    // The newest change is the access reward, in plain words, caused by the partner's recordAccess.
    const newest = panel.getByTestId('score-change').first();
    await expect(newest).toContainText(`+${CREDIT_POLICY.patientAccessReward} → ${patientScore}`);
    await expect(newest).toContainText('a study the patient consented to was accessed');
    await expect(newest).toContainText('DEMO Partner Hospital');

    const acting = panel.getByTestId('acting-institution');
    await expect(acting).toContainText(String(CREDIT_POLICY.startScore + CREDIT_POLICY.integrityReward));
    await expect(acting).toContainText('may share and receive');
    // The thresholds that gate an institution, labelled with their values (from the contract).
    await expect(acting.getByTestId('chart-threshold')).toHaveText([`start ${CREDIT_POLICY.startScore}`, `may receive ${CREDIT_POLICY.receiveThreshold}`, `may anchor ${CREDIT_POLICY.anchorThreshold}`]);
    await expect(panel.getByTestId('patient-score-chart').getByTestId('chart-threshold')).toHaveText([`start ${CREDIT_POLICY.startScore}`]);

    await expect(panel.getByTestId('verification-counts')).toHaveAttribute('data-state', 'verified');
    await expect(panel.getByTestId('verification-counts')).toContainText(`${demo.study.instanceCount} verified`);
    await expect(panel.getByTestId('record-versions').locator('tbody tr')).toHaveCount(1);
    await expect(panel.getByTestId('consent-row')).toHaveAttribute('data-state', 'active');
    await expect(panel.getByTestId('consent-row')).toContainText('signed by the patient');
    const access = panel.getByTestId('access-row');
    await expect(access).toHaveCount(1);
    await expect(access).toHaveAttribute('data-outcome', 'granted');
    await expect(access).toContainText('DEMO Partner Hospital');
    await expect(access).toContainText('integrity: confirmed');

    const historyRows = panel.getByTestId('history-row');
    const all = await historyRows.count();
    expect(all).toBeGreaterThanOrEqual(4); // record, consent, access, score changes
    await app.screenshot('trust-panel');
    // The history names accounts (the address is in the hover), never a raw 0x… address; times in the one format.
    const historyTable = panel.getByTestId('history-table');
    await historyTable.scrollIntoViewIfNeeded();
    expect(await historyTable.textContent()).not.toMatch(/0x[0-9a-fA-F]{40}/);
    const named = historyTable.locator('.account');
    expect(await named.count()).toBeGreaterThan(0);
    await expect(named.first()).toHaveAttribute('title', /^0x[0-9a-fA-F]{40}$/);
    await expect(historyTable.locator('time').first()).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    for (const [w, h] of [
      [1920, 1080],
      [1280, 720],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await historyTable.scrollIntoViewIfNeeded();
      await app.screenshot(`trust-panel-history-${w}x${h}`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // Filter: accesses only.
    await panel.getByRole('button', { name: 'Accesses', exact: true }).click();
    await expect(historyRows.first()).toHaveAttribute('data-kind', 'access');
    const kinds = await historyRows.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(['access']));
    await panel.getByTestId('history-table').scrollIntoViewIfNeeded();
    await app.screenshot('trust-panel-history-filtered');

    // Export the filtered history as CSV and the whole history as a PDF report (folder from the dialog stand-in).
    const out = tempDir('medimg-e2e-history-');
    try {
      app.setPickedPaths([out.path]);
      await panel.getByTestId('history-csv').click();
      const saved = panel.getByTestId('history-saved');
      await expect(saved).toContainText('as CSV to');
      const csvPath = (await saved.textContent())!.replace(/^.* to /, '').trim();
      const csv = readFileSync(csvPath, 'utf8');
      expect(csv.split(/\r?\n/).filter(Boolean).length).toBe(kinds.length + 1);
      expect(csv.toLowerCase()).toContain(partner.toLowerCase());

      await panel.getByRole('button', { name: 'Accesses', exact: true }).click();
      await expect(historyRows).toHaveCount(all);
      await panel.getByTestId('history-pdf').click();
      await expect(saved).toContainText(`Saved ${all} entries as PDF to`);
      const pdfPath = (await saved.textContent())!.replace(/^.* to /, '').trim();
      expect(readFileSync(pdfPath).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    } finally {
      out.cleanup();
    }

    // The chain goes away: the panel says so and shows nothing as verified.
    await services.embeddedNode!.stop();
    await panel.getByRole('button', { name: 'Refresh' }).click();
    await expect(panel.getByTestId('trust-ledger')).toHaveAttribute('data-reachable', 'false', { timeout: 60_000 });
    await expect(panel.getByTestId('trust-ledger')).toContainText('Ledger unreachable');
    await expect(panel).toHaveAttribute('data-loading', 'false', { timeout: 60_000 });
    await expect(panel.getByTestId('verification-counts')).not.toHaveAttribute('data-state', 'verified');
    await expect(panel.getByTestId('verification-counts').locator('[data-count=verified]')).toHaveCount(0);
    await panel.locator('.trust__scroll').evaluate((el) => el.scrollTo(0, 0));
    await app.screenshot('trust-panel-unreachable');
  });
});
