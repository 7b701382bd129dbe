/**
 * The Storage SCP in the app: enabled in its settings (status bar, next to the ledger), an allowed
 * modality (dcmtk's storescu) sends a series, the study shows up in the library; an unknown calling
 * AE title is refused and the settings say who and why. Screenshots at 1920×1080 and 1280×720.
 */
import { join } from 'node:path';
import { writeSampleSeries } from '../../src/node/dicom/sample';
import { freeLoopbackPort } from '../../src/node/net';
import { dcmtk, storescu } from '../support/dcmtk';
import { tempDir } from '../support/tmp';
import { test, expect } from './rig';

const haveDcmtk = Boolean(dcmtk());
if (!haveDcmtk && process.env.CI) throw new Error('dcmtk (storescu) is required when CI is set');

test.describe('storage SCP', () => {
  test.skip(!haveDcmtk, 'dcmtk not installed');

  test('enable in settings → storescu sends → the study is in the library; an unknown caller is refused', async ({ app }) => {
    test.setTimeout(120_000);
    const { page, services } = app;
    const port = await freeLoopbackPort();
    const tmp = tempDir('medimg-e2e-scp-');
    try {
      const series = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 5, kind: 'ct', seed: 51 });
      const status = page.getByTestId('scp-status');
      await expect(status).toHaveText('Receive: off');
      await status.click();
      const dlg = page.getByTestId('storage-scp-settings');
      await expect(dlg.getByTestId('scp-state')).toHaveText('Off: nothing listens.');
      await dlg.getByTestId('scp-enabled').check();
      await dlg.getByLabel('Our AE title').fill('MEDIMGRX');
      await dlg.getByLabel('Port').fill(String(port));
      await expect(dlg.getByLabel('Listen on')).toHaveValue('127.0.0.1');
      await dlg.getByLabel('Allowed senders').fill('ct_scanner1');
      await dlg.getByRole('button', { name: 'Allow', exact: true }).click();
      await expect(dlg.getByTestId('scp-allowed').locator('[data-aet]')).toHaveText(['CT_SCANNER1✕']);
      await expect(dlg.getByTestId('scp-anchor')).not.toBeChecked();
      await dlg.getByTestId('scp-save').click();
      await expect(dlg.getByTestId('scp-state')).toHaveAttribute('data-listening', 'true');
      await expect(dlg.getByTestId('scp-state')).toContainText(`Listening as MEDIMGRX on 127.0.0.1:${port}`);
      expect(services.pacs.scpSettings.get()).toMatchObject({ enabled: true, aeTitle: 'MEDIMGRX', port, allowedCallingAets: ['CT_SCANNER1'], anchorArrivals: false });

      const refused = await storescu(series.files, { port, calledAet: 'MEDIMGRX', callingAet: 'INTRUDER' });
      expect(refused.code).not.toBe(0);
      const sent = await storescu(series.files, { port, calledAet: 'MEDIMGRX', callingAet: 'CT_SCANNER1' });
      expect(sent.code, sent.stderr).toBe(0);
      await services.pacs.whenArrivalsSettled();
      await dlg.getByText('Close', { exact: true }).click();

      // The library shows the study the modality sent (refreshed by the library-changed event).
      const row = page.getByTestId('study-row');
      await expect(row).toHaveCount(1, { timeout: 30_000 });
      await expect(status).toHaveText(`Receiving as MEDIMGRX:${port}`);

      await status.click();
      await expect(dlg.getByTestId('scp-state')).toContainText('5 image(s) received, 1 caller(s) refused since start');
      await expect(dlg.getByTestId('scp-last-rejected')).toContainText('Last refused: INTRUDER from 127.0.0.1');
      await expect(dlg.getByTestId('scp-last-rejected')).toContainText('calling AE title not on the allow-list');
      await expect(dlg.getByTestId('scp-recent').locator('tbody tr')).toHaveCount(5);
      await expect(dlg.getByTestId('scp-recent').locator('tbody tr').first()).toContainText('CT_SCANNER1');
      for (const [w, h] of [
        [1920, 1080],
        [1280, 720],
      ] as const) {
        await page.setViewportSize({ width: w, height: h });
        await app.screenshot(`storage-scp-settings-${w}x${h}`);
      }
    } finally {
      tmp.cleanup();
    }
  });
});
