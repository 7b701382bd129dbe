/**
 * Can a series be reformatted (MPR)? A volume needs parallel slices of one size, one pixel
 * spacing, stepping evenly along the slice normal. Pure: the renderer feeds it the image plane
 * data of the library index; the answer is either the slices in spatial order or the reason, in
 * the words a radiologist would use, why the series stays in stack mode.
 */
export type Vec3 = [number, number, number];

/** Image plane data of one frame (Image Plane module, C.7.6.2). */
export interface PlaneInfo {
  /** Any key the caller uses to find the frame again (e.g. an image id). */
  key: string;
  /** Image Position (Patient) (0020,0032): centre of the first transmitted pixel, mm. */
  position: readonly number[] | null;
  /** Image Orientation (Patient) (0020,0037): row then column direction cosines. */
  orientation: readonly number[] | null;
  /** Pixel Spacing (0028,0030): [row spacing, column spacing], mm. */
  pixelSpacing: readonly number[] | null;
  rows: number | null;
  columns: number | null;
  /** Number of Frames of the instance: > 1 for a multi-frame instance whose frames are listed one by one. */
  frames?: number;
  /** True when this frame's position came from a per-frame functional group (enhanced multi-frame). */
  perFrame?: boolean;
}

export interface VolumeOptions {
  /** Fewest slices that make a useful reformat. */
  minSlices?: number;
  /** Largest angle between slice orientations still treated as "the same", degrees. */
  orientationToleranceDeg?: number;
  /** Largest deviation of one step from the median step, as a fraction of it. */
  spacingTolerance?: number;
}

export interface VolumeGeometry {
  ok: true;
  /** Frames in spatial order (increasing position along the slice normal). */
  keys: string[];
  rows: number;
  columns: number;
  /** [row spacing, column spacing, slice spacing], mm. */
  spacing: [number, number, number];
  /** Unit row, column and normal directions (LPS). */
  row: Vec3;
  column: Vec3;
  normal: Vec3;
  /** Image Position (Patient) of the first slice in spatial order. */
  origin: Vec3;
  /** Extent along the normal, mm (first to last slice centre). */
  depthMm: number;
}

export interface NotAVolume {
  ok: false;
  /** Why not, in clinical words, e.g. "gap of 5.0 mm between slices 12 and 13". */
  reason: string;
}

export type VolumeDecision = VolumeGeometry | NotAVolume;

export const DEFAULT_MIN_SLICES = 3;

