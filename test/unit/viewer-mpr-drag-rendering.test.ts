import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RenderingEngine, Types } from '@cornerstonejs/core';
import { cacheViewReference, nearestSampling, reducedCanvas } from '../../src/renderer/viewer/mpr/dragRendering';

/** Just enough of Cornerstone3D's context-pool engine: one context shared by the viewports, its copy recorded. */
function fakeEngine(viewports: Record<string, { w: number; h: number }>) {
  const max = { width: Math.max(...Object.values(viewports).map((v) => v.w)), height: Math.max(...Object.values(viewports).map((v) => v.h)) };
  const container = { width: max.width, height: max.height };
  const resizes: [number, number][] = [];
  const originalCopies: string[] = [];
  const impl = {
    id: 'engine',
    contextPool: {
      getContextIndexForViewport: (id: string) => (id in viewports ? 0 : undefined),
      getContextByIndex: (i: number) => (i === 0 ? { context: { resize: () => resizes.push([container.width, container.height]) }, container } : null),
      getMaxSizeForContext: (i: number) => (i === 0 ? max : undefined),
    },
    _copyToOnscreenCanvas(viewport: { id: string }) {
      originalCopies.push(viewport.id);
      return { viewportId: viewport.id, original: true };
    },
  };
  return { engine: { _implementation: impl } as unknown as RenderingEngine, impl, container, resizes, originalCopies, max };
}

function fakeViewport(id: string, w: number, h: number) {
  const draws: unknown[][] = [];
  const transforms: number[][] = [];
  const events: { type: string; detail: unknown }[] = [];
  const ownerDocument = {
    createElement: () => {
      const c = {
        width: 0,
        height: 0,
        getContext: () => ({ createImageData: (iw: number, ih: number) => ({ width: iw, height: ih, data: new Uint8ClampedArray(iw * ih * 4) }), putImageData: () => undefined }),
      };
      return c;
    },
  };
  const ctx = { drawImage: (...a: unknown[]) => draws.push(a), save: () => undefined, restore: () => undefined, setTransform: (...t: number[]) => transforms.push(t) };
  const canvas = { width: w, height: h, style: {} as Record<string, string>, ownerDocument, getContext: () => ctx };
  const element = { dispatchEvent: (e: CustomEvent) => events.push({ type: e.type, detail: e.detail }) };
  return { vp: { id, element, canvas, sWidth: w, sHeight: h, viewportStatus: 'rendered' }, draws, transforms, events };
}

