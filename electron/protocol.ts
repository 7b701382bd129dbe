import type { Protocol } from 'electron';
import type { ResourceRoutes } from '../src/node/resources';
import { serveRendererPath } from '../src/node/renderer-origin';

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
    const r = await serveRendererPath(root, resources, url);
    return new Response(r.body as BodyInit, { status: r.status, headers: r.headers });
  });
}
