/**
 * Image planes in the patient coordinate system (PS3.3 C.7.6.2.1.1) and what the reading viewer
 * derives from them: the reference line of one slice on another image, and the slice of a series
 * nearest to a position. Pure functions, no I/O.
 *
 * A pixel's centre (column c, row r) is at
 *   Image Position (Patient) + c · Δc · X + r · Δr · Y
 * where X = Image Orientation (Patient)[0..2] (the row direction: columns increase along it),
 * Y = [3..5] (the column direction: rows increase along it), Δr = Pixel Spacing[0] (between rows),
 * Δc = Pixel Spacing[1] (between columns). An image covers its pixels' edges:
 * c ∈ [−0.5, Columns − 0.5], r ∈ [−0.5, Rows − 0.5].
 */

export type Vec3 = readonly [number, number, number];

export interface ImagePlane {
  /** Frame of Reference UID (0020,0052); planes of different frames of reference are not comparable. */
  frameOfReferenceUid: string | null;
  /** Image Position (Patient) (0020,0032): the centre of the first transmitted pixel, mm. */
  imagePositionPatient: Vec3;
  /** Image Orientation (Patient) (0020,0037): row direction cosines, then column direction cosines. */
  imageOrientationPatient: readonly [number, number, number, number, number, number];
  /** Pixel Spacing (0028,0030): [between rows, between columns], mm. */
  pixelSpacing: readonly [number, number];
  rows: number;
  columns: number;
}

/** A point on an image, in pixel coordinates (column, row; pixel centres at integers). */
export interface PixelPoint {
  col: number;
  row: number;
}

export interface ReferenceLine {
  from: PixelPoint;
  to: PixelPoint;
}

/** |sin| of the angle between two planes below which they count as parallel (≈ 0.06°). */
const PARALLEL_EPS = 1e-3;

export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const norm = (a: Vec3): number => Math.sqrt(dot(a, a));
const unit = (a: Vec3): Vec3 => {
  const n = norm(a);
  return [a[0] / n, a[1] / n, a[2] / n];
};

export function rowDirection(p: ImagePlane): Vec3 {
  const o = p.imageOrientationPatient;
  return unit([o[0], o[1], o[2]]);
}
export function columnDirection(p: ImagePlane): Vec3 {
  const o = p.imageOrientationPatient;
  return unit([o[3], o[4], o[5]]);
}
/** The plane's normal (row × column direction): the direction in which a stack's slices advance. */
export function normalOf(p: ImagePlane): Vec3 {
  return unit(cross(rowDirection(p), columnDirection(p)));
}

/** The patient-space position of a pixel of the image. */
export function pixelToPatient(p: ImagePlane, pt: PixelPoint): Vec3 {
  const x = rowDirection(p);
  const y = columnDirection(p);
  const [dr, dc] = p.pixelSpacing;
  const o = p.imagePositionPatient;
  return [o[0] + pt.col * dc * x[0] + pt.row * dr * y[0], o[1] + pt.col * dc * x[1] + pt.row * dr * y[1], o[2] + pt.col * dc * x[2] + pt.row * dr * y[2]];
}

/** Where a patient-space point falls on the image (projected onto its plane), in pixel coordinates. */
export function patientToPixel(p: ImagePlane, point: Vec3): PixelPoint {
  const d = sub(point, p.imagePositionPatient);
  const [dr, dc] = p.pixelSpacing;
  return { col: dot(d, rowDirection(p)) / dc, row: dot(d, columnDirection(p)) / dr };
}

/** The centre of the image (between its edge pixels), mm. */
export function centreOf(p: ImagePlane): Vec3 {
  return pixelToPatient(p, { col: (p.columns - 1) / 2, row: (p.rows - 1) / 2 });
}

/** True when the plane has a usable geometry (finite numbers, unit-ish orthogonal directions, positive spacing and size). */
export function isUsablePlane(p: ImagePlane): boolean {
  const nums = [...p.imagePositionPatient, ...p.imageOrientationPatient, ...p.pixelSpacing];
  if (!nums.every(Number.isFinite) || !(p.rows > 0 && p.columns > 0) || !(p.pixelSpacing[0] > 0 && p.pixelSpacing[1] > 0)) return false;
  const o = p.imageOrientationPatient;
  const x: Vec3 = [o[0], o[1], o[2]];
  const y: Vec3 = [o[3], o[4], o[5]];
  return norm(x) > 0.5 && norm(y) > 0.5 && Math.abs(dot(unit(x), unit(y))) < 1e-2;
}

