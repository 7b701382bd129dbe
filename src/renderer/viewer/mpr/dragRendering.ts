/**
 * What a crosshair drag (or pan, zoom, window) costs per frame in the MPR, made smaller.
 *
 * 1. Reduced offscreen canvas (software GL only). Cornerstone3D draws each plane into one offscreen
 *    WebGL canvas shared by the planes and copies it into the plane's 2D canvas (drawImage: a
 *    readback that waits for the GPU process, where SwiftShader draws on the CPU). vtk.js's own
 *    low-resolution mode ("small viewport") ray-casts 1/9 of the pixels but still clears a
 *    full-size framebuffer, scales the result up in a second full-size pass and reads back the
 *    full-size canvas: measured in the GPU process, 43 ms a plane against 13 ms when the canvas
 *    itself is a third of the width and height (133 ms at full size; load 8 on 2 cores). So while a
 *    button is held the shared canvas is made a third of its size (the planes' renderers keep their
 *    normalised viewports, so the camera, the aspect and every canvas ↔ world conversion stay as
 *    they are) and the copy scales the smaller picture up into the plane's canvas.
 *    The volume is sampled at the nearest voxel meanwhile (not trilinear): at a third of the
 *    resolution a drawn pixel spans about three voxels either way, and SwiftShader's ray-cast then
 *    costs 30 % less (GPU process CPU per frame of a drag: 11 ms instead of 16).
 * 2. View references computed once per camera. Cornerstone3D's tools ask a viewport for its view
 *    reference (getViewportICamera → viewport.getViewReference()) many times per drawn frame; for a
 *    volume viewport each answer works out the slice index (through getProperties → getColormap →
 *    the colour transfer function's whole state) and the nearest of the volume's slices: 890 ms of
 *    a 90-move drag's main thread went there. The answer depends only on the camera, the slab and
 *    the volume, so it is kept until one of those changes.
 */
import type { RenderingEngine, Types } from '@cornerstonejs/core';

interface ContextPool {
  getContextIndexForViewport(viewportId: string): number | undefined;
  getContextByIndex(index: number): { context: OffscreenWindow; container: { width: number; height: number } } | null;
  getMaxSizeForContext(index: number): { width: number; height: number } | undefined;
}

interface OffscreenWindow {
  resize(): void;
}

interface ViewportLike {
  id: string;
  element: HTMLDivElement;
  canvas: HTMLCanvasElement;
  sWidth: number;
  sHeight: number;
  suppressEvents?: boolean;
  viewportStatus?: unknown;
}

interface EngineImplementation {
  id: string;
  contextPool?: ContextPool;
  _copyToOnscreenCanvas?: (viewport: ViewportLike, offscreen: HTMLCanvasElement) => unknown;
}

const scaledCopyInstalled = new WeakSet<object>();

/**
 * Makes the engine's copy to the on-screen canvas scale the offscreen picture when the offscreen
 * canvas is smaller than its context's largest viewport (at full size: Cornerstone3D's own copy).
 */
function installScaledCopy(impl: EngineImplementation, pool: ContextPool): boolean {
  if (scaledCopyInstalled.has(impl)) return true;
  const original = impl._copyToOnscreenCanvas;
  if (typeof original !== 'function') return false;
  impl._copyToOnscreenCanvas = function (this: EngineImplementation, viewport: ViewportLike, offscreen: HTMLCanvasElement) {
    const index = pool.getContextIndexForViewport(viewport.id);
    const max = index === undefined ? undefined : pool.getMaxSizeForContext(index);
    if (!max || !max.width || !max.height || (offscreen.width === max.width && offscreen.height === max.height)) return original.call(this, viewport, offscreen);
    const { canvas, element, sWidth, sHeight } = viewport;
    if (canvas.width !== sWidth || canvas.height !== sHeight) {
      canvas.width = sWidth;
      canvas.height = sHeight;
      canvas.style.aspectRatio = `${sWidth} / ${sHeight}`;
    }
    // The plane's renderer covers [0, sWidth / max.width] × [0, sHeight / max.height] of the
    // offscreen canvas, from its bottom-left corner (GL's origin).
    const w = (sWidth * offscreen.width) / max.width;
    const h = (sHeight * offscreen.height) / max.height;
    canvas.getContext('2d')!.drawImage(offscreen, 0, offscreen.height - h, w, h, 0, 0, sWidth, sHeight);
    return { element, suppressEvents: viewport.suppressEvents, viewportId: viewport.id, renderingEngineId: this.id, viewportStatus: viewport.viewportStatus };
  };
  scaledCopyInstalled.add(impl);
  return true;
}

