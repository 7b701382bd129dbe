/**
 * The Cornerstone3D StackViewport behind a viewer element, and the one conversion between the
 * viewer's image coordinates and Cornerstone3D's world coordinates.
 *
 * Image coordinates are those of the legacy viewer and of every stored measurement: x = column,
 * y = row, in pixels, (0, 0) the top-left corner of the first pixel (its centre is (0.5, 0.5)).
 * Cornerstone3D works in patient (world) coordinates, mm; its image data's index (i, j) is the
 * centre of pixel (i, j), so image point (x, y) is index (x − 0.5, y − 0.5).
 */
import { getEnabledElement, utilities as csUtils, type StackViewport, type Types } from '@cornerstonejs/core';

const { imageIdToURI } = csUtils;
import type { Point } from '../../shared/viewer/measure';

export function viewportIdFor(index: number): string {
  return `stack-${index}`;
}

/** The stack viewport enabled on `el`, if any. */
export function stackViewportOf(el: HTMLElement | null | undefined): StackViewport | undefined {
  if (!el) return undefined;
  try {
    return getEnabledElement(el as HTMLDivElement)?.viewport as StackViewport | undefined;
  } catch {
    return undefined;
  }
}

/** The geometry of one displayed image (what the conversions need), kept per image id. */
interface Geometry {
  indexToWorld(p: Types.Point3): Types.Point3;
  worldToIndex(p: Types.Point3): Types.Point3;
}

const geometries = new Map<string, Geometry>();

/** Remembers the geometry of the image the viewport shows now (call after it is displayed). */
export function rememberGeometry(vp: StackViewport): Geometry | undefined {
  const imageId = vp.getCurrentImageId();
  const data = vp.getImageData() as { imageData?: { indexToWorld(p: Types.Point3, out?: Types.Point3): Types.Point3; worldToIndex(p: Types.Point3, out?: Types.Point3): Types.Point3 } } | undefined;
  const img = data?.imageData;
  if (!imageId || !img) return undefined;
  // Copy the matrices out of vtk's live object: the viewport reuses it for the next image.
  const origin = img.indexToWorld([0, 0, 0] as Types.Point3, [0, 0, 0] as Types.Point3);
  const ex = img.indexToWorld([1, 0, 0] as Types.Point3, [0, 0, 0] as Types.Point3);
  const ey = img.indexToWorld([0, 1, 0] as Types.Point3, [0, 0, 0] as Types.Point3);
  const ez = img.indexToWorld([0, 0, 1] as Types.Point3, [0, 0, 0] as Types.Point3);
  const o = [origin[0], origin[1], origin[2]];
  const u = [ex[0] - o[0]!, ex[1] - o[1]!, ex[2] - o[2]!];
  const v = [ey[0] - o[0]!, ey[1] - o[1]!, ey[2] - o[2]!];
  let w = [ez[0] - o[0]!, ez[1] - o[1]!, ez[2] - o[2]!];
  if (Math.hypot(w[0]!, w[1]!, w[2]!) < 1e-9) w = cross(u, v);
  const m = [u, v, w];
  const inv = invert3(m);
  const g: Geometry = {
    indexToWorld: (p) => [o[0]! + u[0]! * p[0] + v[0]! * p[1] + w[0]! * p[2], o[1]! + u[1]! * p[0] + v[1]! * p[1] + w[1]! * p[2], o[2]! + u[2]! * p[0] + v[2]! * p[1] + w[2]! * p[2]] as Types.Point3,
    worldToIndex: (p) => {
      const d = [p[0] - o[0]!, p[1] - o[1]!, p[2] - o[2]!];
      return [0, 1, 2].map((r) => inv[r]![0]! * d[0]! + inv[r]![1]! * d[1]! + inv[r]![2]! * d[2]!) as Types.Point3;
    },
  };
  geometries.set(imageId, g);
  return g;
}

function cross(a: number[], b: number[]): number[] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

/** Inverse of the 3×3 matrix whose COLUMNS are m[0], m[1], m[2] (returned as rows of the inverse). */
function invert3(m: number[][]): number[][] {
  const [a, b, c] = m as [number[], number[], number[]];
  const r0 = cross(b, c);
  const r1 = cross(c, a);
  const r2 = cross(a, b);
  const det = a[0]! * r0[0]! + a[1]! * r0[1]! + a[2]! * r0[2]!;
  return [r0.map((x) => x / det), r1.map((x) => x / det), r2.map((x) => x / det)];
}

export function hasGeometry(imageId: string): boolean {
  return geometries.has(imageId);
}

/** Image point (legacy pixel coordinates) → world point, for an image already displayed once. */
export function imageToWorld(imageId: string, p: Point): Types.Point3 | null {
  const g = geometries.get(imageId);
  return g ? g.indexToWorld([p.x - 0.5, p.y - 0.5, 0] as Types.Point3) : null;
}

/** World point → image point (legacy pixel coordinates), for an image already displayed once. */
export function worldToImage(imageId: string, w: Types.Point3 | readonly number[]): Point | null {
  const g = geometries.get(imageId);
  if (!g) return null;
  const i = g.worldToIndex([w[0]!, w[1]!, w[2]!] as Types.Point3);
  return { x: i[0] + 0.5, y: i[1] + 0.5 };
}

/**
 * CSS pixels in the viewport's canvas box → image point (legacy pixel coordinates), the inverse of the
 * overlays' image → screen mapping. The CPU renderer draws image pixels through its own 2D transform,
 * so there the pixel under the pointer is read through that transform's inverse: its canvasToWorld
 * treats the corner-based pixel position as a centre-based index, which named the neighbouring pixel
 * (by one) on a rotated and flipped image.
 */
export function screenToImage(vp: StackViewport, imageId: string, x: number, y: number): Point | null {
  const cpu = vp as unknown as { useCPURendering?: boolean; _cpuFallbackEnabledElement?: { transform?: { getMatrix(): number[] } } };
  const m = cpu.useCPURendering ? cpu._cpuFallbackEnabledElement?.transform?.getMatrix() : undefined;
  if (m) {
    const dpr = window.devicePixelRatio || 1;
    const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
    const det = a * d - b * c;
    if (det === 0) return null;
    const cx = x * dpr - e;
    const cy = y * dpr - f;
    return { x: (d * cx - c * cy) / det, y: (a * cy - b * cx) / det };
  }
  return worldToImage(imageId, vp.canvasToWorld([x, y] as Types.Point2));
}

/** The private fields of a StackViewport that hold its list of image ids (see growStack). */
interface StackIds {
  imageIds: string[];
  imageKeyToIndexMap: Map<string, number>;
  currentImageIdIndex: number;
  targetImageIdIndex: number;
}

/**
 * Replaces the viewport's image ids by a longer list of the same series (a retrieve still
 * arriving) without setStack, which resets the window, flips, invert and camera of what the reader
 * is looking at. `at` is the index of the image on screen in the new list.
 */
export function growStack(vp: StackViewport, imageIds: string[], at: number): void {
  const v = vp as unknown as StackIds;
  v.imageIds = imageIds;
  v.imageKeyToIndexMap.clear();
  imageIds.forEach((id, i) => {
    v.imageKeyToIndexMap.set(id, i);
    v.imageKeyToIndexMap.set(imageIdToURI(id), i);
  });
  v.currentImageIdIndex = at;
  v.targetImageIdIndex = at;
}
