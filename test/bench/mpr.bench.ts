/**
 * MPR benchmarks (issue 14), in Debian's Chromium (WebGL 2 through SwiftShader, i.e. software GL)
 * against the real renderer build and services, as the e2e rig runs them:
 *   - a 300-slice 512² CT from local files (decoded images and parsed files dropped before each
 *     open): MPR button → first reformatted frame, → volume complete
 *   - crosshair drag: frames drawn per second while the centre is dragged
 *   - memory the volume adds ÷ its pixel bytes: in a fresh Chromium the harness does not instrument,
 *     every process of it, GPU included (memory.bench.ts); the former Playwright reading beside it
 * Peer in the same run: a bare Cornerstone3D build of the same volume in the same page (no React,
 * no toolbar, three planes; Cornerstone3D's own loader and load order), window.medimgMprBench.
 * Cold (the first MPR after the app starts): each sample in a browser of its own (its GPU process
 * new too), the series opened, MPR clicked COLD_IDLE_MS after its button is enabled; the peer the
 * same way on a page that warms nothing ahead (`?mprWarmUp=0`), its code loaded before its clock
 * starts. MEDIMG_BENCH_MPR_COLD=n: n samples each (default 3).
 * Numbers are indicative: the machine is shared; its load is recorded.
 * MEDIMG_BENCH_TRACE=/tmp/mpr.json also writes Chromium traces of the cold open and the drag.
 */
import { chromium, type Page } from 'playwright-core';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
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
import { volumeMemoryRows } from './memory.bench';
import { treeMemory } from './uninstrumented';
import type { MprTestHook } from '../../src/renderer/viewer/mpr/mprSession';
import type { MprBench } from '../../src/renderer/viewer/mpr/bareVolume';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const rendererDir = join(repo, 'dist', 'renderer');

declare global {
  interface Window {
    medimgMpr?: MprTestHook;
    medimgMprBench?: MprBench;
  }
}

async function invoke<T>(page: Page, channel: string, request: unknown): Promise<T> {
  const r = (await page.evaluate(([c, q]) => (window as unknown as { medimg: { invoke(c: string, r: unknown): Promise<unknown> } }).medimg.invoke(c as string, q), [channel, request] as const)) as {
    ok: boolean;
    value: T;
    error?: { message: string };
  };
  if (!r.ok) throw new Error(`${channel}: ${r.error?.message}`);
  return r.value;
}

/** How long the reader looks at the series before clicking MPR in the cold samples. */
const COLD_IDLE_MS = 2_000;

const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;
const med = median;

/**
 * Resident memory (kB) of every process descended from this one (Chromium's browser, renderer, GPU
 * and utility processes): RSS as the stack viewer's bench counts it, and PSS (shared pages split
 * between the processes that map them, so memory shared by the renderer and the GPU process is
 * counted once).
 */
function chromiumMemoryKb(): { rss: number; pss: number } {
  const { rss, pss } = treeMemory(process.pid, false);
  return { rss, pss };
}

/** Collects garbage in the page (and lets the GPU process settle) before a memory reading. */
async function settledMemory(page: Page): Promise<{ rss: number; pss: number }> {
  const cdp = await page.context().newCDPSession(page);
  for (let i = 0; i < 2; i++) {
    await cdp.send('HeapProfiler.collectGarbage');
    await new Promise((r) => setTimeout(r, 500));
  }
  await cdp.detach();
  return chromiumMemoryKb();
}

/** Drops the decoded images and parsed files, so the next volume is built from the files again (the MPR's chunk is loaded by then). */
async function purge(page: Page): Promise<void> {
  await page.waitForFunction(() => window.medimgMprBench !== undefined);
  await page.evaluate(() => window.medimgMprBench!.purge());
}

/**
 * MEDIMG_BENCH_TRACE=<file.json>: a Chromium trace (CDP Tracing, devtools timeline categories)
 * of what `fn` runs, written for chrome://tracing / the Performance panel.
 */
