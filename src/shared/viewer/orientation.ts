/**
 * Orientation markers from Image Orientation (Patient) (0020,0037): the patient direction each
 * viewport edge points to, after the viewport's flips and rotation. Patient axes are DICOM LPS:
 * +x left, +y posterior, +z head.
 */
export type Vec3 = [number, number, number];

/** "L", "RA", "HPL"…: the main patient directions of a unit vector, strongest first. */
export function directionLetters(v: Vec3, threshold = 0.25): string {
  const axes: [number, string, string][] = [
    [v[0], 'L', 'R'],
    [v[1], 'P', 'A'],
    [v[2], 'H', 'F'],
  ];
  return axes
    .filter(([c]) => Math.abs(c) > threshold)
    .sort((a, b) => Math.abs(b[0]) - Math.abs(a[0]))
    .map(([c, pos, neg]) => (c > 0 ? pos : neg))
    .join('');
}

export interface EdgeMarkers {
  top: string;
  right: string;
  bottom: string;
  left: string;
}

/**
 * `iop` is the 6 numbers of Image Orientation (Patient): the row direction (towards increasing
 * column, screen right) then the column direction (towards increasing row, screen down).
 * Cornerstone flips the image first, then rotates it clockwise by `rotation` degrees.
 */
export function edgeMarkers(iop: readonly number[], view: { rotation: number; hflip: boolean; vflip: boolean }): EdgeMarkers | null {
  if (iop.length < 6 || iop.some((n) => !Number.isFinite(n))) return null;
  const row: Vec3 = [iop[0]!, iop[1]!, iop[2]!];
  const col: Vec3 = [iop[3]!, iop[4]!, iop[5]!];
  const neg = (v: Vec3): Vec3 => [-v[0], -v[1], -v[2]];
  let m = { top: directionLetters(neg(col)), right: directionLetters(row), bottom: directionLetters(col), left: directionLetters(neg(row)) };
  if (!m.top && !m.right) return null;
  if (view.hflip) m = { ...m, left: m.right, right: m.left };
  if (view.vflip) m = { ...m, top: m.bottom, bottom: m.top };
  const turns = ((Math.round(view.rotation / 90) % 4) + 4) % 4;
  for (let i = 0; i < turns; i++) m = { top: m.left, right: m.top, bottom: m.right, left: m.bottom };
  return m;
}
