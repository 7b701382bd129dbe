import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JsonRpcProvider } from 'ethers';
import { startAnvil, type AnvilNode } from '../../src/node/ledger/anvil';
import { deployMedImgShr } from '../../src/node/ledger/contracts';
import { createHandlerTable, dispatch } from '../../src/node/handlers';
import { Services } from '../../src/node/services';
import { component } from '../support/components';
import { tempDir } from '../support/tmp';

const bin = fileURLToPath(new URL('../../bin/medimgshr.cjs', import.meta.url));
const trusted = { url: 'app://medimgshr/index.html', trusted: true };

describe.skipIf(!component('anvil'))('ledger settings: connect to a consortium chain (real anvil as the region\'s node)', () => {
  let region: AnvilNode;
  let contract: string;
  beforeAll(async () => {
    region = await startAnvil({ chainId: 4242 });
    const provider = new JsonRpcProvider(region.rpcUrl);
    const c = await deployMedImgShr(await provider.getSigner(0));
    contract = await c.getAddress();
    provider.destroy();
  });
  afterAll(async () => region?.stop());

  it('checks, saves and switches; a wrong chain id or address changes nothing; the choice survives a restart', async () => {
    const home = tempDir();
    let s = await Services.open({ home: home.path, ledger: { mode: 'saved' } });
    try {
      const table = createHandlerTable(s);
      const get = async () => dispatch(table, 'settings.ledger.get', {}, trusted);
      expect(await get()).toMatchObject({ ok: true, value: { mode: 'embedded', source: 'default' } });
      expect(s.ledger.current().state).toBe('connected');

      const wrongChain = await dispatch(table, 'settings.ledger.set', { mode: 'remote', rpcUrl: region.rpcUrl, chainId: 1, contractAddress: contract }, trusted);
      expect(wrongChain).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: `${region.rpcUrl} is chain 4242, not chain 1.` } });
      const noContract = await dispatch(table, 'settings.ledger.set', { mode: 'remote', rpcUrl: region.rpcUrl, chainId: 4242, contractAddress: '0x000000000000000000000000000000000000dEaD' }, trusted);
      expect(noContract).toMatchObject({ ok: false, error: { message: expect.stringContaining('There is no contract at') } });
      expect(s.ledgerMode.mode).toBe('embedded');

      const ok = await dispatch(table, 'settings.ledger.set', { mode: 'remote', rpcUrl: region.rpcUrl, chainId: 4242, contractAddress: contract }, trusted);
      expect(ok).toMatchObject({ ok: true, value: { settings: { mode: 'remote', chainId: 4242, contractAddress: contract, source: 'saved' }, status: { state: 'connected', chainId: 4242, mode: 'remote' } } });
      expect(s.embeddedNode).toBeNull();
    } finally {
      await s.close();
    }
    s = await Services.open({ home: home.path, ledger: { mode: 'saved' } });
    try {
      await s.ledger.check();
      expect(s.ledger.current()).toMatchObject({ state: 'connected', chainId: 4242, rpcUrl: region.rpcUrl });
      // The CLI reads the same choice, and can go back to the embedded chain.
      const out = JSON.parse(execFileSync(process.execPath, [bin, 'connect', '--embedded', '--json'], { encoding: 'utf8', env: { ...process.env, MEDIMG_HOME: home.path } })) as { settings: { mode: string } };
      expect(out.settings.mode).toBe('embedded');
    } finally {
      await s.close();
      home.cleanup();
    }
  });
});
