import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, decryptKeystoreJson } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentityService, scryptNFromEnv } from '../../../src/node/identity/identities';
import type { Logger } from '../../../src/node/log';
import { openDatabase, type Db } from '../../../src/node/store/database';
import { AppError } from '../../../src/shared/errors';
import { tempDir } from '../../support/tmp';

const lines: string[] = [];
const log: Logger = {
  info: (m, e) => lines.push(JSON.stringify({ m, ...e })),
  warn: (m, e) => lines.push(JSON.stringify({ m, ...e })),
  error: (m, err, e) => lines.push(JSON.stringify({ m, err: String(err), ...e })),
};

const PASS = 'correct horse battery';
let dir: ReturnType<typeof tempDir>;
let db: Db;
let ids: IdentityService;

beforeEach(() => {
  dir = tempDir();
  db = openDatabase(join(dir.path, 'db.sqlite'));
  ids = new IdentityService({ db, keystoresDir: dir.path, log }, { scryptN: 1024 });
  lines.length = 0;
});
afterEach(() => {
  db.close();
  dir.cleanup();
});

async function rejectsWith(p: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(code);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

describe('IdentityService (real SQLite, real scrypt keystores)', () => {
  it('creates an identity: one owner-only keystore file with the configured scrypt N, one index row', async () => {
    const id = await ids.create({ displayName: '  Dr. Ada  ', passphrase: PASS, roleHint: 'clinician' });
    expect(id).toMatchObject({ displayName: 'Dr. Ada', roleHint: 'clinician', demo: false, unlocked: false });
    expect(id.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const file = join(dir.path, `${id.address}.json`);
    const ks = JSON.parse(readFileSync(file, 'utf8'));
    const crypto = ks.crypto ?? ks.Crypto; // Web3 Secret Storage allows either spelling; ethers writes "Crypto"
    expect(ks.version).toBe(3);
    expect(crypto.kdf).toBe('scrypt');
    expect(crypto.kdfparams.n).toBe(1024);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(ids.list().map((i) => i.address)).toEqual([id.address]);
    expect((await decryptKeystoreJson(readFileSync(file, 'utf8'), PASS)).address).toBe(id.address);
  });

  it('uses ethers\' standard scrypt cost by default', async () => {
    const strong = new IdentityService({ db, keystoresDir: dir.path, log });
    const id = await strong.create({ displayName: 'Strong', passphrase: PASS });
    const ks = JSON.parse(readFileSync(join(dir.path, `${id.address}.json`), 'utf8'));
    expect((ks.crypto ?? ks.Crypto).kdfparams.n).toBe(131072);
  });

  it('a wrong passphrase is a clear WRONG_PASSPHRASE error that changes nothing and locks nobody out', async () => {
    const a = await ids.create({ displayName: 'A', passphrase: PASS });
    const b = await ids.create({ displayName: 'B', passphrase: 'another passphrase' });
    await ids.unlock(a.address, PASS);
    const file = join(dir.path, `${b.address}.json`);
    const before = createHash('sha256').update(readFileSync(file)).digest('hex');
    for (let i = 0; i < 5; i++) {
      const err = await rejectsWith(ids.unlock(b.address, 'not it at all'), 'WRONG_PASSPHRASE');
      expect(err.message).toBe('That passphrase does not unlock this identity.');
      expect(err.hint).toMatch(/nothing was locked or changed/);
    }
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(before);
    expect(ids.current()?.address).toBe(a.address); // the unlocked identity stays unlocked
    expect((await ids.unlock(b.address, 'another passphrase')).unlocked).toBe(true); // no lock-out
    expect(ids.current()?.address).toBe(b.address);
    expect(ids.list().find((i) => i.address === a.address)?.unlocked).toBe(false);
  });

  it('unlock gives a signer in this process; lock forgets it; signerFor only matches the unlocked address', async () => {
    const a = await ids.create({ displayName: 'A', passphrase: PASS });
    expect(() => ids.signer()).toThrow(/No identity is unlocked/);
    const events: (string | null)[] = [];
    ids.on('change', (s) => events.push(s?.address ?? null));
    await ids.unlock(a.address.toLowerCase(), PASS);
    const w = ids.signer();
    expect(w.address).toBe(a.address);
    const sig = await w.signMessage('hello');
    expect(sig).toMatch(/^0x[0-9a-f]{130}$/);
    expect(ids.signerFor(a.address)?.address).toBe(a.address);
    expect(ids.signerFor(null)?.address).toBe(a.address);
    expect(ids.signerFor(Wallet.createRandom().address)).toBeNull();
    expect(ids.lock()).toBe(true);
    expect(ids.lock()).toBe(false);
    expect(ids.current()).toBeNull();
    expect(ids.signerFor(a.address)).toBeNull();
    expect(events).toEqual([a.address, null]);
  });

  it('imports a raw private key (encrypted with the passphrase) and refuses duplicates and bad keys', async () => {
    const w = Wallet.createRandom();
    const id = await ids.import({ displayName: 'Imported', passphrase: PASS, privateKey: w.privateKey.slice(2) });
    expect(id.address).toBe(w.address);
    await rejectsWith(ids.import({ displayName: 'Again', passphrase: PASS, privateKey: w.privateKey }), 'CONFLICT');
    await rejectsWith(ids.import({ displayName: 'Bad', passphrase: PASS, privateKey: '0x' + '00'.repeat(32) }), 'INVALID_ARGUMENT');
    await rejectsWith(ids.import({ displayName: 'Short', passphrase: 'short', privateKey: Wallet.createRandom().privateKey }), 'INVALID_ARGUMENT');
    expect(ids.list()).toHaveLength(1);
    await ids.unlock(w.address, PASS);
    expect(ids.signer().privateKey).toBe(w.privateKey);
  });

  it('exports the encrypted keystore only; it imports elsewhere with its passphrase and not without', async () => {
    const w = Wallet.createRandom();
    const id = await ids.import({ displayName: 'Exp', passphrase: PASS, privateKey: w.privateKey });
    const ex = ids.exportKeystore(id.address);
    expect(ex.fileName).toBe(`${id.address}.json`);
    expect(ex.keystoreJson).not.toContain(w.privateKey.slice(2));
    expect(ex.keystoreJson).not.toContain(PASS);
    const other = tempDir();
    const db2 = openDatabase(join(other.path, 'db.sqlite'));
    try {
      const ids2 = new IdentityService({ db: db2, keystoresDir: other.path, log }, { scryptN: 1024 });
      await rejectsWith(ids2.import({ displayName: 'X', passphrase: 'wrong passphrase', keystoreJson: ex.keystoreJson }), 'WRONG_PASSPHRASE');
      await rejectsWith(ids2.import({ displayName: 'X', passphrase: PASS, keystoreJson: '{"not":"a keystore"}' }), 'MALFORMED');
      expect(ids2.list()).toHaveLength(0);
      const imported = await ids2.import({ displayName: 'X', passphrase: PASS, keystoreJson: ex.keystoreJson, roleHint: 'patient' });
      expect(imported.address).toBe(w.address);
      expect(readFileSync(join(other.path, `${w.address}.json`), 'utf8')).toBe(ex.keystoreJson); // kept as is
    } finally {
      db2.close();
      other.cleanup();
    }
  });

  it('unknown and malformed addresses, and a missing keystore file, are NOT_FOUND / INVALID_ARGUMENT', async () => {
    await rejectsWith(ids.unlock(Wallet.createRandom().address, PASS), 'NOT_FOUND');
    await rejectsWith(ids.unlock('0x1234', PASS), 'INVALID_ARGUMENT');
    const a = await ids.create({ displayName: 'A', passphrase: PASS });
    dir.cleanup(); // the keystore folder vanished (db is open, the row is there)
    expect(() => ids.exportKeystore(a.address)).toThrow(/keystore file .* is missing/);
  });

  it('never writes a passphrase or key to the log', async () => {
    const w = Wallet.createRandom();
    await ids.import({ displayName: 'L', passphrase: PASS, privateKey: w.privateKey });
    await rejectsWith(ids.unlock(w.address, 'a wrong passphrase'), 'WRONG_PASSPHRASE');
    await ids.unlock(w.address, PASS);
    ids.exportKeystore(w.address);
    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const secret of [PASS, 'a wrong passphrase', w.privateKey.slice(2), w.privateKey.slice(2).toUpperCase()]) {
      expect(all).not.toContain(secret);
    }
  });

  it('MEDIMG_KEYSTORE_SCRYPT_N must be a power of two in range', () => {
    expect(scryptNFromEnv({})).toBeUndefined();
    expect(scryptNFromEnv({ MEDIMG_KEYSTORE_SCRYPT_N: '2048' })).toBe(2048);
    expect(() => scryptNFromEnv({ MEDIMG_KEYSTORE_SCRYPT_N: '1000' })).toThrow(/power of two/);
    expect(() => new IdentityService({ db, keystoresDir: dir.path, log }, { scryptN: 16 })).toThrow(/power of two/);
  });
});
