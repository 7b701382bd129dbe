import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { startAnvil } from '../../src/node/ledger/anvil';
import { EmbeddedNode, LAST_GOOD_FILE, NODE_FILE, STATE_FILE } from '../../src/node/ledger/embedded-node';
import { jsonRpc } from '../../src/node/net';
import { Services } from '../../src/node/services';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';

const anvilBin = component('anvil');

// anvil's first dev account (public test key, funded on every anvil chain).
const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const wallet = new Wallet(DEV_KEY);

interface Sent {
  nonce: number;
  hash: string;
  /** ms timestamp when the node confirmed it (receipt seen); null if the answer never came. */
  confirmedAt: number | null;
}

async function signTransfer(nonce: number): Promise<{ raw: string; hash: string }> {
  const raw = await wallet.signTransaction({
    type: 2, chainId: 31337, nonce, to: TO, value: 1n, gasLimit: 21000n,
    maxFeePerGas: 20_000_000_000n, maxPriorityFeePerGas: 1n,
  });
  const { Transaction } = await import('ethers');
  return { raw, hash: Transaction.from(raw).hash! };
}

async function head(url: string): Promise<number> {
  return Number.parseInt(await jsonRpc<string>(url, 'eth_blockNumber'), 16);
}

async function txOfBlock(url: string, n: number): Promise<string | null> {
  const b = await jsonRpc<{ transactions: string[] } | null>(url, 'eth_getBlockByNumber', ['0x' + n.toString(16), false]);
  return b?.transactions[0] ?? null;
}

/** The chain must be exactly sent[0..head-1] (one transfer per block, automine). */
async function checkPrefix(url: string, sent: Sent[]): Promise<number> {
  const h = await head(url);
  expect(h).toBeLessThanOrEqual(sent.length);
  // Every block of the newest 200, and 50 random older ones (older blocks were checked before).
  const check = new Set<number>();
  for (let n = Math.max(1, h - 199); n <= h; n++) check.add(n);
  for (let i = 0; i < 50 && h > 200; i++) check.add(1 + Math.floor(Math.random() * (h - 200)));
  for (const n of check) expect(await txOfBlock(url, n)).toBe(sent[n - 1]!.hash);
  return h;
}

const children: { kill(): void }[] = [];
afterAll(() => {
  for (const c of children) c.kill();
});

