/**
 * Issue 16: anvils started at the same moment never share a port (anvil binds port 0 itself and
 * reports the port; no "free port" is picked first and handed on, which raced). Each node must
 * answer with its own chain id.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startAnvil, type AnvilNode } from '../../src/node/ledger/anvil';
import { jsonRpc } from '../../src/node/net';
import { component } from '../support/components';

const anvil = component('anvil');
const nodes: AnvilNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

describe.skipIf(!anvil)('anvil ports', () => {
  it('six anvils started concurrently get six ports and each answers with its own chain', async () => {
    const started = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => startAnvil({ chainId: 5100 + i, accounts: 1 })));
    nodes.push(...started);
    expect(new Set(started.map((n) => n.port)).size).toBe(6);
    for (const [i, n] of started.entries()) {
      expect(n.port).toBeGreaterThan(0);
      expect(n.rpcUrl).toBe(`http://127.0.0.1:${n.port}`);
      expect(Number.parseInt(await jsonRpc<string>(n.rpcUrl, 'eth_chainId'), 16)).toBe(5100 + i);
    }
  });
});
