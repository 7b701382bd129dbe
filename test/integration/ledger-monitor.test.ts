import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnvil, type AnvilNode } from '../../src/node/ledger/anvil';
import { LedgerMonitor } from '../../src/node/ledger/monitor';
import { Services } from '../../src/node/services';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';

const anvilBin = component('anvil');

describe.skipIf(!anvilBin)('ledger connection state (real anvil on loopback)', () => {
  let node: AnvilNode;
  beforeAll(async () => {
    node = await startAnvil();
  });
  afterAll(async () => node?.stop());

  it('reports connected with the chain id and block number of the node', async () => {
    const m = new LedgerMonitor('remote', node.rpcUrl);
    const s = await m.check();
    expect(s.state).toBe('connected');
    expect(s.chainId).toBe(31337);
    expect(s.blockNumber).toBe(0);
    expect(s.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('reports unreachable (never connected) once the node is gone', async () => {
    const other = await startAnvil();
    const m = new LedgerMonitor('remote', other.rpcUrl);
    expect((await m.check()).state).toBe('connected');
    const changes: string[] = [];
    m.on('change', (st) => changes.push(st.state));
    other.kill();
    await new Promise((r) => other.process.once('exit', r));
    const s = await m.check();
    expect(s.state).toBe('unreachable');
    expect(s.message).toContain(other.rpcUrl);
    expect(changes).toEqual(['unreachable']);
  });
});

describe.skipIf(!anvilBin)('embedded ledger in Services', () => {
  it('starts anvil with its state in the app-data folder and stops it gracefully', async () => {
    const home = tempDir();
    const s = await Services.open({ home: home.path, ledger: { mode: 'embedded' } });
    try {
      const st = s.ledger.current();
      expect(st.state).toBe('connected');
      expect(st.mode).toBe('embedded');
    } finally {
      await s.close();
      home.cleanup();
    }
  });
});
