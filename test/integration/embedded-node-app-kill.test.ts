import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Transaction, Wallet } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_FILE } from '../../src/node/ledger/embedded-node';
import { jsonRpc } from '../../src/node/net';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';

const bin = fileURLToPath(new URL('../../bin/medimgshr.cjs', import.meta.url));
const wallet = new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const started: ChildProcess[] = [];
let lastAnvilPid: number | null = null;

afterAll(() => {
  for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
  if (lastAnvilPid) {
    try {
      process.kill(lastAnvilPid, 'SIGTERM');
    } catch {
      // gone
    }
  }
});

interface NodeInfo {
  rpcUrl: string;
  attached: boolean;
  pid: number;
  anvilPid: number;
  recovery: { action: string; orphanStopped: boolean; startBlock: number | null };
}

/** The receipt once mined (automine is immediate, but allow the node a moment under load). */
async function receipt(url: string, hash: string): Promise<unknown> {
  for (let i = 0; i < 40; i++) {
    const rc = await jsonRpc<unknown>(url, 'eth_getTransactionReceipt', [hash]);
    if (rc) return rc;
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

/** Starts `medimgshr chain node --json` and resolves with what it prints once the ledger is up. */
function startApp(home: string): Promise<{ child: ChildProcess; info: NodeInfo }> {
  const child = spawn(process.execPath, [bin, '--home', home, 'chain', 'node', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      try {
        resolve({ child, info: JSON.parse(out) as NodeInfo });
      } catch {
        // not complete yet
      }
    });
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => reject(new Error(`chain node exited (${code}): ${out}`)));
  });
}

describe.skipIf(!component('anvil'))('kill -9 of the app process (real CLI process, real anvil)', () => {

  it('the orphaned node is stopped gracefully by the next start: no block is lost, 6 times in a row', async () => {
    const home = tempDir();
    let confirmed = 0;
    const orphansStopped: boolean[] = [];
    try {
      for (let trial = 0; trial < 7; trial++) {
        const { child, info } = await startApp(home.path);
        lastAnvilPid = info.anvilPid;
        expect(info.attached).toBe(false);
        if (trial > 0) orphansStopped.push(info.recovery.orphanStopped);
        // Every block confirmed before the crash is still there.
        expect(Number.parseInt(await jsonRpc<string>(info.rpcUrl, 'eth_blockNumber'), 16)).toBe(confirmed);
        if (trial === 6) {
          // Another process on the same folder attaches instead of starting a second anvil.
          const st = spawnSync(process.execPath, [bin, '--home', home.path, 'chain', 'status', '--json'], { encoding: 'utf8' });
          const o = JSON.parse(st.stdout);
          expect(o.embedded.attached).toBe(true);
          expect(o.status.rpcUrl).toBe(info.rpcUrl);
          child.kill('SIGTERM'); // a normal quit: graceful stop, node.json removed
          await new Promise((r) => child.once('exit', r));
          expect(existsSync(join(home.path, 'chain', NODE_FILE))).toBe(false);
          break;
        }
        const n = 3 + Math.floor(Math.random() * 8);
        for (let i = 0; i < n; i++) {
          const raw = await wallet.signTransaction({
            type: 2, chainId: 31337, nonce: confirmed, to: TO, value: 1n, gasLimit: 21000n, maxFeePerGas: 20_000_000_000n, maxPriorityFeePerGas: 1n,
          });
          await jsonRpc(info.rpcUrl, 'eth_sendRawTransaction', [raw]);
          expect(await receipt(info.rpcUrl, Transaction.from(raw).hash!)).not.toBeNull();
          confirmed++;
        }
        child.kill('SIGKILL'); // the app crashes; its anvil lives on as an orphan
        await new Promise((r) => child.once('exit', r));
        expect(Number.parseInt(await jsonRpc<string>(info.rpcUrl, 'eth_chainId'), 16)).toBe(31337);
      }
      expect(orphansStopped).toEqual([true, true, true, true, true, true]);
      console.log('app kill trials', JSON.stringify({ trials: 6, orphansStopped: orphansStopped.length, blocks: confirmed, lost: 0 }));
    } finally {
      home.cleanup();
    }
  });
});
