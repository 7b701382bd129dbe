/**
 * The CPU renderer's image shown as a layer of the image's own size, placed by a CSS transform.
 *
 * Cornerstone3D's CPU renderer windows the stored values into a canvas of the image's size (512²
 * for a CT) and then, every frame, clears the viewport's canvas (1920×1080 at full screen) and
 * draws that image into it through its 2D transform (zoom, pan, rotation, flips), smoothed. That
 * clear and scaled draw were a fifth of a scroll step. Here the image-sized canvas itself is put on
 * screen, over the viewport's canvas and under the annotation layer, with the very same transform as
 * a CSS `matrix()`: a scroll step then only windows and puts 512² pixels, and the compositor scales
 * them (bilinear, as the smoothed draw did; nearest neighbour when the viewport asks for pixel
 * replication, as Cornerstone3D's `imageSmoothingEnabled = !pixelReplication` did).
 *
 * Every coordinate stays Cornerstone3D's: the viewport's canvas keeps its size and transform, so
 * tools, measurements and overlays map points exactly as before. Only the draw call changes: the
 * renderer is handed a recording stand-in for the viewport's canvas context for the duration of a
 * render; when the draw is the usual one (the whole image-sized canvas the renderer owns, through a
 * transform) it becomes the layer's transform, and anything else (a partial displayed area, a colour
 * image drawn from the image's own canvas, a call not understood) is replayed on the real context
 * as the renderer meant it, the layer hidden.
 */
import type { StackViewport } from '@cornerstonejs/core';

/** Class of the on-screen image layer (what e2e specs read the drawn pixels from). */
export const IMAGE_LAYER_CLASS = 'viewport__image';

interface CpuEnabledElement {
  canvas: HTMLCanvasElement;
  image?: unknown;
  renderingTools?: { renderCanvas?: HTMLCanvasElement };
}

interface CpuStack {
  useCPURendering?: boolean;
  canvas: HTMLCanvasElement;
  _cpuFallbackEnabledElement?: CpuEnabledElement;
  customRenderViewportToCanvas(): unknown;
}

type Op = (c: CanvasRenderingContext2D) => void;

/**
 * Wraps the viewport's CPU render so its image is shown as a transformed layer. Returns the undo
 * (restores the render, removes the layer).
 */
export function showCpuImageAsLayer(viewport: StackViewport): () => void {
  const vp = viewport as unknown as CpuStack;
  const original = vp.customRenderViewportToCanvas;
  let shown: HTMLCanvasElement | null = null;
  /** The real canvas's size when it was last filled black under the layer ('' = it holds a drawn image). */
  let blackAt = '';

  const hide = () => {
    shown?.remove();
    shown = null;
  };

  const render = () => {
    const ee = vp._cpuFallbackEnabledElement;
    const real = vp.canvas;
    if (!vp.useCPURendering || !ee || !ee.image || ee.canvas !== real) {
      hide();
      blackAt = '';
      return original();
    }
    const ctx = real.getContext('2d');
    if (!ctx) return original();
    const ops: Op[] = [];
    let passthrough = false;
    let smoothing = true;
    let matrix: number[] = [1, 0, 0, 1, 0, 0];
    const replay = () => {
      if (passthrough) return;
      passthrough = true;
      for (const op of ops) op(ctx);
      ops.length = 0;
      hide();
      blackAt = '';
    };
    const drawImage = (...a: unknown[]) => {
      const [src, sx, sy, sw, sh, dx, dy, dw, dh] = a as [HTMLCanvasElement, number, number, number, number, number, number, number, number];
      const owned = ee.renderingTools?.renderCanvas;
      const whole = a.length === 9 && src === owned && sx === 0 && sy === 0 && sw === src.width && sh === src.height && dx === 0 && dy === 0 && dw === sw && dh === sh;
      if (passthrough || !whole) {
        replay();
        (ctx.drawImage as (...x: unknown[]) => void)(...a);
        return;
      }
      // The real canvas under the layer: black (filled once per size; a resize clears it).
      const size = `${real.width}×${real.height}`;
      if (blackAt !== size) {
        for (const op of ops) op(ctx);
        blackAt = size;
      }
      ops.length = 0;
      place(src, real, matrix, smoothing);
    };
    const place = (layer: HTMLCanvasElement, under: HTMLCanvasElement, m: number[], smooth: boolean) => {
      if (shown !== layer) {
        hide();
        shown = layer;
        layer.className = IMAGE_LAYER_CLASS;
        const s = layer.style;
        s.position = 'absolute';
        s.left = '0';
        s.top = '0';
        s.transformOrigin = '0 0';
        s.pointerEvents = 'none';
        s.willChange = 'transform';
      }
      // CSS pixels: the canvas's box is its width × height CSS pixels, mapped by the transform
      // (the renderer resizes the same canvas for an image of another size).
      const w = `${layer.width}px`;
      const h = `${layer.height}px`;
      if (layer.style.width !== w) layer.style.width = w;
      if (layer.style.height !== h) layer.style.height = h;
      if (layer.previousElementSibling !== under) under.after(layer);
      const dpr = window.devicePixelRatio || 1;
      const t = `matrix(${m.map((v) => v / dpr).join(',')})`;
      if (layer.style.transform !== t) layer.style.transform = t;
      const rendering = smooth ? 'auto' : 'pixelated';
      if (layer.style.imageRendering !== rendering) layer.style.imageRendering = rendering;
    };
    const stand = new Proxy(ctx, {
      get(target, key) {
        if (!passthrough) {
          if (key === 'setTransform')
            return (...a: number[]) => {
              matrix = a;
              ops.push((c) => c.setTransform(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!));
            };
          if (key === 'fillRect') return (...a: number[]) => ops.push((c) => c.fillRect(a[0]!, a[1]!, a[2]!, a[3]!));
          if (key === 'drawImage') return drawImage;
          if (key === 'imageSmoothingEnabled') return smoothing;
          if (key === 'canvas') return real;
          replay();
        }
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
      set(target, key, value) {
        if (!passthrough) {
          if (key === 'imageSmoothingEnabled') {
            smoothing = !!value;
            ops.push((c) => (c.imageSmoothingEnabled = !!value));
            return true;
          }
          if (key === 'fillStyle') {
            ops.push((c) => (c.fillStyle = value as string));
            return true;
          }
          replay();
        }
        return Reflect.set(target, key, value, target);
      },
    });
    // The renderer reads the canvas's size and its 2D context: the same size, the stand-in context.
    const standIn = {
      get width() {
        return real.width;
      },
      get height() {
        return real.height;
      },
      getContext: () => stand,
    } as unknown as HTMLCanvasElement;
    ee.canvas = standIn;
    try {
      return original();
    } finally {
      ee.canvas = real;
      // Whatever was recorded but not drawn (no drawImage came) goes to the real canvas.
      if (!passthrough && ops.length) replay();
    }
  };
  vp.customRenderViewportToCanvas = render;
  return () => {
    vp.customRenderViewportToCanvas = original;
    hide();
  };
}
