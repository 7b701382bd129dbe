import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { cspFor } from '../shared/csp';
import type { ResourceResponse, ResourceRoutes } from './resources';

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

/**
 * Everything the renderer's origin serves, for one request path: a registered resource (DICOM
 * bytes, thumbnails) or a file of the renderer bundle under `root` — never anything outside it —
 * each with its CSP (cspFor) and nosniff. The Electron app:// protocol and the test/bench host
 * both answer with this, so the tests exercise the same path guard and policies as the app.
 */
export async function serveRendererPath(root: string, resources: ResourceRoutes, url: URL): Promise<ResourceResponse> {
  const security = { 'content-security-policy': cspFor(url.pathname), 'x-content-type-options': 'nosniff' };
  const resource = await resources.resolve(url);
  if (resource) return { ...resource, headers: { ...resource.headers, ...security } };
  const rel = normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '') || 'index.html';
  const file = join(root, rel);
  if (!file.startsWith(root + sep)) return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'forbidden' };
  try {
    const body = await readFile(file);
    return { status: 200, headers: { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', ...security }, body };
  } catch {
    return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found' };
  }
}