const dot = (a: readonly number[], b: readonly number[]): number => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
const cross = (a: readonly number[], b: readonly number[]): Vec3 => [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
const norm = (a: readonly number[]): number => Math.sqrt(dot(a, a));
const unit = (a: readonly number[]): Vec3 => {
  const n = norm(a);
  return [a[0]! / n, a[1]! / n, a[2]! / n];
};
const finite = (a: readonly number[] | null, n: number): a is readonly number[] => !!a && a.length >= n && a.slice(0, n).every((x) => Number.isFinite(x));
const mm = (x: number): string => `${x.toFixed(1)} mm`;

/**
 * Decides whether `frames` (one series, in any order) form a volume. Slice numbers in reasons are
 * 1-based positions in spatial order, the order a reader scrolls through them.
 */
export function decideVolume(frames: readonly PlaneInfo[], opts: VolumeOptions = {}): VolumeDecision {
  const minSlices = opts.minSlices ?? DEFAULT_MIN_SLICES;
  const angleTol = opts.orientationToleranceDeg ?? 1;
  const spacingTol = opts.spacingTolerance ?? 0.1;

  if (frames.length === 0) return { ok: false, reason: 'the series has no images' };
  if (frames.length === 1) return { ok: false, reason: 'a single image cannot be reformatted' };
  // A multi-frame instance counted as one frame: its per-frame positions were not given.
  if (frames.some((f) => (f.frames ?? 1) > 1 && !f.perFrame)) {
    return { ok: false, reason: 'the per-frame positions of this multi-frame image are not known' };
  }
  if (frames.length < minSlices) return { ok: false, reason: `only ${frames.length} slices; at least ${minSlices} are needed to reformat` };

  const missing = frames.findIndex((f) => !finite(f.position, 3) || !finite(f.orientation, 6));
  if (missing >= 0) return { ok: false, reason: `image ${missing + 1} has no Image Position / Orientation (Patient): its place in the body is unknown` };
  const noSpacing = frames.findIndex((f) => !finite(f.pixelSpacing, 2) || f.pixelSpacing![0]! <= 0 || f.pixelSpacing![1]! <= 0);
  if (noSpacing >= 0) return { ok: false, reason: `image ${noSpacing + 1} has no Pixel Spacing: distances in it are unknown` };

  const first = frames[0]!;
  const rows = first.rows ?? 0;
  const columns = first.columns ?? 0;
  if (!(rows > 0 && columns > 0)) return { ok: false, reason: 'the image size (rows × columns) is unknown' };
  if (frames.some((f) => f.rows !== rows || f.columns !== columns)) return { ok: false, reason: 'slices have different matrix sizes' };

  const o = first.orientation!;
  const rowDir = unit(o.slice(0, 3));
  const colDir = unit(o.slice(3, 6));
  if (!Number.isFinite(rowDir[0]) || !Number.isFinite(colDir[0]) || Math.abs(dot(rowDir, colDir)) > 0.01) {
    return { ok: false, reason: 'Image Orientation (Patient) is not a valid pair of perpendicular directions' };
  }
  const normal = unit(cross(rowDir, colDir));
  const cosTol = Math.cos((angleTol * Math.PI) / 180);
  for (const f of frames) {
    const r = unit(f.orientation!.slice(0, 3));
    const c = unit(f.orientation!.slice(3, 6));
    if (dot(r, rowDir) < cosTol || dot(c, colDir) < cosTol) return { ok: false, reason: 'slices have varying orientation' };
  }
  const ps = first.pixelSpacing!;
  if (frames.some((f) => Math.abs(f.pixelSpacing![0]! - ps[0]!) > 1e-3 * ps[0]! || Math.abs(f.pixelSpacing![1]! - ps[1]!) > 1e-3 * ps[1]!)) {
    return { ok: false, reason: 'slices have different pixel spacing' };
  }

  const sorted = frames.map((f) => ({ f, d: dot(f.position!, normal) })).sort((a, b) => a.d - b.d);
  // Slices must lie on one line along the normal (no in-plane shift: a tilted gantry or a stitched series).
  const p0 = sorted[0]!.f.position!;
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i]!.f.position!;
    const delta = [p[0]! - p0[0]!, p[1]! - p0[1]!, p[2]! - p0[2]!];
    const inPlane = Math.hypot(dot(delta, rowDir), dot(delta, colDir));
    if (inPlane > Math.max(ps[0]!, ps[1]!)) {
      return { ok: false, reason: `slice ${i + 1} is shifted ${mm(inPlane)} in its plane (tilted gantry or stitched series)` };
    }
  }
  const steps = sorted.slice(1).map((s, i) => s.d - sorted[i]!.d);
  const dup = steps.findIndex((s) => s < 1e-3);
  if (dup >= 0) return { ok: false, reason: `slices ${dup + 1} and ${dup + 2} are at the same position (repeated acquisition or several phases in one series)` };
  const median = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)]!;
  for (let i = 0; i < steps.length; i++) {
    if (Math.abs(steps[i]! - median) > spacingTol * median + 1e-3) {
      return steps[i]! > median
        ? { ok: false, reason: `gap of ${mm(steps[i]!)} between slices ${i + 1} and ${i + 2} (the others are ${mm(median)} apart)` }
        : { ok: false, reason: `slices ${i + 1} and ${i + 2} are only ${mm(steps[i]!)} apart (the others ${mm(median)}): irregular spacing` };
    }
  }
  const depthMm = sorted[sorted.length - 1]!.d - sorted[0]!.d;
  const origin = sorted[0]!.f.position!;
  return {
    ok: true,
    keys: sorted.map((s) => s.f.key),
    rows,
    columns,
    spacing: [ps[0]!, ps[1]!, depthMm / (sorted.length - 1)],
    row: rowDir,
    column: colDir,
    normal,
    origin: [origin[0]!, origin[1]!, origin[2]!],
    depthMm,
  };
}

/** Slab thickness values offered in the MPR toolbar, mm (0 = a single slice). */
export const SLAB_THICKNESSES_MM = [0, 2, 5, 10, 20, 40] as const;

export type SlabMode = 'mip' | 'minip' | 'average';
