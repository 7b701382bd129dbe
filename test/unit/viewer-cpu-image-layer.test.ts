import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackViewport } from '@cornerstonejs/core';
import { IMAGE_LAYER_CLASS, showCpuImageAsLayer } from '../../src/renderer/viewer/cpuImageLayer';

type Call = [string, ...unknown[]];

/** Just enough of a canvas element and its 2D context: calls recorded, DOM placement tracked. */
function fakeCanvas(width: number, height: number) {
  const calls: Call[] = [];
  const ctx = {
    fillStyle: '',
    imageSmoothingEnabled: true,
    setTransform: (...a: number[]) => calls.push(['setTransform', ...a]),
    fillRect: (...a: number[]) => calls.push(['fillRect', ...a]),
    clearRect: (...a: number[]) => calls.push(['clearRect', ...a]),
    drawImage: (...a: unknown[]) => calls.push(['drawImage', ...a]),
  };
  const el = {
    width,
    height,
    className: '',
    style: {} as Record<string, string>,
    previousElementSibling: null as unknown,
    inDom: false,
    calls,
    getContext: () => ctx,
    after(x: { previousElementSibling: unknown; inDom: boolean }) {
      x.previousElementSibling = el;
      x.inDom = true;
    },
    remove() {
      el.inDom = false;
      el.previousElementSibling = null;
    },
  };
  return el;
}

/** A stack viewport on the CPU path whose render does what Cornerstone3D's renderGrayscaleImage does. */
function fakeViewport(draw: { sx?: number; smoothing?: boolean; image?: boolean } = {}) {
  const real = fakeCanvas(1614, 980);
  const renderCanvas = fakeCanvas(512, 512);
  const ee = { canvas: real as unknown, image: draw.image === false ? undefined : {}, renderingTools: { renderCanvas } };
  const vp = {
    useCPURendering: true,
    canvas: real,
    _cpuFallbackEnabledElement: ee,
    renders: 0,
    customRenderViewportToCanvas() {
      vp.renders++;
      const c = (ee.canvas as { getContext(t: string): ReturnType<typeof real.getContext> }).getContext('2d');
      const w = (ee.canvas as { width: number }).width;
      const h = (ee.canvas as { height: number }).height;
      c.setTransform(1, 0, 0, 1, 0, 0);
      c.fillStyle = 'black';
      c.fillRect(0, 0, w, h);
      c.imageSmoothingEnabled = draw.smoothing ?? true;
      c.setTransform(1.9, 0, 0, 1.9, 317, 0);
      const sx = draw.sx ?? 0;
      c.drawImage(renderCanvas, sx, 0, 512 - sx, 512, 0, 0, 512 - sx, 512);
      return { canvas: real };
    },
  };
  return { vp, real, renderCanvas, ee };
}

const named = (calls: Call[], name: string) => calls.filter((c) => c[0] === name);

describe('CPU renderer image shown as a transformed layer', () => {
  const g = globalThis as { window?: unknown };
  const before = g.window;
  beforeAll(() => {
    g.window = { devicePixelRatio: 1 };
  });
  afterAll(() => {
    g.window = before;
  });

  it('puts the image-sized canvas on screen with the renderer\'s transform instead of a scaled draw', () => {
    const { vp, real, renderCanvas } = fakeViewport();
    showCpuImageAsLayer(vp as unknown as StackViewport);
    vp.customRenderViewportToCanvas();
    expect(renderCanvas.inDom).toBe(true);
    expect(renderCanvas.previousElementSibling).toBe(real);
    expect(renderCanvas.className).toBe(IMAGE_LAYER_CLASS);
    expect(renderCanvas.style.transform).toBe('matrix(1.9,0,0,1.9,317,0)');
    expect(renderCanvas.style.imageRendering).toBe('auto');
    expect(renderCanvas.style.width).toBe('512px');
    // the viewport's canvas: filled black once, never drawn into
    expect(named(real.calls, 'drawImage')).toHaveLength(0);
    expect(named(real.calls, 'fillRect')).toEqual([['fillRect', 0, 0, 1614, 980]]);
    vp.customRenderViewportToCanvas();
    expect(named(real.calls, 'fillRect')).toHaveLength(1);
    expect(vp._cpuFallbackEnabledElement.canvas).toBe(real);
  });

  it('fills black again after the viewport canvas changed size (a resize clears it)', () => {
    const { vp, real } = fakeViewport();
    showCpuImageAsLayer(vp as unknown as StackViewport);
    vp.customRenderViewportToCanvas();
    real.width = 800;
    vp.customRenderViewportToCanvas();
    expect(named(real.calls, 'fillRect')).toEqual([
      ['fillRect', 0, 0, 1614, 980],
      ['fillRect', 0, 0, 800, 980],
    ]);
  });

  it('keeps nearest-neighbour pixels when the viewport asks for pixel replication', () => {
    const { vp, renderCanvas } = fakeViewport({ smoothing: false });
    showCpuImageAsLayer(vp as unknown as StackViewport);
    vp.customRenderViewportToCanvas();
    expect(renderCanvas.style.imageRendering).toBe('pixelated');
  });

  it('replays any other draw (a partial displayed area) on the real canvas, the layer hidden', () => {
    const draw: { sx?: number } = {};
    const { vp, real, renderCanvas } = fakeViewport(draw);
    const undo = showCpuImageAsLayer(vp as unknown as StackViewport);
    vp.customRenderViewportToCanvas();
    expect(renderCanvas.inDom).toBe(true);
    draw.sx = 10; // now only part of the image is drawn
    vp.customRenderViewportToCanvas();
    expect(renderCanvas.inDom).toBe(false);
    expect(named(real.calls, 'drawImage')).toEqual([['drawImage', renderCanvas, 10, 0, 502, 512, 0, 0, 502, 512]]);
    expect(named(real.calls, 'setTransform').at(-1)).toEqual(['setTransform', 1.9, 0, 0, 1.9, 317, 0]);
    expect(named(real.calls, 'fillRect')).toHaveLength(2);
    // the whole image again: back on the layer (the real canvas filled black under it)
    draw.sx = 0;
    vp.customRenderViewportToCanvas();
    expect(renderCanvas.inDom).toBe(true);
    expect(named(real.calls, 'fillRect')).toHaveLength(3);
    undo();
    expect(renderCanvas.inDom).toBe(false);
  });

  it('leaves a viewport without an image to the renderer as it was', () => {
    const { vp, real, renderCanvas } = fakeViewport({ image: false });
    showCpuImageAsLayer(vp as unknown as StackViewport);
    vp.customRenderViewportToCanvas();
    expect(vp.renders).toBe(1);
    expect(renderCanvas.inDom).toBe(false);
    expect(named(real.calls, 'drawImage')).toHaveLength(1);
  });
});
