/**
 * The audit log viewer: exports through the real services (an anonymised one, and an identifiable one
 * overridden with a typed reason because no ledger can verify the images) appear as entries; the hash
 * chain is re-checked and shown intact; the action filter narrows to the override with its reason; the
 * filtered log is exported as CSV and the whole log as JSON; an entry edited behind the app's back
 * (append-only triggers dropped, as anyone with the file could) is reported as a broken chain.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './rig';
import { tempDir } from '../support/tmp';
import { importPaths, invoke, openSeries, sampleSeries } from './support/viewer';
import type { StudySummary } from '../../src/shared/api';

test.describe('audit log', () => {
  test('entries, chain status, filter, CSV/JSON export, tampering detected', async ({ app }) => {
    test.setTimeout(120_000);
    const { page, services } = app;
    const sample = await sampleSeries(4);
    const out = tempDir('medimg-e2e-audit-');
    try {
      await importPaths(page, [sample.dir]);
      const { studies } = await invoke<{ studies: StudySummary[] }>(page, 'library.studies', {});
      const studyUid = studies[0]!.studyInstanceUid;
      await invoke(page, 'export.run', { scope: { studyInstanceUid: studyUid }, format: 'dicom-anonymised', outDir: join(out.path, 'anon') });
      const reason = 'Referral letter needs the original today; ledger offline at the clinic.';
      await invoke(page, 'export.run', { scope: { studyInstanceUid: studyUid }, format: 'dicom-original', outDir: join(out.path, 'orig'), override: { reason } });

      await page.reload();
      await openSeries(page, 0);
      // The audit log opens from the trust panel.
      await page.getByRole('button', { name: 'Trust', exact: true }).click();
      await page.getByTestId('trust-drawer').getByRole('button', { name: 'Audit log' }).click();
      const log = page.getByTestId('audit-log');
      const rows = log.getByTestId('audit-row');
      await expect(rows).toHaveCount(4);
      // Newest first; opening the study is recorded too.
      expect(await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-action')))).toEqual(['view', 'export.original', 'override', 'export.anonymised']);
      const chain = log.getByTestId('audit-chain');
      await expect(chain).toHaveAttribute('data-ok', 'true');
      await expect(chain).toContainText('Hash chain intact: 4 entries re-hashed');
      await expect(rows.filter({ hasText: 'override' })).toContainText(reason);
      await app.screenshot('audit-log');

      // Filter: overrides only; the entry opens to its full record.
      await log.getByLabel('Action').selectOption('override');
      await expect(rows).toHaveCount(1);
      await rows.first().click();
      await expect(log.locator('.taudit__detail pre')).toContainText('"rule": "identifiable export of images that are not all verified"');
      await app.screenshot('audit-log-filtered');

      app.setPickedPaths([out.path]);
      await log.getByTestId('audit-csv').click();
      const saved = log.getByTestId('audit-saved');
      await expect(saved).toContainText('Saved 1 entry as CSV to');
      const csv = readFileSync((await saved.textContent())!.replace(/^.* to /, '').trim(), 'utf8');
      expect(csv.split(/\r?\n/).filter(Boolean)).toHaveLength(2);
      expect(csv).toContain(reason);
      await log.getByLabel('Action').selectOption('');
      await expect(rows).toHaveCount(4);
      await log.getByTestId('audit-json').click();
      await expect(saved).toContainText('Saved 4 entries as JSON to');
      const json = JSON.parse(readFileSync((await saved.textContent())!.replace(/^.* to /, '').trim(), 'utf8')) as { entries: unknown[] };
      expect(json.entries).toHaveLength(4);

      // Someone with the database file edits the override's reason: the chain says so.
      services.db.exec('DROP TRIGGER IF EXISTS audit_log_no_update;');
      services.db.prepare("UPDATE audit_log SET reason = 'nothing to see here' WHERE action = 'override'").run();
      await log.getByTestId('audit-verify').click();
      await expect(chain).toHaveAttribute('data-ok', 'false');
      await expect(chain).toContainText('Hash chain broken');
      await expect(chain).toContainText('#2 edited');
      await app.screenshot('audit-log-tampered');
    } finally {
      sample.cleanup();
      out.cleanup();
    }
  });
});
