/**
 * An injected EIP-1193 provider (a browser wallet) found with @metamask/detect-provider: the login
 * screen offers it, shows its account, and a transaction signed in the "wallet" reaches the app's
 * real anvil (eth_sendTransaction). The wallet is a page-side window.ethereum whose requests go to
 * the test, which signs with its own key and forwards to anvil's loopback JSON-RPC — no mock chain.
 */
import { JsonRpcProvider, Wallet, parseEther } from 'ethers';
import { component } from '../support/components';
import { test, expect } from './rig';
import { setupDemo } from './support/ledger';

test.use({ servicesOptions: { ledger: { mode: 'embedded' } } });

test('browser wallet: detected, account shown, a wallet-signed transaction mined on the app chain', async ({ app }) => {
  test.skip(!component('anvil'), 'anvil not installed');
  test.setTimeout(150_000);
  const { page } = app;
  const rpcUrl = app.services.embeddedNode!.rpcUrl;
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
  const wallet = Wallet.createRandom().connect(provider);
  await provider.send('anvil_setBalance', [wallet.address, '0x' + parseEther('10').toString(16)]);
  const calls: string[] = [];

  // The wallet's side: holds the key, signs, forwards everything else to anvil.
  await page.exposeFunction('__walletRpc', async (method: string, params: unknown[]) => {
    calls.push(method);
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return [wallet.address];
      case 'eth_sendTransaction': {
        const tx = params[0] as { from: string; to: string; data: string };
        if (tx.from.toLowerCase() !== wallet.address.toLowerCase()) throw new Error('unknown account');
        return (await wallet.sendTransaction({ to: tx.to, data: tx.data })).hash;
      }
      default:
        return provider.send(method, params ?? []);
    }
  });
  await page.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    const rpc = w.__walletRpc as (m: string, p: unknown[]) => Promise<unknown>;
    w.ethereum = {
      isMetaMask: false,
      request: ({ method, params }: { method: string; params?: unknown[] }) => rpc(method, params ?? []),
      on: () => undefined,
      removeListener: () => undefined,
    };
  });
  await setupDemo(app); // reloads the page with the provider injected

  const screen = page.getByTestId('login');
  await expect(screen).toBeVisible();
  const panel = screen.getByTestId('wallet');
  await panel.getByRole('button', { name: 'Use browser wallet' }).click();
  await expect(panel.getByTestId('wallet-account')).toHaveAttribute('title', wallet.address);
  await expect(panel).toContainText(`chain ${(await provider.getNetwork()).chainId}`);
  await expect(panel.getByTestId('wallet-roles')).toHaveAttribute('data-roles', '');
  await app.screenshot('wallet-connected');

  await panel.getByRole('button', { name: /Register this account as patient/ }).click();
  await expect(panel.getByTestId('wallet-result')).toContainText('Signed in the wallet and mined', { timeout: 30_000 });
  await expect(panel.getByTestId('wallet-roles')).toHaveAttribute('data-roles', 'patient');
  expect(calls).toContain('eth_sendTransaction');
  // The chain itself: the wallet's account is a patient now, and the tx came from it.
  expect((await app.services.ledgerService.roles(wallet.address)).patient).toBe(true);
  expect(await provider.getTransactionCount(wallet.address)).toBe(1);
  await app.screenshot('wallet-signed');
  provider.destroy();
});
