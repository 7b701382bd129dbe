/** Helpers for the ledger specs: the real DEMO setup on the embedded anvil, login through the UI, chain checks. */
import { expect, type Page } from '@playwright/test';
import type { DemoStatus } from '../../../src/shared/api';
import { DEMO_PASSPHRASE } from '../../../src/node/ledger';
import type { Services } from '../../../src/node/services';
import type { AppFixture } from '../rig';
import { expandAll, viewport } from './viewer';

export { DEMO_PASSPHRASE };

/** Runs the app's own DEMO setup (identities, roles on chain, 40-slice synthetic CT) and reloads the page. */
export async function setupDemo(app: AppFixture): Promise<DemoStatus> {
  const demo = await app.services.ledgerService.demo.ensure();
  expect(demo.ready, demo.message).toBe(true);
  await app.open();
  return demo;
}

export function demoName(role: 'regulator' | 'institution' | 'clinician' | 'patient'): RegExp {
  return { regulator: /DEMO Regulator/, institution: /DEMO Clinic/, clinician: /DEMO Dr\. Clinician/, patient: /DEMO Patient/ }[role];
}

/** Logs in through the login screen (which must be showing). */
export async function login(page: Page, role: 'regulator' | 'institution' | 'clinician' | 'patient', passphrase = DEMO_PASSPHRASE): Promise<void> {
  const screen = page.getByTestId('login');
  await expect(screen).toBeVisible();
  await screen.getByTestId('identity-option').filter({ hasText: demoName(role) }).click();
  await screen.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await screen.getByRole('button', { name: 'Unlock' }).click();
  await expect(screen).toBeHidden();
  await expect(page.getByTestId('account')).toContainText(demoName(role));
}

/** Locks through the top-bar menu (the login screen comes back). */
export async function lock(page: Page): Promise<void> {
  await page.getByTestId('account').click();
  await page.getByTestId('lock').click();
  await expect(page.getByTestId('login')).toBeVisible();
}

/** Opens the first series of the demo study and waits until the first image is drawn. */
export async function openDemoStudy(page: Page): Promise<void> {
  const rows = await expandAll(page);
  await rows.first().click();
  await expect(viewport(page)).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
}

/** StudyAnchored logs for `root` on the chain (the chain itself, not the local tables). */
export async function anchoredLogs(services: Services, root: string): Promise<number> {
  const conn = await services.ledgerService.contract();
  const topic = conn.contract.interface.getEvent('StudyAnchored')!.topicHash;
  const logs = await conn.provider.getLogs({ address: conn.address, topics: [topic, root], fromBlock: 0, toBlock: 'latest' });
  return logs.length;
}

/** The file behind a library instance id (to alter it on disk). */
export function instancePath(services: Services, instanceId: number): string {
  const row = services.db.prepare('SELECT file_path AS p FROM instances WHERE id = ?').get(instanceId) as { p: string } | undefined;
  if (!row) throw new Error(`instance ${instanceId} not indexed`);
  return row.p;
}

/**
 * Records, in the page, each bridge call with the first viewport's state at that moment (to show
 * verification is asked only after the first image is on screen).
 */
export async function traceBridgeCalls(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    const log: { channel: string; vpState: string | null; t: number }[] = [];
    w.__bridgeLog = log;
    let real = w.medimg as { invoke(c: string, r: unknown): Promise<unknown>; on(l: (e: unknown) => void): () => void } | undefined;
    Object.defineProperty(window, 'medimg', {
      configurable: true,
      get() {
        if (!real) return undefined;
        return {
          invoke: (c: string, r: unknown) => {
            const vp = document.querySelector('[data-testid=viewport][data-index="0"]') as HTMLElement | null;
            log.push({ channel: c, vpState: vp?.dataset.state ?? null, t: performance.now() });
            return real!.invoke(c, r);
          },
          on: (l: (e: unknown) => void) => real!.on(l),
        };
      },
      set(v) {
        real = v;
      },
    });
  });
}

export async function bridgeLog(page: Page): Promise<{ channel: string; vpState: string | null; t: number }[]> {
  return page.evaluate(() => (window as unknown as { __bridgeLog: { channel: string; vpState: string | null; t: number }[] }).__bridgeLog);
}
