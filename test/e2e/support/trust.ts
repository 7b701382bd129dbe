/**
 * Helpers for the trust / export / share / audit specs: the demo on the embedded chain (identities,
 * roles, the synthetic CT study) anchored by the demo clinician through the real bridge, the demo
 * partner institution, and a second workstation (its own app-data folder, the same chain) that
 * receives a share package as the partner — everything real, nothing mocked.
 */
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, type Locator, type Page } from '@playwright/test';
import { DEMO_PASSPHRASE } from '../../../src/node/ledger';
import { Services } from '../../../src/node/services';
import type { AnchorResult, DemoStatus, InstanceSummary, ReceiveResult, ShareResult, StudySummary } from '../../../src/shared/api';
import { tempDir } from '../../support/tmp';
import type { AppFixture } from '../rig';
import { invoke, viewport } from './viewer';

export { DEMO_PASSPHRASE };

export interface AnchoredDemo {
  studyUid: string;
  study: StudySummary;
  instances: InstanceSummary[];
  clinician: string;
  patient: string;
  institution: string;
  anchor: AnchorResult;
}

/**
 * Anchors a study (the unlocked identity a clinician) and waits until the anchor is confirmed on chain. On a loaded
 * machine the anchor call's own wait can end with the transaction still on its way: it must then confirm, not fail.
 */
export async function anchorConfirmed(page: Page, studyUid: string): Promise<AnchorResult> {
  const anchor = await invoke<AnchorResult>(page, 'ledger.anchor', { studyInstanceUid: studyUid, waitMs: 60_000 });
  expect(anchor.anchor.delivery, `anchor ${anchor.anchor.root}`).not.toBe('failed');
  if (anchor.anchor.delivery !== 'confirmed') {
    await expect
      .poll(async () => (await invoke<{ anchors: { root: string; delivery: string }[] }>(page, 'ledger.anchors', { studyInstanceUid: studyUid })).anchors.find((a) => a.root === anchor.anchor.root)?.delivery, { timeout: 120_000 })
      .toBe('confirmed');
    anchor.anchor.delivery = 'confirmed';
  }
  return anchor;
}

/** Demo setup (idempotent), the demo clinician unlocked, the demo study anchored and confirmed on chain. */
export async function anchoredDemo(app: AppFixture): Promise<AnchoredDemo> {
  const { page, services } = app;
  const demo = await invoke<DemoStatus>(page, 'ledger.setupDemo', {});
  expect(demo.ready, demo.message).toBe(true);
  const studyUid = demo.study!.studyInstanceUid;
  const addrs = services.ledgerService.demo.addresses();
  await invoke(page, 'identity.unlock', { address: addrs.clinician, passphrase: DEMO_PASSPHRASE });
  const anchor = await anchorConfirmed(page, studyUid);
  await invoke(page, 'ledger.sync', {});
  const { studies } = await invoke<{ studies: StudySummary[] }>(page, 'library.studies', {});
  const study = studies.find((s) => s.studyInstanceUid === studyUid)!;
  const { series } = await invoke<{ series: { id: number }[] }>(page, 'library.series', { studyId: study.id });
  const { instances } = await invoke<{ instances: InstanceSummary[] }>(page, 'library.instances', { seriesId: series[0]!.id });
  return { studyUid, study, instances, clinician: addrs.clinician!, patient: addrs.patient!, institution: addrs.institution!, anchor };
}

/** Reloads the page (fresh UI state after the setup) and opens the first series into viewport 0. */
export async function openFirstSeries(page: Page): Promise<Locator> {
  // dist/renderer is rebuilt by other work on this machine now and then: retry while it is missing.
  for (let attempt = 0; ; attempt++) {
    try {
      await page.reload();
      break;
    } catch (err) {
      if (attempt >= 20) throw err;
      await page.waitForTimeout(3000);
    }
  }
  // Expand by the toggle's left edge: the study row also carries a verification badge button.
  await expect(page.getByTestId('study-row').first()).toBeVisible();
  const toggles = page.locator('[data-testid=study-row] .tree__toggle[aria-expanded=false]');
  for (let n = await toggles.count(); n > 0; n = await toggles.count()) await toggles.first().click({ position: { x: 6, y: 8 } });
  const rows = page.getByTestId('series-row');
  await rows.first().click();
  const vp = viewport(page, 0);
  await expect(vp).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  return vp;
}

/** Flips one byte of an image's pixel data (as the ledger's tests do); returns a restore function. */
export function alterPixels(file: string): () => void {
  const orig = readFileSync(file);
  const bad = Buffer.from(orig);
  bad[bad.length - 1000]! ^= 0x01;
  writeFileSync(file, bad);
  return () => writeFileSync(file, orig);
}

/**
 * A second workstation (own app-data folder, same embedded chain over JSON-RPC) unlocks the partner
 * institution's keystore and receives the package: decrypt, verify against the chain, record the access.
 */
export async function receiveAsPartner(sender: Services, partner: string, sent: Pick<ShareResult, 'path'>): Promise<ReceiveResult> {
  const dir = tempDir('medimg-e2e-partner-');
  const conn = await sender.ledgerService.contract();
  const b = await Services.open({ home: join(dir.path, 'B'), ledger: { mode: 'remote', rpcUrl: sender.ledger.current().rpcUrl! }, ledgerPollMs: 200, ledgerService: { contractAddress: conn.address, sync: { auto: false } } });
  try {
    void b.ledgerService;
    await b.ledger.check();
    const json = sender.identity.exportKeystore(partner).keystoreJson;
    await b.identity.import({ displayName: 'Partner', keystoreJson: json, passphrase: DEMO_PASSPHRASE });
    await b.identity.unlock(partner, DEMO_PASSPHRASE);
    return await b.share.receive(sent.path);
  } finally {
    await b.close();
    dir.cleanup();
  }
}

/** The whole share round trip through the bridge (consent signed by the demo patient), then received by the partner. */
export async function sharedAndReceived(app: AppFixture, demo: AnchoredDemo): Promise<{ partner: string; sent: ShareResult; received: ReceiveResult }> {
  const { page, services } = app;
  const p = await invoke<{ address: string }>(page, 'share.demoPartner', {});
  await invoke(page, 'share.collectConsent', { studyInstanceUid: demo.studyUid, recipient: p.address, patientIdentity: demo.patient, passphrase: DEMO_PASSPHRASE, days: 30 });
  const sent = await invoke<ShareResult>(page, 'share.send', { studyInstanceUid: demo.studyUid, recipient: p.address });
  const received = await receiveAsPartner(services, p.address, sent);
  await invoke(page, 'ledger.sync', {});
  return { partner: p.address, sent, received };
}

/** Opens the trust drawer from the toolbar and waits until the panel has read the chain. */
export async function openTrustDrawer(page: Page): Promise<Locator> {
  await page.getByRole('button', { name: 'Trust', exact: true }).click();
  const panel = page.getByTestId('trust-drawer').getByTestId('trust-panel');
  await expect(panel.getByTestId('trust-ledger')).toBeVisible({ timeout: 60_000 });
  await expect(panel).toHaveAttribute('data-loading', 'false', { timeout: 60_000 });
  return panel;
}
