/**
 * "Key images only": the series a viewport shows narrowed to its key images. The filter feeds the viewer a
 * SeriesView of just those instances — the stack (useImageStack, whatever draws it) builds its image ids from
 * the SeriesView it is given and needs no change. The same object is returned while the key images of the
 * series do not change, so the stack is rebuilt only when they do.
 */
import { useMemo, useRef } from 'react';
import type { SeriesView } from '../viewer/types';

export function keyImagesOnly(series: SeriesView, keyIds: ReadonlySet<string>): SeriesView | null {
  const instances = series.instances.filter((i) => keyIds.has(i.id));
  if (instances.length === 0) return null;
  return { ...series, label: `${series.label} · key images`, instances };
}

export function useKeyImageFilter(series: (SeriesView | null)[], only: boolean[], keyIds: ReadonlySet<string>): (SeriesView | null)[] {
  const cache = useRef(new WeakMap<SeriesView, { sig: string; view: SeriesView | null }>());
  const prev = useRef<(SeriesView | null)[]>([]);
  return useMemo(() => {
    const out = series.map((s, i) => {
      if (!s || !only[i]) return s;
      const sig = s.instances.filter((x) => keyIds.has(x.id)).map((x) => x.id).join(',');
      let hit = cache.current.get(s);
      if (!hit || hit.sig !== sig) {
        hit = { sig, view: keyImagesOnly(s, keyIds) };
        cache.current.set(s, hit);
      }
      // no key image left in the series: the whole series (the app turns the filter off)
      return hit.view ?? s;
    });
    // the same array while nothing changed, so memoised viewports do not re-render
    const same = out.length === prev.current.length && out.every((v, i) => v === prev.current[i]);
    if (!same) prev.current = out;
    return prev.current;
  }, [series, only, keyIds]);
}
