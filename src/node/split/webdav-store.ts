/**
 * A pixel store on a WebDAV server (RFC 4918: PUT, GET, HEAD, DELETE, MKCOL) — what a region runs
 * for shared storage: nginx's http_dav_module (Debian `nginx-light`/`nginx`), Apache mod_dav, or any
 * object store with a WebDAV front end. Blobs live at `<base>/<aa>/<bb>/<address>`; listing reads
 * nginx's JSON autoindex of those folders, or a WebDAV PROPFIND (Depth: 1) elsewhere.
 *
 * The server sees only opaque, content-addressed blobs and their sizes. Credentials in the URL
 * (`https://user:pass@host/blobs/`) are sent as HTTP Basic authentication and never logged.
 */
import { ErrorCode } from '../../shared/errors';
import { SplitError } from './errors';
import { blobAddress, checkAddress, isAddress, type PixelStore, type StoredBlob } from './pixel-store';

export interface WebDavStoreOptions {
  /** Per-request timeout, ms (default 30 s). */
  timeoutMs?: number;
}

interface AutoindexEntry {
  name: string;
  type: 'file' | 'directory' | string;
  mtime?: string;
  size?: number;
}

export class WebDavPixelStore implements PixelStore {
  readonly location: string;
  private readonly base: URL;
  private readonly auth: string | null;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, opts: WebDavStoreOptions = {}) {
    const u = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`a WebDAV pixel store needs an http(s) URL, not ${u.protocol}`);
    this.auth = u.username ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` : null;
    u.username = '';
    u.password = '';
    this.base = u;
    this.location = u.href;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  private url(address: string): URL {
    checkAddress(address);
    return new URL(`${address.slice(0, 2)}/${address.slice(2, 4)}/${address}`, this.base);
  }

  private async req(method: string, url: URL, body?: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
    try {
      return await fetch(url, {
        method,
        body: body as BodyInit | undefined,
        headers: { ...(this.auth ? { authorization: this.auth } : {}), ...headers },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new SplitError(
        'STORE_UNAVAILABLE',
        ErrorCode.Unavailable,
        `The pixel store ${this.location} cannot be reached (${(err as Error).cause ? String(((err as Error).cause as Error).message ?? (err as Error).cause) : (err as Error).message}).`,
        null,
        'Check that the region\'s storage server is running and reachable; nothing was changed.',
      );
    }
  }

  private fail(what: string, res: Response): never {
    throw new SplitError('STORE_UNAVAILABLE', ErrorCode.Unavailable, `The pixel store ${this.location} refused to ${what}: HTTP ${res.status} ${res.statusText}.`, null,
      res.status === 401 || res.status === 403 ? 'Check the store\'s credentials and permissions.' : undefined);
  }

  async put(blob: Uint8Array, address?: string): Promise<string> {
    const a = address ?? blobAddress(blob);
    const res = await this.req('PUT', this.url(a), blob, { 'content-type': 'application/octet-stream' });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) this.fail(`store blob ${a.slice(0, 16)}…`, res);
    return a;
  }

  async get(address: string): Promise<Buffer | null> {
    const res = await this.req('GET', this.url(address));
    if (res.status === 404) {
      await res.arrayBuffer().catch(() => undefined);
      return null;
    }
    if (!res.ok) this.fail(`return blob ${address.slice(0, 16)}…`, res);
    return Buffer.from(await res.arrayBuffer());
  }

  async has(address: string): Promise<boolean> {
    const res = await this.req('HEAD', this.url(address));
    if (res.status === 404) return false;
    if (!res.ok) this.fail(`look up blob ${address.slice(0, 16)}…`, res);
    return true;
  }

  async delete(address: string): Promise<boolean> {
    const res = await this.req('DELETE', this.url(address));
    await res.arrayBuffer().catch(() => undefined);
    if (res.status === 404) return false;
    if (!res.ok) this.fail(`delete blob ${address.slice(0, 16)}…`, res);
    return true;
  }

  /** A folder listing: nginx's JSON autoindex. */
  private async entries(path: string): Promise<AutoindexEntry[]> {
    const res = await this.req('GET', new URL(path, this.base), undefined, { accept: 'application/json' });
    if (res.status === 404) {
      await res.arrayBuffer().catch(() => undefined);
      return [];
    }
    if (!res.ok) this.fail(`list ${path || '/'}`, res);
    const text = await res.text();
    try {
      return JSON.parse(text) as AutoindexEntry[];
    } catch {
      throw new SplitError('STORE_UNAVAILABLE', ErrorCode.Unavailable, `The pixel store ${this.location} does not list its folders as JSON (enable "autoindex on; autoindex_format json;").`);
    }
  }

  async *list(): AsyncIterable<StoredBlob> {
    const hex2 = /^[0-9a-f]{2}$/;
    for (const a of (await this.entries('')).filter((e) => e.type === 'directory' && hex2.test(e.name))) {
      for (const b of (await this.entries(`${a.name}/`)).filter((e) => e.type === 'directory' && hex2.test(e.name))) {
        for (const f of await this.entries(`${a.name}/${b.name}/`)) {
          if (f.type !== 'file' || !isAddress(f.name)) continue;
          yield { address: f.name, size: f.size ?? 0, modifiedMs: f.mtime ? Date.parse(f.mtime) : 0 };
        }
      }
    }
  }
}
