import { test, expect } from './rig';
import { importPaths, openSeries, sampleSeries } from './support/viewer';
import { SHORTCUTS } from '../../src/shared/viewer/shortcuts';

test('keyboard shortcuts for every tool, listed in the ? help overlay', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(3, 'ct', 91);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);

    // The help overlay lists every entry of the shortcut table.
    await page.keyboard.press('?');
    const help = page.getByTestId('help-overlay');
    await expect(help).toBeVisible();
    for (const s of SHORTCUTS) await expect(help.getByText(s.label, { exact: true })).toBeVisible();
    await app.screenshot('shortcuts-help');
    await page.keyboard.press('Escape');
    await expect(help).toBeHidden();

    // Every tool has a key and the toolbar shows which is active.
    const tools: [string, string][] = [
      ['l', 'Length'],
      ['a', 'Angle'],
      ['r', 'Rectangle ROI'],
      ['e', 'Ellipse ROI'],
      ['b', 'Probe'],
      ['p', 'Pan'],
      ['z', 'Zoom'],
      ['w', 'Window/level'],
    ];
    for (const [key, name] of tools) {
      await page.keyboard.press(key);
      await expect(page.getByRole('button', { name, exact: true })).toHaveAttribute('aria-pressed', 'true');
    }

    // Panels and overlays.
    await page.keyboard.press('o');
    await expect(vp.getByTestId('overlay')).toHaveCount(0);
    await page.keyboard.press('o');
    await expect(vp.getByTestId('overlay')).toBeVisible();
    await page.keyboard.press('t');
    await expect(page.getByTestId('tag-inspector')).toBeVisible();
    await page.keyboard.press('m');
    await expect(page.getByTestId('measurement-panel')).toBeVisible();
    await expect(page.getByTestId('tag-inspector')).toBeHidden();
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('measurement-panel')).toBeHidden();

    // Layout keys.
    await page.keyboard.press('Alt+2');
    await expect(page.getByTestId('viewport')).toHaveCount(2);
    await page.keyboard.press('Alt+1');
    await expect(page.getByTestId('viewport')).toHaveCount(1);

    // View keys (the values are checked in zoom-pan / presets specs).
    await page.keyboard.press('i');
    await expect(vp).toHaveAttribute('data-invert', 'true');
    await page.keyboard.press('x');
    await expect(vp).toHaveAttribute('data-invert', 'false');

    // Typing in a text field does not trigger shortcuts.
    await page.getByLabel('Search studies').fill('lll');
    await expect(page.getByRole('button', { name: 'Window/level', exact: true })).toHaveAttribute('aria-pressed', 'true');
  } finally {
    ct.cleanup();
  }
});
