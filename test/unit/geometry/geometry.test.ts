import { describe, expect, it } from 'vitest';
import { nearestSlice, offsetAlongNormal, referenceLine, sameOrientation, type ImagePlane, type ReferenceLine, type SlicePosition } from '../../../src/shared/viewer/geometry';

const FOR = '1.2.3.4';
const axial = (z: number, over: Partial<ImagePlane> = {}): ImagePlane => ({
  frameOfReferenceUid: FOR,
  imagePositionPatient: [-100, -100, z],
  imageOrientationPatient: [1, 0, 0, 0, 1, 0],
  pixelSpacing: [1, 1],
  rows: 100,
  columns: 200,
  ...over,
});
/** Sagittal at x = 0: columns run posterior (+y) 1 mm apart from y = −100, rows run down (−z) 2 mm apart from z = 50. */
const sagittal: ImagePlane = {
  frameOfReferenceUid: FOR,
  imagePositionPatient: [0, -100, 50],
  imageOrientationPatient: [0, 1, 0, 0, 0, -1],
  pixelSpacing: [2, 1],
  rows: 50,
  columns: 200,
};

/** Endpoints in a fixed order (by column, then row), so a test does not depend on the line's direction. */
function ordered(l: ReferenceLine | null): [number, number, number, number] | null {
  if (!l) return null;
  const [p, q] = l.from.col < l.to.col || (l.from.col === l.to.col && l.from.row <= l.to.row) ? [l.from, l.to] : [l.to, l.from];
  return [p.col, p.row, q.col, q.row];
}
const close = (got: number[] | null, want: number[]) => {
  expect(got).not.toBeNull();
  got!.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 9));
};

describe('referenceLine', () => {
  it('draws an axial slice on a sagittal image as a horizontal line at its z, limited to where the axial image is', () => {
    // z = −10 is row (50 − (−10)) / 2 = 30; the axial image spans y −100.5 … −0.5 (100 rows), i.e. sagittal columns −0.5 … 99.5.
    close(ordered(referenceLine(axial(-10), sagittal)), [-0.5, 30, 99.5, 30]);
    close(ordered(referenceLine(axial(-10, { rows: 200 }), sagittal)), [-0.5, 30, 199.5, 30]);
  });

  it('draws the sagittal slice on the axial image as a vertical line at x = 0 (column 100)', () => {
    // On the axial image the sagittal (x = 0) is column 100; the sagittal spans z −48.5 … 51 — it contains z = −10 — and y −100.5 … 99.5.
    close(ordered(referenceLine(sagittal, axial(-10))), [100, -0.5, 100, 99.5]);
  });

  it('an oblique slice (x + z = 0) on a coronal image: a 45° line clipped by the coronal image', () => {
    const s = Math.SQRT1_2;
    const oblique: ImagePlane = { frameOfReferenceUid: FOR, imagePositionPatient: [-70, -100, 70], imageOrientationPatient: [s, 0, -s, 0, 1, 0], pixelSpacing: [1, 1], rows: 200, columns: 200 };
    const coronal: ImagePlane = { frameOfReferenceUid: FOR, imagePositionPatient: [-100, 0, 50], imageOrientationPatient: [1, 0, 0, 0, 0, -1], pixelSpacing: [1, 1], rows: 100, columns: 200 };
    // x = −100 + c, z = 50 − r, x + z = 0 → r = c − 50; rows −0.5 … 99.5 → columns 49.5 … 149.5.
    close(ordered(referenceLine(oblique, coronal)), [49.5, -0.5, 149.5, 99.5]);
  });

  it('parallel planes draw nothing', () => {
    expect(referenceLine(axial(-10), axial(20))).toBeNull();
    expect(referenceLine(axial(-10), axial(-10))).toBeNull();
    // reversed normal is still parallel
    expect(referenceLine(axial(-10), axial(5, { imageOrientationPatient: [-1, 0, 0, 0, 1, 0] }))).toBeNull();
  });

  it('different or unknown frames of reference draw nothing', () => {
    expect(referenceLine(axial(-10, { frameOfReferenceUid: '9.9.9' }), sagittal)).toBeNull();
    expect(referenceLine(axial(-10, { frameOfReferenceUid: null }), { ...sagittal, frameOfReferenceUid: null })).toBeNull();
  });

  it('a slice outside the other image draws nothing', () => {
    // the sagittal spans z −48.5 … 51 (rows −0.5 … 49.5 at 2 mm from z = 50)
    expect(referenceLine(axial(60), sagittal)).toBeNull();
    expect(referenceLine(axial(-60), sagittal)).toBeNull();
    // an axial image left of x = 0 misses the sagittal plane
    expect(referenceLine(axial(-10, { imagePositionPatient: [-300, -100, -10] }), sagittal)).toBeNull();
  });

  it('unusable geometry (zero spacing, non-orthogonal directions) draws nothing', () => {
    expect(referenceLine(axial(-10, { pixelSpacing: [0, 1] }), sagittal)).toBeNull();
    expect(referenceLine(axial(-10, { imageOrientationPatient: [1, 0, 0, 1, 0, 0] }), sagittal)).toBeNull();
  });
});

describe('nearestSlice', () => {
  const stack = (zs: number[]): SlicePosition[] => zs.map((z) => ({ imagePositionPatient: [-100, -100, z], imageOrientationPatient: [1, 0, 0, 0, 1, 0] }));

  it('picks the slice nearest along the normal, not the same index', () => {
    const target = stack([0, 2.5, 5, 7.5, 10]);
    expect(nearestSlice([0, 0, 3.7], target)).toEqual({ index: 1, distanceMm: expect.closeTo(1.2, 9) });
    expect(nearestSlice([12, -40, 6.1], target)).toEqual({ index: 2, distanceMm: expect.closeTo(1.1, 9) });
    // a stack in the other order (feet first): by position, so index 3 holds z = 2.5
    expect(nearestSlice([0, 0, 3.7], stack([10, 7.5, 5, 2.5, 0]))!.index).toBe(3);
    // beyond the end: the end slice
    expect(nearestSlice([0, 0, 40], target)).toEqual({ index: 4, distanceMm: expect.closeTo(30, 9) });
    expect(nearestSlice([0, 0, 1], [])).toBeNull();
  });

  it('a tie goes to the lower index', () => {
    expect(nearestSlice([0, 0, 1.25], stack([0, 2.5]))!.index).toBe(0);
  });

  it('with an offset (manual sync), the slice at the linked distance', () => {
    const target = stack([100, 102, 104, 106, 108]);
    // linked while the source was at z = 3 and the target showed z = 104: offset 101
    const off = offsetAlongNormal([0, 0, 3], target[2]!);
    expect(off).toBeCloseTo(101, 9);
    expect(nearestSlice([0, 0, 3], target, off)!.index).toBe(2);
    expect(nearestSlice([0, 0, 7.1], target, off)!.index).toBe(4);
    expect(nearestSlice([0, 0, -1], target, off)!.index).toBe(0);
  });

  it('sameOrientation: within 15°', () => {
    const a = stack([0])[0]!;
    const tilted = (deg: number): SlicePosition => {
      const r = (deg * Math.PI) / 180;
      return { imagePositionPatient: [0, 0, 0], imageOrientationPatient: [1, 0, 0, 0, Math.cos(r), Math.sin(r)] };
    };
    expect(sameOrientation(a, tilted(10))).toBe(true);
    expect(sameOrientation(a, tilted(20))).toBe(false);
    expect(sameOrientation(a, { imagePositionPatient: [0, 0, 0], imageOrientationPatient: [0, 1, 0, 0, 0, -1] })).toBe(false);
  });
});
