import { test, expect } from './rig';
import { importPaths, num, openSeries, sampleSeries } from './support/viewer';

test('stack scroll by wheel, keys and the scrollbar, with slice n/N and position in the overlay', async ({ app }) => {
  const { page } = app;
  const ct = await sampleSeries(30, 'ct', 51);
  try {
    await importPaths(page, [ct.dir]);
    const vp = await openSeries(page);
    await expect(vp).toHaveAttribute('data-count', '30');
    await expect(vp.getByTestId('overlay-slice')).toContainText('Im 1/30');
    const loc0 = await vp.getByTestId('overlay-slice').textContent();

    // Wheel: one image per notch.
    const b = (await vp.boundingBox())!;
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
    for (let i = 0; i < 3; i++) await page.mouse.wheel(0, 100);
    await expect(vp).toHaveAttribute('data-position', '6');
    await page.mouse.wheel(0, -100);
    await expect(vp).toHaveAttribute('data-position', '4');
    await expect(vp.getByTestId('overlay-slice')).toContainText('Im 5/30');
    // The slice position changes with the image.
    expect(await vp.getByTestId('overlay-slice').textContent()).not.toBe(loc0);

    // Keys.
    await page.keyboard.press('ArrowDown');
    await expect(vp).toHaveAttribute('data-position', '5');
    await page.keyboard.press('ArrowUp');
    await expect(vp).toHaveAttribute('data-position', '4');
    await page.keyboard.press('PageDown');
    await expect(vp).toHaveAttribute('data-position', '14');
    await page.keyboard.press('PageUp');
    await expect(vp).toHaveAttribute('data-position', '4');
    await page.keyboard.press('End');
    await expect(vp).toHaveAttribute('data-position', '29');
    await page.keyboard.press('ArrowDown'); // clamps at the end
    await expect(vp).toHaveAttribute('data-position', '29');
    await page.keyboard.press('Home');
    await expect(vp).toHaveAttribute('data-position', '0');

    // Scrollbar.
    await vp.getByTestId('stack-scrollbar').fill('17');
    await expect(vp).toHaveAttribute('data-position', '17');
    await expect(vp).toHaveAttribute('data-state', 'ready');
    await expect(vp.getByTestId('overlay-slice')).toContainText('Im 18/30');
    await app.screenshot('scroll-slice-18');

    // Every image of the stack displays (no frozen or blank viewport along the way).
    for (let i = 0; i < 30; i++) {
      await vp.getByTestId('stack-scrollbar').fill(String(i));
      await expect(vp).toHaveAttribute('data-position', String(i));
      await expect(vp).toHaveAttribute('data-state', 'ready');
    }

    // After the scrollbar was used with the mouse it has the focus; the shortcuts still work and
    // its own key handling does not run besides them (it once swallowed L and 4, and PageDown
    // moved 4 images back).
    const bar = vp.getByTestId('stack-scrollbar');
    const bb = (await bar.boundingBox())!;
    await page.mouse.click(bb.x + bb.width * 0.3, bb.y + bb.height / 2);
    await expect(bar).toBeFocused();
    // the click's image shown first (the bar asks for it in the next frame): else `at` is the image before
    await expect.poll(async () => String(await num(vp, 'data-position')) === (await bar.inputValue())).toBe(true);
    const at = await num(vp, 'data-position');
    await page.keyboard.press('l');
    await expect(page.getByRole('button', { name: 'Length', exact: true })).toHaveAttribute('aria-pressed', 'true');
    await page.keyboard.press('4');
    await expect(vp).toHaveAttribute('data-wc', '-600');
    await expect(vp).toHaveAttribute('data-ww', '1500');
    await page.keyboard.press('PageDown');
    await expect(vp).toHaveAttribute('data-position', String(Math.min(29, at + 10)));
    await page.keyboard.press('ArrowUp');
    await expect(vp).toHaveAttribute('data-position', String(Math.min(29, at + 10) - 1));
    await page.keyboard.press('Home');
    await expect(vp).toHaveAttribute('data-position', '0');
    await page.keyboard.press('w');
    await expect(page.getByRole('button', { name: 'Window/level', exact: true })).toHaveAttribute('aria-pressed', 'true');
    await expect(bar).toHaveValue('0');

    // Fast input on the scrollbar (a quick drag on a busy machine: many input events before the
    // page draws) lands on the last image asked for, with no React error #185 ("Maximum update
    // depth exceeded": it once aborted the scroll after ≈ 50 such events).
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const asked = await page.evaluate(() => {
      const input = document.querySelector('[data-testid=viewport][data-index="0"] [data-testid=stack-scrollbar]') as HTMLInputElement;
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      const seq: number[] = [];
      for (let k = 0; k < 150; k++) {
        const v = (k * 7) % 30;
        seq.push(v);
        set.call(input, String(v));
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }
      return seq;
    });
    const last = asked[asked.length - 1]!;
    await expect(vp).toHaveAttribute('data-position', String(last));
    await expect(vp).toHaveAttribute('data-state', 'ready');
    await expect(vp.getByTestId('overlay-slice')).toContainText(`Im ${last + 1}/30`);
    await expect(bar).toHaveValue(String(last));
    expect(errors.filter((m) => /Maximum update depth|#185/.test(m))).toEqual([]);
    expect(errors).toEqual([]);
  } finally {
    ct.cleanup();
  }
});
