/**
 * The e2e rig: Debian's Chromium (driven by Playwright) shows the real renderer build, served
 * from a loopback server with the app's CSP; `window.medimg` is the same bridge shape the
 * Electron preload exposes, but bound with `exposeBinding` to the real handler table and
 * real services (SQLite in a temp app-data folder, anvil when asked for).
 */
import { test as base, chromium, type Browser, type Page } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Services, type ServicesOptions } from '../../src/node/services';
import { createHandlerTable, dispatch } from '../../src/node/handlers';
import { cspFor } from '../../src/shared/csp';
import { findChromium } from '../../src/node/components';
import { tempDir } from '../support/tmp';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const rendererDir = join(repo, 'dist', 'renderer');
export const screensDir = join(repo, 'test-results', 'screens');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Serves dist/renderer on 127.0.0.1 with the same CSP header as the app:// protocol. */
async function serveRenderer(services: Services): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const reqUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reqPath = reqUrl.pathname;
    const resource = await services.resources.resolve(reqUrl);
    if (resource) {
      res.writeHead(resource.status, { ...resource.headers, 'content-security-policy': cspFor(reqPath) });
      res.end(resource.body);
      return;
    }
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^[/\\]+/, '') || 'index.html';
    const file = join(rendererDir, path);
    if (!file.startsWith(rendererDir + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'content-security-policy': cspFor(reqPath) });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** Installs `window.medimg` in the page: invoke → the real dispatcher, on → pushed events. */
async function bindBridge(page: Page, services: Services, origin: string): Promise<void> {
  const table = createHandlerTable(services);
  await page.exposeBinding('__medimgInvoke', (source, channel: unknown, request: unknown) => {
    const url = source.frame.url();
    // Same rule as the Electron glue: only the app's own top frame on the app's own origin.
    const trusted = source.frame === source.page.mainFrame() && url.startsWith(`${origin}/`);
    return dispatch(table, channel, request, { url, trusted }, services.log);
  });
  await page.addInitScript(() => {
    const listeners = new Set<(e: unknown) => void>();
    const w = window as unknown as Record<string, unknown>;
    w.__medimgDeliver = (e: unknown) => listeners.forEach((l) => l(e));
    w.medimg = Object.freeze({
      invoke: (channel: string, request: unknown) =>
        (w.__medimgInvoke as (c: string, r: unknown) => Promise<unknown>)(channel, request),
      on: (l: (e: unknown) => void) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    });
  });
  const forward = (event: unknown) => {
    void page.evaluate((e) => (window as unknown as { __medimgDeliver?: (x: unknown) => void }).__medimgDeliver?.(e), event).catch(() => undefined);
  };
  services.events.on('event', forward);
  page.once('close', () => services.events.off('event', forward));
}

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
