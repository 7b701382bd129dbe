import { afterEach, describe, expect, it } from 'vitest';
import type { RenderingEngine } from '@cornerstonejs/core';
import { offscreenCanvasSizes, shrinkIdleContexts, withSingleSampleContexts } from '../../src/renderer/viewer/glContexts';

/** A stand-in for the DOM's canvas class: records what each getContext was asked. */
class FakeCanvas {
  static asked: [string, unknown][] = [];
  width = 300;
  height = 150;
  getContext(type: string, options?: unknown): unknown {
    FakeCanvas.asked.push([type, options]);
    return { type };
  }
}

const g = globalThis as unknown as { HTMLCanvasElement?: unknown };
const had = 'HTMLCanvasElement' in g;
const before = g.HTMLCanvasElement;

afterEach(() => {
  FakeCanvas.asked = [];
  if (had) g.HTMLCanvasElement = before;
  else delete g.HTMLCanvasElement;
});

describe('withSingleSampleContexts', () => {
  it('asks for WebGL contexts without antialias while the engine is built, and leaves other calls and later calls alone', () => {
    g.HTMLCanvasElement = FakeCanvas;
    const original = FakeCanvas.prototype.getContext;
    const c = new FakeCanvas();
    const out = withSingleSampleContexts(() => {
      c.getContext('webgl2', { depth: true, alpha: true });
      c.getContext('webgl');
      c.getContext('2d', { willReadFrequently: true });
      return 7;
    });
    expect(out).toBe(7);
    c.getContext('webgl2', { depth: true });
    expect(FakeCanvas.asked).toEqual([
      ['webgl2', { depth: true, alpha: true, antialias: false }],
      ['webgl', { antialias: false }],
      ['2d', { willReadFrequently: true }],
      ['webgl2', { depth: true }],
    ]);
    expect(FakeCanvas.prototype.getContext).toBe(original);
  });

  it('restores getContext when the construction throws', () => {
    g.HTMLCanvasElement = FakeCanvas;
    const original = FakeCanvas.prototype.getContext;
    expect(() =>
      withSingleSampleContexts(() => {
        throw new Error('no engine');
      }),
    ).toThrow('no engine');
    expect(FakeCanvas.prototype.getContext).toBe(original);
  });
});

/** Just enough of Cornerstone3D's context-pool engine: `n` offscreen windows of the given size. */
function fakeEngine(viewports: number, n = 2, size = { width: 1500, height: 900 }) {
  const resizes: number[] = [];
  const canvases = Array.from({ length: n }, () => ({ width: size.width, height: size.height }));
  const containers = Array.from({ length: n }, () => ({ ...size }));
  const contexts = canvases.map((canvas, i) => ({
    resize: () => {
      resizes.push(i);
      canvas.width = containers[i]!.width;
      canvas.height = containers[i]!.height;
    },
    getOpenGLRenderWindow: () => ({ getCanvas: () => canvas, getInitialized: () => true }),
  }));
  const impl = {
    contextPool: {
      getAllContexts: () => contexts,
      getContextByIndex: (i: number) => (i < n ? { context: contexts[i]!, container: containers[i]! } : null),
    },
  };
  const engine = { _implementation: impl, getViewports: () => Array.from({ length: viewports }, (_, i) => ({ id: `vp${i}` })) } as unknown as RenderingEngine;
  return { engine, resizes, containers };
}

describe('shrinkIdleContexts', () => {
  it('makes every offscreen canvas 1×1 once the engine has no viewport', () => {
    const f = fakeEngine(0);
    expect(offscreenCanvasSizes(f.engine)).toEqual([
      [1500, 900],
      [1500, 900],
    ]);
    expect(shrinkIdleContexts(f.engine)).toBe(2);
    expect(f.resizes).toEqual([0, 1]);
    expect(offscreenCanvasSizes(f.engine)).toEqual([
      [1, 1],
      [1, 1],
    ]);
    // Already small: nothing to do.
    expect(shrinkIdleContexts(f.engine)).toBe(0);
  });

  it('leaves the canvases of an engine that still has a viewport', () => {
    const f = fakeEngine(1);
    expect(shrinkIdleContexts(f.engine)).toBe(0);
    expect(f.resizes).toEqual([]);
    expect(f.containers).toEqual([
      { width: 1500, height: 900 },
      { width: 1500, height: 900 },
    ]);
  });

  it('does nothing for an engine without a context pool (CPU rendering)', () => {
    const engine = { _implementation: {}, getViewports: () => [] } as unknown as RenderingEngine;
    expect(shrinkIdleContexts(engine)).toBe(0);
    expect(offscreenCanvasSizes(engine)).toEqual([]);
  });
});
