import type { ReferenceLine } from '../../../shared/viewer/geometry';

interface Props {
  line: ReferenceLine;
  /** Image corner coordinates (pixel (c, r) spans c … c+1) → CSS pixels in the image box. */
  imageToScreen(col: number, row: number): { x: number; y: number };
  /** The viewport whose slice this is (named in the tooltip and for tests). */
  source: number;
  imageSize: { columns: number; rows: number };
}

/**
 * One reference line over a viewport's image: a dark halo under a thin amber line, legible on bone and on
 * air alike, never taking the mouse (the tools keep working through it).
 */
export function ReferenceLineSvg({ line, imageToScreen, source, imageSize }: Props) {
  // The geometry puts pixel centres at integers; the viewport's image coordinates put them at +0.5.
  const a = imageToScreen(line.from.col + 0.5, line.from.row + 0.5);
  const b = imageToScreen(line.to.col + 0.5, line.to.row + 0.5);
  const f = (v: number) => v.toFixed(1);
  // Where the whole image is on screen (its corners), so a test can place the line independently.
  const c0 = imageToScreen(0, 0);
  const c1 = imageToScreen(imageSize.columns, imageSize.rows);
  return (
    <svg className="refline" data-testid="reference-line" data-source={source} data-x1={f(a.x)} data-y1={f(a.y)} data-x2={f(b.x)} data-y2={f(b.y)} data-from={`${line.from.col.toFixed(2)},${line.from.row.toFixed(2)}`} data-to={`${line.to.col.toFixed(2)},${line.to.row.toFixed(2)}`} data-image-box={[c0.x, c0.y, c1.x, c1.y].map(f).join(',')} aria-label={`Reference line of viewport ${source + 1}'s slice`}>
      <line x1={a.x} y1={a.y} x2={b.x} y2={b.y} className="refline__halo" />
      <line x1={a.x} y1={a.y} x2={b.x} y2={b.y} className="refline__line" />
    </svg>
  );
}
