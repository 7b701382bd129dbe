/** The library domain as one shared service per Services: index + thumbnails + URL resources. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Services } from '../services';
import type { ResourceResponse } from '../resources';
import { AppError } from '../../shared/errors';
import { Library } from './library';
import { Thumbnails } from './thumbnails';

export interface LibraryDomain {
  library: Library;
  thumbnails: Thumbnails;
}

/** The one library instance of these services (created on first use, closed with them). */
export function libraryDomain(s: Services): LibraryDomain {
  return s.domain(
    'library',
    () => {
      const library = new Library(s.db, s.log);
      return { library, thumbnails: new Thumbnails(library, join(s.home.cache, 'thumbnails')) };
    },
    async (d) => {
      await d.thumbnails.close();
      await d.library.close();
    },
  );
}

const text = (status: number, body: string): ResourceResponse => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body });

/**
 * `/dicom/<instanceId>` → the file bytes of an indexed instance (nothing else: no paths are accepted);
 * `/thumbnail/<seriesId>.png` → the series thumbnail.
 */
export function registerLibraryResources(s: Services): void {
  s.resources.register('/dicom/', async (rest) => {
    if (!/^[1-9][0-9]{0,15}$/.test(rest)) return text(404, 'not an instance id');
    const { library } = libraryDomain(s);
    const file = library.instanceFile(Number(rest));
    if (!file) return text(404, 'no such instance in the library');
    try {
      const body = await readFile(file.path);
      return { status: 200, headers: { 'content-type': 'application/dicom', 'cache-control': 'no-store' }, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
    } catch {
      return text(410, 'the file of this instance is no longer readable at its indexed path');
    }
  });
  s.resources.register('/thumbnail/', async (rest) => {
    const m = /^([1-9][0-9]{0,15})\.png$/.exec(rest);
    if (!m) return text(404, 'not a thumbnail name');
    const { thumbnails } = libraryDomain(s);
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
