/**
 * Cornerstone3D's WebGL contexts without multisampling.
 *
 * vtk.js asks for its context with WebGL's defaults, so `antialias` is on: every context's default
 * framebuffer is then a 4× multisampled colour buffer plus a 4× multisampled depth/stencil buffer
 * beside the resolved one — nine times the canvas's pixels × 4 bytes. Under a software rasteriser
 * that is ordinary memory of the GPU process (Chromium's memory-infra, 1920×1080 window: 46.4 MiB
 * for the stack engine's context, sized to the stack viewport though stacks draw on the CPU there,
 * and 15.2 MiB for the MPR's pane-sized one, where 10.3 / 3.4 MiB are enough; the GPU process of
 * the empty viewer held 61 MiB instead of 107, uninstrumented). Nothing the viewer draws in WebGL
 * gains from it: a volume plane is one full-viewport ray cast and an image one textured quad, whose
 * pixels are computed per fragment; multisampling only smooths polygon edges, and the crosshairs,
 * annotations and overlays are SVG/HTML above the canvas.
 *
 * WebGL keeps the attributes of the first getContext on a canvas, and Cornerstone3D's engine
 * creates its pool's contexts inside its constructor (vtk.js's interactor draws once when it is
 * initialised), with vtk.js's own options. So the engine is constructed with canvases' WebGL
 * getContext asking for `antialias: false` on top of whatever else the caller asks; the
 * prototype is restored as soon as the (synchronous) constructor returns.
 */
import type { RenderingEngine } from '@cornerstonejs/core';

interface VtkRenderWindow {
  getCanvas?(): HTMLCanvasElement | null;
  getInitialized?(): boolean;
}

/** The parts of Cornerstone3D's context pool (engine._implementation.contextPool) read here. */
interface Pool {
  getAllContexts?(): { getOpenGLRenderWindow?(): VtkRenderWindow | undefined }[];
  getContextByIndex?(i: number): { context: { resize?(): void }; container: { width: number; height: number } } | null;
}

function contextPool(engine: RenderingEngine): Pool | undefined {
  return (engine as unknown as { _implementation?: { contextPool?: Pool } })._implementation?.contextPool;
}

function poolWindows(engine: RenderingEngine): VtkRenderWindow[] {
  const contexts = contextPool(engine)?.getAllContexts?.() ?? [];
  return contexts.map((c) => c.getOpenGLRenderWindow?.()).filter((w): w is VtkRenderWindow => Boolean(w));
}

const WEBGL = new Set(['webgl2', 'webgl', 'experimental-webgl']);

/** Runs `create` (a RenderingEngine's construction) with every WebGL context it creates single-sampled. */
export function withSingleSampleContexts<T>(create: () => T): T {
  const proto = HTMLCanvasElement.prototype;
  const original = proto.getContext;
  const patched = function (this: HTMLCanvasElement, type: string, options?: Record<string, unknown>) {
    return original.call(this, type, WEBGL.has(type) ? { ...(options ?? {}), antialias: false } : options);
  };
  proto.getContext = patched as typeof original;
  try {
    return create();
  } finally {
    if (proto.getContext === (patched as typeof original)) proto.getContext = original;
  }
}

/** The attributes of each initialised context of the engine's pool (read by the tests). */
export function contextAttributes(engine: RenderingEngine): (WebGLContextAttributes | null)[] {
  return poolWindows(engine)
    .filter((w) => w.getInitialized?.() === true)
    .map((w) => (w.getCanvas?.()?.getContext('webgl2') as WebGL2RenderingContext | null)?.getContextAttributes() ?? null);
}

/**
 * Makes the engine's offscreen WebGL canvases 1×1 once no viewport is left in it. Cornerstone3D
 * sizes each canvas to its largest viewport when one is added, but leaves it at that size when the
 * last one goes: the stack engine's canvas (the reading area's size) kept its drawing buffer and
 * the shared images behind it in the GPU process all the while the MPR replaced the stack view
 * (memory-infra, 1920×1080: four 5.2 MiB shared images). The next viewport added sizes it again.
 * Returns how many canvases were made small.
 */
export function shrinkIdleContexts(engine: RenderingEngine): number {
  try {
    if (engine.getViewports().length > 0) return 0;
  } catch {
    return 0;
  }
  const pool = contextPool(engine);
  const n = pool?.getAllContexts?.().length ?? 0;
  let shrunk = 0;
  for (let i = 0; i < n; i++) {
    const d = pool?.getContextByIndex?.(i);
    if (!d || typeof d.context.resize !== 'function' || (d.container.width <= 1 && d.container.height <= 1)) continue;
    d.container.width = 1;
    d.container.height = 1;
    try {
      d.context.resize();
      shrunk++;
    } catch {
      /* the context is gone */
    }
  }
  return shrunk;
}

/** The sizes of the engine's offscreen WebGL canvases (read by the tests). */
export function offscreenCanvasSizes(engine: RenderingEngine): [number, number][] {
  return poolWindows(engine).map((w) => {
    const c = w.getCanvas?.();
    return [c?.width ?? 0, c?.height ?? 0];
  });
}
