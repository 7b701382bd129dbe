import type { Protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { cspFor } from '../src/shared/csp';
import type { ResourceRoutes } from '../src/node/resources';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

/** Must run before `app.ready`: app:// is a standard, secure scheme so the renderer gets a real origin. */
export function registerAppProtocolScheme(protocol: Protocol): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
  ]);
}

/** Serves the renderer bundle from `root` under app://medimgshr/, with the CSP header, and nothing outside it. */
export function serveAppProtocol(protocol: Protocol, root: string, resources: ResourceRoutes): void {
  protocol.handle('app', async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'medimgshr') return new Response('not found', { status: 404 });
    const resource = await resources.resolve(url);
    if (resource) {
      return new Response(resource.body as BodyInit, {
        status: resource.status,
        headers: { ...resource.headers, 'content-security-policy': cspFor(url.pathname), 'x-content-type-options': 'nosniff' },
      });
    }
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '') || 'index.html';
    const file = join(root, rel);
    if (!file.startsWith(root + sep)) return new Response('forbidden', { status: 403 });
    try {
      const body = await readFile(file);
      return new Response(body, {
        headers: {
          'content-type': MIME[extname(file)] ?? 'application/octet-stream',
          'content-security-policy': cspFor(url.pathname),
          'x-content-type-options': 'nosniff',
        },
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
