/**
 * The image planes of a series as linked viewing needs them: per instance its Image Position / Orientation
 * (Patient), Pixel Spacing and size from the library index, and the series' Frame of Reference UID (from
 * its header, via the main process). Fetched once per series (and source); the instance list is the window's
 * one request for the series (library/instanceList.ts), not a second 1.4 MB answer before a large series' first image.
 */
import type { ImagePlane, SlicePosition, Vec3 } from '../../../shared/viewer/geometry';
import { call } from '../../bridge';
import { instanceList } from '../../library/instanceList';
import { sourceOfView } from '../../library/seriesViews';
import type { SeriesView } from '../types';

export interface SeriesGeometry {
  frameOfReferenceUid: string | null;
  /** Instance id → its plane; instances without a usable geometry are absent. */
  planes: Map<string, ImagePlane>;
}

const cache = new Map<string, Promise<SeriesGeometry>>();

export function seriesGeometry(view: SeriesView): Promise<SeriesGeometry> {
  const source = sourceOfView(view);
  const key = `${view.seriesId}|${source ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = load(Number(view.seriesId), source);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function load(seriesId: number, source: string | null): Promise<SeriesGeometry> {
  const [{ instances }, { frameOfReferenceUid }] = await Promise.all([instanceList(seriesId, source), call('viewing.frameOfReference', { seriesId })]);
  const planes = new Map<string, ImagePlane>();
  for (const i of instances) {
    const g = i.geometry;
    if (!g.imagePositionPatient || !g.imageOrientationPatient || !g.pixelSpacing || !i.rows || !i.columns) continue;
    planes.set(String(i.id), {
      frameOfReferenceUid,
      imagePositionPatient: g.imagePositionPatient as unknown as Vec3,
      imageOrientationPatient: g.imageOrientationPatient as unknown as ImagePlane['imageOrientationPatient'],
      pixelSpacing: g.pixelSpacing as unknown as [number, number],
      rows: i.rows,
      columns: i.columns,
    });
  }
  return { frameOfReferenceUid, planes };
}

/**
 * The slice position of each image of the viewport's stack (instances × frames, in the view's order); null
 * for frames of multi-frame instances (their per-frame positions are not in the index) and images without geometry.
 */
export function stackSlices(view: SeriesView, g: SeriesGeometry): (SlicePosition | null)[] {
  const out: (SlicePosition | null)[] = [];
  for (const inst of view.instances) {
    const frames = Math.max(1, inst.frames || 1);
    const plane = frames === 1 ? (g.planes.get(inst.id) ?? null) : null;
    for (let f = 0; f < frames; f++) out.push(plane);
  }
  return out;
}
