import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wallet, parseEther } from 'ethers';
import { describe, expect, it } from 'vitest';
import { createHandlerTable, dispatch } from '../../src/node/handlers';
import { Services } from '../../src/node/services';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';

const sender = { url: 'app://medimgshr/index.html', trusted: true };
const PASS = 'a long enough passphrase';
const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

describe('identity API through the handler table (real SQLite, real keystores)', () => {
  it('create / list / unlock / lock / export / import; no key or passphrase in any response or in the log', async () => {
    const home = tempDir();
    const s = await Services.open({ home: home.path, ledger: { mode: 'none' }, identity: { scryptN: 1024 } });
    try {
      const table = createHandlerTable(s);
      const responses: unknown[] = [];
      const call = async (ch: string, req: unknown) => {
        const r = await dispatch(table, ch, req, sender, s.log);
        responses.push(r);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are checked field by field below
        return r as { ok: boolean; value?: any; error?: { code: string; message: string; hint?: string } };
      };
      const imported = new Wallet(Wallet.createRandom().privateKey);
      const created = await call('identity.create', { displayName: 'Dr. Grace', passphrase: PASS, roleHint: 'clinician' });
      expect(created.ok).toBe(true);
      const addr = created.value.address as string;
      const imp = await call('identity.import', { displayName: 'Clinic', passphrase: PASS, privateKey: imported.privateKey, roleHint: 'institution' });
      expect(imp.value.address).toBe(imported.address);

      const short = await call('identity.create', { displayName: 'X', passphrase: 'short' });
      expect(short.error?.code).toBe('INVALID_ARGUMENT');
      expect(short.error?.message).toMatch(/at least 8 characters/);
      const both = await call('identity.import', { displayName: 'X', passphrase: PASS, privateKey: imported.privateKey, keystoreJson: '{}' });
      expect(both.error?.message).toMatch(/either a private key or a keystore/);

      const list = await call('identity.list', {});
      expect(list.value.identities.map((i: { displayName: string }) => i.displayName)).toEqual(['Dr. Grace', 'Clinic']);
      expect(list.value.current).toBeNull();

      const wrong = await call('identity.unlock', { address: addr, passphrase: 'wrong passphrase!' });
      expect(wrong.ok).toBe(false);
      expect(wrong.error).toEqual({
        code: 'WRONG_PASSPHRASE',
        message: 'That passphrase does not unlock this identity.',
        hint: 'Check the passphrase (it is case-sensitive) and try again; nothing was locked or changed.',
      });
      const ok = await call('identity.unlock', { address: addr, passphrase: PASS });
      expect(ok.value).toMatchObject({ address: addr, unlocked: true });
      expect((await call('identity.current', {})).value.identity.address).toBe(addr);
      const ex = await call('identity.export', { address: imported.address });
      expect(JSON.parse(ex.value.keystoreJson).address.toLowerCase()).toBe(imported.address.slice(2).toLowerCase());
      expect((await call('identity.lock', {})).value).toEqual({ locked: true });
      expect((await call('identity.current', {})).value.identity).toBeNull();

      const everything = JSON.stringify(responses) + readFileSync(join(s.home.logs, 'main.log'), 'utf8');
      expect(everything).toContain(addr); // the log does record what happened
      for (const secret of [PASS, 'wrong passphrase!', imported.privateKey.slice(2), imported.privateKey.slice(2).toUpperCase()]) {
        expect(everything).not.toContain(secret);
      }
      expect(everything).not.toMatch(/"privateKey"|"passphrase"/);
    } finally {
      await s.close();
      home.cleanup();
    }
  });
});

describe.skipIf(!component('anvil'))('the unlocked signer is connected to the embedded ledger', () => {
  it('signs and sends a transaction from the main process', async () => {
    const home = tempDir();
    const s = await Services.open({ home: home.path, ledger: { mode: 'embedded' }, identity: { scryptN: 1024 } });
    try {
      const ids = s.identity;
      const me = await ids.create({ displayName: 'Sender', passphrase: PASS });
      await ids.unlock(me.address, PASS);
      const signer = ids.signer();
      expect(signer.provider).not.toBeNull();
      const dev = new Wallet(DEV_KEY, signer.provider);
      await (await dev.sendTransaction({ to: me.address, value: parseEther('1') })).wait();
      const to = Wallet.createRandom().address;
      const rc = await (await signer.sendTransaction({ to, value: 12345n })).wait();
      expect(rc?.status).toBe(1);
      expect(rc?.from).toBe(me.address);
      expect(await signer.provider!.getBalance(to)).toBe(12345n);
    } finally {
      await s.close();
      home.cleanup();
    }
  });
});

