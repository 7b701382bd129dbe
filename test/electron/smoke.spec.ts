import { _electron as electron, expect, test } from '@playwright/test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectronBinary } from '../../src/node/components';
import { tempDir } from '../support/tmp';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const binary = findElectronBinary();

test.skip(!binary, 'skipped: no Electron binary (installed with ELECTRON_SKIP_BINARY_DOWNLOAD)');

test('the real app starts, shows the shell from app:// and connects its embedded ledger', async () => {
  const home = tempDir('medimg-electron-');
  const app = await electron.launch({
    executablePath: binary!,
    args: [join(repo, 'dist/electron/main.cjs'), '--no-sandbox'],
    env: { ...process.env, MEDIMG_HOME: home.path },
  });
  try {
    const win = await app.firstWindow();
    expect(win.url()).toMatch(/^app:\/\/medimgshr\//);
    await expect(win.getByRole('heading', { name: 'Studies' })).toBeVisible();
    await expect(win.getByTestId('ledger-status')).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
    // The page has no Node: the sandbox and context isolation hold.
    expect(await win.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    await win.screenshot({ path: join(repo, 'test-results/screens/electron-shell.png') });
  } finally {
    await app.close();
    home.cleanup();
  }
});