async function traced<T>(page: Page, label: string, fn: () => Promise<T>): Promise<T> {
  const out = process.env.MEDIMG_BENCH_TRACE;
  if (!out) return fn();
  const browser = page.context().browser()!;
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing', 'gpu', 'toplevel'], screenshots: false });
  try {
    return await fn();
  } finally {
    const buf = await browser.stopTracing();
    writeFileSync(out.replace(/\.json$/, '') + `-${label}.json`, buf);
  }
}

/** Clicks MPR and returns [first reformatted frame, complete] in ms from the click (the page's clock). */
async function openMprTimed(page: Page): Promise<{ first: number; complete: number; slicesAtFirst: number; coarse: number | null }> {
  const t0 = await page.evaluate(() => {
    const t = performance.now();
    (document.querySelector('[data-testid=mpr-button]') as HTMLButtonElement).click();
    return t;
  });
  await page.waitForFunction(() => window.medimgMpr?.timing().completeMs != null && window.medimgMpr.timing().firstFrameMs != null, undefined, { timeout: 300_000, polling: 100 });
  const t = await page.evaluate(() => window.medimgMpr!.timing());
  return { first: t.startedAt + t.firstFrameMs! - t0, complete: t.startedAt + t.completeMs! - t0, slicesAtFirst: t.firstFrameSlices!, coarse: t.coarseFrameMs === null ? null : t.startedAt + t.coarseFrameMs - t0 };
}

async function backToStack(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.waitForSelector('[data-testid=mpr]', { state: 'detached' });
  await page.waitForSelector('[data-testid=viewport][data-index="0"][data-state=ready]');
}

/** Drags the crosshair centre on the axial plane for `moves` mouse moves; frames/s of the sagittal viewport. */
async function crosshairDragFps(page: Page, moves: number): Promise<number> {
  const box = (await page.locator('[data-testid=mpr-axial] .mpr__viewport').boundingBox())!;
  const c = await page.evaluate(() => {
    const p = window.medimgMpr!.planes();
    return window.medimgMpr!.worldToCanvas('axial', [p.sagittal.focalPoint[0]!, p.coronal.focalPoint[1]!, p.axial.focalPoint[2]!]);
  });
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid=mpr-sagittal] .mpr__viewport')!;
    const w = window as unknown as { __mprFrames: number[] };
    w.__mprFrames = [];
    el.addEventListener('CORNERSTONE_IMAGE_RENDERED', () => w.__mprFrames.push(performance.now()));
  });
  await page.mouse.move(box.x + c[0]!, box.y + c[1]!);
  await page.mouse.down();
  for (let i = 1; i <= moves; i++) {
    const a = (i / moves) * Math.PI * 4;
    await page.mouse.move(box.x + c[0]! + 60 * Math.sin(a), box.y + c[1]! + 30 * Math.sin(a / 2));
  }
  await page.mouse.up();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const frames = await page.evaluate(() => (window as unknown as { __mprFrames: number[] }).__mprFrames);
  if (frames.length < 2) return 0;
  return ((frames.length - 1) * 1000) / (frames[frames.length - 1]! - frames[0]!);
}

type Browser = Awaited<ReturnType<typeof chromium.launch>>;

/** A page of the app in `browser` with the 300-slice series open in the stack view and the MPR button enabled. */
async function openSeriesPage(browser: Browser, services: Services, origin: string, query = '', importDir?: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
  await bindBridge(page, services, origin);
  await page.goto(`${origin}/index.html${query}`);
  if (importDir) await invoke(page, 'library.import', { paths: [importDir] });
  const toggles = page.locator('[data-testid=study-row] .tree__toggle[aria-expanded=false]');
  await page.waitForSelector('[data-testid=study-row]');
  for (let n = await toggles.count(); n > 0; n = await toggles.count()) await toggles.first().click();
  await page.locator('[data-testid=series-row]').first().click();
  await page.waitForSelector('[data-testid=viewport][data-index="0"][data-state=ready]', { timeout: 60_000 });
  await page.waitForSelector('[data-testid=mpr-button]:not([disabled])');
  return page;
}

