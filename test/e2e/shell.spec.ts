import { test, expect } from './rig';
import { findAnvilBinary } from '../../src/node/ledger/anvil';

test.describe('app shell', () => {
  test('dark reading-room shell with study panel, viewport and status bar', async ({ app }) => {
    const { page } = app;
    await expect(page.getByRole('heading', { name: 'Studies' })).toBeVisible();
    await expect(page.getByTestId('studies-empty')).toContainText('No studies yet');
    await expect(page.getByTestId('viewport')).toContainText('No series open');
    // The theme is dark: the page background is near-black.
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
    expect(Math.max(r ?? 255, g ?? 255, b ?? 255)).toBeLessThan(24);
    // No ledger configured in this fixture: the status bar says so (never "connected").
    await expect(page.getByTestId('ledger-status')).toHaveAttribute('data-state', 'not-configured');
    await expect(page.getByRole('status')).toContainText(/schema v\d+/);
    // The app icon (assets/icon.svg) is the page's icon and stands beside the name in the top bar.
    const icon = await page.evaluate(async () => {
      const href = document.querySelector<HTMLLinkElement>('link[rel=icon]')?.href ?? '';
      const svg = href ? await (await fetch(href)).text() : '';
      const mark = document.querySelector<HTMLImageElement>('.topbar .brand img.brand__mark');
      return { svg, mark: mark ? { w: mark.naturalWidth, h: mark.naturalHeight, shown: mark.getBoundingClientRect().width } : null };
    });
    expect(icon.svg).toContain('<title>MedImgShr</title>');
    expect(icon.mark?.w).toBeGreaterThan(0);
    expect(icon.mark?.shown).toBe(18);
    await app.screenshot('shell-no-ledger');
  });

  test('a call from a foreign page is rejected by the main process', async ({ app }) => {
    const { page } = app;
    const r = await page.evaluate(() => (window as unknown as { medimg: { invoke(c: string, r: unknown): Promise<unknown> } }).medimg.invoke('app.info', { unexpected: true }));
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    // Navigate the same page to another origin: the bridge binding is still there, the sender is not trusted.
    await page.goto('about:blank');
    const r2 = await page.evaluate(() => (window as unknown as { medimg: { invoke(c: string, r: unknown): Promise<unknown> } }).medimg.invoke('app.info', {}));
    expect(r2).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
  });
});

test.describe('status bar with the embedded ledger', () => {
  test.skip(!findAnvilBinary() && !process.env.CI, 'anvil not installed');
  test.use({ servicesOptions: { ledger: { mode: 'embedded' }, ledgerPollMs: 300 } });

  test('shows connected, then unreachable when the node stops', async ({ app }) => {
    const { page, services } = app;
    const status = page.getByTestId('ledger-status');
    await expect(status).toHaveAttribute('data-state', 'connected');
    await expect(page.getByRole('status')).toContainText('chain 31337');
    await app.screenshot('shell-ledger-connected');
    await services.stopEmbeddedLedger();
    await expect(status).toHaveAttribute('data-state', 'unreachable');
    await expect(status).toHaveText('Ledger unreachable');
    await app.screenshot('shell-ledger-unreachable');
  });
});