export interface ReducedCanvas {
  /** True while the planes are drawn into the reduced canvas. */
  readonly on: boolean;
  set(on: boolean): void;
}

/**
 * The switch that draws the given viewports into an offscreen canvas of 1/`factor` of the width
 * and height (1/factor² of the pixels) while on. Null when Cornerstone3D's engine is not the
 * context-pool engine this was written against (then nothing changes).
 */
export function reducedCanvas(engine: RenderingEngine, viewportIds: string[], factor: number): ReducedCanvas | null {
  const impl = (engine as unknown as { _implementation?: EngineImplementation })._implementation;
  const pool = impl?.contextPool;
  if (!impl || !pool || typeof pool.getContextIndexForViewport !== 'function' || typeof pool.getContextByIndex !== 'function' || typeof pool.getMaxSizeForContext !== 'function') return null;
  const contexts = new Set<number>();
  for (const id of viewportIds) {
    const i = pool.getContextIndexForViewport(id);
    if (i === undefined) return null;
    contexts.add(i);
  }
  for (const i of contexts) if (typeof pool.getContextByIndex(i)?.context?.resize !== 'function') return null;
  if (!installScaledCopy(impl, pool)) return null;
  let on = false;
  return {
    get on() {
      return on;
    },
    set(next: boolean) {
      if (next === on) return;
      on = next;
      for (const i of contexts) {
        const ctx = pool.getContextByIndex(i);
        const max = pool.getMaxSizeForContext(i);
        if (!ctx || !max || !max.width || !max.height) continue;
        const width = next ? Math.max(1, Math.round(max.width / factor)) : max.width;
        const height = next ? Math.max(1, Math.round(max.height / factor)) : max.height;
        if (ctx.container.width === width && ctx.container.height === height) continue;
        ctx.container.width = width;
        ctx.container.height = height;
        ctx.context.resize();
      }
    },
  };
}

interface VolumeProperty {
  getInterpolationType(): number;
  setInterpolationType(t: number): unknown;
}

/** vtk.js's InterpolationType.NEAREST. */
const NEAREST = 0;

/**
 * While on, the volumes of the given viewports are sampled at the nearest voxel; off puts back
 * each one's own interpolation. Only the texture's filter changes (vtk.js sets it before every
 * draw from the property), not the shader.
 */
export function nearestSampling(viewports: () => (Types.IVolumeViewport | null)[]): { set(on: boolean): void } {
  let saved: [VolumeProperty, number][] = [];
  return {
    set(on: boolean) {
      if (on && saved.length === 0) {
        for (const vp of viewports()) {
          const prop = (vp?.getDefaultActor()?.actor as { getProperty?(): VolumeProperty } | undefined)?.getProperty?.();
          if (!prop || typeof prop.getInterpolationType !== 'function' || typeof prop.setInterpolationType !== 'function') continue;
          const t = prop.getInterpolationType();
          if (t === NEAREST) continue;
          saved.push([prop, t]);
          prop.setInterpolationType(NEAREST);
        }
      } else if (!on) {
        for (const [prop, t] of saved) prop.setInterpolationType(t);
        saved = [];
      }
    },
  };
}

type ViewReference = ReturnType<Types.IViewport['getViewReference']>;

/**
 * Keeps a volume viewport's view reference (asked for without a specifier) until its camera, slab
 * or volume changes; callers get their own copy. Returns the function that puts the original back.
 */
export function cacheViewReference(viewport: Types.IVolumeViewport): () => void {
  const vp = viewport as Types.IVolumeViewport & { getViewReference(spec?: Record<string, unknown>): ViewReference };
  const own = Object.prototype.hasOwnProperty.call(vp, 'getViewReference');
  const original = vp.getViewReference;
  let key = '';
  let value: ViewReference | null = null;
  let broken = false;
  vp.getViewReference = function (spec?: Record<string, unknown>) {
    if (broken || (spec && Object.keys(spec).length > 0)) return original.call(this, spec);
    const c = this.getCamera();
    const k = `${c.focalPoint}|${c.position}|${c.viewPlaneNormal}|${c.viewUp}|${c.parallelScale}|${this.getSlabThickness()}|${this.getVolumeId()}`;
    if (k !== key || value === null) {
      value = original.call(this, spec);
      key = k;
    }
    try {
      return structuredClone(value);
    } catch {
      // Something in it cannot be copied: no caching for this viewport.
      broken = true;
      return original.call(this, spec);
    }
  };
  return () => {
    if (own) vp.getViewReference = original;
    else delete (vp as { getViewReference?: unknown }).getViewReference;
  };
}
