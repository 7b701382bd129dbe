import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Contract, ContractFactory, id as keccakText, type InterfaceAbi, type Provider, type Signer } from 'ethers';
import solc from 'solc';
import { beforeAll, describe, expect, it } from 'vitest';
import { OutboxPermanentError, type Outbox, type OutboxHandler, type OutboxItem } from '../../src/node/ledger/outbox';
import { Services } from '../../src/node/services';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';

const anvilBin = component('anvil');
const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const PASS = 'outbox test passphrase';
const DEV_KEY_2 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'; // anvil's second dev account
let i = 0;

// A stand-in for the real contract: counts how often each key was written, so a duplicate shows.
const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Registry {
  mapping(bytes32 => uint256) public count;
  event Put(bytes32 indexed key, address indexed by);
  function put(bytes32 key) external { count[key] += 1; emit Put(key, msg.sender); }
}`;
let abi: InterfaceAbi;
let bytecode: string;

beforeAll(() => {
  const out = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: 'Solidity',
        sources: { 'Registry.sol': { content: SOURCE } },
        settings: { evmVersion: 'cancun', outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
      }),
    ),
  );
  const c = out.contracts['Registry.sol'].Registry;
  abi = c.abi;
  bytecode = '0x' + c.evm.bytecode.object;
});

type Payload = { note: string };
const keyHash = (item: OutboxItem<Payload>) => keccakText(item.key);

function registryHandler(address: string): OutboxHandler<Payload> {
  return {
    async send(item, signer: Signer) {
      const tx = await (new Contract(address, abi, signer) as unknown as { put(k: string): Promise<{ hash: string }> }).put(keyHash(item));
      return tx.hash;
    },
    async isOnChain(item, provider: Provider) {
      return (await onChainCount(address, provider, item.key)) > 0n;
    },
  };
}

async function onChainCount(address: string, provider: Provider, key: string): Promise<bigint> {
  return (new Contract(address, abi, provider) as unknown as { count(k: string): Promise<bigint> }).count(keccakText(key));
}

interface App {
  s: Services;
  outbox: Outbox;
  provider(): Provider;
}

async function openApp(home: string, registry: string | null, opts: { unlock?: boolean } = {}): Promise<App> {
  const s = await Services.open({ home, ledger: { mode: 'embedded' }, ledgerPollMs: 200, identity: { scryptN: 1024 }, outbox: { pollMs: 100, baseDelayMs: 50, maxDelayMs: 400, maxAttempts: 4 } });
  const ids = s.identity;
  if (ids.list().length === 0) await ids.import({ displayName: 'Dev', passphrase: PASS, privateKey: DEV_KEY });
  if (opts.unlock !== false) await ids.unlock(ids.list()[0]!.address, PASS);
  const outbox = s.outbox;
  if (registry) outbox.register('put', registryHandler(registry));
  return { s, outbox, provider: () => s.identity.signer().provider! };
}

/** Waits until the node's state file holds block `n` (so a later crash cannot lose it). */
async function waitDumped(s: Services, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      if (JSON.parse(readFileSync(join(s.home.chain, 'state.json'), 'utf8')).best_block_number >= n) return;
    } catch {
      // mid-write
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`state file never reached block ${n}`);
}

async function deployRegistry(app: App): Promise<string> {
  const signer = app.s.identity.signer();
  const c = await new ContractFactory(abi, bytecode, signer).deploy();
  const rc = await c.deploymentTransaction()!.wait();
  await waitDumped(app.s, rc!.blockNumber);
  return c.getAddress();
}

describe.skipIf(!anvilBin)('outbox (real SQLite, real anvil, real contract)', () => {
  it('queues while the ledger is down, delivers once when it is back; enqueue is idempotent by key', async () => {
    const home = tempDir();
    const app = await openApp(home.path, null);
    try {
      const registry = await deployRegistry(app);
      app.outbox.register('put', registryHandler(registry));
      await app.s.stopEmbeddedLedger();
      expect(app.s.ledger.current().state).toBe('unreachable');
      const keys = ['study-a', 'study-b', 'study-c', 'study-d', 'study-e'];
      for (const k of keys) expect(app.outbox.enqueue('put', k, { note: k }).created).toBe(true);
      const again = app.outbox.enqueue('put', 'study-a', { note: 'different payload' });
      expect(again.created).toBe(false);
      expect(again.item.payload).toEqual({ note: 'study-a' });
      await app.outbox.runOnce();
      expect(app.outbox.counts()).toEqual({ queued: 5, sent: 0, confirmed: 0, failed: 0 });

      await app.s.restartEmbeddedLedger();
      expect(app.s.ledger.current().state).toBe('connected');
      const c1 = await app.outbox.drain(20_000);
      expect(c1, JSON.stringify(app.outbox.list({ status: 'failed' }).map((i) => i.lastError))).toEqual({ queued: 0, sent: 0, confirmed: 5, failed: 0 });
      for (const k of keys) expect(await onChainCount(registry, app.provider(), k)).toBe(1n);
      const items = app.outbox.list();
      expect(items.every((i) => i.txHash && i.blockNumber && i.blockHash && i.attempts === 1)).toBe(true);
      // Enqueueing a confirmed key again changes nothing and sends nothing.
      expect(app.outbox.enqueue('put', 'study-c', { note: 'x' }).item.status).toBe('confirmed');
      await app.outbox.runOnce();
      expect(await onChainCount(registry, app.provider(), 'study-c')).toBe(1n);
    } finally {
      await app.s.close();
      home.cleanup();
    }
  });

  it('hurry(): a sent item whose receipt is waited for is checked at once, not on the outbox schedule', async () => {
    const home = tempDir();
    // The outbox's own schedule far ahead: only hurry() can make the item due within this test.
    const s = await Services.open({ home: home.path, ledger: { mode: 'embedded' }, ledgerPollMs: 200, identity: { scryptN: 1024 }, outbox: { pollMs: 60_000, baseDelayMs: 50, maxDelayMs: 400, maxAttempts: 4 } });
    try {
      await s.identity.import({ displayName: 'Dev', passphrase: PASS, privateKey: DEV_KEY });
      await s.identity.unlock(s.identity.list()[0]!.address, PASS);
      const app: App = { s, outbox: s.outbox, provider: () => s.identity.signer().provider! };
      const registry = await deployRegistry(app);
      app.outbox.register('put', registryHandler(registry));
      const rpc = app.provider() as unknown as { send(method: string, params: unknown[]): Promise<unknown> };
      await rpc.send('evm_setAutomine', [false]); // sent, not mined: the receipt is not there yet
      try {
        const { item } = app.outbox.enqueue('put', 'study-h', { note: 'h' });
        await app.outbox.runOnce();
        expect(app.outbox.byId(item.id)!.status).toBe('sent');
        await new Promise((r) => setTimeout(r, 300)); // past the first receipt check after the send
        await app.outbox.runOnce(); // known to the node, no receipt: next check a pollMs (60 s) later
        expect(app.outbox.byId(item.id)!.status).toBe('sent');
        await rpc.send('evm_mine', []);
        await app.outbox.runOnce();
        expect(app.outbox.byId(item.id)!.status).toBe('sent'); // not due: the receipt is not looked for
        app.outbox.hurry(item.id);
        await app.outbox.runOnce();
        const done = app.outbox.byId(item.id)!;
        expect(done.status).toBe('confirmed');
        expect(done.blockNumber).toBeGreaterThan(0);
        expect(await onChainCount(registry, app.provider(), 'study-h')).toBe(1n);
      } finally {
        await rpc.send('evm_setAutomine', [true]);
      }
    } finally {
      await s.close();
      home.cleanup();
    }
  });

  it('survives an app restart: items wait for their identity, and go once it is unlocked', async () => {
    const home = tempDir();
    let app = await openApp(home.path, null);
    try {
      const registry = await deployRegistry(app);
      const signer = app.s.identity.current()!.address;
      app.s.identity.lock();
      app.outbox.register('put', registryHandler(registry));
      app.outbox.enqueue('put', 'waits', { note: '' }, { signer });
      await app.outbox.runOnce();
      expect(app.outbox.get('put', 'waits')).toMatchObject({ status: 'queued', lastError: `waiting for identity ${signer} to be unlocked` });
      await app.s.close();

      app = await openApp(home.path, registry, { unlock: false });
      await app.outbox.runOnce();
      expect(app.outbox.get('put', 'waits')?.status).toBe('queued');
      await app.s.identity.unlock(signer, PASS); // the outbox is kicked by the unlock
      expect(await app.outbox.drain(10_000)).toMatchObject({ confirmed: 1, queued: 0 });
      expect(await onChainCount(registry, app.provider(), 'waits')).toBe(1n);
    } finally {
      await app.s.close();
      home.cleanup();
    }
  });

  it('retries with backoff, fails permanent errors at once and after maxAttempts, and retry() re-queues', async () => {
    const home = tempDir();
    const app = await openApp(home.path, null);
    try {
      const registry = await deployRegistry(app);
      const real = registryHandler(registry);
      let flaky = 0;
      app.outbox.register<Payload>('flaky', {
        isOnChain: real.isOnChain,
        async send(item, signer) {
          if (++flaky <= 2) throw new Error(`node busy (${flaky})`);
          return real.send(item, signer);
        },
      });
      app.outbox.register<Payload>('denied', {
        isOnChain: async () => false,
        send: async () => {
          throw new OutboxPermanentError('this account may not anchor');
        },
      });
      let brokenAllowed = false;
      app.outbox.register<Payload>('broken', {
        isOnChain: real.isOnChain,
        send: async (item, signer) => {
          if (!brokenAllowed) throw new Error('always fails');
          return real.send(item, signer);
        },
      });
      const t0 = Date.now();
      app.outbox.enqueue('flaky', 'k-flaky', { note: '' });
      app.outbox.enqueue('denied', 'k-denied', { note: '' });
      app.outbox.enqueue('broken', 'k-broken', { note: '' });
      await app.outbox.drain(20_000);
      const f = app.outbox.get('flaky', 'k-flaky')!;
      expect(f).toMatchObject({ status: 'confirmed', attempts: 3 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(50 * 0.8 + 100 * 0.8); // two backoff delays
      expect(app.outbox.get('denied', 'k-denied')).toMatchObject({ status: 'failed', attempts: 1, lastError: 'this account may not anchor' });
      const b = app.outbox.get('broken', 'k-broken')!;
      expect(b).toMatchObject({ status: 'failed', attempts: 4, lastError: 'always fails' });
      brokenAllowed = true;
      expect(app.outbox.retry(b.id)).toMatchObject({ status: 'queued', attempts: 0 });
      await app.outbox.drain(10_000);
      expect(app.outbox.get('broken', 'k-broken')?.status).toBe('confirmed');
      expect(await onChainCount(registry, app.provider(), 'k-broken')).toBe(1n);
    } finally {
      await app.s.close();
      home.cleanup();
    }
  });

  it('two processes on one app-data folder (app + CLI) share the queue without sending an item twice', async () => {
    const home = tempDir();
    const a = await openApp(home.path, null);
    let b: App | null = null;
    try {
      const registry = await deployRegistry(a);
      a.outbox.register('put', registryHandler(registry));
      // The second opens the same folder: it attaches to the running node and signs with another account.
      const ids = a.s.identity;
      const second = await ids.import({ displayName: 'Dev 2', passphrase: PASS, privateKey: DEV_KEY_2 });
      b = await openApp(home.path, registry, { unlock: false });
      expect(b.s.embeddedNode?.attached).toBe(true);
      await b.s.identity.unlock(second.address, PASS);
      const keys = Array.from({ length: 24 }, (_, i) => `shared-${i}`);
      for (const k of keys) (i++ % 2 ? a : b).outbox.enqueue('put', k, { note: k });
      const [ca] = await Promise.all([a.outbox.drain(20_000), b.outbox.drain(20_000)]);
      expect(ca).toEqual({ queued: 0, sent: 0, confirmed: keys.length, failed: 0 });
      for (const k of keys) expect(await onChainCount(registry, a.provider(), k), k).toBe(1n);
      expect(a.outbox.list().every((it) => it.attempts <= 1)).toBe(true);
    } finally {
      await b?.s.close();
      await a.s.close();
      home.cleanup();
    }
  });

  it('kill -9 of the embedded node at random moments while sending: every write ends on chain exactly once', async () => {
    const TRIALS = 10;
    const PER_TRIAL = 6;
    const home = tempDir();
    let app = await openApp(home.path, null);
    const registry = await deployRegistry(app);
    await app.s.close();
    const keys: string[] = [];
    const stats = { trials: 0, enqueued: 0, confirmedBeforeKill: 0, requeuedAfterRecovery: 0, recoveries: 0, resentTotal: 0 };
    try {
      for (let t = 0; t < TRIALS; t++) {
        app = await openApp(home.path, registry);
        if (app.s.embeddedNode!.recovery.action === 'restored-last-good') stats.recoveries++;
        for (let i = 0; i < PER_TRIAL; i++) {
          const k = `t${t}-item${i}`;
          keys.push(k);
          app.outbox.enqueue('put', k, { note: k });
          stats.enqueued++;
          await new Promise((r) => setTimeout(r, Math.random() * 60));
        }
        await new Promise((r) => setTimeout(r, Math.random() * 900));
        stats.confirmedBeforeKill += keys.slice(-PER_TRIAL).filter((k) => app.outbox.get('put', k)?.status === 'confirmed').length;
        app.s.embeddedNode!.kill(); // crash: inside one state interval, newest blocks are lost
        await app.s.embeddedNode!.exited();
        await app.s.close();
        stats.trials++;
      }
      app = await openApp(home.path, registry);
      const final = await app.outbox.drain(30_000);
      expect(final, JSON.stringify(app.outbox.list({ status: 'failed' }).map((i) => i.lastError))).toEqual({ queued: 0, sent: 0, confirmed: keys.length, failed: 0 });
      for (const k of keys) expect(await onChainCount(registry, app.provider(), k), k).toBe(1n);
      const log = readFileSync(join(app.s.home.logs, 'main.log'), 'utf8');
      stats.requeuedAfterRecovery = log.split('\n').filter((l) => l.includes('is no longer on chain; re-queued')).length;
      stats.resentTotal = app.outbox.list().reduce((n, i) => n + Math.max(0, i.attempts - 1), 0);
      mkdirSync('test-results', { recursive: true });
      writeFileSync('test-results/outbox-crash-trials.json', JSON.stringify(stats, null, 2));
      console.log('outbox crash trials', JSON.stringify(stats));
      expect(stats.trials).toBe(TRIALS);
    } finally {
      await app.s.close();
      home.cleanup();
    }
  });
});
