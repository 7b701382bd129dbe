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
 *    Where WebGL 2 allows it, the reduced planes' pixels are read back without waiting (3., AsyncReadbacks).
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

/** Cornerstone3D's Events.IMAGE_RENDERED (named here so this file needs no runtime import of core). */
const IMAGE_RENDERED = 'CORNERSTONE_IMAGE_RENDERED';

/** Readbacks on their way beyond which a plane is copied synchronously (a drag has two or three). */
const MAX_PENDING = 8;

interface Readback {
  viewport: ViewportLike;
  detail: Record<string, unknown>;
  /** The plane's part of the offscreen canvas (GL's bottom-left origin): w × h, read as rw × rh whole pixels. */
  w: number;
  h: number;
  rw: number;
  rh: number;
  sWidth: number;
  sHeight: number;
  pbo: WebGLBuffer;
  sync: WebGLSync;
}

/**
 * 3. The reduced planes' pixels read back without waiting (WebGL 2 only). Cornerstone3D's copy
 *    (drawImage of the WebGL canvas) is a synchronous readback: the main thread waits while the
 *    GPU process (SwiftShader: CPU) draws the plane, ≈ 8 ms of a drag frame's main thread here for
 *    two planes, in which neither the next input nor anything else can run. While the canvas is
 *    reduced, each plane's pixels are instead copied into a pixel-pack buffer behind its draw,
 *    with a fence; a later task, once the fence has passed, puts them into the plane's canvas
 *    (scaled up and flipped to the canvas's top-down rows, as the synchronous copy does) and only
 *    then fires the plane's IMAGE_RENDERED. Same pixels, drawn one task later; the main thread is
 *    free meanwhile. A full-size (synchronous) copy of a plane drops its readbacks still on their
 *    way, so an older reduced frame never lands over a full-resolution one.
 */
class AsyncReadbacks {
  private readonly pending: Readback[] = [];
  private readonly spare: WebGLBuffer[] = [];
  private scratch: { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D; image: ImageData } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly gl: WebGL2RenderingContext) {}

  /** Queues the readback of the plane just drawn; false when it could not be queued (then copy synchronously). */
  start(viewport: ViewportLike, offscreen: { width: number; height: number }, w: number, h: number, detail: Record<string, unknown>): boolean {
    const { gl } = this;
    // Fences that never pass (a driver's fault) would pile frames up: then copy synchronously.
    if (gl.isContextLost() || this.pending.length >= MAX_PENDING) return false;
    const rw = Math.min(offscreen.width, Math.ceil(w));
    const rh = Math.min(offscreen.height, Math.ceil(h));
    if (rw < 1 || rh < 1) return false;
    const pbo = this.spare.pop() ?? gl.createBuffer();
    if (!pbo) return false;
    const packBinding = gl.getParameter(gl.PIXEL_PACK_BUFFER_BINDING) as WebGLBuffer | null;
    const readBinding = gl.getParameter(gl.READ_FRAMEBUFFER_BINDING) as WebGLFramebuffer | null;
    let sync: WebGLSync | null = null;
    try {
      gl.bindFramebuffer(gl.READ_FRAMEBUFFER, null);
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, pbo);
      gl.bufferData(gl.PIXEL_PACK_BUFFER, rw * rh * 4, gl.STREAM_READ);
      gl.readPixels(0, 0, rw, rh, gl.RGBA, gl.UNSIGNED_BYTE, 0);
      sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
      gl.flush();
    } finally {
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, packBinding);
      gl.bindFramebuffer(gl.READ_FRAMEBUFFER, readBinding);
    }
    if (!sync) {
      this.spare.push(pbo);
      return false;
    }
    this.pending.push({ viewport, detail, w, h, rw, rh, sWidth: viewport.sWidth, sHeight: viewport.sHeight, pbo, sync });
    this.schedule();
    return true;
  }

  /** Forgets the readbacks still on their way (of one viewport, or all). */
  drop(viewportId?: string): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const r = this.pending[i]!;
      if (viewportId !== undefined && r.viewport.id !== viewportId) continue;
      this.pending.splice(i, 1);
      this.release(r);
    }
  }

  private release(r: Readback): void {
    if (this.gl.isContextLost()) return;
    this.gl.deleteSync(r.sync);
    this.spare.push(r.pbo);
  }

  private schedule(): void {
    if (this.timer === null && this.pending.length > 0) this.timer = setTimeout(() => this.poll(), 0);
  }

  /** Puts every readback whose fence has passed into its canvas (in order; of a plane's several, only its newest is drawn). */
  private poll(): void {
    this.timer = null;
    const { gl } = this;
    if (gl.isContextLost()) {
      this.pending.length = 0;
      return;
    }
    let ready = 0;
    while (ready < this.pending.length && gl.getSyncParameter(this.pending[ready]!.sync, gl.SYNC_STATUS) === gl.SIGNALED) ready++;
    const done = this.pending.splice(0, ready);
    for (let i = 0; i < done.length; i++) {
      const r = done[i]!;
      const newer = done.slice(i + 1).some((d) => d.viewport.id === r.viewport.id);
      if (!newer) this.draw(r);
      this.release(r);
    }
    this.schedule();
  }

  private draw(r: Readback): void {
    const { gl } = this;
    const { canvas, element } = r.viewport;
    if (canvas.width !== r.sWidth || canvas.height !== r.sHeight) return;
    if (!this.scratch || this.scratch.image.width !== r.rw || this.scratch.image.height !== r.rh) {
      const c = this.scratch?.canvas ?? canvas.ownerDocument.createElement('canvas');
      c.width = r.rw;
      c.height = r.rh;
      const ctx = c.getContext('2d');
      if (!ctx) return;
      this.scratch = { canvas: c, ctx, image: ctx.createImageData(r.rw, r.rh) };
    }
    const { ctx, image } = this.scratch;
    const packBinding = gl.getParameter(gl.PIXEL_PACK_BUFFER_BINDING) as WebGLBuffer | null;
    gl.bindBuffer(gl.PIXEL_PACK_BUFFER, r.pbo);
    gl.getBufferSubData(gl.PIXEL_PACK_BUFFER, 0, image.data);
    gl.bindBuffer(gl.PIXEL_PACK_BUFFER, packBinding);
    // Opaque, as the plane is drawn over its black background (the synchronous copy draws it over the canvas).
    const px = image.data;
    for (let i = 3; i < px.length; i += 4) px[i] = 255;
    ctx.putImageData(image, 0, 0);
    // Row 0 of the readback is the bottom of the plane: drawn flipped.
    const out = canvas.getContext('2d')!;
    out.save();
    out.setTransform(1, 0, 0, -1, 0, r.sHeight);
    out.drawImage(this.scratch.canvas, 0, 0, r.w, r.h, 0, 0, r.sWidth, r.sHeight);
    out.restore();
    element.dispatchEvent(new CustomEvent(IMAGE_RENDERED, { detail: r.detail, cancelable: true }));
  }
}

