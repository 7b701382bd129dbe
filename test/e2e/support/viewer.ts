/** Helpers for the viewer specs: real imports through the bridge, opening series through the UI. */
import { expect, type Locator, type Page } from '@playwright/test';
import type { ImportReport, InstanceSummary, Measurement } from '../../../src/shared/api';
import { writeSampleSeries, type SampleResult } from '../../../src/node/dicom/sample';
import { tempDir } from '../../support/tmp';

export const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

/** Calls a channel through the page's real bridge (the same path the UI uses). */
export async function invoke<T = unknown>(page: Page, channel: string, request: unknown): Promise<T> {
  const r = (await page.evaluate(
    ([c, q]) => (window as unknown as { medimg: { invoke(c: string, r: unknown): Promise<unknown> } }).medimg.invoke(c as string, q),
    [channel, request] as const,
  )) as { ok: boolean; value?: T; error?: { message: string } };
  if (!r.ok) throw new Error(`${channel} failed: ${r.error?.message}`);
  return r.value as T;
}

/** Writes a synthetic series to a temp folder (removed by `cleanup`). */
export async function sampleSeries(slices: number, kind: 'ct' | 'mr' = 'ct', seed = 1): Promise<SampleResult & { dir: string; cleanup(): void }> {
  const dir = tempDir('medimg-sample-');
  const r = await writeSampleSeries({ outDir: dir.path, slices, kind, seed });
  return { ...r, dir: dir.path, cleanup: dir.cleanup };
}

export async function importPaths(page: Page, paths: string[]): Promise<ImportReport> {
  return invoke<ImportReport>(page, 'library.import', { paths });
}

/** Expands every study in the browser and returns the series rows. */
export async function expandAll(page: Page): Promise<Locator> {
  const toggles = page.locator('[data-testid=study-row] .tree__toggle[aria-expanded=false]');
  await expect(page.getByTestId('study-row').first()).toBeVisible();
  for (let n = await toggles.count(); n > 0; n = await toggles.count()) await toggles.first().click();
  return page.getByTestId('series-row');
}

export function viewport(page: Page, index = 0): Locator {
  return page.locator(`[data-testid=viewport][data-index="${index}"]`);
}

/**
 * Imports a series, opens it and the measurements panel: what every measurement spec starts from. `list` reads the
 * shown instance's saved measurements through the bridge (what was stored, not what is drawn).
 */
export async function openForMeasuring(page: Page, dir: string) {
  await importPaths(page, [dir]);
  const vp = await openSeries(page);
  await expect(vp).toHaveAttribute('data-state', 'ready');
  const instanceId = Number(await vp.getAttribute('data-instance-id'));
  const list = async () => (await invoke<{ measurements: Measurement[] }>(page, 'measurements.list', { instanceId })).measurements;
  await page.keyboard.press('m');
  const panel = page.getByTestId('measurement-panel');
  await expect(panel).toBeVisible();
  return { vp, instanceId, list, panel };
}

/** Opens the n-th series row into the active viewport and waits for the first image. */
export async function openSeries(page: Page, n = 0, index = 0): Promise<Locator> {
  const rows = await expandAll(page);
  await rows.nth(n).click();
  const vp = viewport(page, index);
  await expect(vp).toHaveAttribute('data-state', /ready|error/, { timeout: 30_000 });
  return vp;
}

export async function num(l: Locator, attr: string): Promise<number> {
  return Number(await l.getAttribute(attr));
}

/** Mouse drag inside a locator, from/to fractions of its box. */
export async function drag(page: Page, l: Locator, from: [number, number], to: [number, number], button: 'left' | 'right' | 'middle' = 'left'): Promise<void> {
  const b = (await l.boundingBox())!;
  await page.mouse.move(b.x + b.width * from[0], b.y + b.height * from[1]);
  await page.mouse.down({ button });
  const steps = 8;
  for (let i = 1; i <= steps; i++) {
    await page.mouse.move(b.x + b.width * (from[0] + ((to[0] - from[0]) * i) / steps), b.y + b.height * (from[1] + ((to[1] - from[1]) * i) / steps));
  }
  await page.mouse.up({ button });
  // cornerstone draws (and reports the new viewport) on the next animation frames
  await animationFrames(page);
}

/** Waits until the page has drawn `n` more animation frames (cornerstone renders on requestAnimationFrame). */
export async function animationFrames(page: Page, n = 3): Promise<void> {
  await page.evaluate(
    (count) => new Promise<void>((resolve) => {
      let left = count;
      const tick = () => (--left <= 0 ? resolve() : requestAnimationFrame(tick));
      requestAnimationFrame(tick);
    }),
    n,
  );
}

/**
 * Counts changes of an attribute of the element matched by `selector`, in the page (a MutationObserver), so a spec can
 * wait for "N changes" without sampling on a wall-clock schedule. Returns a reader of the values seen so far.
 */
