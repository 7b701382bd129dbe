/**
 * The one computation of a length or angle measurement, from its handles (image pixel
 * coordinates: x = column, y = row) and the image's Pixel Spacing (0028,0030). What the viewer
 * draws next to the line, what the measurement list shows, what the main process stores and what
 * an export writes all come from `measure()` and carry its `value` and `text`: never a value
 * cached by the drawing tool.
 *
 * Pure (no DOM, no Node): it lives in src/shared because the renderer may import only shared,
 * and the main process (src/node) imports shared too.
 *
 * Rules:
 *  - Pixel Spacing is [row spacing, column spacing] in mm: the distance between the centres of
 *    adjacent rows (so it scales y) and of adjacent columns (so it scales x). Without a valid
 *    spacing (missing, not two positive finite numbers) a length is in pixels ("px") and an
 *    angle is computed on the pixel grid.
 *  - An angle is measured in the patient's plane (the arms scaled by the spacing), so a
 *    right angle on an anisotropic image reads 90°.
 *  - One rounding rule: to `DECIMALS` (1) decimal place, half away from zero on the decimal text
 *    (`toFixed`); `value` is the number of that text, so `value.toFixed(1) === text number`.
 *  - A measurement is complete only when every handle is a finite point and it is not
 *    degenerate: a length needs two distinct points, an angle two arms of non-zero length.
 *    An incomplete measurement has no value (null) and must not be shown or stored.
 */

export interface Point {
  x: number;
  y: number;
}

/** Pixel Spacing as in the header: [row spacing (y), column spacing (x)] in mm. */
export type PixelSpacing = readonly number[] | null | undefined;

export type MeasureKind = 'length' | 'angle';

export interface MeasureResult {
  kind: MeasureKind;
  /** Rounded to DECIMALS: the value shown, stored and exported. */
  value: number;
  unit: 'mm' | 'px' | '°';
  /** The value with its unit as drawn next to the measurement, e.g. "84.1 mm", "101.5°". */
  text: string;
  /** The list's line, e.g. "Length 84.1 mm", "Angle 101.5°". */
  label: string;
  /** True when the pixel spacing was used (else pixels / the pixel grid). */
  calibrated: boolean;
}

export const DECIMALS = 1;

/** The handles of each kind, in drawing order. */
export const HANDLES: Record<MeasureKind, readonly string[]> = {
  length: ['start', 'end'],
  angle: ['start', 'middle', 'end'],
};

/** The spacing to use, or null when the header gives none that is usable. */
export function usableSpacing(spacing: PixelSpacing): { row: number; col: number } | null {
  if (!spacing || spacing.length < 2) return null;
  const row = Number(spacing[0]);
  const col = Number(spacing[1]);
  return Number.isFinite(row) && Number.isFinite(col) && row > 0 && col > 0 ? { row, col } : null;
}

function isPoint(p: unknown): p is Point {
  if (!p || typeof p !== 'object') return false;
  const { x, y } = p as { x?: unknown; y?: unknown };
  return typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y);
}

/** The rounded number of a raw value (the one rounding rule). */
export function round(raw: number): number {
  const n = Number(raw.toFixed(DECIMALS));
  return Object.is(n, -0) ? 0 : n;
}

function format(value: number): string {
  return value.toFixed(DECIMALS);
}

/** Raw length between two points (mm with spacing, else px). */
export function rawLength(a: Point, b: Point, spacing: PixelSpacing): number {
  const s = usableSpacing(spacing);
  const dx = (b.x - a.x) * (s ? s.col : 1);
  const dy = (b.y - a.y) * (s ? s.row : 1);
  return Math.hypot(dx, dy);
}

/** Raw angle at `middle` between the arms to `start` and `end`, in degrees [0, 180]. */
export function rawAngle(start: Point, middle: Point, end: Point, spacing: PixelSpacing): number {
  const s = usableSpacing(spacing);
  const sx = s ? s.col : 1;
  const sy = s ? s.row : 1;
  const ax = (start.x - middle.x) * sx;
  const ay = (start.y - middle.y) * sy;
  const bx = (end.x - middle.x) * sx;
  const by = (end.y - middle.y) * sy;
  // atan2 of cross and dot: stable near 0° and 180° (the cosine law loses digits there).
  return (Math.atan2(Math.abs(ax * by - ay * bx), ax * bx + ay * by) * 180) / Math.PI;
}

/**
 * The measurement of a tool's handles, or null when it is incomplete (a handle missing or not a
 * finite point, two points that coincide, an arm of zero length).
 */
export function measure(kind: MeasureKind, handles: unknown, spacing: PixelSpacing): MeasureResult | null {
  if (!handles || typeof handles !== 'object') return null;
  const h = handles as Record<string, unknown>;
  const pts = HANDLES[kind].map((k) => h[k]);
  if (!pts.every(isPoint)) return null;
  const calibrated = usableSpacing(spacing) !== null;
  if (kind === 'length') {
    const [a, b] = pts as [Point, Point];
    if (a.x === b.x && a.y === b.y) return null;
    const raw = rawLength(a, b, spacing);
    if (!(raw > 0) || !Number.isFinite(raw)) return null;
    const unit = calibrated ? 'mm' : 'px';
    const value = round(raw);
    const text = `${format(value)} ${unit}`;
    return { kind, value, unit, text, label: `Length ${text}`, calibrated };
  }
  const [a, m, b] = pts as [Point, Point, Point];
  if ((a.x === m.x && a.y === m.y) || (b.x === m.x && b.y === m.y)) return null;
  const raw = rawAngle(a, m, b, spacing);
  if (!Number.isFinite(raw)) return null;
  const value = round(raw);
  const text = `${format(value)}°`;
  return { kind, value, unit: '°', text, label: `Angle ${text}`, calibrated };
}

/** The stored statistics of a length / angle measurement (the schema's `stats`). */
export function statsOf(r: MeasureResult): Record<string, number | string> {
  return r.kind === 'length' ? { length: r.value, unit: r.unit, text: r.text } : { angle: r.value, unit: r.unit, text: r.text };
}
