/**
 * Hosts the real renderer build for tests and benchmarks: a loopback server with the app's CSP
 * (per path, as the app:// protocol sends it) and the same `window.medimg` bridge the Electron
 * preload exposes, bound with Playwright's `exposeBinding` to the real handler table.
 * Used by the e2e rig (test/e2e/rig.ts) and the viewer benchmark.
 */
import type { Page } from 'playwright-core';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Services } from '../../src/node/services';
import { createHandlerTable, dispatch } from '../../src/node/handlers';
import { cspFor } from '../../src/shared/csp';

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
export async function serveRenderer(services: Services): Promise<{ origin: string; close(): Promise<void> }> {
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

