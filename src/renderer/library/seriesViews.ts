/** The renderer's side of the library channel: a series as a viewport needs it, fetched once. */
import { call } from '../bridge';
import { forgetInstanceList } from './instanceList';
import type { SeriesView } from '../viewer/types';

/**
 * Series views by id (and source: a PACS's copies of the series), fetched once: pointing at a series
 * in the browser starts the fetch, so a click opens it without waiting for the instance list.
 * Forgotten whenever the index changes.
 */
const views = new Map<string, Promise<SeriesView>>();
/** The source a view was opened from ("pacs:<connection>"), null for the library's own instances. */
const sources = new WeakMap<SeriesView, string>();
/** Instances that are a PACS copy differing from the library's instance of the same SOP Instance UID: id → source. */
const copies = new Map<string, string>();

const key = (seriesId: number, source?: string | null) => `${seriesId}|${source ?? ''}`;

export function seriesView(seriesId: number, source?: string | null): Promise<SeriesView> {
  const k = key(seriesId, source);
  let p = views.get(k);
  if (!p) {
    p = fetchSeriesView(seriesId, source ?? null);
    views.set(k, p);
    p.catch(() => views.delete(k));
  }
  return p;
}

/** The view of this series as it is in the library now (not the remembered one): a series that grows during a retrieve. */
export function freshSeriesView(seriesId: number, source?: string | null): Promise<SeriesView> {
  views.delete(key(seriesId, source));
  forgetInstanceList(seriesId, source);
  return seriesView(seriesId, source);
}

export function prefetchSeriesView(seriesId: number): void {
  void seriesView(seriesId).catch(() => undefined);
}

export function forgetSeriesViews(): void {
  views.clear();
  forgetInstanceList();
}

/** "pacs:<connection>" when the view shows what that PACS returned, else null. */
export function sourceOfView(view: SeriesView | null): string | null {
  return (view && sources.get(view)) ?? null;
}

/** The source of an instance that is a PACS copy with other bytes than the library's image, else null. */
export function copySourceOf(instanceId: string | null): string | null {
  return (instanceId && copies.get(instanceId)) ?? null;
}

/** "pacs:Orthanc" → "Orthanc"; "scp:MODALITY1" → "Storage SCP (MODALITY1)". */
export function sourceName(source: string): string {
  if (source.startsWith('pacs:')) return source.slice(5);
  if (source.startsWith('scp:')) return `Storage SCP (${source.slice(4) || 'unknown AE'})`;
  return source;
}

async function fetchSeriesView(seriesId: number, source: string | null): Promise<SeriesView> {
  // The lean list (ids and image counts): what the stack and its first image need, a few bytes an
  // instance; the full list (geometry, files) is asked by those who need it after the first image.
  const { series, ids, frames, copies: copied } = await call('library.stack', { seriesId, ...(source ? { source } : {}) });
  const label = [series.number !== null ? `Se ${series.number}` : '', series.description ?? '', source ? `as on ${sourceName(source)}` : ''].filter(Boolean).join(' · ') || `Series ${series.id}`;
  for (const c of copied) copies.set(String(c.id), c.source);
  const view: SeriesView = {
    seriesId: String(series.id),
    label,
    modality: series.modality ?? '',
    instances: ids.map((id, k) => ({ id: String(id), frames: frames[k] ?? 1 })),
  };
  if (source) sources.set(view, source);
  return view;
}
