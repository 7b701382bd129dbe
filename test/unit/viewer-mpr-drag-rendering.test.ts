import { describe, expect, it } from 'vitest';
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
  const canvas = { width: w, height: h, style: {} as Record<string, string>, getContext: () => ({ drawImage: (...a: unknown[]) => draws.push(a) }) };
  return { vp: { id, element: {}, canvas, sWidth: w, sHeight: h, viewportStatus: 'rendered' }, draws };
}

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