describe.skipIf(!anvilBin)('embedded node: graceful stop and recovery (real anvil)', () => {
  it('a graceful stop keeps every block, and refreshes the last-good copy', async () => {
    const home = tempDir();
    try {
      const node = await EmbeddedNode.start({ chainDir: home.path });
      expect(node.recovery.action).toBe('new-chain');
      const sent: Sent[] = [];
      for (let i = 0; i < 5; i++) {
        const t = await signTransfer(i);
        await jsonRpc(node.rpcUrl, 'eth_sendRawTransaction', [t.raw]);
        sent.push({ nonce: i, hash: t.hash, confirmedAt: Date.now() });
      }
      await node.stop(); // right after the last write: inside one state interval
      expect(existsSync(join(home.path, NODE_FILE))).toBe(false);
      expect(JSON.parse(readFileSync(join(home.path, LAST_GOOD_FILE), 'utf8')).best_block_number).toBe(5);
      const again = await EmbeddedNode.start({ chainDir: home.path });
      try {
        expect(again.recovery.action).toBe('none');
        expect(again.recovery.startBlock).toBe(5);
        expect(await checkPrefix(again.rpcUrl, sent)).toBe(5);
      } finally {
        await again.stop();
      }
    } finally {
      home.cleanup();
    }
  });

  it('a truncated state file is moved aside and the last-good copy restored; the status says so', async () => {
    const home = tempDir();
    try {
      let s = await Services.open({ home: home.path, ledger: { mode: 'embedded' } });
      const url = s.embeddedNode!.rpcUrl;
      for (let i = 0; i < 3; i++) await jsonRpc(url, 'eth_sendRawTransaction', [(await signTransfer(i)).raw]);
      await s.close();
      const state = join(s.home.chain, STATE_FILE);
      truncateSync(state, Math.floor(statSync(state).size / 2));
      s = await Services.open({ home: home.path, ledger: { mode: 'embedded' } });
      try {
        const r = s.embeddedNode!.recovery;
        expect(r.action).toBe('restored-last-good');
        expect(r.startBlock).toBe(3);
        expect(r.reason).toMatch(/truncated/);
        expect(r.corruptCopy && existsSync(r.corruptCopy)).toBe(true);
        expect(await head(s.embeddedNode!.rpcUrl)).toBe(3);
        const st = s.ledger.current();
        expect(st.state).toBe('connected');
        expect(st.message).toMatch(/restored from the last good copy \(block 3\)/);
        const log = readFileSync(join(s.home.logs, 'main.log'), 'utf8');
        expect(log).toMatch(/embedded ledger recovery: .*restored from the last good copy/);
      } finally {
        await s.close();
      }
    } finally {
      home.cleanup();
    }
  });

  it('with no good copy at all, it starts a fresh chain and says so', async () => {
    const home = tempDir();
    try {
      writeFileSync(join(home.path, STATE_FILE), '{"block":{"number":"0x5"},"accou');
      const node = await EmbeddedNode.start({ chainDir: home.path });
      try {
        expect(node.recovery.action).toBe('started-fresh');
        expect(node.recovery.message).toMatch(/started empty/);
        expect(await head(node.rpcUrl)).toBe(0);
      } finally {
        await node.stop();
      }
    } finally {
      home.cleanup();
    }
  });

  it('a state file that parses but anvil rejects falls back to the last-good copy', async () => {
    const home = tempDir();
    try {
      const node = await EmbeddedNode.start({ chainDir: home.path });
      await jsonRpc(node.rpcUrl, 'eth_sendRawTransaction', [(await signTransfer(0)).raw]);
      await node.stop();
      writeFileSync(join(home.path, STATE_FILE), JSON.stringify({ block: {}, accounts: { nope: 1 }, best_block_number: 9 }));
      const again = await EmbeddedNode.start({ chainDir: home.path });
      try {
        // Either our validation or anvil's refusal routes it to the last-good copy.
        expect(again.recovery.action).toBe('restored-last-good');
        expect(await head(again.rpcUrl)).toBe(1);
      } finally {
        await again.stop();
      }
    } finally {
      home.cleanup();
    }
  });

  it('a start failure that is not about the state file leaves the chain data alone', async () => {
    const home = tempDir();
    try {
      const node = await EmbeddedNode.start({ chainDir: home.path });
      await jsonRpc(node.rpcUrl, 'eth_sendRawTransaction', [(await signTransfer(0)).raw]);
      await node.stop();
      const before = readFileSync(join(home.path, STATE_FILE), 'utf8');
      await expect(EmbeddedNode.start({ chainDir: home.path, binary: '/bin/false' })).rejects.toThrow(/anvil exited/);
      expect(readFileSync(join(home.path, STATE_FILE), 'utf8')).toBe(before);
      const again = await EmbeddedNode.start({ chainDir: home.path });
      try {
        expect(again.recovery.action).toBe('none');
        expect(await head(again.rpcUrl)).toBe(1);
      } finally {
        await again.stop();
      }
    } finally {
      home.cleanup();
    }
  });

  it('stops an anvil orphaned by a crashed app (gracefully, keeping its blocks) and starts its own', async () => {
    const home = tempDir();
    try {
      const orphan = await startAnvil({ statePath: join(home.path, STATE_FILE), stateInterval: 1 });
      children.push(orphan);
      for (let i = 0; i < 2; i++) await jsonRpc(orphan.rpcUrl, 'eth_sendRawTransaction', [(await signTransfer(i)).raw]);
      const dead = spawn('true');
      await new Promise((r) => dead.once('exit', r));
      writeFileSync(join(home.path, NODE_FILE), JSON.stringify({ anvilPid: orphan.process.pid, ownerPid: dead.pid, rpcUrl: orphan.rpcUrl, startedAt: '' }));
      const node = await EmbeddedNode.start({ chainDir: home.path });
      try {
        expect(orphan.process.exitCode !== null || orphan.process.signalCode !== null).toBe(true);
        expect(node.recovery.orphanStopped).toBe(true);
        expect(node.rpcUrl).not.toBe(orphan.rpcUrl);
        expect(await head(node.rpcUrl)).toBe(2); // SIGTERM made the orphan save its state
      } finally {
        await node.stop();
      }
    } finally {
      home.cleanup();
    }
  });

  it('attaches to the node of another live MedImgShr process instead of starting a second anvil', async () => {
    const home = tempDir();
    try {
      const other = await startAnvil({ statePath: join(home.path, STATE_FILE), stateInterval: 1 });
      children.push(other);
      const owner = spawn('sleep', ['60']);
      children.push({ kill: () => owner.kill() });
      writeFileSync(join(home.path, NODE_FILE), JSON.stringify({ anvilPid: other.process.pid, ownerPid: owner.pid, rpcUrl: other.rpcUrl, startedAt: '' }));
      const node = await EmbeddedNode.start({ chainDir: home.path });
      expect(node.attached).toBe(true);
      expect(node.rpcUrl).toBe(other.rpcUrl);
      expect(node.recovery.message).toMatch(/another MedImgShr process/);
      await node.stop();
      expect(other.process.exitCode).toBeNull(); // not ours to stop
      await expect(EmbeddedNode.start({ chainDir: home.path, attach: false })).rejects.toThrow(/already run by process/);
      await other.stop();
      owner.kill();
    } finally {
      home.cleanup();
    }
  });
});

