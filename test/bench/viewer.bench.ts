/**
 * Viewer benchmarks, measured in Debian's Chromium through playwright-core against the real
 * renderer build and the real services (as the e2e rig does):
 *   - selecting a series → first pixels on screen (512² CT), vs a plain fetch + putImageData of the same file
 *   - stack-scroll frame rate over 200 slices, vs putImageData of 200 pre-windowed frames at the same cadence
 *   - memory after loading 1,000 slices ÷ their pixel bytes: in a Chromium the harness does not
 *     instrument (memory.bench.ts), vs a bare Cornerstone3D page; and as Playwright sees it (with
 *     DevTools' copy of every response), vs the same pixels held in typed arrays
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import type { Bench, BenchRow } from './harness';
import { row, median } from './harness';
import { Services } from '../../src/node/services';
import { findChromium } from '../../src/node/components';
import { writeSampleSeries } from '../../src/node/dicom/sample';
import { tempDir } from '../support/tmp';
import { bindBridge, CHROMIUM_ARGS, serveRenderer } from '../support/renderer-host';
import { stackMemoryRows } from './memory.bench';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const rendererDir = join(repo, 'dist', 'renderer');

async function invoke<T>(page: Page, channel: string, request: unknown): Promise<T> {
  const r = (await page.evaluate(([c, q]) => (window as unknown as { medimg: { invoke(c: string, r: unknown): Promise<unknown> } }).medimg.invoke(c as string, q), [channel, request] as const)) as {
    ok: boolean;
    value: T;
    error?: { message: string };
  };
  if (!r.ok) throw new Error(`${channel}: ${r.error?.message}`);
  return r.value;
}

/** Resident set size (kB) of every process descended from this one (Chromium's browser, renderer, GPU, utility processes). */
function descendantsRssKb(): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = readFileSync(`/proc/${d}/status`, 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      // The tracing service Chromium starts for the memory-infra dumps (bufferPartitionBytes) is the harness's, not the viewer's.
      const tracing = readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('tracing.mojom.TracingService');
      const kb = tracing ? 0 : Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      rss.set(Number(d), kb);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  let total = 0;
  const stack = [...(children.get(process.pid) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

async function openSeriesIn(page: Page, seriesId: number, firstInstanceId: number): Promise<number> {
  // Time from the drop of a series on the viewport to the first rendered frame of its first image, in the page's clock.
  return page.evaluate(
    ([id, first]) =>
      new Promise<number>((resolve, reject) => {
        const vp = document.querySelector('[data-testid=viewport][data-index="0"]') as HTMLElement;
        const el = vp.querySelector('.viewport__canvas') as HTMLElement;
        const t0 = performance.now();
        // Cornerstone3D's event, or the legacy viewer's (the legacy peer: its image on the event).
        const done = (e: Event) => {
          const imageId = window.medimgDiagnostics?.currentImageId?.(0) ?? (e as CustomEvent<{ image?: { imageId?: string } }>).detail?.image?.imageId ?? '';
          if (imageId.endsWith(`/dicom/${first}`)) {
            el.removeEventListener('CORNERSTONE_IMAGE_RENDERED', done);
            el.removeEventListener('cornerstoneimagerendered', done);
            resolve(performance.now() - t0);
          }
        };
        el.addEventListener('CORNERSTONE_IMAGE_RENDERED', done);
        el.addEventListener('cornerstoneimagerendered', done);
        setTimeout(() => reject(new Error('no first image within 30 s')), 30_000);
        const dt = new DataTransfer();
        dt.setData('application/x-medimg-series', String(id));
        vp.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }),
    [seriesId, firstInstanceId] as const,
  );
}

/** Like openSeriesIn, but through the browser: the pointer rests on the series row first (which prefetches its instance list), then a click. */
async function openByClick(page: Page, seriesId: number, firstInstanceId: number): Promise<number> {
  const toggles = page.locator('[data-testid=study-row] .tree__toggle[aria-expanded=false]');
  for (let n = await toggles.count(); n > 0; n = await toggles.count()) await toggles.first().click();
  const rowSel = `[data-testid=series-row][data-series-id="${seriesId}"]`;
  await page.hover(rowSel);
  await new Promise((r) => setTimeout(r, 400));
  return page.evaluate(
    ([sel, first]) =>
      new Promise<number>((resolve, reject) => {
        const el = document.querySelector('[data-testid=viewport][data-index="0"] .viewport__canvas') as HTMLElement;
        // Cornerstone3D's event, or the legacy viewer's (the legacy peer: its image on the event).
        const done = (e: Event) => {
          const imageId = window.medimgDiagnostics?.currentImageId?.(0) ?? (e as CustomEvent<{ image?: { imageId?: string } }>).detail?.image?.imageId ?? '';
          if (imageId.endsWith(`/dicom/${first}`)) {
            el.removeEventListener('CORNERSTONE_IMAGE_RENDERED', done);
            el.removeEventListener('cornerstoneimagerendered', done);
            resolve(performance.now() - t0);
          }
        };
        el.addEventListener('CORNERSTONE_IMAGE_RENDERED', done);
        el.addEventListener('cornerstoneimagerendered', done);
        setTimeout(() => reject(new Error('no first image within 30 s')), 30_000);
        const t0 = performance.now();
        (document.querySelector(sel as string) as HTMLElement).click();
      }),
    [rowSel, firstInstanceId] as const,
  );
}

/** The peer for first pixels: fetch the same file, window its 16-bit pixels to RGBA, putImageData. */
async function peerFirstPixels(page: Page, instanceId: number): Promise<number> {
  return page.evaluate(async (id) => {
    const t0 = performance.now();
    const buf = await (await fetch(`dicom/${id}`)).arrayBuffer();
    const n = 512 * 512;
    const px = new Int16Array(buf.slice(buf.byteLength - n * 2));
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 512;
    document.body.appendChild(canvas);
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(512, 512);
    for (let i = 0; i < n; i++) {
      const g = Math.max(0, Math.min(255, ((px[i]! - 1024 - 40 + 200) / 400) * 255));
      img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = g;
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    await new Promise(requestAnimationFrame);
    const ms = performance.now() - t0;
    canvas.remove();
    return ms;
  }, instanceId);
}

async function scrollFps(page: Page, steps: number): Promise<number> {
  return page.evaluate(
    (n) =>
      new Promise<number>((resolve) => {
        const vp = document.querySelector('[data-testid=viewport][data-index="0"]') as HTMLElement;
        const el = vp.querySelector('.viewport__canvas') as HTMLElement;
        let frames = 0;
        let t0 = 0;
        const onRender = () => {
          frames++;
          if (frames === 1) t0 = performance.now();
          if (frames === n) {
            el.removeEventListener('CORNERSTONE_IMAGE_RENDERED', onRender);
            el.removeEventListener('cornerstoneimagerendered', onRender);
            resolve(((n - 1) * 1000) / (performance.now() - t0));
          }
        };
        el.addEventListener('CORNERSTONE_IMAGE_RENDERED', onRender);
        el.addEventListener('cornerstoneimagerendered', onRender);
        // One key press per animation frame, as a held-down arrow key would at most.
        const tick = () => {
          window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
          if (frames < n) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
    steps,
  );
}

async function peerScrollFps(page: Page, steps: number): Promise<number> {
  return page.evaluate(async (n) => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 512;
    document.body.appendChild(canvas);
    const ctx = canvas.getContext('2d')!;
    const frames: ImageData[] = [];
    for (let k = 0; k < 8; k++) {
      const img = ctx.createImageData(512, 512);
      for (let i = 0; i < img.data.length; i += 4) img.data[i] = img.data[i + 1] = img.data[i + 2] = (i / 4 + k * 31) & 255;
      frames.push(img);
    }
    let t0 = 0;
    for (let f = 0; f < n; f++) {
      await new Promise(requestAnimationFrame);
      if (f === 0) t0 = performance.now();
      ctx.putImageData(frames[f % frames.length]!, 0, 0);
    }
    const fps = ((n - 1) * 1000) / (performance.now() - t0);
    canvas.remove();
    return fps;
  }, steps);
}

/**
 * The floor for any 2D-canvas stack renderer in this browser: per animation frame, what
 * Cornerstone3D's CPU renderer cannot avoid — window 512² stored values through a LUT into RGBA,
 * putImageData into a 512² canvas, clear the on-screen canvas and draw the image scaled (smoothed)
 * into it — on a canvas the size of our viewport's, over our page (so the compositor pays the same).
 * No decode, no React, no overlays: our scroll rate can only approach this.
 */
async function floorScrollFps(page: Page, steps: number): Promise<{ fps: number; size: string }> {
  return page.evaluate(async (n) => {
    const ours = document.querySelector('[data-testid=viewport][data-index="0"] canvas') as HTMLCanvasElement;
    const W = ours.width;
    const H = ours.height;
    const box = ours.getBoundingClientRect();
    const c = document.createElement('canvas');
    c.width = W;
    c.height = H;
    c.style.cssText = `position:fixed;left:${box.left}px;top:${box.top}px;width:${box.width}px;height:${box.height}px;z-index:99999`;
    document.body.appendChild(c);
    const ctx = c.getContext('2d')!;
    const off = document.createElement('canvas');
    off.width = off.height = 512;
    const octx = off.getContext('2d')!;
    const img = octx.createImageData(512, 512);
    const px = new Int16Array(512 * 512);
    for (let i = 0; i < px.length; i++) px[i] = ((i * 7) & 4095) - 1024;
    const lut = new Uint8ClampedArray(4096);
    for (let i = 0; i < 4096; i++) lut[i] = i >> 4;
    for (let i = 3; i < img.data.length; i += 4) img.data[i] = 255;
    const s = Math.min(W, H) / 512;
    let t0 = 0;
    for (let f = 0; f < n; f++) {
      await new Promise(requestAnimationFrame);
      if (f === 0) t0 = performance.now();
      const d = img.data;
      const k = f * 13;
      for (let i = 0, j = 0; i < px.length; i++, j += 4) d[j] = d[j + 1] = d[j + 2] = lut[(px[i]! + 1024 + k) & 4095]!;
      octx.putImageData(img, 0, 0);
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = 'black';
      ctx.fillRect(0, 0, W, H);
      ctx.imageSmoothingEnabled = true;
      ctx.setTransform(s, 0, 0, s, (W - 512 * s) / 2, (H - 512 * s) / 2);
      ctx.drawImage(off, 0, 0);
    }
    const fps = ((n - 1) * 1000) / (performance.now() - t0);
    c.remove();
    return { fps, size: `${W}×${H}` };
  }, steps);
}

/**
 * Bytes allocated in Blink's "buffer" partition of each process (Chromium's memory-infra dump), by pid.
 * Under Playwright, DevTools' network agent (Network.enable, which Playwright always sends, with
 * Chromium's default 200 MB body buffer) keeps the bodies of the page's responses there: every DICOM
 * file the viewer fetches is held a second time, by the harness, not by the app. Measured before and
 * after the 1,000 slices, its growth says how much of the resident memory is that copy.
 */
async function bufferPartitionBytes(browser: Browser): Promise<Map<number, number>> {
  const cdp = await browser.newBrowserCDPSession();
  const events: { ph?: string; pid?: number; args?: { dumps?: { allocators?: Record<string, { attrs?: Record<string, { value?: string }> }> } } }[] = [];
  cdp.on('Tracing.dataCollected', (e: { value: typeof events }) => events.push(...e.value));
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  const send = cdp.send.bind(cdp) as (method: string, params?: object) => Promise<unknown>;
  await send('Tracing.start', { traceConfig: { includedCategories: ['disabled-by-default-memory-infra'], memoryDumpConfig: { triggers: [] } }, transferMode: 'ReportEvents' });
  await send('Tracing.requestMemoryDump', { levelOfDetail: 'detailed' });
  await send('Tracing.end');
  await done;
  await cdp.detach();
  const out = new Map<number, number>();
  for (const e of events) {
    const v = e.ph === 'v' ? e.args?.dumps?.allocators?.['partition_alloc/partitions/buffer']?.attrs?.allocated_objects_size?.value : undefined;
    if (v && e.pid !== undefined) out.set(e.pid, parseInt(v, 16));
  }
  return out;
}

/** Animation frames per second of an idle page (headless Chromium paces rAF at 60 Hz): the display ceiling. */
async function rafFps(page: Page, frames: number): Promise<number> {
  return page.evaluate(async (n) => {
    let t0 = 0;
    for (let f = 0; f < n; f++) {
      await new Promise(requestAnimationFrame);
      if (f === 0) t0 = performance.now();
    }
    return ((n - 1) * 1000) / (performance.now() - t0);
  }, frames);
}

export const viewerBenches: Bench[] = [
  {
    name: 'viewer',
    description: 'Cornerstone3D StackViewport in Chromium: series → first pixels, stack-scroll fps, cine fps, memory per pixel byte',
    async run(): Promise<BenchRow[]> {
      const executablePath = findChromium();
      if (!executablePath) throw new Error('Chromium not found (apt-get install chromium)');
      if (!existsSync(join(rendererDir, 'index.html'))) execFileSync(process.execPath, [join(repo, 'scripts/build.mjs')], { stdio: 'inherit' });
      const home = tempDir('medimg-bench-viewer-');
      const data = tempDir('medimg-bench-series-');
      const services = await Services.open({ home: home.path, ledger: { mode: 'none' } });
      const server = await serveRenderer(services);
      const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
      const rows: BenchRow[] = [];
      try {
        const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
        await bindBridge(page, services, server.origin);
        await page.goto(`${server.origin}/index.html`);
        // The legacy viewer as a second peer, same services and files, measured in turn with ours:
        // MEDIMG_BENCH_LEGACY_RENDERER = a dist/renderer built from a commit before the migration.
        const legacyDir = process.env.MEDIMG_BENCH_LEGACY_RENDERER;
        const legacyServer = legacyDir ? await serveRenderer(services, legacyDir) : null;
        const lpage = legacyServer ? await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage() : null;
        if (lpage && legacyServer) {
          await bindBridge(lpage, services, legacyServer.origin);
          await lpage.goto(`${legacyServer.origin}/index.html`);
          await lpage.waitForSelector('[data-testid=viewport]');
        }
        const legacy = { warm: [] as number[], clicked: [] as number[], long: [] as number[], fps: NaN };
        const small = join(data.path, 'ct200');
        const big = join(data.path, 'ct1000');
        await writeSampleSeries({ outDir: small, slices: 200, kind: 'ct', seed: 501 });
        await writeSampleSeries({ outDir: big, slices: 1000, kind: 'ct', seed: 502 });
        await invoke(page, 'library.import', { paths: [small, big] });
        const { studies } = await invoke<{ studies: { id: number; instanceCount: number }[] }>(page, 'library.studies', {});
        const seriesOf = async (count: number) => {
          const st = studies.find((s) => s.instanceCount === count)!;
          const { series } = await invoke<{ series: { id: number }[] }>(page, 'library.series', { studyId: st.id });
          return series[0]!.id;
        };
        const s200 = await seriesOf(200);
        const s1000 = await seriesOf(1000);
        const { instances } = await invoke<{ instances: { id: number }[] }>(page, 'library.instances', { seriesId: s200 });
        const first200 = instances[0]!.id;
        const first1000 = (await invoke<{ instances: { id: number }[] }>(page, 'library.instances', { seriesId: s1000 })).instances[0]!.id;

        // 1. Series → first pixels: cold (first open in the page: worker start-up included) and warm (another series, nothing cached).
        const cold = await openSeriesIn(page, s200, first200);
        const warm: number[] = [];
        const fresh = async (p: Page) => {
          await p.reload();
          await p.waitForSelector('[data-testid=viewport]');
        };
        for (let i = 0; i < 5; i++) {
          for (const [p, out] of [[page, warm], ...(lpage ? [[lpage, legacy.warm] as const] : [])] as const) {
            await fresh(p);
            // The legacy peer may never show a large series (seen: no image within 30 s): Infinity, the run goes on.
            const open = (id: number, first: number) => (p === page ? openSeriesIn(p, id, first) : openSeriesIn(p, id, first).catch(() => Infinity));
            await open(s1000, first1000); // warms the decoder worker with another series
            out.push(await open(s200, first200));
          }
        }
        const clicked: number[] = [];
        for (let i = 0; i < 5; i++) {
          for (const [p, out] of [[page, clicked], ...(lpage ? [[lpage, legacy.clicked] as const] : [])] as const) {
            await fresh(p);
            if (p === page) {
              await openSeriesIn(p, s1000, first1000);
              out.push(await openByClick(p, s200, first200));
            } else {
              await openSeriesIn(p, s1000, first1000).catch(() => Infinity);
              out.push(await openByClick(p, s200, first200).catch(() => Infinity));
            }
          }
        }
        const peer: number[] = [];
        for (let i = 0; i < 5; i++) peer.push(await peerFirstPixels(page, instances[(i * 37) % instances.length]!.id));
        // The peer: a bare Cornerstone3D page (bareStack.ts) showing the same file, after the
        // same warm-up (a reload, then another series' first image through the same decode workers).
        const bare: number[] = [];
        for (let i = 0; i < 5; i++) {
          await fresh(page);
          await page.evaluate((id) => window.medimgStackBench!.bareFirstPixels(id), first1000);
          bare.push(await page.evaluate((id) => window.medimgStackBench!.bareFirstPixels(id), first200));
        }
        const med = median;
        const warmMed = med(warm);
        const bareMed = med(bare);
        rows.push(
          row({ metric: 'series → first pixels, 512² CT (median of 5, worker warm)', ours: warmMed, peer: med(peer), peerName: 'fetch + putImageData', unit: 'ms', better: 'lower', goal: '≤ 150 ms', met: warmMed <= 150 }),
          row({ metric: 'series → first pixels, click after pointing at the row (list prefetched; median of 5)', ours: med(clicked), peer: med(peer), peerName: 'fetch + putImageData', unit: 'ms', better: 'lower', goal: '≤ 150 ms', met: med(clicked) <= 150 }),
          row({ metric: 'series → first pixels vs a bare Cornerstone3D page (median of 5, worker warm)', ours: warmMed, peer: bareMed, peerName: 'bare Cornerstone3D: one StackViewport, same loader and file', unit: 'ms', better: 'lower', goal: '≤ 1.2× the bare page', met: warmMed <= 1.2 * bareMed, note: `ours ${warm.map((x) => x.toFixed(0)).join(', ')}; bare ${bare.map((x) => x.toFixed(0)).join(', ')} ms; load average ${loadavg()[0]!.toFixed(1)}` }),
          row({ metric: 'series → first pixels, first open after start (worker start-up)', ours: cold, unit: 'ms', better: 'lower', goal: '≤ 150 ms', met: cold <= 150, note: `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores` }),
        );

        // 1b. A long series (issue 16's scale goal): 2,000 small slices, series → first pixels, worker warm.
        const long = join(data.path, 'ct2000');
        await writeSampleSeries({ outDir: long, slices: 2000, kind: 'ct', seed: 503, matrix: 128 });
        const longImport = await invoke<{ studyIds: number[] }>(page, 'library.import', { paths: [long] });
        const { series: longSeries } = await invoke<{ series: { id: number }[] }>(page, 'library.series', { studyId: longImport.studyIds[0]! });
        const s2000 = longSeries[0]!.id;
        const first2000 = (await invoke<{ instances: { id: number }[] }>(page, 'library.instances', { seriesId: s2000 })).instances[0]!.id;
        const longOpen: number[] = [];
        for (let i = 0; i < 5; i++) {
          await fresh(page);
          await openSeriesIn(page, s200, first200);
          longOpen.push(await openSeriesIn(page, s2000, first2000));
          if (lpage) {
            // The legacy viewer may never show it (seen: no image within 30 s); recorded as such, the run goes on.
            await fresh(lpage);
            await openSeriesIn(lpage, s200, first200).catch(() => Infinity);
            legacy.long.push(await openSeriesIn(lpage, s2000, first2000).catch(() => Infinity));
          }
        }
        rows.push(row({ metric: 'series of 2,000 instances (128² CT) → first pixels (median of 5, worker warm)', ours: med(longOpen), peer: warmMed, peerName: 'a 200-instance 512² series, same run', unit: 'ms', better: 'lower', goal: '≤ 300 ms', met: med(longOpen) <= 300, note: `all five: ${longOpen.map((x) => x.toFixed(0)).join(', ')} ms; load average ${loadavg()[0]!.toFixed(1)}` }));

        // 2. Stack scroll over 200 slices: all decoded first (prefetch), then one key per frame, in a
        // 1920×1080 window (the goal).
        await page.setViewportSize({ width: 1920, height: 1080 });
        await page.reload();
        await page.waitForSelector('[data-testid=viewport]');
        await openSeriesIn(page, s200, first200);
        const decodeAll = (p: Page) => p.evaluate(async () => {
          const bar = document.querySelector('[data-testid=stack-scrollbar]') as HTMLInputElement;
          const vp = document.querySelector('[data-testid=viewport][data-index="0"]') as HTMLElement;
          const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
          for (let i = 0; i < 200; i += 1) {
            set.call(bar, String(i));
            bar.dispatchEvent(new Event('input', { bubbles: true }));
            const t = performance.now();
            while (vp.getAttribute('data-position') !== String(i) || vp.getAttribute('data-state') !== 'ready') {
              await new Promise((r) => setTimeout(r, 2));
              if (performance.now() - t > 10_000) throw new Error(`slice ${i} did not show`);
            }
          }
          set.call(bar, '0');
          bar.dispatchEvent(new Event('input', { bubbles: true }));
          await new Promise((r) => setTimeout(r, 200));
        });
        await decodeAll(page);
        // What draws the WebGL frames decides the scroll rate (a software rasteriser such as SwiftShader
        // pays a readback per frame): recorded with the row.
        const webgl = await page.evaluate(() => {
          const gl = document.createElement('canvas').getContext('webgl2');
          if (!gl) return 'no WebGL (CPU renderer)';
          const info = gl.getExtension('WEBGL_debug_renderer_info');
          return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
        });
        const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;
        const fps = await scrollFps(page, 199);
        const peerFps = await peerScrollFps(page, 199);
        const floor = await floorScrollFps(page, 199);
        const raf = await rafFps(page, 120);
        if (lpage) {
          await lpage.setViewportSize({ width: 1920, height: 1080 });
          await fresh(lpage);
          await openSeriesIn(lpage, s200, first200);
          // main's scrollbar can abort with React #185 on fast input (fixed on this branch): then no legacy number.
          legacy.fps = await decodeAll(lpage).then(
            () => scrollFps(lpage, 199),
            () => NaN,
          );
        }
        rows.push(
          row({ metric: 'stack scroll over 200 decoded slices at 1920×1080, one step per rAF', ours: fps, peer: peerFps, peerName: 'putImageData of a 512² canvas per rAF', unit: 'fps', better: 'higher', goal: '≥ 60 fps', met: fps >= 59, note: `headless Chromium paces rAF at the display rate (idle page: ${raf.toFixed(1)} fps); WebGL: ${webgl}; ${load()}` }),
          row({ metric: 'stack scroll vs the 2D-canvas floor (LUT + putImageData 512² + clear + scaled drawImage per rAF, no decode / React / overlays)', ours: fps, peer: floor.fps, peerName: `floor page on a ${floor.size} canvas, same run`, unit: 'fps', better: 'higher', goal: '≥ 60 fps (the floor bounds it)', met: fps >= 59, note: `what any CPU-rendered stack at this canvas size can reach here; ${load()}` }),
        );

        if (lpage) {
          const legacyRow = (metric: string, ours: number, peer: number, unit: string, better: 'lower' | 'higher') =>
            row({ metric: `${metric} — vs the legacy viewer`, ours, peer, peerName: `legacy viewer (${legacyDir}), same run`, unit, better, goal: better === 'lower' ? '≤ 1.0× legacy' : '≥ 1.0× legacy', met: better === 'lower' ? ours <= peer : ours >= peer, note: load() });
          rows.push(
            legacyRow('series → first pixels, dropped (median of 5)', warmMed, med(legacy.warm), 'ms', 'lower'),
            legacyRow('series → first pixels, click (median of 5)', med(clicked), med(legacy.clicked), 'ms', 'lower'),
            legacyRow('2,000-instance series → first pixels (median of 5)', med(longOpen), med(legacy.long), 'ms', 'lower'),
            legacyRow('stack scroll over 200 decoded slices', fps, legacy.fps, 'fps', 'higher'),
          );
          await lpage.context().close();
          await legacyServer?.close();
        }

        // 2b. Cine at 20 fps over the decoded stack: the frame rate it really keeps (the e2e spec only checks it moves).
        await page.getByLabel('Frames per second').fill('20');
        await page.getByLabel('Frames per second').blur();
        await page.keyboard.press('c');
        const cineFps = await page.evaluate(async () => {
          const vp = document.querySelector('[data-testid=viewport][data-index="0"]') as HTMLElement;
          let changes = 0;
          const obs = new MutationObserver(() => changes++);
          await new Promise((r) => setTimeout(r, 500)); // past the first step
          obs.observe(vp, { attributes: true, attributeFilter: ['data-position'] });
          const t0 = performance.now();
          await new Promise((r) => setTimeout(r, 3000));
          obs.disconnect();
          return (changes * 1000) / (performance.now() - t0);
        });
        await page.keyboard.press('c');
        rows.push(row({ metric: 'cine at 20 fps over 200 decoded slices (3 s)', ours: cineFps, peer: 20, peerName: 'the rate asked for', unit: 'fps', better: 'higher', goal: '≥ 19 fps', met: cineFps >= 19, note: load() }));

        // 3. Memory after loading 1,000 slices (each decoded and displayed once), in a fresh renderer process.
        await page.context().close();
        const mpage = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
        await bindBridge(mpage, services, server.origin);
        await mpage.goto(`${server.origin}/index.html`);
        await mpage.waitForSelector('[data-testid=viewport]');
        await new Promise((r) => setTimeout(r, 1000));
        const before = descendantsRssKb();
        const bufBefore = await bufferPartitionBytes(browser).catch(() => null);
        await openSeriesIn(mpage, s1000, first1000);
        await mpage.evaluate(async () => {
          const bar = document.querySelector('[data-testid=stack-scrollbar]') as HTMLInputElement;
          const vp = document.querySelector('[data-testid=viewport][data-index="0"]') as HTMLElement;
          const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
          for (let i = 0; i < 1000; i++) {
            set.call(bar, String(i));
            bar.dispatchEvent(new Event('input', { bubbles: true }));
            while (vp.getAttribute('data-position') !== String(i) || vp.getAttribute('data-state') === 'loading') await new Promise((r) => setTimeout(r, 1));
          }
        });
        await new Promise((r) => setTimeout(r, 1000));
        const after = descendantsRssKb();
        const bufAfter = await bufferPartitionBytes(browser).catch(() => null);
        // the renderer whose buffer partition grew most: the viewer's
        const harnessCopy = bufBefore && bufAfter ? Math.max(0, ...[...bufAfter].map(([pid, b]) => b - (bufBefore.get(pid) ?? 0))) : NaN;
        await mpage.context().close();
        await new Promise((r) => setTimeout(r, 1000));
        const pixelBytes = 1000 * 512 * 512 * 2;
        const ratio = ((after - before) * 1024) / pixelBytes;
        // Peer: a fresh page holding the same pixel bytes in typed arrays.
        const page2 = await (await browser.newContext()).newPage();
        await page2.goto('about:blank');
        await new Promise((r) => setTimeout(r, 500));
        const b2 = descendantsRssKb();
        await page2.evaluate((n) => {
          const keep: Int16Array[] = [];
          for (let i = 0; i < n; i++) {
            const a = new Int16Array(512 * 512);
            for (let j = 0; j < a.length; j += 64) a[j] = j & 0x7fff;
            a.fill(1, 0, a.length);
            keep.push(a);
          }
          (window as unknown as { keep: unknown }).keep = keep;
        }, 1000);
        await new Promise((r) => setTimeout(r, 1000));
        const a2 = descendantsRssKb();
        const peerRatio = ((a2 - b2) * 1024) / pixelBytes;
        // The goal's row is measured in a browser the harness does not instrument (memory.bench.ts),
        // first; the two Playwright rows stay, for comparison with earlier runs.
        await page2.close();
        rows.push(...(await stackMemoryRows(services, executablePath, s1000, first1000, 1000)));
        rows.push(
          row({ metric: "resident memory after loading 1,000 slices / their pixel bytes — under Playwright (RSS), INCLUDES the harness's copy of every response (DevTools Network domain)", ours: ratio, peer: peerRatio, peerName: 'same pixels in Int16Arrays', unit: '×', better: 'lower', goal: 'for comparison (goal: the uninstrumented row)', note: `pixel bytes ${(pixelBytes / 2 ** 20).toFixed(0)} MiB; RSS delta ${((after - before) / 1024).toFixed(0)} MiB; ${load()}` }),
          row({
            metric: "resident memory after loading 1,000 slices / their pixel bytes — under Playwright (RSS), the harness's copy of the responses estimated and subtracted",
            ours: ratio - harnessCopy / pixelBytes,
            peer: peerRatio,
            peerName: 'same pixels in Int16Arrays',
            unit: '×',
            better: 'lower',
            goal: 'for comparison (goal: the uninstrumented row)',
            note: `Blink buffer partition grew ${(harnessCopy / 2 ** 20).toFixed(0)} MiB in the viewer's renderer (memory-infra dump), where DevTools keeps the response bodies while Playwright's Network.enable is on; subtracted from the RSS delta; ${load()}`,
          }),
        );
        return rows;
      } finally {
        await browser.close();
        await server.close();
        await services.close();
        home.cleanup();
        data.cleanup();
      }
    },
  },
];
