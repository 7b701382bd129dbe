import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, deployMedImgShr } from '../../src/node/ledger/contracts';
import { CONTRACTS_FILE, EmbeddedNode, LAST_GOOD_FILE, STATE_FILE } from '../../src/node/ledger/embedded-node';
import { JsonRpcProvider } from 'ethers';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';

const deploy = async (signer: Parameters<typeof deployMedImgShr>[0]) => (await deployMedImgShr(signer)).getAddress();

describe.skipIf(!component('anvil'))('embedded node: deployOnFirstStart (real anvil, the real MedImgShr contract)', () => {
  it('deploys once, records the address, reuses it after a restart, and re-deploys at the same address on a fresh chain', async () => {
    const home = tempDir();
    try {
      let node = await EmbeddedNode.start({ chainDir: home.path });
      const first = await node.deployOnFirstStart('MedImgShr', deploy);
      expect(first.deployed).toBe(true);
      const book = JSON.parse(readFileSync(join(home.path, CONTRACTS_FILE), 'utf8'));
      expect(book.MedImgShr).toMatchObject({ address: first.address, chainId: 31337 });
      node.kill(); // a crash right after the deployment must not lose it
      await node.exited();

      node = await EmbeddedNode.start({ chainDir: home.path });
      const again = await node.deployOnFirstStart('MedImgShr', deploy);
      expect(again).toEqual({ address: first.address, deployed: false, block: first.block });
      const p = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true });
      expect(await connect(again.address, p).getAddress()).toBe(first.address);
      expect((await p.getCode(first.address)).length).toBeGreaterThan(100);
      p.destroy();
      await node.stop();

      rmSync(join(home.path, STATE_FILE));
      rmSync(join(home.path, LAST_GOOD_FILE));
      node = await EmbeddedNode.start({ chainDir: home.path });
      try {
        const fresh = await node.deployOnFirstStart('MedImgShr', deploy);
        expect(fresh.deployed).toBe(true);
        expect(fresh.address).toBe(first.address); // deployer nonce 0 on a fresh chain
      } finally {
        await node.stop();
      }
    } finally {
      home.cleanup();
    }
  });
});
