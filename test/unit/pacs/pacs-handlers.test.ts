/**
 * The PACS handlers over real services (SQLite in a temp folder, no PACS needed): a connection goes
 * in with its password and comes out with `hasPassword` only; update keeps the stored secret when
 * none is given, replaces it when one is, drops it when the sign-in kind changes; a CA file is read
 * by path and shown by its subject; invalid input is refused with the PACS reason.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlerTable, dispatch, type HandlerTable } from '../../../src/node/handlers';
import { Services } from '../../../src/node/services';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-pacs-handlers-');
let s: Services;
let table: HandlerTable;
const sender = { url: 'test', trusted: true };
const call = async (channel: string, req: unknown) => dispatch(table, channel, req, sender);
const ok = async <T>(channel: string, req: unknown): Promise<T> => {
  const r = await call(channel, req);
  if (!r.ok) throw new Error(`${channel}: ${r.error.message}`);
  return r.value as T;
};

beforeAll(async () => {
  s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' } });
  table = createHandlerTable(s);
});
afterAll(async () => {
  await s.close();
  tmp.cleanup();
});

describe('pacs.connections.*', () => {
  it('secrets go in, never come out; update keeps, replaces or drops them', async () => {
    const added = await ok<{ id: number; dicomweb: Record<string, unknown> }>('pacs.connections.add', {
      name: 'Hospital',
      dicomweb: { url: 'https://pacs.example.org/dicom-web', auth: 'basic', username: 'rad', secret: 'pw-4711' },
    });
    expect(added.dicomweb).toMatchObject({ auth: 'basic', username: 'rad', hasPassword: true, hasToken: false, caSubject: null });
    const listed = await ok<{ connections: unknown[] }>('pacs.connections.list', {});
    expect(JSON.stringify(listed)).not.toContain('pw-4711');

    // no secret given, same kind: the stored one stays
    await ok('pacs.connections.update', { id: added.id, name: 'Hospital PACS', dicomweb: { url: 'https://pacs.example.org/dicom-web', auth: 'basic', username: 'rad' } });
    expect(s.pacs.connections.credentials(added.id)).toEqual({ auth: 'basic', username: 'rad', secret: 'pw-4711' });
    // a new one replaces it
    await ok('pacs.connections.update', { id: added.id, name: 'Hospital PACS', dicomweb: { url: 'https://pacs.example.org/dicom-web', auth: 'basic', username: 'rad', secret: 'new-pw' } });
    expect(s.pacs.connections.credentials(added.id).secret).toBe('new-pw');
    // another kind without a token: refused (bearer needs one), nothing changed
    const r = await call('pacs.connections.update', { id: added.id, name: 'Hospital PACS', dicomweb: { url: 'https://pacs.example.org/dicom-web', auth: 'bearer' } });
    expect(r.ok).toBe(false);
    expect(!r.ok && (r.error as { reason?: string }).reason).toBe('INVALID');
    expect(s.pacs.connections.credentials(added.id).secret).toBe('new-pw');
    // sign-in none: the secret is dropped
    const none = await ok<{ dicomweb: Record<string, unknown> }>('pacs.connections.update', { id: added.id, name: 'Hospital PACS', dicomweb: { url: 'https://pacs.example.org/dicom-web', auth: 'none' } });
    expect(none.dicomweb).toMatchObject({ auth: 'none', hasPassword: false, hasToken: false });
    expect(s.pacs.connections.credentials(added.id).secret).toBeNull();
  });

  it('a CA certificate is read from its file and shown by subject; kept on update unless dropped', async () => {
    const key = join(tmp.path, 'ca.key');
    const pem = join(tmp.path, 'ca.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', pem, '-days', '2', '-subj', '/CN=Hospital Test CA'], { stdio: 'ignore' });
    const c = await ok<{ id: number; dicomweb: { caSubject: string | null } }>('pacs.connections.add', { name: 'TLS', dicomweb: { url: 'https://pacs.example.org/dicom-web', auth: 'none', caPath: pem } });
    expect(c.dicomweb.caSubject).toBe('Hospital Test CA');
    const kept = await ok<{ dicomweb: { caSubject: string | null } }>('pacs.connections.update', { id: c.id, name: 'TLS', dicomweb: { url: 'https://pacs.example.org/dicom-web', auth: 'none' } });
    expect(kept.dicomweb.caSubject).toBe('Hospital Test CA');
    const dropped = await ok<{ dicomweb: { caSubject: string | null } }>('pacs.connections.update', { id: c.id, name: 'TLS', dicomweb: { url: 'https://pacs.example.org/dicom-web', auth: 'none', keepCa: false } });
    expect(dropped.dicomweb.caSubject).toBeNull();
    const missing = await call('pacs.connections.add', { name: 'TLS2', dicomweb: { url: 'https://pacs.example.org/dicom-web', auth: 'none', caPath: join(tmp.path, 'nope.pem') } });
    expect(!missing.ok && missing.error.message).toMatch(/cannot be read \(ENOENT\)/);
  });

  it('input the PACS code refuses comes back with its reason and a hint', async () => {
    const r = await call('pacs.connections.add', { name: 'Bad', dicomweb: { url: 'https://rad:pw@pacs.example.org/dicom-web', auth: 'none' } });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'INVALID', message: 'Do not put the user name or password in the URL.' });
    const removed = await ok<{ removed: boolean }>('pacs.connections.remove', { id: 1 });
    expect(removed.removed).toBe(true);
  });
});