/** Just enough of a WebGL 2 context for the asynchronous readback: fences that pass when told, the bindings it must put back. */
function fakeGl() {
  const reads: unknown[][] = [];
  const syncs = new Set<{ signaled: boolean }>();
  const bound: { pack: unknown; read: unknown } = { pack: null, read: 'vtk-fbo' };
  const gl = {
    PIXEL_PACK_BUFFER: 1,
    PIXEL_PACK_BUFFER_BINDING: 2,
    READ_FRAMEBUFFER: 3,
    READ_FRAMEBUFFER_BINDING: 4,
    STREAM_READ: 5,
    RGBA: 6,
    UNSIGNED_BYTE: 7,
    SYNC_GPU_COMMANDS_COMPLETE: 8,
    SYNC_STATUS: 9,
    SIGNALED: 10,
    UNSIGNALED: 11,
    reads,
    bound,
    isContextLost: () => false,
    createBuffer: () => ({}),
    getParameter: (p: number) => (p === 2 ? bound.pack : p === 4 ? bound.read : null),
    bindBuffer: (_t: number, b: unknown) => (bound.pack = b),
    bindFramebuffer: (_t: number, f: unknown) => (bound.read = f),
    bufferData: () => undefined,
    readPixels: (...a: unknown[]) => reads.push(a),
    fenceSync: () => {
      const s = { signaled: false };
      syncs.add(s);
      return s;
    },
    flush: () => undefined,
    deleteSync: (s: { signaled: boolean }) => syncs.delete(s),
    getSyncParameter: (s: { signaled: boolean }) => (s.signaled ? 10 : 11),
    getBufferSubData: (_t: number, _o: number, dst: Uint8ClampedArray) => {
      dst.fill(0);
      gl.lastReadback = dst;
    },
    lastReadback: null as Uint8ClampedArray | null,
    signal: () => syncs.forEach((s) => (s.signaled = true)),
    liveSyncs: () => syncs.size,
  };
  return gl;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('reduced offscreen canvas while a button is held', () => {
  it('shrinks the shared canvas to 1/factor of its size while on, and back', () => {
    const f = fakeEngine({ a: { w: 535, h: 971 }, b: { w: 535, h: 971 } });
    const rc = reducedCanvas(f.engine, ['a', 'b'], 3)!;
    expect(rc).not.toBeNull();
    expect(rc.on).toBe(false);
    rc.set(true);
    expect(rc.on).toBe(true);
    expect(f.container).toEqual({ width: 178, height: 324 });
    rc.set(true);
    expect(f.resizes).toEqual([[178, 324]]);
    rc.set(false);
    expect(f.container).toEqual({ width: 535, height: 971 });
    expect(f.resizes).toEqual([
      [178, 324],
      [535, 971],
    ]);
  });

  it("scales the plane's part of the small canvas up into its on-screen canvas; at full size Cornerstone3D's copy runs", () => {
    const f = fakeEngine({ a: { w: 600, h: 900 }, b: { w: 300, h: 450 } });
    const rc = reducedCanvas(f.engine, ['a', 'b'], 3)!;
    const copy = (vp: unknown, off: { width: number; height: number }) => (f.impl._copyToOnscreenCanvas as unknown as (v: unknown, o: unknown) => Record<string, unknown>).call(f.impl, vp, off);
    const a = fakeViewport('a', 600, 900);
    const b = fakeViewport('b', 300, 450);
    expect(copy(a.vp, { width: 600, height: 900 })).toEqual({ viewportId: 'a', original: true });
    expect(f.originalCopies).toEqual(['a']);
    rc.set(true);
    const off = { width: f.container.width, height: f.container.height };
    expect(off).toEqual({ width: 200, height: 300 });
    const detail = copy(b.vp, off);
    expect(f.originalCopies).toEqual(['a']);
    // b's renderer covers the bottom-left half of the canvas (GL's origin is bottom-left): source y = 300 − 150.
    expect(b.draws).toEqual([[off, 0, 150, 100, 150, 0, 0, 300, 450]]);
    expect(detail).toMatchObject({ viewportId: 'b', renderingEngineId: 'engine', viewportStatus: 'rendered', element: b.vp.element });
    copy(a.vp, off);
    expect(a.draws).toEqual([[off, 0, 0, 200, 300, 0, 0, 600, 900]]);
  });

  it('reads a reduced plane back without waiting: drawn (flipped, scaled) and announced once its fence has passed', () => {
    vi.useFakeTimers();
    const f = fakeEngine({ a: { w: 600, h: 900 }, b: { w: 300, h: 450 } });
    const rc = reducedCanvas(f.engine, ['a', 'b'], 3)!;
    const gl = fakeGl();
    const copy = (vp: unknown, off: unknown) => (f.impl._copyToOnscreenCanvas as unknown as (v: unknown, o: unknown) => unknown).call(f.impl, vp, off);
    const b = fakeViewport('b', 300, 450);
    rc.set(true);
    const off = { width: f.container.width, height: f.container.height, getContext: (kind: string) => (kind === 'webgl2' ? gl : null) };
    // No detail back (the engine fires no IMAGE_RENDERED), nothing drawn yet: b's part (100 × 150 from the bottom-left) goes into a pack buffer behind a fence.
    expect(copy(b.vp, off)).toBeUndefined();
    expect(gl.reads).toEqual([[0, 0, 100, 150, gl.RGBA, gl.UNSIGNED_BYTE, 0]]);
    expect(gl.bound).toEqual({ pack: null, read: 'vtk-fbo' });
    vi.advanceTimersByTime(5);
    expect(b.draws).toEqual([]);
    expect(b.events).toEqual([]);
    gl.signal();
    vi.advanceTimersByTime(5);
    expect(b.draws).toHaveLength(1);
    const [[scratch, ...rect]] = b.draws as [[{ width: number; height: number }, ...number[]]];
    expect([scratch.width, scratch.height, ...rect]).toEqual([100, 150, 0, 0, 100, 150, 0, 0, 300, 450]);
    // Row 0 of the readback is the plane's bottom row: the copy is flipped into the canvas's top-down rows.
    expect(b.transforms).toEqual([[1, 0, 0, -1, 0, 450]]);
    expect(b.events).toEqual([{ type: 'CORNERSTONE_IMAGE_RENDERED', detail: expect.objectContaining({ viewportId: 'b', renderingEngineId: 'engine' }) }]);
    // Opaque, as Cornerstone3D's copy draws the plane over its black background.
    expect(gl.lastReadback!.filter((_, i) => i % 4 === 3).every((v) => v === 255)).toBe(true);

    // Two frames of a plane ready at once: only the newer is drawn and announced.
    copy(b.vp, off);
    copy(b.vp, off);
    gl.signal();
    vi.advanceTimersByTime(5);
    expect(b.draws).toHaveLength(2);
    expect(b.events).toHaveLength(2);

    // A full-size copy (button released) drops the reduced frames still on their way.
    copy(b.vp, off);
    rc.set(false);
    expect(copy(b.vp, { width: 600, height: 900, getContext: () => gl })).toEqual({ viewportId: 'b', original: true });
    gl.signal();
    vi.advanceTimersByTime(5);
    expect(b.draws).toHaveLength(2);
    expect(b.events).toHaveLength(2);
    expect(gl.liveSyncs()).toBe(0);

    // Fences that never pass: after a few frames on their way the plane is copied synchronously, the older ones dropped.
    rc.set(true);
    const reduced = { width: f.container.width, height: f.container.height, getContext: () => gl };
    for (let i = 0; i < 8; i++) expect(copy(b.vp, reduced)).toBeUndefined();
    expect(copy(b.vp, reduced)).toMatchObject({ viewportId: 'b' });
    expect(b.draws).toHaveLength(3);
    expect(b.draws[2]![0]).toBe(reduced);
    expect(gl.liveSyncs()).toBe(0);
  });

  it('is null when the engine is not the context-pool engine', () => {
    expect(reducedCanvas({ _implementation: { id: 'x' } } as unknown as RenderingEngine, ['a'], 3)).toBeNull();
    const f = fakeEngine({ a: { w: 10, h: 10 } });
    expect(reducedCanvas(f.engine, ['a', 'unknown'], 3)).toBeNull();
  });
});

describe('view reference kept per camera', () => {
  function fakeVolumeViewport() {
    let calls = 0;
    const camera = { focalPoint: [0, 0, 0], position: [0, 0, 10], viewPlaneNormal: [0, 0, 1], viewUp: [0, 1, 0], parallelScale: 100 };
    class Vp {
      slab = 0.05;
      getCamera() {
        return { ...camera, focalPoint: [...camera.focalPoint] };
      }
      getSlabThickness() {
        return this.slab;
      }
      getVolumeId() {
        return 'vol';
      }
      getViewReference(spec?: { sliceIndex?: number }) {
        calls++;
        return { cameraFocalPoint: [...camera.focalPoint], sliceIndex: spec?.sliceIndex ?? Math.round(camera.focalPoint[2]!), planeRestriction: { point: [...camera.focalPoint] } };
      }
    }
    const vp = new Vp();
    return { vp, camera, calls: () => calls };
  }

  it('computes once per camera and slab, hands out copies, passes specifiers through, and can be undone', () => {
    const { vp, camera, calls } = fakeVolumeViewport();
    const undo = cacheViewReference(vp as unknown as Types.IVolumeViewport);
    const r1 = vp.getViewReference();
    const r2 = vp.getViewReference();
    expect(calls()).toBe(1);
    expect(r2).toEqual(r1);
    r1.planeRestriction.point[0] = 99;
    expect(vp.getViewReference().planeRestriction.point[0]).toBe(0);
    camera.focalPoint = [0, 0, 7];
    expect(vp.getViewReference().sliceIndex).toBe(7);
    expect(calls()).toBe(2);
    vp.slab = 10;
    vp.getViewReference();
    expect(calls()).toBe(3);
    expect(vp.getViewReference({ sliceIndex: 3 }).sliceIndex).toBe(3);
    expect(calls()).toBe(4);
    undo();
    expect(Object.prototype.hasOwnProperty.call(vp, 'getViewReference')).toBe(false);
    vp.getViewReference();
    vp.getViewReference();
    expect(calls()).toBe(6);
  });
});

describe('nearest-voxel sampling while held', () => {
  it("switches each volume to nearest and puts its own interpolation back", () => {
    const props = [0, 1, 1].map((t) => ({ t, getInterpolationType() { return this.t; }, setInterpolationType(x: number) { this.t = x; } }));
    const vps = props.map((p) => ({ getDefaultActor: () => ({ actor: { getProperty: () => p } }) })) as unknown as Types.IVolumeViewport[];
    const ns = nearestSampling(() => [...vps, null]);
    ns.set(true);
    expect(props.map((p) => p.t)).toEqual([0, 0, 0]);
    ns.set(true);
    ns.set(false);
    expect(props.map((p) => p.t)).toEqual([0, 1, 1]);
    ns.set(false);
    expect(props.map((p) => p.t)).toEqual([0, 1, 1]);
  });
});