interface ColdSample {
  first: number;
  complete: number;
  /** Warm-up frames the app had drawn before the click (ours), null for the peer. */
  warmUps: number | null;
  load: string;
}

/** Ours, cold: a new browser, the series opened, MPR clicked after COLD_IDLE_MS. Also returns the volume's image ids (for the peer). */
async function oursCold(executablePath: string, services: Services, origin: string, importDir?: string): Promise<{ sample: ColdSample; imageIds: string[] }> {
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await openSeriesPage(browser, services, origin, '', importDir);
    await page.waitForTimeout(COLD_IDLE_MS);
    const warmUps = await page.evaluate(() => window.medimgMprBench?.warmUps?.() ?? 0);
    const l = load();
    const t = await openMprTimed(page);
    const imageIds = await page.evaluate(() => (window.medimgMpr!.session as unknown as { series: { imageIds: string[] } }).series.imageIds);
    return { sample: { first: t.first, complete: t.complete, warmUps, load: l }, imageIds };
  } finally {
    await browser.close();
  }
}

/** The peer, cold: a new browser, the same series opened on a page that warms nothing ahead, then the bare build of the volume. */
async function peerCold(executablePath: string, services: Services, origin: string, imageIds: string[]): Promise<ColdSample> {
  const chunk = readdirSync(join(rendererDir, 'assets')).find((f) => /^MprView-.*\.js$/.test(f));
  if (!chunk) throw new Error('MprView chunk not found in dist/renderer/assets');
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await openSeriesPage(browser, services, origin, '?mprWarmUp=0');
    await page.waitForTimeout(COLD_IDLE_MS);
    // The bare page's code (with the MPR's chunk) is in before its clock starts.
    await page.evaluate((url) => import(url), `${origin}/assets/${chunk}`);
    await page.waitForFunction(() => window.medimgMprBench !== undefined);
    const l = load();
    const t = await page.evaluate((ids) => window.medimgMprBench!.bare(ids), imageIds);
    return { ...t, warmUps: null, load: l };
  } finally {
    await browser.close();
  }
}

