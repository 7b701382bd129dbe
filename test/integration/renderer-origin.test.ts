import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serveRendererPath } from '../../src/node/renderer-origin';
import { ResourceRoutes } from '../../src/node/resources';
import { CODEC_WORKER_CSP, RENDERER_CSP } from '../../src/shared/csp';
import { tempDir } from '../support/tmp';

// What the app:// protocol (and the e2e host) serve, on real files in a temp folder.
const dir = tempDir();
afterAll(() => dir.cleanup());
const root = join(dir.path, 'renderer');
mkdirSync(join(root, 'assets'), { recursive: true });
writeFileSync(join(root, 'index.html'), '<!doctype html>');
writeFileSync(join(root, 'assets', 'index.worker.min.worker.js'), '// worker');
writeFileSync(join(dir.path, 'secret.txt'), 'patient data');
const routes = new ResourceRoutes();
routes.register('/dicom/', (rest) => ({ status: 200, headers: { 'content-type': 'application/dicom' }, body: `dicom ${rest}` }));
const get = (path: string) => serveRendererPath(root, routes, new URL(path, 'app://medimgshr'));

describe('the renderer origin', () => {
  it('serves the bundle with the page policy, and the decode worker with its own', async () => {
    const page = await get('/');
    expect(page).toMatchObject({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': RENDERER_CSP, 'x-content-type-options': 'nosniff' } });
    const worker = await get('/assets/index.worker.min.worker.js');
    expect(worker.headers['content-security-policy']).toBe(CODEC_WORKER_CSP);
  });

  it('answers registered resources first, with the page policy', async () => {
    const r = await get('/dicom/42');
    expect(r).toMatchObject({ status: 200, body: 'dicom 42', headers: { 'content-type': 'application/dicom', 'content-security-policy': RENDERER_CSP } });
  });

  it('never serves a file outside the bundle, however the path is written', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await get(p);
      expect([403, 404]).toContain(r.status);
      expect(String(r.body)).not.toContain('patient data');
    }
    expect((await get('/missing.js')).status).toBe(404);
  });
});