const bin = fileURLToPath(new URL('../../bin/medimgshr.cjs', import.meta.url));
describe('medimgshr identity (built CLI)', () => {

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      env: { ...process.env, MEDIMG_KEYSTORE_SCRYPT_N: '1024', MEDIMG_PASSPHRASE: '', ...env },
    });

  it('create, list --json, export --out, import into another workstation; wrong passphrase is a clear error', () => {
    const a = tempDir();
    const b = tempDir();
    try {
      const pf = join(a.path, 'pass.txt');
      writeFileSync(pf, PASS + '\n');
      const c = run(['--home', a.path, 'identity', 'create', '--name', 'Dr. Who', '--role', 'clinician', '--passphrase-file', pf, '--json']);
      expect(c.status).toBe(0);
      const addr = JSON.parse(c.stdout).identity.address as string;
      const l = JSON.parse(run(['--home', a.path, 'identity', 'list', '--json']).stdout);
      expect(l.identities).toEqual([expect.objectContaining({ address: addr, displayName: 'Dr. Who', roleHint: 'clinician' })]);
      expect(run(['--home', a.path, 'identity', 'list']).stdout).toContain(addr);

      const out = join(b.path, 'backup.json');
      expect(run(['--home', a.path, 'identity', 'export', addr, '--out', out]).status).toBe(0);
      const bad = run(['--home', b.path, 'identity', 'import', '--name', 'Who', '--keystore', out], { MEDIMG_PASSPHRASE: 'not the passphrase' });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('That passphrase does not unlock this identity.');
      const good = run(['--home', b.path, 'identity', 'import', '--name', 'Who', '--keystore', out, '--json'], { MEDIMG_PASSPHRASE: PASS });
      expect(good.status).toBe(0);
      expect(JSON.parse(good.stdout).identity.address).toBe(addr);

      const keyFile = join(b.path, 'key.txt');
      const raw = Wallet.createRandom();
      writeFileSync(keyFile, raw.privateKey + '\n');
      const fromKey = run(['--home', b.path, 'identity', 'import', '--name', 'Raw', '--private-key-file', keyFile, '--role', 'patient', '--json'], { MEDIMG_PASSPHRASE: PASS });
      expect(fromKey.status).toBe(0);
      expect(JSON.parse(fromKey.stdout).identity).toMatchObject({ address: raw.address, roleHint: 'patient' });
      expect(fromKey.stdout + readFileSync(join(b.path, 'logs', 'main.log'), 'utf8')).not.toContain(raw.privateKey.slice(2));
      const both = run(['--home', b.path, 'identity', 'import', '--name', 'X', '--private-key-file', keyFile, '--keystore', out], { MEDIMG_PASSPHRASE: PASS });
      expect(both.stderr).toContain('Give either --keystore or --private-key-file.');

      const noPass = run(['--home', a.path, 'identity', 'create', '--name', 'X']);
      expect(noPass.status).toBe(1);
      expect(noPass.stderr).toMatch(/A passphrase is needed[\s\S]*--passphrase-file/);
      const badRole = run(['--home', a.path, 'identity', 'create', '--name', 'X', '--role', 'king'], { MEDIMG_PASSPHRASE: PASS });
      expect(badRole.stderr).toMatch(/Unknown role "king"/);
      for (const f of [c.stdout, good.stdout, readFileSync(join(a.path, 'logs', 'main.log'), 'utf8')]) expect(f).not.toContain(PASS);
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });

  it.skipIf(!component('anvil'))('chain status starts the embedded node, reports it, and stops it; --rpc to a dead endpoint is "unreachable"', () => {
    const h = tempDir();
    try {
      const r = run(['--home', h.path, 'chain', 'status', '--json']);
      expect(r.status).toBe(0);
      const o = JSON.parse(r.stdout);
      expect(o.status).toMatchObject({ state: 'connected', mode: 'embedded', chainId: 31337 });
      expect(o.embedded.attached).toBe(false);
      expect(o.outbox).toEqual({ queued: 0, sent: 0, confirmed: 0, failed: 0 });
      expect(run(['--home', h.path, 'chain', 'status']).stdout).toMatch(/ledger {7}: connected \(embedded local chain\)[\s\S]*outbox {7}: 0 queued/);
      const dead = run(['chain', 'status', '--rpc', 'http://127.0.0.1:9', '--json']);
      expect(dead.status).toBe(3);
      expect(JSON.parse(dead.stdout).status.state).toBe('unreachable');
      expect(run(['chain', 'status', '--help']).stdout).toContain('--rpc <url>');
    } finally {
      h.cleanup();
    }
  });
});
