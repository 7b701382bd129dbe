/**
 * The e2e rig: Debian's Chromium (driven by Playwright) shows the real renderer build, served
 * from a loopback server with the app's CSP; `window.medimg` is the same bridge shape the
 * Electron preload exposes, but bound with `exposeBinding` to the real handler table and
 * real services (SQLite in a temp app-data folder, anvil when asked for).
 */
import { test as base, chromium, type Browser, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Services, type ServicesOptions } from '../../src/node/services';
import { findChromium } from '../../src/node/components';
import { tempDir } from '../support/tmp';
import { bindBridge, CHROMIUM_ARGS, serveRenderer } from '../support/renderer-host';

export { CHROMIUM_ARGS };

const repo = fileURLToPath(new URL('../..', import.meta.url));
export const screensDir = join(repo, 'test-results', 'screens');

export interface AppFixture {
  page: Page;
  services: Services;
  origin: string;
  /** Saves test-results/screens/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  /** Opens the app (again) in the page. */
  open(): Promise<void>;
  /**
   * What the stand-in for the OS file dialog returns next (no test can drive a native dialog;
   * everything behind it — the import itself — is real).
   */
  setPickedPaths(paths: string[]): void;
}

type Fixtures = { servicesOptions: Omit<ServicesOptions, 'home'>; app: AppFixture };
type WorkerFixtures = { browser: Browser };

export const test = base.extend<Fixtures, WorkerFixtures>({
  browser: [
    async ({}, use) => {
      const executablePath = findChromium();
      if (!executablePath) throw new Error('Chromium not found: apt-get install chromium (or set CHROMIUM_PATH)');
      const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
      await use(browser);
      await browser.close();
    },
    { scope: 'worker' },
  ],
  servicesOptions: [{ ledger: { mode: 'none' } }, { option: true }],
  app: async ({ browser, servicesOptions }, use) => {
    const home = tempDir('medimg-e2e-');
    const services = await Services.open({ home: home.path, ...servicesOptions });
    let picked: string[] = [];
    services.dialogs = { pickPaths: async () => picked };
    const server = await serveRenderer(services);
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await bindBridge(page, services, server.origin);
    mkdirSync(screensDir, { recursive: true });
    const fixture: AppFixture = {
      page,
      services,
      origin: server.origin,
      open: async () => {
        await page.goto(`${server.origin}/index.html`);
      },
      setPickedPaths: (paths) => {
        picked = paths;
      },
      screenshot: async (name) => {
        const path = join(screensDir, `${name}.png`);
        await page.screenshot({ path });
        return path;
      },
    };
    await fixture.open();
    await use(fixture);
    await context.close();
    await server.close();
    await services.close();
    home.cleanup();
    if (errors.length) throw new Error(`uncaught errors in the page: ${errors.join('; ')}`);
  },
});

export { expect } from '@playwright/test';
