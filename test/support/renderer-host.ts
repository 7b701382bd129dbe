/**
 * Hosts the real renderer build for tests and benchmarks: a loopback server with the app's CSP
 * (per path, as the app:// protocol sends it) and the same `window.medimg` bridge the Electron
 * preload exposes, bound with Playwright's `exposeBinding` to the real handler table.
 * Used by the e2e rig (test/e2e/rig.ts) and the viewer benchmark.
 */
import type { Page } from 'playwright-core';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Services } from '../../src/node/services';
import { createHandlerTable, dispatch } from '../../src/node/handlers';
import { serveRendererPath } from '../../src/node/renderer-origin';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const rendererDir = join(repo, 'dist', 'renderer');

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

/** Serves dist/renderer (or another build of it, e.g. a legacy peer's) on 127.0.0.1 exactly as the app:// protocol does (serveRendererPath). */
export async function serveRenderer(services: Services, dir = rendererDir): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const r = await serveRendererPath(dir, services.resources, new URL(req.url ?? '/', 'http://127.0.0.1'));
    res.writeHead(r.status, r.headers);
    res.end(r.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** Installs `window.medimg` in the page: invoke → the real dispatcher, on → pushed events. */
export async function bindBridge(page: Page, services: Services, origin: string): Promise<void> {
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