/**
 * The reference line of `source`'s slice on `target`'s image: where the two planes intersect,
 * limited to the part that lies on both images, in `target`'s pixel coordinates.
 * Null when the frames of reference differ or are unknown, the planes are parallel, or the
 * intersection misses either image.
 */
export function referenceLine(source: ImagePlane, target: ImagePlane): ReferenceLine | null {
  if (!source.frameOfReferenceUid || source.frameOfReferenceUid !== target.frameOfReferenceUid) return null;
  if (!isUsablePlane(source) || !isUsablePlane(target)) return null;
  const ns = normalOf(source);
  const nt = normalOf(target);
  if (norm(cross(ns, nt)) < PARALLEL_EPS) return null;

  // On the target image the source plane is a·c + b·r + k = 0 (c, r: target pixel coordinates).
  const [tdr, tdc] = target.pixelSpacing;
  const a = tdc * dot(ns, rowDirection(target));
  const b = tdr * dot(ns, columnDirection(target));
  const k = dot(ns, sub(target.imagePositionPatient, source.imagePositionPatient));
  // A point on it (the foot of the perpendicular from the origin) and its direction, per unit t.
  const ab2 = a * a + b * b;
  const c0 = (-a * k) / ab2;
  const r0 = (-b * k) / ab2;
  const dc = -b;
  const dr = a;

  // Clip t so the point stays on the target image and (mapped into its plane) on the source image.
  let tMin = -Infinity;
  let tMax = Infinity;
  const limit = (p0: number, dp: number, lo: number, hi: number): boolean => {
    if (Math.abs(dp) < 1e-12) return p0 >= lo - 1e-9 && p0 <= hi + 1e-9;
    let t1 = (lo - p0) / dp;
    let t2 = (hi - p0) / dp;
    if (t1 > t2) [t1, t2] = [t2, t1];
    tMin = Math.max(tMin, t1);
    tMax = Math.min(tMax, t2);
    return tMin <= tMax;
  };
  if (!limit(c0, dc, -0.5, target.columns - 0.5) || !limit(r0, dr, -0.5, target.rows - 0.5)) return null;
  const s0 = patientToPixel(source, pixelToPatient(target, { col: c0, row: r0 }));
  const s1 = patientToPixel(source, pixelToPatient(target, { col: c0 + dc, row: r0 + dr }));
  if (!limit(s0.col, s1.col - s0.col, -0.5, source.columns - 0.5) || !limit(s0.row, s1.row - s0.row, -0.5, source.rows - 0.5)) return null;
  if (!(tMax - tMin > 1e-9)) return null;
  const at = (t: number): PixelPoint => ({ col: c0 + dc * t, row: r0 + dr * t });
  return { from: at(tMin), to: at(tMax) };
}

/** A slice of a stack as the position mapping needs it: its plane's origin and orientation. */
export interface SlicePosition {
  imagePositionPatient: Vec3;
  imageOrientationPatient: readonly [number, number, number, number, number, number];
}

/** Cosine between two normals above which two stacks count as the same orientation (within ≈ 15°). */
export const SAME_ORIENTATION_COS = Math.cos((15 * Math.PI) / 180);

function normalOfSlice(s: SlicePosition): Vec3 {
  const o = s.imageOrientationPatient;
  return unit(cross([o[0], o[1], o[2]], [o[3], o[4], o[5]]));
}

/** True when two slices' planes are within 15° of parallel: scrolling by position between them is meaningful. */
export function sameOrientation(a: SlicePosition, b: SlicePosition): boolean {
  return Math.abs(dot(normalOfSlice(a), normalOfSlice(b))) >= SAME_ORIENTATION_COS;
}

/**
 * The index of the slice of `target` nearest to `point` measured along each slice's own normal
 * (the distance from the point to the slice's plane), with `offsetMm` added to the point's position
 * along the normal (a manual sync between studies without a shared frame of reference). Ties go to
 * the lower index. Null for an empty stack.
 */
export function nearestSlice(point: Vec3, target: readonly SlicePosition[], offsetMm = 0): { index: number; distanceMm: number } | null {
  let best: { index: number; distanceMm: number } | null = null;
  for (let i = 0; i < target.length; i++) {
    const s = target[i]!;
    const n = normalOfSlice(s);
    const d = Math.abs(dot(n, sub(point, s.imagePositionPatient)) + offsetMm);
    if (best === null || d < best.distanceMm - 1e-9) best = { index: i, distanceMm: d };
  }
  return best;
}

/** The position of `point` along a slice's normal relative to that slice (mm): what a manual sync keeps constant. */
export function offsetAlongNormal(point: Vec3, slice: SlicePosition): number {
  return dot(normalOfSlice(slice), sub(slice.imagePositionPatient, point));
}
