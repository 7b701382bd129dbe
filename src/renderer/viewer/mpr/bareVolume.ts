/**
 * The benchmark's peer: the same volume built with bare Cornerstone3D calls (same loader, same
 * metadata prefetch, one sagittal viewport, no React and no toolbar), in the same page, so the
 * cost of the MPR view itself shows as a ratio. Started only by test/bench/mpr.bench.ts.
 */
import { cache, Enums, eventTarget, RenderingEngine, setVolumesForViewports, volumeLoader, type Types } from '@cornerstonejs/core';
import { initVolume } from './initVolume';
import { prefetch } from './mprSession';

let n = 0;

export async function bareVolume(imageIds: string[]): Promise<{ first: number; complete: number }> {
  initVolume();
  const id = ++n;
  const t0 = performance.now();
  await prefetch(imageIds, () => undefined, () => false);
  const el = document.createElement('div');
  el.style.cssText = 'position:fixed;left:0;top:0;width:600px;height:600px;z-index:1000';
  document.body.appendChild(el);
  const engine = new RenderingEngine(`medimg-bare-${id}`);
  const volumeId = `cornerstoneStreamingImageVolume:medimg-bare-${id}`;
  try {
    engine.enableElement({ viewportId: 'bare', type: Enums.ViewportType.ORTHOGRAPHIC, element: el, defaultOptions: { orientation: Enums.OrientationAxis.SAGITTAL } });
    const volume = await volumeLoader.createAndCacheVolume(volumeId, { imageIds });
    let processed = 0;
    let first: number | null = null;
    let complete: number | null = null;
    const onModified = (e: Event) => {
      const d = (e as CustomEvent<{ volumeId: string; framesProcessed: number }>).detail;
      if (d.volumeId !== volumeId) return;
      processed = d.framesProcessed;
      if (processed >= imageIds.length) complete ??= performance.now() - t0;
    };
    const onRendered = () => {
      if (first === null && processed > 0) first = performance.now() - t0;
    };
    eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onModified);
    el.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
    (volume as Types.IImageVolume & { load(): void }).load();
    await setVolumesForViewports(engine, [{ volumeId }], ['bare']);
    engine.render();
    while (complete === null || first === null) await new Promise((r) => setTimeout(r, 20));
    eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onModified);
    return { first, complete };
  } finally {
    engine.destroy();
    cache.removeVolumeLoadObject(volumeId);
    el.remove();
  }
}

declare global {
  interface Window {
    medimgMprBare?: typeof bareVolume;
  }
}

window.medimgMprBare = bareVolume;