export const mprBenches: Bench[] = [
  {
    name: 'viewer-mpr',
    description: 'MPR on Cornerstone3D in Chromium (software GL): 300-slice 512² CT → first reformatted frame / complete; crosshair drag fps; vs a bare Cornerstone3D build of the same volume',
    async run(): Promise<BenchRow[]> {
      const executablePath = findChromium();
      if (!executablePath) throw new Error('Chromium not found (apt-get install chromium)');
      if (!existsSync(join(rendererDir, 'index.html'))) execFileSync(process.execPath, [join(repo, 'scripts/build.mjs')], { stdio: 'inherit' });
      const home = tempDir('medimg-bench-mpr-');
      const data = tempDir('medimg-bench-mpr-series-');
      const services = await Services.open({ home: home.path, ledger: { mode: 'none' } });
      const server = await serveRenderer(services);
      const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
      const rows: BenchRow[] = [];
      try {
        const dir = join(data.path, 'ct300');
        await writeSampleSeries({ outDir: dir, slices: 300, kind: 'ct', seed: 601 });
        // 0. Cold, each sample in its own browser (closed before the memory readings below), ours and the peer in turn.
        const coldRuns = Math.max(1, Number(process.env.MEDIMG_BENCH_MPR_COLD ?? 3));
        const oursColdRuns: ColdSample[] = [];
        const peerColdRuns: ColdSample[] = [];
        let ids: string[] = [];
        for (let i = 0; i < coldRuns; i++) {
          const o = await oursCold(executablePath, services, server.origin, i === 0 ? dir : undefined);
          oursColdRuns.push(o.sample);
          ids = o.imageIds;
          peerColdRuns.push(await peerCold(executablePath, services, server.origin, ids));
        }
        const page = await openSeriesPage(browser, services, server.origin);
        const loadBefore = load();
        const pixelBytes = 300 * 512 * 512 * 2;
        const MiB = (kb: number) => (kb / 1024).toFixed(0);

        // 1. This browser's first MPR, clicked as soon as the button is enabled (the volume code's
        //    chunk, Cornerstone3D's start and its decode workers included, the warm-up possibly
        //    not done; slices the stack view already decoded are taken from its cache).
        const cold = await traced(page, 'open', () => openMprTimed(page));
        const fps = await traced(page, 'drag', () => crosshairDragFps(page, 90));
        const pane = (await page.locator('[data-testid=mpr-sagittal] .mpr__viewport').boundingBox())!;
        const imageIds = await page.evaluate(() => (window.medimgMpr!.session as unknown as { series: { imageIds: string[] } }).series.imageIds);
        await backToStack(page);
        // 2. Twice more, each from the files (decoded images and parsed files dropped before); the
        //    memory the first of them adds, after garbage collection.
        const runs: { first: number; complete: number; slicesAtFirst: number; coarse: number | null }[] = [];
        let memBefore = { rss: 0, pss: 0 };
        let memAfter = { rss: 0, pss: 0 };
        for (let i = 0; i < 2; i++) {
          await purge(page);
          if (i === 0) memBefore = await settledMemory(page);
          runs.push(await openMprTimed(page));
          if (i === 0) memAfter = await settledMemory(page);
          await backToStack(page);
        }
        // 3. Peer: a bare Cornerstone3D build of the same volume (same files, three planes), from the files.
        const peer: { first: number; complete: number }[] = [];
        let peerMem = { rss: 0, pss: 0 };
        let peerFps = 0;
        for (let i = 0; i < 2; i++) {
          await purge(page);
          const before = i === 0 ? await settledMemory(page) : null;
          peer.push(await page.evaluate(([ids, hold]) => window.medimgMprBench!.bare(ids, { hold }), [imageIds, i === 0] as const));
          if (before) {
            const after = await settledMemory(page);
            peerMem = { rss: after.rss - before.rss, pss: after.pss - before.pss };
            peerFps = await page.evaluate(() => window.medimgMprBench!.bareDragFps(60));
            await page.evaluate(() => window.medimgMprBench!.bareRelease());
          }
        }
        // 4. The floor under any WebGL MPR here: two planes of the pane's size drawn from a texture and copied on screen per frame.
        const floorFps = await page.evaluate(([w, h]) => window.medimgMprBench!.rawWebGlFps(w, h, 2, 60), [Math.round(pane.width), Math.round(pane.height)] as const);
        const oFirst = med(runs.map((w) => w.first));
        const oComplete = med(runs.map((w) => w.complete));
        const pFirst = med(peer.map((p) => p.first));
        const pComplete = med(peer.map((p) => p.complete));
        const memRatio = ((memAfter.rss - memBefore.rss) * 1024) / pixelBytes;
        const memPss = ((memAfter.pss - memBefore.pss) * 1024) / pixelBytes;
        const peerRatio = (peerMem.rss * 1024) / pixelBytes;
        rows.push(
          row({ metric: '300-slice 512² CT from local files → first MPR frame (median of 2)', ours: oFirst, peer: pFirst, peerName: 'bare Cornerstone3D volume', unit: 'ms', better: 'lower', goal: '≤ 1 s', met: oFirst <= 1000, note: `ours draws with 1/9 of the pixels until the last slice is in (software GL), the peer at full resolution; ${runs.map((w) => `${w.first.toFixed(0)} ms with ${w.slicesAtFirst} of 300 slices in, every 8th slice in and drawn at ${w.coarse?.toFixed(0) ?? '-'} ms`).join('; ')}; ${load()}` }),
          row({ metric: '300-slice 512² CT from local files → MPR complete (median of 2)', ours: oComplete, peer: pComplete, peerName: 'bare Cornerstone3D volume', unit: 'ms', better: 'lower', goal: '≤ 3 s', met: oComplete <= 3000, note: `runs ${runs.map((w) => w.complete.toFixed(0)).join(', ')} ms; peer ${peer.map((p) => p.complete.toFixed(0)).join(', ')} ms` }),
          row({
            metric: `300-slice 512² CT → first MPR frame, first open after start (cold, median of ${coldRuns} new browsers)`,
            ours: med(oursColdRuns.map((c) => c.first)),
            peer: med(peerColdRuns.map((c) => c.first)),
            peerName: 'bare Cornerstone3D volume, cold the same way',
            unit: 'ms',
            better: 'lower',
            goal: '≤ 1 s',
            met: med(oursColdRuns.map((c) => c.first)) <= 1000,
            note: `MPR clicked ${COLD_IDLE_MS / 1000} s after its button was enabled; ours ${oursColdRuns.map((c) => `${c.first.toFixed(0)} ms (complete ${c.complete.toFixed(0)}, ${c.warmUps} warm-up frame${c.warmUps === 1 ? '' : 's'} drawn before, ${c.load})`).join('; ')}; peer ${peerColdRuns.map((c) => `${c.first.toFixed(0)} ms (complete ${c.complete.toFixed(0)}, ${c.load})`).join('; ')}; clicked at once after the button was enabled (the bench's main browser): ${cold.first.toFixed(0)} ms, complete ${cold.complete.toFixed(0)} ms, ${cold.slicesAtFirst} slices in at the first frame; ${loadBefore}`,
          }),
          row({ metric: 'crosshair drag in MPR, 1920×1080, software GL (SwiftShader)', ours: fps, peer: peerFps, peerName: 'bare page: sagittal + coronal moved and drawn each frame', unit: 'fps', better: 'higher', goal: '≥ 30 fps', met: fps >= 30, note: `ours draws the moving planes with 1/9 of their pixels while the button is held (full resolution on release; software GL only) and reads them back without waiting (a frame counts once its pixels are in the canvas), the peer at full resolution; ${load()} after` }),
          row({ metric: `floor: raw WebGL2, 2 planes of ${Math.round(pane.width)}×${Math.round(pane.height)} drawn from a 512×300 texture + copied to screen`, ours: floorFps, unit: 'fps', better: 'higher', note: 'what any WebGL MPR drag can reach here (SwiftShader)' }),
          row({ metric: 'memory a second MPR adds ÷ pixel bytes — under Playwright (RSS), read after a first volume was shown (the first texture still in the GPU process, the stack cache purged in between): not the volume\'s cost', ours: memRatio, peer: peerRatio, peerName: 'bare Cornerstone3D volume', unit: '×', better: 'lower', goal: 'for comparison (goal: the uninstrumented row)', note: `pixel bytes ${MiB(pixelBytes / 1024)} MiB; RSS +${MiB(memAfter.rss - memBefore.rss)} MiB (peer +${MiB(peerMem.rss)}); PSS +${MiB(memAfter.pss - memBefore.pss)} MiB = ${memPss.toFixed(2)}× (peer +${MiB(peerMem.pss)} MiB)` }),
        );
        // The goal's row: the volume built in a fresh browser the harness does not instrument, every process of it (GPU included).
        const seriesId = (await invoke<{ series: { id: number }[] }>(page, 'library.series', { studyId: (await invoke<{ studies: { id: number }[] }>(page, 'library.studies', {})).studies[0]!.id })).series[0]!.id;
        await browser.close();
        rows.splice(rows.length - 1, 0, ...(await volumeMemoryRows(services, executablePath, seriesId, 300)));
      } finally {
        await browser.close();
        await server.close();
        await services.close();
        home.cleanup();
        data.cleanup();
      }
      return rows;
    },
  },
];
