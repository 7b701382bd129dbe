/** Which series can be reformatted (MPR), and the reason given when one cannot. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decideVolume, type PlaneInfo } from '../../src/shared/viewer/volume';

const AXIAL = [1, 0, 0, 0, 1, 0];

/** An axial series like the sample generator writes: 512², 0.703 mm pixels, `step` mm apart along z. */
function axial(n: number, step = 1.25, z0 = -100): PlaneInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `im${i}`,
    position: [-179.6, -179.6, z0 + i * step],
    orientation: AXIAL,
    pixelSpacing: [0.703125, 0.703125],
    rows: 512,
    columns: 512,
  }));
}

describe('decideVolume', () => {
  it('a regular axial stack is a volume: spatial order, spacing, directions', () => {
    const frames = axial(300);
    // Given in reverse (instance numbers counting down the body): sorted by position along the normal.
    const d = decideVolume([...frames].reverse());
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.keys).toEqual(frames.map((f) => f.key));
    expect(d.spacing[0]).toBe(0.703125);
    expect(d.spacing[2]).toBeCloseTo(1.25, 9);
    expect(d.normal).toEqual([0, 0, 1]);
    expect(d.origin).toEqual([-179.6, -179.6, -100]);
    expect(d.depthMm).toBeCloseTo(299 * 1.25, 9);
  });

  it('a single image cannot be reformatted', () => {
    expect(decideVolume(axial(1))).toEqual({ ok: false, reason: 'a single image cannot be reformatted' });
  });

  it('too few slices', () => {
    expect(decideVolume(axial(2))).toEqual({ ok: false, reason: 'only 2 slices; at least 3 are needed to reformat' });
    expect(decideVolume(axial(5), { minSlices: 10 }).ok).toBe(false);
  });

  it('a missing slice is a gap, named by the slices either side', () => {
    const frames = axial(40, 1.25).filter((_, i) => i !== 12 && i !== 13 && i !== 14);
    // slices 0..11 then 15..: a step of 4 × 1.25 = 5.0 mm between the 12th and 13th in order.
    expect(decideVolume(frames)).toEqual({ ok: false, reason: 'gap of 5.0 mm between slices 12 and 13 (the others are 1.3 mm apart)' });
  });

  it('varying orientation (a localiser in the series)', () => {
    const frames = axial(20);
    frames[7] = { ...frames[7]!, orientation: [0, 1, 0, 0, 0, -1] };
    expect(decideVolume(frames)).toEqual({ ok: false, reason: 'slices have varying orientation' });
  });

  it('two slices at one position (two phases in one series)', () => {
    const frames = [...axial(10), { ...axial(10)[4]!, key: 'again' }];
    expect(decideVolume(frames)).toMatchObject({ ok: false, reason: expect.stringMatching(/^slices \d+ and \d+ are at the same position/) });
  });

  it('different matrix sizes or pixel spacing', () => {
    const a = axial(10);
    a[3] = { ...a[3]!, rows: 256 };
    expect(decideVolume(a)).toEqual({ ok: false, reason: 'slices have different matrix sizes' });
    const b = axial(10);
    b[3] = { ...b[3]!, pixelSpacing: [0.8, 0.8] };
    expect(decideVolume(b)).toEqual({ ok: false, reason: 'slices have different pixel spacing' });
  });

  it('no position or no spacing: the place in the body is unknown', () => {
    const a = axial(10);
    a[2] = { ...a[2]!, position: null };
    expect(decideVolume(a).ok).toBe(false);
    expect((decideVolume(a) as { reason: string }).reason).toMatch(/Image Position/);
    const b = axial(10);
    b[0] = { ...b[0]!, pixelSpacing: null };
    expect((decideVolume(b) as { reason: string }).reason).toMatch(/Pixel Spacing/);
  });

  it('a multi-frame instance without per-frame positions stays a stack', () => {
    expect(decideVolume([{ ...axial(1)[0]!, frames: 50 }, ...axial(3, 1, 10)])).toEqual({
      ok: false,
      reason: 'the per-frame positions of this multi-frame image are not known',
    });
    // Its frames listed one by one from the per-frame functional groups: a volume.
    expect(decideVolume(axial(30).map((f) => ({ ...f, frames: 30, perFrame: true }))).ok).toBe(true);
  });

  it('a shifted slice (stitched series) is not a volume', () => {
    const a = axial(10);
    a[5] = { ...a[5]!, position: [-150, -179.6, a[5]!.position![2]!] };
    expect((decideVolume(a) as { reason: string }).reason).toMatch(/shifted 29\.6 mm in its plane/);
  });

  it('oblique and sagittal stacks: the normal is row × column, any order in, spatial order out', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: Math.PI, noNaN: true }), fc.integer({ min: 3, max: 60 }), fc.double({ min: 0.5, max: 5, noNaN: true }), (theta, n, step) => {
        // rows along (cos θ, sin θ, 0), columns along z: slices step along the in-plane normal.
        const r = [Math.cos(theta), Math.sin(theta), 0];
        const c = [0, 0, -1];
        const nrm = [r[1]! * c[2]! - r[2]! * c[1]!, r[2]! * c[0]! - r[0]! * c[2]!, r[0]! * c[1]! - r[1]! * c[0]!];
        const frames: PlaneInfo[] = Array.from({ length: n }, (_, i) => ({
          key: String(i),
          position: [10 + nrm[0]! * i * step, 20 + nrm[1]! * i * step, 30 + nrm[2]! * i * step],
          orientation: [...r, ...c],
          pixelSpacing: [1, 1],
          rows: 64,
          columns: 64,
        }));
        const shuffled = [...frames].sort((a, b) => ((Number(a.key) * 7919) % n) - ((Number(b.key) * 7919) % n));
        const d = decideVolume(shuffled);
        expect(d.ok).toBe(true);
        if (d.ok) {
          expect(d.keys).toEqual(frames.map((f) => f.key));
          expect(d.spacing[2]).toBeCloseTo(step, 6);
        }
      }),
    );
  });
});
