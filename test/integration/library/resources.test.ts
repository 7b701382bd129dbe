/**
 * URL resources of the library: /dicom/<id> serves only indexed instances' bytes; /thumbnail/<id>.png
 * is rendered in the worker thread (built bundle), cached on disk, and matches pydicom's pixels
 * windowed the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { Services } from '../../../src/node/services';
import { createHandlerTable, dispatch, type HandlerTable } from '../../../src/node/handlers';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import type { ImportReport } from '../../../src/shared/api/library';
import { tempDir } from '../../support/tmp';
import { PYDICOM_TEST_FILES, pyJson, pythonWithPydicom, sender } from './support';

const py = pythonWithPydicom();

describe.skipIf(!py)('library resources', () => {
  const tmp = tempDir('medimg-res-');
  let s: Services;
  let t: HandlerTable;
  let files: string[];
  let report: ImportReport;
  const get = (path: string) => s.resources.resolve(new URL(`app://medimgshr${path}`));

  beforeAll(async () => {
    files = (await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 9, kind: 'ct', seed: 3 })).files;
    s = await Services.open({ home: join(tmp.path, 'home') });
    t = createHandlerTable(s);
    const r = await dispatch(t, 'library.import', { paths: [join(tmp.path, 'ct'), join(PYDICOM_TEST_FILES, 'JPEG2000.dcm'), join(PYDICOM_TEST_FILES, 'test-SR.dcm')] }, sender);
    if (!r.ok) throw new Error(r.error.message);
    report = r.value as ImportReport;
  });
  afterAll(async () => {
    await s?.close();
    tmp.cleanup();
  });

  it('serves the exact bytes of an indexed instance as application/dicom', async () => {
    const row = s.db.prepare('SELECT id FROM instances WHERE file_path = ?').get(files[2]) as { id: number };
    const res = await get(`/dicom/${row.id}`);
    expect(res?.status).toBe(200);
    expect(res?.headers['content-type']).toBe('application/dicom');
    expect(Buffer.compare(Buffer.from(res!.body as Uint8Array), readFileSync(files[2]!))).toBe(0);
  });

  it('serves nothing else: unknown ids, paths and traversal attempts are 404', async () => {
    for (const p of ['/dicom/999999', '/dicom/0', '/dicom/abc', '/dicom/..%2F..%2Fetc%2Fpasswd', '/dicom/%2Fetc%2Fpasswd', '/dicom/1%2F..%2F..%2Fetc%2Fpasswd', '/dicom/']) {
      const res = await get(p);
      expect(res?.status, p).toBe(404);
    }
  });

  it('renders a CT thumbnail off the main thread that matches pydicom windowed at the file default', async () => {
    const seriesId = (s.db.prepare('SELECT series_ref FROM instances WHERE file_path = ?').get(files[0]) as { series_ref: number }).series_ref;
    const res = await get(`/thumbnail/${seriesId}.png`);
    expect(res?.status).toBe(200);
    expect(res?.headers['content-type']).toBe('image/png');
    expect(res?.headers['x-thumbnail-placeholder']).toBeUndefined();
    const png = PNG.sync.read(Buffer.from(res!.body as Uint8Array));
    expect([png.width, png.height]).toEqual([128, 128]);
    // the middle instance (5 of 9), windowed C 40 / W 400, sampled every 4th pixel
    const ref = pyJson<number[]>(
      py!,
      `
import sys, json, numpy as np, pydicom
d = pydicom.dcmread(sys.argv[1]); a = d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept)
g = np.clip(np.round((a - (40 - 200)) / 400 * 255), 0, 255)[::4, ::4]
print(json.dumps(g.astype(int).flatten().tolist()))
`,
      [files[4]!],
    );
    let maxDiff = 0;
    for (let i = 0; i < 128 * 128; i++) maxDiff = Math.max(maxDiff, Math.abs(png.data[i * 4]! - ref[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1);
    expect(new Set(ref).size).toBeGreaterThan(20);
    // cached on disk
    const cache = join(s.home.cache, 'thumbnails');
    expect(readdirSync(cache).filter((f) => f.startsWith(`${seriesId}-`) && f.endsWith('.png'))).toHaveLength(1);
    const again = await get(`/thumbnail/${seriesId}.png`);
    expect(Buffer.compare(Buffer.from(again!.body as Uint8Array), Buffer.from(res!.body as Uint8Array))).toBe(0);
  });

  it('decodes a JPEG 2000 instance for its thumbnail; a series without pixels gets a marked placeholder', async () => {
    const j2k = s.db.prepare('SELECT series_ref FROM instances WHERE file_path = ?').get(join(PYDICOM_TEST_FILES, 'JPEG2000.dcm')) as { series_ref: number };
    const r1 = await get(`/thumbnail/${j2k.series_ref}.png`);
    expect(r1?.status).toBe(200);
    expect(r1?.headers['x-thumbnail-placeholder']).toBeUndefined();
    const img = PNG.sync.read(Buffer.from(r1!.body as Uint8Array));
    const grays = new Set<number>();
    for (let i = 0; i < img.width * img.height; i++) grays.add(img.data[i * 4]!);
    expect(grays.size).toBeGreaterThan(10);
    const sr = s.db.prepare('SELECT series_ref FROM instances WHERE file_path = ?').get(join(PYDICOM_TEST_FILES, 'test-SR.dcm')) as { series_ref: number };
    const r2 = await get(`/thumbnail/${sr.series_ref}.png`);
    expect(r2?.status).toBe(200);
    expect(r2?.headers['x-thumbnail-placeholder']).toBeDefined();
    expect((await get('/thumbnail/424242.png'))?.status).toBe(404);
    expect((await get('/thumbnail/..%2F..%2Fx.png'))?.status).toBe(404);
    expect(existsSync(join(s.home.cache, 'thumbnails'))).toBe(true);
    expect(report.added).toBe(11);
  });
});
