/**
 * Binary resources the renderer fetches by URL rather than through the JSON bridge: DICOM
 * instance bytes for the Cornerstone loader, thumbnails. Served under the renderer's own origin
 * (app://medimgshr/<prefix>… in Electron, the loopback test server in e2e) by the same code.
 */
export interface ResourceResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

export type ResourceHandler = (rest: string, url: URL) => Promise<ResourceResponse> | ResourceResponse;

export class ResourceRoutes {
  private readonly routes = new Map<string, ResourceHandler>();

  /** `prefix` like "/dicom/"; the handler gets what follows it. */
  register(prefix: string, handler: ResourceHandler): void {
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) throw new Error(`resource prefix must look like /name/: ${prefix}`);
    this.routes.set(prefix, handler);
  }

  /** Returns null when no route matches (the caller then serves the renderer's static files). */
  async resolve(url: URL): Promise<ResourceResponse | null> {
    for (const [prefix, handler] of this.routes) {
      if (url.pathname.startsWith(prefix)) {
        try {
          return await handler(decodeURIComponent(url.pathname.slice(prefix.length)), url);
        } catch {
          return { status: 500, headers: { 'content-type': 'text/plain' }, body: 'resource failed' };
        }
      }
    }
    return null;
  }
}
