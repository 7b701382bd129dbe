import { JsonRpcProvider } from 'ethers';
import { test, expect } from './rig';
import { startAnvil, type AnvilNode } from '../../src/node/ledger/anvil';
import { deployMedImgShr } from '../../src/node/ledger/contracts';
import { jsonRpc } from '../../src/node/net';

// Connect the workstation to a "regional" ledger (a second real anvil with the contract deployed),
// from the status bar, with the checks a clinic administrator relies on.
test.describe('ledger settings', () => {
  test.use({ servicesOptions: { ledger: { mode: 'embedded' }, ledgerPollMs: 300 } });
  let region: AnvilNode;
  let contract: string;
  test.beforeAll(async () => {
    region = await startAnvil({ chainId: 4242 });
    const provider = new JsonRpcProvider(region.rpcUrl);
    contract = await (await deployMedImgShr(await provider.getSigner(0))).getAddress();
    provider.destroy();
  });
  test.afterAll(async () => region?.stop());

  test('switch from the local ledger to a regional one: a wrong chain id is refused, the right one connects', async ({ app }) => {
    const { page } = app;
    const status = page.getByTestId('ledger-status');
    await expect(status).toHaveAttribute('data-state', 'connected');
    await status.click();
    const dialog = page.getByTestId('ledger-settings');
    await expect(dialog).toBeVisible();
    await dialog.getByText('Regional / consortium ledger').click();
    await dialog.getByLabel('JSON-RPC URL').fill(region.rpcUrl);
    await dialog.getByLabel('Chain id').fill('1');
    await dialog.getByLabel('Contract address').fill(contract);
    // New blocks re-render the status bar; what the administrator typed must survive that.
    const local = app.services.ledger.current().rpcUrl!;
    for (let i = 0; i < 3; i++) await jsonRpc(local, 'evm_mine');
    await expect(page.getByRole('status').first()).toContainText(/block [3-9]/);
    await expect(dialog.getByLabel('JSON-RPC URL')).toHaveValue(region.rpcUrl);
    await expect(dialog.getByLabel('Chain id')).toHaveValue('1');
    await dialog.getByRole('button', { name: 'Check and connect' }).click();
    await expect(dialog.getByRole('alert')).toContainText(`is chain 4242, not chain 1`);
    await expect(dialog.getByRole('alert')).toContainText('nothing was changed');
    await app.screenshot('ledger-settings-refused');
    expect(app.services.ledgerMode.mode).toBe('embedded');

    await dialog.getByLabel('Chain id').fill('4242');
    await dialog.getByRole('button', { name: 'Check and connect' }).click();
    await expect(dialog.getByRole('status')).toContainText('Now using chain 4242');
    await expect(status).toHaveAttribute('data-state', 'connected');
    await expect(page.getByRole('status').first()).toContainText('network · chain 4242');
    await app.screenshot('ledger-settings-regional');
    expect(app.services.ledger.current()).toMatchObject({ mode: 'remote', chainId: 4242, rpcUrl: region.rpcUrl });
  });
});
