/** Connections store and secret box (real SQLite in a temp folder), error classification. */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/node/store/database';
import { ConnectionStore } from '../../../src/node/pacs/connections';
import { KeyFileSecretBox } from '../../../src/node/pacs/secret-box';
import { associationRejected, networkError, PacsError } from '../../../src/node/pacs/errors';
import { part10File, readFileMeta } from '../../../src/node/pacs/part10';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-pacs-unit-');
afterAll(() => tmp.cleanup());

describe('KeyFileSecretBox', () => {
  it('seals with AES-256-GCM under a 0600 key file; a changed key or byte is refused with a plain message', () => {
    const keyPath = join(tmp.path, 'keys', 'pacs-secret.key');
    const box = new KeyFileSecretBox(keyPath);
    const sealed = box.encrypt('s3cret pässword');
    expect(sealed.includes(Buffer.from('s3cret'))).toBe(false);
    expect(box.decrypt(sealed)).toBe('s3cret pässword');
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(new KeyFileSecretBox(keyPath).decrypt(sealed)).toBe('s3cret pässword');
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => box.decrypt(flipped)).toThrow(/cannot be decrypted/);
    writeFileSync(keyPath, Buffer.alloc(32, 7));
    expect(() => new KeyFileSecretBox(keyPath).decrypt(sealed)).toThrow(PacsError);
  });
});

describe('ConnectionStore', () => {
  const db = openDatabase(join(tmp.path, 'db.sqlite'));
  const store = new ConnectionStore(db, new KeyFileSecretBox(join(tmp.path, 'k2', 'key')));

  it('stores DICOMweb + DIMSE; secrets never come back from list/get, only hasSecret; credentials() unseals', () => {
    const c = store.add({ name: 'hospital', dicomweb: { url: 'https://pacs.example.org/dicom-web/', auth: 'basic', username: 'rad', secret: 'pw-123' }, dimse: { host: 'pacs.example.org', port: 11112, calledAet: 'HOSPACS' } });
    expect(c.dicomweb).toMatchObject({ url: 'https://pacs.example.org/dicom-web', auth: 'basic', username: 'rad', hasSecret: true });
    expect(c.dimse).toEqual({ host: 'pacs.example.org', port: 11112, calledAet: 'HOSPACS', callingAet: 'MEDIMGSHR' });
    expect(JSON.stringify(store.list())).not.toContain('pw-123');
    expect(JSON.stringify(store.get('hospital'))).not.toContain('pw-123');
    const raw = db.prepare('SELECT secret FROM pacs_connections').get() as { secret: Buffer };
    expect(raw.secret.includes(Buffer.from('pw-123'))).toBe(false);
    expect(store.credentials('hospital')).toEqual({ auth: 'basic', username: 'rad', secret: 'pw-123' });
  });

  it('refuses bad input with what to do', () => {
    expect(() => store.add({ name: 'x', dicomweb: { url: 'ftp://a/b' } })).toThrow(/http/);
    expect(() => store.add({ name: 'x', dicomweb: { url: 'https://u:p@a/dicom-web' } })).toThrow(/user name or password in the URL/);
    expect(() => store.add({ name: 'x', dicomweb: { url: 'https://a/dicom-web', auth: 'bearer' } })).toThrow(/token/);
    expect(() => store.add({ name: 'x', dimse: { host: 'a', port: 70000, calledAet: 'A' } })).toThrow(/port/);
    expect(() => store.add({ name: 'x', dimse: { host: 'a', port: 104, calledAet: 'MUCH-TOO-LONG-AE-TITLE' } })).toThrow(/AE title/);
    expect(() => store.add({ name: 'x', dicomweb: { url: 'https://a/dicom-web', caPem: 'not a pem' } })).toThrow(/PEM/);
    expect(() => store.add({ name: 'hospital', dicomweb: { url: 'https://a/dicom-web' } })).toThrow(/exists already/);
    expect(() => store.add({ name: 'empty' })).toThrow(/needs a DICOMweb URL/);
    expect(() => store.get('nope')).toThrow(/no PACS connection "nope"/);
    try {
      store.get('nope');
    } catch (e) {
      expect((e as PacsError).hint).toMatch(/Known connections: hospital/);
    }
  });

  it('removes', () => {
    expect(store.remove('hospital')).toBe(true);
    expect(store.list()).toEqual([]);
  });
});

describe('errors say what failed', () => {
  const where = { host: 'pacs.example.org', port: 443, what: 'the DICOMweb server' };
  it.each([
    [{ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND pacs.example.org' }, 'DNS_NOT_FOUND'],
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'CONNECTION_REFUSED'],
    [{ code: 'ETIMEDOUT', message: 'timed out' }, 'TIMED_OUT'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }, 'TLS_UNTRUSTED'],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames" }, 'TLS_HOSTNAME_MISMATCH'],
    [{ code: 'ECONNRESET', message: 'socket hang up' }, 'CONNECTION_LOST'],
    [new Error('Connection error: connect ECONNREFUSED 127.0.0.1:104'), 'CONNECTION_REFUSED'], // dcmjs-dimse keeps only the message
  ])('%o → %s', (err, reason) => {
    const e = networkError(Object.assign(new Error((err as { message: string }).message), err), where);
    expect(e.reason).toBe(reason);
    expect(e.hint).toBeTruthy();
  });

  it('association rejects name the AE title at fault', () => {
    const w = { calledAet: 'PACS', callingAet: 'MEDIMGSHR', host: '127.0.0.1', port: 104 };
    expect(associationRejected({ result: 1, source: 1, reason: 3 }, w).message).toMatch(/our AE title "MEDIMGSHR".*calling AE title not recognised/);
    expect(associationRejected({ result: 1, source: 1, reason: 7 }, w).message).toMatch(/called AE title not recognised/);
    expect(associationRejected({ result: 2, source: 3, reason: 1 }, w).message).toMatch(/for now.*congestion/);
  });
});

describe('part10File', () => {
  it('wraps a data set in a file meta group that readFileMeta reads back', () => {
    const f = part10File(new Uint8Array([8, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]), { sopClassUid: '1.2.3', sopInstanceUid: '1.2.3.4', transferSyntaxUid: '1.2.840.10008.1.2.1', sourceAet: 'MOD1' });
    expect(f.subarray(128, 132).toString()).toBe('DICM');
    const m = readFileMeta(f);
    expect([m.get(0x0002), m.get(0x0003), m.get(0x0010), m.get(0x0016)]).toEqual(['1.2.3', '1.2.3.4', '1.2.840.10008.1.2.1', 'MOD1']);
    expect(f.subarray(-10)).toEqual(Buffer.from([8, 0, 0x16, 0, 0x55, 0x49, 2, 0, 0x31, 0]));
  });
});
