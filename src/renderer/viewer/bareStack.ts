/**
 * The viewer benchmark's peer for "series → first pixels": one image shown with bare Cornerstone3D
 * calls — a rendering engine of its own with one StackViewport over the window, Cornerstone3D's
 * default rendering, the same wadouri loader, decode workers and files; no React, no overlays, no
 * tools, no prefetch — in the same page, so what the reading viewer adds shows as a ratio. Started
 * only by test/bench/viewer.bench.ts, through window.medimgStackBench.
 */
import { cache, Enums, RenderingEngine, type Types } from '@cornerstonejs/core';
import { wadouri } from '@cornerstonejs/dicom-image-loader';
import { imageIdFor, initCornerstone } from './cornerstone';

let n = 0;

/**
 * Milliseconds from asking a ready, empty stack viewport for the image of instance `instanceId`
 * (nothing of it cached) to that image rendered. The engine and its viewport are made before the
 * clock starts, as the reading viewer's viewport exists before a series is dropped on it.
 */
export async function bareFirstPixels(instanceId: number): Promise<number> {
  initCornerstone();
  cache.purgeCache();
  (wadouri.dataSetCacheManager as unknown as { purge(): void }).purge();
  const el = document.createElement('div');
  el.style.cssText = 'position:fixed;inset:0;z-index:1000;background:#000';
  document.body.appendChild(el);
  const engine = new RenderingEngine(`medimg-bare-stack-${++n}`);
  try {
    engine.enableElement({ viewportId: 'bare-stack', type: Enums.ViewportType.STACK, element: el });
    const viewport = engine.getViewport('bare-stack') as Types.IStackViewport;
    const imageId = imageIdFor(instanceId);
    const t0 = performance.now();
    const rendered = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bare page showed no image within 30 s')), 30_000);
      el.addEventListener(Enums.Events.IMAGE_RENDERED, () => {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      });
    });
    await viewport.setStack([imageId], 0);
    viewport.render();
    return await rendered;
  } finally {
    engine.destroy();
    el.remove();
  }
}

let held: RenderingEngine | null = null;

/**
 * The memory row's peer: the instances' images shown one after another in a bare StackViewport
 * (each loaded, decoded and rendered once, Cornerstone3D's cache keeping what it keeps), over the
 * window; the viewport stays until the page goes, as the reading viewer's does.
 */
export async function bareScroll(instanceIds: number[]): Promise<void> {
  initCornerstone();
  held?.destroy();
  const el = document.createElement('div');
  el.style.cssText = 'position:fixed;inset:0;z-index:1000;background:#000';
  document.body.appendChild(el);
  const engine = new RenderingEngine(`medimg-bare-stack-${++n}`);
  held = engine;
  engine.enableElement({ viewportId: 'bare-stack', type: Enums.ViewportType.STACK, element: el });
  const viewport = engine.getViewport('bare-stack') as Types.IStackViewport;
  const rendered = () =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bare page showed no image within 30 s')), 30_000);
      el.addEventListener(
        Enums.Events.IMAGE_RENDERED,
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  const first = rendered();
  await viewport.setStack(
    instanceIds.map((id) => imageIdFor(id)),
    0,
  );
  viewport.render();
  await first;
  for (let i = 1; i < instanceIds.length; i++) {
    const next = rendered();
    await viewport.setImageIdIndex(i);
    await next;
  }
}

declare global {
  interface Window {
    medimgStackBench?: { bareFirstPixels: typeof bareFirstPixels; bareScroll: typeof bareScroll };
  }
}

window.medimgStackBench = { bareFirstPixels, bareScroll };