const readbacks = new WeakMap<object, AsyncReadbacks>();

/** The context's asynchronous readbacks, or null when the canvas has no WebGL 2 context with fences. */
function readbacksFor(offscreen: HTMLCanvasElement): AsyncReadbacks | null {
  const gl = (typeof offscreen.getContext === 'function' ? offscreen.getContext('webgl2') : null) as WebGL2RenderingContext | null;
  if (!gl || typeof gl.fenceSync !== 'function' || typeof gl.getBufferSubData !== 'function') return null;
  let r = readbacks.get(gl);
  if (!r) {
    r = new AsyncReadbacks(gl);
    readbacks.set(gl, r);
  }
  return r;
}

/**
 * Makes the engine's copy to the on-screen canvas scale the offscreen picture when the offscreen
 * canvas is smaller than its context's largest viewport (at full size: Cornerstone3D's own copy),
 * through an asynchronous readback when the context allows it (see AsyncReadbacks).
 */
function installScaledCopy(impl: EngineImplementation, pool: ContextPool): boolean {
  if (scaledCopyInstalled.has(impl)) return true;
  const original = impl._copyToOnscreenCanvas;
  if (typeof original !== 'function') return false;
  impl._copyToOnscreenCanvas = function (this: EngineImplementation, viewport: ViewportLike, offscreen: HTMLCanvasElement) {
    const index = pool.getContextIndexForViewport(viewport.id);
    const max = index === undefined ? undefined : pool.getMaxSizeForContext(index);
    const async = readbacksFor(offscreen);
    if (!max || !max.width || !max.height || (offscreen.width === max.width && offscreen.height === max.height)) {
      async?.drop(viewport.id);
      return original.call(this, viewport, offscreen);
    }
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
    const detail = { element, suppressEvents: viewport.suppressEvents, viewportId: viewport.id, renderingEngineId: this.id, viewportStatus: viewport.viewportStatus };
    // No detail back: the engine then fires no IMAGE_RENDERED; the readback fires it once the pixels are in the canvas.
    if (async?.start(viewport, offscreen, w, h, detail)) return undefined;
    async?.drop(viewport.id);
    canvas.getContext('2d')!.drawImage(offscreen, 0, offscreen.height - h, w, h, 0, 0, sWidth, sHeight);
    return detail;
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
