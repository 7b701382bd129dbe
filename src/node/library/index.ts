/** The library domain's URL resources: DICOM bytes and series thumbnails under the renderer's origin. */
import { readFile } from 'node:fs/promises';
import type { ResourceResponse, ResourceRoutes } from '../resources';
import { AppError } from '../../shared/errors';
import type { Library } from './library';
import type { Thumbnails } from './thumbnails';

export { Library } from './library';
export { Thumbnails } from './thumbnails';

const text = (status: number, body: string): ResourceResponse => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body });

/**
 * `/dicom/<instanceId>` → the file bytes of an indexed instance (nothing else: no paths are accepted);
 * `/thumbnail/<seriesId>.png` → the series thumbnail.
 */
export function registerLibraryResources(
  resources: ResourceRoutes,
  domain: {
    readonly library: Library;
    readonly thumbnails: Thumbnails;
    /** Told before an instance's bytes are served (the audit log's cross-check that the viewing was recorded). */
    instanceServed?(instanceId: number): void;
    /** The bytes of an instance kept split (rebuilt from its parts on demand); null when it is kept whole. */
    splitBytes?(instanceId: number, file: { path: string; sha256: string | null }): Promise<Uint8Array | null>;
  },
): void {
  resources.register('/dicom/', async (rest) => {
    if (!/^[1-9][0-9]{0,15}$/.test(rest)) return text(404, 'not an instance id');
    const { library } = domain;
    const file = library.instanceFile(Number(rest));
    if (!file) return text(404, 'no such instance in the library');
    domain.instanceServed?.(Number(rest));
    // A split instance is rebuilt byte-identical behind this same path: the viewer is unaware.
    let splitFailure: string | null = null;
    try {
      const rebuilt = await domain.splitBytes?.(Number(rest), file);
      if (rebuilt) return { status: 200, headers: { 'content-type': 'application/dicom', 'cache-control': 'no-store' }, body: rebuilt };
    } catch (err) {
      splitFailure = err instanceof Error ? err.message : String(err);
    }
    try {
      const body = await readFile(file.path);
      return { status: 200, headers: { 'content-type': 'application/dicom', 'cache-control': 'no-store' }, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
    } catch {
      return text(410, splitFailure ? `this split instance cannot be rebuilt: ${splitFailure}` : 'the file of this instance is no longer readable at its indexed path');
    }
  });
  resources.register('/thumbnail/', async (rest) => {
    const m = /^([1-9][0-9]{0,15})\.png$/.exec(rest);
    if (!m) return text(404, 'not a thumbnail name');
    const { thumbnails } = domain;
    try {
      const r = await thumbnails.get(Number(m[1]));
      return {
        status: 200,
        headers: { 'content-type': 'image/png', 'cache-control': 'no-cache', ...(r.placeholder ? { 'x-thumbnail-placeholder': encodeURIComponent(r.reason ?? 'no preview') } : {}) },
        body: r.png,
      };
    } catch (err) {
      if (err instanceof AppError) return text(404, err.message);
      throw err;
    }
  });
}
