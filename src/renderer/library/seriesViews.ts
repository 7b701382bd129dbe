/** The renderer's side of the library channel: a series as a viewport needs it, fetched once. */
import { call } from '../bridge';
import type { SeriesView } from '../viewer/types';

/**
 * Series views by id, fetched once: pointing at a series in the browser starts the fetch, so a
 * click opens it without waiting for the instance list. Forgotten whenever the index changes.
 */
const views = new Map<number, Promise<SeriesView>>();

export function seriesView(seriesId: number): Promise<SeriesView> {
  let p = views.get(seriesId);
  if (!p) {
    p = fetchSeriesView(seriesId);
    views.set(seriesId, p);
    p.catch(() => views.delete(seriesId));
  }
  return p;
}

export function prefetchSeriesView(seriesId: number): void {
  void seriesView(seriesId).catch(() => undefined);
}

export function forgetSeriesViews(): void {
  views.clear();
}

async function fetchSeriesView(seriesId: number): Promise<SeriesView> {
  const { series, instances } = await call('library.instances', { seriesId });
  const label = [series.number !== null ? `Se ${series.number}` : '', series.description ?? ''].filter(Boolean).join(' · ') || `Series ${series.id}`;
  return {
    seriesId: String(series.id),
    label,
    modality: series.modality ?? '',
    instances: instances.map((i) => ({ id: String(i.id), frames: i.hasPixels ? Math.max(1, i.frames) : 1 })),
  };
}
