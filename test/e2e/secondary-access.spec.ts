/**
 * Secondary access in the app ("address first, then file"), on the embedded chain and a real
 * Orthanc: the demo study is anchored with a storage URI naming the Orthanc, sent there by dcmtk's
 * storescu and removed from the library. Inbox → "Open a record from its store": with no connection
 * to that store the message names it and gives the `medimgshr pacs add` command; with the
 * connection, the study is retrieved, verified against the record and back in the library.
 */
import { component } from '../support/components';
import { dcmtk, storescu } from '../support/dcmtk';
import { startOrthanc, type OrthancServer } from '../support/orthanc';
import { storageUriOf } from '../../src/node/pacs/secondary';
import { test, expect } from './rig';
import { invoke } from './support/viewer';
import { anchoredDemo } from './support/trust';

const ready = Boolean(component('anvil')) && Boolean(component('orthanc')) && Boolean(dcmtk());
if (!dcmtk() && process.env.CI) throw new Error('dcmtk (storescu) is required when CI is set');
test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

test.describe('secondary access', () => {
  test.skip(!ready, 'anvil, Orthanc or dcmtk not installed');
  let orthanc: OrthancServer;
  test.beforeAll(async () => {
    orthanc = await startOrthanc();
  });
  test.afterAll(async () => {
    await orthanc?.stop();
  });

  test('a record whose study is not here: unknown store named with the add command; then retrieved from Orthanc and verified', async ({ app }) => {
    test.setTimeout(240_000);
    const { page, services } = app;
    const uri = `dicomweb:${orthanc.dicomWebUrl}`;
    services.ledgerService.settings.set('storage-uri', uri);
    const demo = await anchoredDemo(app);
    expect(demo.anchor.record!.storageUri).toBe(uri);
    const root = demo.anchor.anchor.root;
    const files = (services.db.prepare('SELECT file_path FROM instances ORDER BY file_path').all() as { file_path: string }[]).map((r) => r.file_path);
    const sent = await storescu(files, { port: orthanc.dicomPort, calledAet: orthanc.aet });
    expect(sent.code, sent.stderr).toBe(0);
    await invoke(page, 'library.remove', { studyId: demo.study.id });
    await page.reload();
    await expect(page.getByTestId('study-row')).toHaveCount(0);

    await page.getByTestId('inbox-open').click();
    const inbox = page.getByTestId('inbox');
    await inbox.getByTestId('inbox-tab-record').click();
    await inbox.getByLabel('Study root').fill(root);
    await inbox.getByTestId('open-record').click();
    const err = inbox.getByTestId('open-record-error');
    await expect(err).toContainText(`The record's images are in ${uri}, and no PACS connection on this workstation points there.`, { timeout: 60_000 });
    await expect(err).toContainText(`medimgshr pacs add pacs --url ${orthanc.dicomWebUrl}`);
    for (const [w, h] of [
      [1920, 1080],
      [1280, 720],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await app.screenshot(`secondary-access-unknown-store-${w}x${h}`);
    }

    const conn = services.pacs.add({ name: 'regional-pacs', dicomweb: { url: orthanc.dicomWebUrl } });
    expect(storageUriOf(conn)).toBe(uri);
    await inbox.getByTestId('open-record').click();
    const result = inbox.getByTestId('open-record-result');
    await expect(result).toHaveAttribute('data-state', 'verified', { timeout: 120_000 });
    await expect(result).toContainText(`Verified: the ${demo.study.instanceCount} image(s) retrieved from regional-pacs (${uri}) are exactly the ones recorded on the ledger`);
    await expect(result).toContainText(`${demo.study.instanceCount} of ${demo.study.instanceCount} image(s) by wado-rs`);
    await expect(result).toContainText(demo.studyUid);
    for (const [w, h] of [
      [1920, 1080],
      [1280, 720],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await app.screenshot(`secondary-access-verified-${w}x${h}`);
    }
    await inbox.getByLabel('Close').click();
    await expect(page.getByTestId('study-row')).toHaveCount(1, { timeout: 30_000 });
  });
});
