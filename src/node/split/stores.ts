/** A pixel store from what a user typed or a record names: a folder, a file: URL, or an http(s) WebDAV URL. */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FolderPixelStore } from './folder-store';
import type { PixelStore } from './pixel-store';
import { WebDavPixelStore } from './webdav-store';

export function pixelStoreFrom(spec: string, opts: { durable?: boolean } = {}): PixelStore {
  if (/^https?:\/\//i.test(spec)) return new WebDavPixelStore(spec);
  if (/^file:\/\//i.test(spec)) return new FolderPixelStore(fileURLToPath(spec), { durable: opts.durable });
  return new FolderPixelStore(resolve(spec), { durable: opts.durable });
}

/** The location URI a store made from `spec` would have (without touching the store). */
export function storeUri(spec: string): string {
  if (/^https?:\/\//i.test(spec)) {
    const u = new URL(spec.endsWith('/') ? spec : `${spec}/`);
    u.username = '';
    u.password = '';
    return u.href;
  }
  if (/^file:\/\//i.test(spec)) return pathToFileURL(fileURLToPath(spec)).href;
  return pathToFileURL(resolve(spec)).href;
}