export async function watchAttribute(page: Page, selector: string, attr: string): Promise<() => Promise<string[]>> {
  const key = `__watch_${Math.random().toString(36).slice(2)}`;
  await page.evaluate(
    ([sel, a, k]) => {
      const el = document.querySelector(sel!)!;
      const seen: string[] = [el.getAttribute(a!) ?? ''];
      (window as unknown as Record<string, string[]>)[k!] = seen;
      new MutationObserver(() => {
        const v = el.getAttribute(a!) ?? '';
        if (v !== seen[seen.length - 1]) seen.push(v);
      }).observe(el, { attributes: true, attributeFilter: [a!] });
    },
    [selector, attr, key] as const,
  );
  return () => page.evaluate((k) => [...(window as unknown as Record<string, string[]>)[k]!], key);
}

/** Drops a series on viewport `index`, as a drag from the study browser does. */
export async function dropSeries(page: Page, seriesId: number, index = 0): Promise<void> {
  await page.evaluate(
    ([id, i]) => {
      const vp = document.querySelector(`[data-testid=viewport][data-index="${i}"]`)!;
      const dt = new DataTransfer();
      dt.setData('application/x-medimg-series', String(id));
      vp.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    [seriesId, index] as const,
  );
}

/**
 * Opens the series of `inst` in viewport `index` (as a drop from the browser does), scrolls to the instance and waits
 * until the image on screen is that instance's, or the viewport says it cannot show it. Returns which.
 */
export async function showInstance(page: Page, inst: InstanceSummary, index = 0, timeout = 30_000): Promise<'shown' | 'error'> {
  await dropSeries(page, inst.seriesId, index);
  const vp = viewport(page, index);
  await expect(vp).toHaveAttribute('data-state', /ready|error/, { timeout });
  const { instances: order } = await invoke<{ instances: InstanceSummary[] }>(page, 'library.instances', { seriesId: inst.seriesId });
  let pos = 0;
  for (const o of order) {
    if (o.id === inst.id) break;
    pos += Math.max(1, o.frames);
  }
  if (pos > 0) await vp.getByTestId('stack-scrollbar').fill(String(pos));
  await expect(vp).toHaveAttribute('data-instance-id', String(inst.id));
  // The attribute moves with the scrollbar at once; the pixels follow when the image has loaded.
  const want = await vp.getAttribute('data-image-id');
  let seen: 'shown' | 'error' | 'waiting' = 'waiting';
  await expect
    .poll(async () => (seen = (await vp.getAttribute('data-state')) === 'error' ? 'error' : (await pixelStats(page, index))?.imageId === want ? 'shown' : 'waiting'), { timeout })
    .not.toBe('waiting');
  return seen as 'shown' | 'error';
}

/** Every instance of the library (study → series → instances through the bridge). */
export async function libraryInstances(page: Page): Promise<InstanceSummary[]> {
  const { studies } = await invoke<{ studies: { id: number }[] }>(page, 'library.studies', { limit: 5000 });
  const out: InstanceSummary[] = [];
  for (const s of studies) {
    const { series } = await invoke<{ series: { id: number }[] }>(page, 'library.series', { studyId: s.id });
    for (const se of series) out.push(...(await invoke<{ instances: InstanceSummary[] }>(page, 'library.instances', { seriesId: se.id })).instances);
  }
  return out;
}

/** Reads the pixel statistics of what viewport `index` shows (cornerstone's image.getPixelData()). */
export async function pixelStats(page: Page, index = 0) {
  return page.evaluate((i) => window.medimgDiagnostics?.pixelStats(i) ?? null, index);
}

/**
 * The grey levels drawn for viewport `index`, as a reader sees them: on the CPU renderer the image
 * is its own canvas over the viewport's black one (src/renderer/viewer/cpuImageLayer.ts; the renderer
 * writes the grey into the alpha of a white canvas), so it is composited onto black first; without
 * that layer, the viewport's canvas itself. Returns the red channel's distinct levels, the fraction
 * of pixels brighter than 20 and the mean.
 */
export async function drawnGreys(page: Page, index = 0): Promise<{ levels: number; litFraction: number; mean: number; layer: boolean }> {
  return page.evaluate((i) => {
    const layer = document.querySelector(`[data-testid=viewport][data-index="${i}"] canvas.viewport__image`) as HTMLCanvasElement | null;
    const src = layer ?? (document.querySelector(`[data-testid=viewport][data-index="${i}"] canvas`) as HTMLCanvasElement);
    const c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = 'black';
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.drawImage(src, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const levels = new Set<number>();
    let lit = 0;
    let sum = 0;
    for (let k = 0; k < d.length; k += 4) {
      levels.add(d[k]!);
      if (d[k]! > 20) lit++;
      sum += d[k]!;
    }
    const n = d.length / 4;
    return { levels: levels.size, litFraction: lit / n, mean: sum / n, layer: !!layer };
  }, index);
}
