/**
 * The benchmark's peer: the same volume built with bare Cornerstone3D calls (same loader, no
 * React and no toolbar; three orthographic viewports side by side over the whole window), in the
 * same page, so the cost of the MPR view itself shows as a ratio. Started only by
 * test/bench/mpr.bench.ts, through window.medimgMprBench.
 */
import { cache, Enums, eventTarget, RenderingEngine, setVolumesForViewports, volumeLoader, type Types } from '@cornerstonejs/core';
import { wadouri } from '@cornerstonejs/dicom-image-loader';
import { initVolume } from './initVolume';

let n = 0;
let held: { engine: RenderingEngine; volumeId: string; els: HTMLDivElement[] } | null = null;

const PLANES = [
  ['axial', Enums.OrientationAxis.AXIAL],
  ['sagittal', Enums.OrientationAxis.SAGITTAL],
  ['coronal', Enums.OrientationAxis.CORONAL],
] as const;

/** Drops every decoded image and parsed file, so the next volume comes from the files again. */
export function purgeImageCaches(): void {
  cache.purgeCache();
  (wadouri.dataSetCacheManager as unknown as { purge(): void }).purge();
}

/**
 * Builds the volume from the files (Cornerstone3D's own streaming volume loader, its default
 * order) and shows it in three planes. `hold`: keep it shown (for the memory reading and the drag)
 * until bareRelease().
 */
export async function bareVolume(imageIds: string[], opts: { hold?: boolean } = {}): Promise<{ first: number; complete: number }> {
  initVolume();
  bareRelease();
  const id = ++n;
  const t0 = performance.now();
  const els = PLANES.map((_, i) => {
    const el = document.createElement('div');
    el.style.cssText = `position:fixed;top:0;left:${(100 * i) / 3}vw;width:${100 / 3}vw;height:100vh;z-index:1000`;
    document.body.appendChild(el);
    return el;
  });
  const engine = new RenderingEngine(`medimg-bare-${id}`);
  const volumeId = `cornerstoneStreamingImageVolume:medimg-bare-${id}`;
  let keep = false;
  try {
    engine.setViewports(PLANES.map(([p, orientation], i) => ({ viewportId: `bare-${p}`, type: Enums.ViewportType.ORTHOGRAPHIC, element: els[i]!, defaultOptions: { orientation } })));
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
    els[1]!.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
    (volume as Types.IImageVolume & { load(): void }).load();
    await setVolumesForViewports(engine, [{ volumeId }], PLANES.map(([p]) => `bare-${p}`));
    engine.render();
    while (complete === null || first === null) await new Promise((r) => setTimeout(r, 20));
    eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onModified);
    els[1]!.removeEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
    // The last slices' render.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    keep = Boolean(opts.hold);
    if (keep) held = { engine, volumeId, els };
    return { first, complete };
  } finally {
    if (!keep) release({ engine, volumeId, els });
  }
}

/**
 * The least a crosshair drag asks of the renderer: the sagittal and coronal planes move (one
 * voxel a frame, back and forth) and both are drawn again, once per animation frame, for
 * `frames` frames. Frames per second of the sagittal plane, on the held volume.
 */
export async function bareDragFps(frames: number): Promise<number> {
  if (!held) throw new Error('no bare volume held');
  const { engine } = held;
  const ids = ['bare-sagittal', 'bare-coronal'];
  const sag = held.els[1]!;
  const times: number[] = [];
  const onRendered = () => times.push(performance.now());
  sag.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
  try {
    for (let i = 0; i < frames; i++) {
      const step = Math.floor(i / 20) % 2 === 0 ? 1 : -1;
      for (const vid of ids) {
        const vp = engine.getViewport(vid) as Types.IVolumeViewport;
        const cam = vp.getCamera();
        const nrm = cam.viewPlaneNormal!;
        const d = step * 0.7;
        const shift = (p: Types.Point3): Types.Point3 => [p[0] + nrm[0] * d, p[1] + nrm[1] * d, p[2] + nrm[2] * d];
        vp.setCamera({ focalPoint: shift(cam.focalPoint!), position: shift(cam.position!) });
      }
      const rendered = new Promise((r) => sag.addEventListener(Enums.Events.IMAGE_RENDERED, r, { once: true }));
      engine.renderViewports(ids);
      await rendered;
    }
  } finally {
    sag.removeEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
  }
  if (times.length < 2) return 0;
  return ((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!);
}

function release(h: { engine: RenderingEngine; volumeId: string; els: HTMLDivElement[] }): void {
  h.engine.destroy();
  try {
    cache.removeVolumeLoadObject(h.volumeId);
  } catch {
    /* never created */
  }
  for (const el of h.els) el.remove();
}

export function bareRelease(): void {
  if (held) release(held);
  held = null;
}

export interface MprBench {
  bare: typeof bareVolume;
  bareDragFps: typeof bareDragFps;
  bareRelease: typeof bareRelease;
  purge: typeof purgeImageCaches;
}

declare global {
  interface Window {
    medimgMprBench?: MprBench;
  }
}

window.medimgMprBench = { bare: bareVolume, bareDragFps, bareRelease, purge: purgeImageCaches };
