/**
 * Export through the dialog on the embedded chain with the demo study anchored: the trust panel is
 * shown beside the form; an identifiable export (original DICOM) of the verified study is allowed and
 * written byte for byte with its report; PNG takes the viewer's window/level; with one image altered
 * the gate blocks it and says why, and the override path (typed reason) exports it and records the
 * reason in the audit log.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from './rig';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';
import { invoke } from './support/viewer';
import { alterPixels, anchoredDemo, openFirstSeries } from './support/trust';
import type { AuditEntryView } from '../../src/shared/api';

const anvil = component('anvil');
test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

test.describe('export', () => {
  test.skip(!anvil, 'anvil not installed');

  test('allowed: original DICOM of the verified study, with the trust panel and the report', async ({ app }) => {
    test.setTimeout(180_000);
    const { page } = app;
    const demo = await anchoredDemo(app);
    await openFirstSeries(page);
    const out = tempDir('medimg-e2e-export-');
    try {
      await page.getByRole('button', { name: 'Export', exact: true }).click();
      const dialog = page.getByTestId('export-dialog');
      await expect(dialog.getByTestId('trust-panel').getByTestId('verification-counts')).toHaveAttribute('data-state', 'verified', { timeout: 60_000 });
      await dialog.getByLabel('Original DICOM').check();
      const gate = dialog.getByTestId('export-gate');
      await expect(gate).toHaveAttribute('data-allowed', 'true', { timeout: 60_000 });
      await expect(gate.locator('[data-code=verified]')).toContainText(`All ${demo.study.instanceCount} image(s) are verified against the ledger.`);
      await expect(gate.locator('[data-code=identifiable]')).toContainText("Original DICOM carries the patient's identity");
      app.setPickedPaths([out.path]);
      await dialog.getByRole('button', { name: 'Choose…' }).click();
      await expect(dialog.getByLabel('Destination folder')).toHaveValue(out.path);
      await app.screenshot('export-allowed');

      await dialog.getByTestId('export-run').click();
      const report = dialog.getByTestId('export-report');
      await expect(report).toBeVisible({ timeout: 60_000 });
      await expect(report).toHaveAttribute('data-written', String(demo.study.instanceCount));
      await expect(report).toHaveAttribute('data-overridden', 'false');
      const outDir = (await dialog.getByTestId('export-outdir').textContent())!.trim();
      const files = filesUnder(outDir);
      expect(files.filter((f) => f.endsWith('.dcm'))).toHaveLength(demo.study.instanceCount);
      expect(existsSync(join(outDir, 'export-report.json'))).toBe(true);
      // Byte for byte: the first exported image is the first source image of the series.
      const firstOut = files.filter((f) => f.endsWith('.dcm')).sort()[0]!;
      expect(readFileSync(firstOut).equals(readFileSync(demo.instances[0]!.filePath))).toBe(true);
      await app.screenshot('export-allowed-report');
      const audit = await invoke<{ entries: AuditEntryView[] }>(page, 'audit.list', { action: 'export.original' });
      expect(audit.entries).toHaveLength(1);
      expect(audit.entries[0]!.details).toMatchObject({ written: demo.study.instanceCount, overridden: false });
      await dialog.getByRole('button', { name: 'Done' }).click();
      await expect(dialog).toHaveCount(0);

      // PNG of the current image takes the window/level the viewer shows.
      const vp = page.locator('[data-testid=viewport][data-index="0"]');
      await page.keyboard.press('4'); // lung preset
      await expect(vp).toHaveAttribute('data-wc', '-600');
      await page.getByRole('button', { name: 'Export', exact: true }).click();
      await dialog.getByLabel('Current image').check();
      await dialog.getByLabel('PNG').check();
      await expect(dialog.getByTestId('export-window')).toContainText('C -600 / W 1500 (as shown in the viewer)');
      await expect(gate).toHaveAttribute('data-allowed', 'true', { timeout: 60_000 });
      await dialog.getByLabel('Destination folder').fill(out.path);
      await dialog.getByTestId('export-run').click();
      await expect(report).toHaveAttribute('data-written', '1', { timeout: 60_000 });
      await expect(report).toContainText('NOT FOR DIAGNOSTIC USE');
      const png = await invoke<{ entries: AuditEntryView[] }>(page, 'audit.list', { action: 'export.png' });
      expect(png.entries[0]!.details).toMatchObject({ window: { center: -600, width: 1500 } });
    } finally {
      out.cleanup();
    }
  });

  test('blocked: one altered image → the gate says why; override with a typed reason is exported and audited', async ({ app }) => {
    test.setTimeout(180_000);
    const { page } = app;
    const demo = await anchoredDemo(app);
    const target = demo.instances[5]!.filePath;
    const restore = alterPixels(target);
    const out = tempDir('medimg-e2e-export-');
    try {
      await openFirstSeries(page);
      await page.getByRole('button', { name: 'Export', exact: true }).click();
      const dialog = page.getByTestId('export-dialog');
      await dialog.getByLabel('Original DICOM').check();
      const gate = dialog.getByTestId('export-gate');
      await expect(gate).toHaveAttribute('data-allowed', 'false', { timeout: 60_000 });
      const verified = gate.locator('[data-code=verified]');
      await expect(verified).toHaveAttribute('data-ok', 'false');
      await expect(verified).toContainText(`1 of ${demo.study.instanceCount} image(s) are not verified (1 altered).`);
      await expect(verified).toContainText('override with a typed reason');
      await expect(dialog.getByTestId('trust-panel').getByTestId('verification-counts')).toContainText('1 altered', { timeout: 60_000 });
      await expect(dialog.getByTestId('trust-panel').locator('[data-testid=instance-states] tr[data-state=altered]')).toHaveCount(1);
      const run = dialog.getByTestId('export-run');
      app.setPickedPaths([out.path]);
      await dialog.getByRole('button', { name: 'Choose…' }).click();
      await expect(run).toBeDisabled();
      await app.screenshot('export-blocked');

      // The override path: tick, a reason of at least 3 characters, then the export runs.
      await dialog.getByTestId('export-override').getByRole('checkbox').check();
      await expect(run).toBeDisabled();
      const reason = 'Tumour board now; the altered slice was checked by phone with the sending radiologist.';
      await dialog.getByLabel('Override reason').fill(reason);
      await expect(run).toBeEnabled();
      await expect(run).toHaveText('Export with override');
      await app.screenshot('export-override');
      await run.click();
      const report = dialog.getByTestId('export-report');
      await expect(report).toHaveAttribute('data-overridden', 'true', { timeout: 60_000 });
      await expect(report).toHaveAttribute('data-written', String(demo.study.instanceCount));
      await expect(report).toContainText('override with your reason recorded');
      await app.screenshot('export-override-report');
      const overrides = await invoke<{ entries: AuditEntryView[] }>(page, 'audit.list', { action: 'override' });
      expect(overrides.entries).toHaveLength(1);
      expect(overrides.entries[0]!.reason).toBe(reason);
      expect(overrides.entries[0]!.details).toMatchObject({ counts: { altered: 1, verified: demo.study.instanceCount - 1 } });
    } finally {
      restore();
      out.cleanup();
    }
  });
});