describe.skipIf(!anvilBin)('embedded node: kill -9 at random moments (real anvil)', () => {
  it('always starts again and the chain is always a prefix of what was sent', async () => {
    const TRIALS = 24;
    const home = tempDir();
    const chainDir = home.path;
    const sent: Sent[] = [];
    const stats = {
      trials: 0, confirmedSent: 0, recoveries: { none: 0, 'restored-last-good': 0, 'started-fresh': 0, 'new-chain': 0 } as Record<string, number>,
      truncatedOnPurpose: 0, trialsWithLoss: 0, blocksLost: 0, maxLostPerTrial: 0,
      maxLostAgeMsPlain: 0, maxLostAgeMsTruncated: 0, startMs: [] as number[],
    };
    let killAt = 0;
    let truncated = false;
    let truncatePending = false;
    try {
      for (let trial = 0; trial <= TRIALS; trial++) {
        const t0 = Date.now();
        const node = await EmbeddedNode.start({ chainDir });
        stats.startMs.push(Date.now() - t0);
        try {
          if (trial > 0) {
            stats.recoveries[node.recovery.action] = (stats.recoveries[node.recovery.action] ?? 0) + 1;
            if (truncated) expect(['restored-last-good', 'started-fresh']).toContain(node.recovery.action);
          }
          const h = await checkPrefix(node.rpcUrl, sent);
          // What did the client see confirmed that the chain no longer has?
          const lost = sent.slice(h).filter((x) => x.confirmedAt !== null);
          if (lost.length) {
            stats.trialsWithLoss++;
            stats.blocksLost += lost.length;
            stats.maxLostPerTrial = Math.max(stats.maxLostPerTrial, lost.length);
            const age = Math.max(...lost.map((x) => killAt - x.confirmedAt!));
            if (truncated) stats.maxLostAgeMsTruncated = Math.max(stats.maxLostAgeMsTruncated, age);
            else stats.maxLostAgeMsPlain = Math.max(stats.maxLostAgeMsPlain, age);
          }
          sent.length = h; // the next nonce is the chain's
          if (trial === TRIALS) break;

          // Send transfers until a random moment, then kill -9.
          const firstOfTrial = sent.length;
          // A trial that still owes a damaged file runs past anvil's first state dump (1 s), so there is a file to damage.
          const runFor = truncatePending ? 1500 + Math.floor(Math.random() * 950) : 150 + Math.floor(Math.random() * 2300);
          const deadline = Date.now() + runFor;
          let stop = false;
          const sender = (async () => {
            while (!stop) {
              const nonce = sent.length;
              const t = await signTransfer(nonce);
              const entry: Sent = { nonce, hash: t.hash, confirmedAt: null };
              sent.push(entry);
              try {
                await jsonRpc(node.rpcUrl, 'eth_sendRawTransaction', [t.raw], 1000);
                const rc = await jsonRpc<{ blockNumber: string } | null>(node.rpcUrl, 'eth_getTransactionReceipt', [t.hash], 1000);
                if (rc) entry.confirmedAt = Date.now();
              } catch {
                return; // node killed mid-call
              }
              await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
            }
          })();
          while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          killAt = Date.now();
          node.kill();
          await node.exited();
          stop = true;
          await sender;
          stats.confirmedSent += sent.slice(firstOfTrial).filter((x) => x.confirmedAt !== null && x.confirmedAt <= killAt).length;
          stats.trials++;
          // Every third trial also damages the state file on purpose (as a kill mid-write would). A kill
          // before anvil's first dump leaves no file to damage: the damage then waits for the next trial.
          const state = join(chainDir, STATE_FILE);
          if (trial % 3 === 1) truncatePending = true;
          truncated = truncatePending && existsSync(state);
          if (truncated) {
            truncatePending = false;
            truncateSync(state, Math.floor(Math.random() * statSync(state).size));
            stats.truncatedOnPurpose++;
          }
        } catch (err) {
          node.kill();
          throw err;
        }
      }
      const { startMs, ...rest } = stats;
      const summary = { ...rest, startMsMax: Math.max(...startMs), startMsMedian: startMs.sort((a, b) => a - b)[startMs.length >> 1] };
      mkdirSync('test-results', { recursive: true });
      writeFileSync('test-results/embedded-node-crash-trials.json', JSON.stringify(summary, null, 2));
      console.log('crash trials', JSON.stringify(summary));
      expect(stats.trials).toBe(TRIALS);
      // 8 trials ask for a damaged file; one asked for late in the run may find no file before the runs end (a loaded
      // machine can be slow to make anvil's first dump): the property is checked on every one that was damaged.
      expect(stats.truncatedOnPurpose).toBeGreaterThanOrEqual(7);
      // Truncated files never start fresh here: the last-good copy is always there.
      expect(stats.recoveries['started-fresh']).toBe(0);
      expect(stats.recoveries['restored-last-good']).toBeGreaterThanOrEqual(stats.truncatedOnPurpose);
      // Loss is bounded by the state interval (1 s) plus scheduling slack; with a damaged file by
      // the interval plus the last-good copy's lag (0.5 s).
      expect(stats.maxLostAgeMsPlain).toBeLessThanOrEqual(2500);
      expect(stats.maxLostAgeMsTruncated).toBeLessThanOrEqual(4000);
    } finally {
      home.cleanup();
    }
  });
});
