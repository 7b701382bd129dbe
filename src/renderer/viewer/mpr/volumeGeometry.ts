/**
 * A series' image plane data, from the library index, as decideVolume wants it; and the wadouri
 * image ids of its slices in spatial order (the same URL scheme the stack viewer loads: the
 * instance's file served at `dicom/<id>` on the renderer's own origin).
 */
import type { InstanceSummary } from '../../../shared/api';
import { decideVolume, type PlaneInfo, type VolumeDecision, type VolumeGeometry } from '../../../shared/viewer/volume';
import { instanceList } from '../../library/instanceList';

export function volumeImageId(instanceId: string | number): string {
  return `wadouri:${new URL(`dicom/${encodeURIComponent(String(instanceId))}`, location.href).href}`;
}

export function planesOf(instances: readonly InstanceSummary[]): PlaneInfo[] {
  return instances
    .filter((i) => i.hasPixels)
    .map((i) => ({
      key: String(i.id),
      position: i.geometry.imagePositionPatient,
      orientation: i.geometry.imageOrientationPatient,
      pixelSpacing: i.geometry.pixelSpacing,
      rows: i.rows,
      columns: i.columns,
      frames: i.frames,
    }));
}

export interface SeriesVolume {
  seriesId: number;
  decision: VolumeDecision;
  /** Image ids in spatial order (empty when not a volume). */
  imageIds: string[];
  modality: string;
  label: string;
  instances: InstanceSummary[];
}

/**
 * Each instance list's volume decision, worked out once: it lives exactly as long as the list
 * (library/instanceList: kept while the series is shown, forgotten when the index changes).
 */
const volumes = new WeakMap<Promise<unknown>, Promise<SeriesVolume>>();

/** Whether a series forms a volume, asked once per instance list of the series. */
export function seriesVolume(seriesId: number): Promise<SeriesVolume> {
  const list = instanceList(seriesId);
  let p = volumes.get(list);
  if (!p) {
    p = list.then(({ series, instances }) => {
      const decision = decideVolume(planesOf(instances));
      const label = [series.number !== null ? `Se ${series.number}` : '', series.description ?? ''].filter(Boolean).join(' · ') || `Series ${series.id}`;
      return {
        seriesId,
        decision,
        imageIds: decision.ok ? decision.keys.map(volumeImageId) : [],
        modality: series.modality ?? '',
        label,
        instances,
      };
    });
    volumes.set(list, p);
  }
  return p;
}

export type { VolumeGeometry };
