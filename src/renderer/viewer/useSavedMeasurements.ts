import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { cornerstone } from './cornerstone';
import { removeAnnotation, restore, snapshot, type SavedMeasurement } from './measurements';
import { loadMeasurements, saveMeasurements } from './measurementStore';
import type { SeriesView, StackItem } from './types';

/**
 * The measurements on a viewport's images, kept in the database: loaded once per instance (onto
 * every frame of it), saved after each edit (while a handle is dragged, half a second after the
 * last move), deleted on request. `tick` changes whenever the list on screen may have changed.
 */
export function useSavedMeasurements(elRef: RefObject<HTMLDivElement | null>, stackRef: RefObject<StackItem[]>, posRef: RefObject<number>, series: SeriesView | null) {
  const loaded = useRef(new Set<string>());
  const [tick, setTick] = useState(0);

  // A new series reads its measurements again (another viewport may have changed them).
  useEffect(() => {
    loaded.current.clear();
  }, [series]);

  /** Fetches the saved measurements of an instance once and puts them on its frames. */
  const ensureLoaded = useCallback(
    async (item: StackItem) => {
      const key = item.instanceId;
      if (loaded.current.has(key)) return;
      loaded.current.add(key);
      let saved: SavedMeasurement[] = [];
      try {
        saved = await loadMeasurements(item.instanceId);
      } catch (e) {
        console.warn('measurements not loaded', e);
        return;
      }
      const byFrame = new Map<number, SavedMeasurement[]>();
      for (const m of saved) byFrame.set(m.frame, [...(byFrame.get(m.frame) ?? []), m]);
      for (const s of stackRef.current) {
        if (s.instanceId === item.instanceId) restore(s.imageId, byFrame.get(s.frame) ?? []);
      }
      const el = elRef.current;
      if (el) {
        try {
          cornerstone.updateImage(el);
        } catch {
          /* element gone */
        }
      }
      setTick((t) => t + 1);
    },
    [elRef, stackRef],
  );

  // Save after the tools change an annotation; pending saves are written on unmount.
  useEffect(() => {
    const el = elRef.current;
    if (!el) return;
    const timers = new Map<string, number>();
    const scheduleSave = (item: StackItem, delay: number) => {
      const key = item.imageId;
      const old = timers.get(key);
      if (old) clearTimeout(old);
      timers.set(
        key,
        window.setTimeout(() => {
          timers.delete(key);
          saveMeasurements(item.instanceId, item.frame, snapshot(item.imageId, item.frame)).catch((e) => console.warn('measurement not saved', e));
        }, delay),
      );
    };
    const onMeasure = (ev: Event) => {
      const item = stackRef.current[posRef.current];
      if (!item) return;
      // Completed: no longer a draft (measureTools.ts), so it is listed and saved from now on.
      if (ev.type === 'cornerstonetoolsmeasurementcompleted') {
        const data = (ev as CustomEvent<{ measurementData?: { __draft?: boolean } }>).detail?.measurementData;
        if (data) delete data.__draft;
      }
      setTick((t) => t + 1);
      if (ev.type === 'cornerstonetoolsmeasurementmodified') scheduleSave(item, 500);
      else scheduleSave(item, 0);
    };
    el.addEventListener('cornerstonetoolsmeasurementcompleted', onMeasure);
    el.addEventListener('cornerstonetoolsmeasurementmodified', onMeasure);
    el.addEventListener('cornerstonetoolsmeasurementremoved', onMeasure);
    return () => {
      el.removeEventListener('cornerstonetoolsmeasurementcompleted', onMeasure);
      el.removeEventListener('cornerstonetoolsmeasurementmodified', onMeasure);
      el.removeEventListener('cornerstonetoolsmeasurementremoved', onMeasure);
      for (const [k, t] of timers) {
        clearTimeout(t);
        const item = stackRef.current.find((s) => s.imageId === k);
        if (item) void saveMeasurements(item.instanceId, item.frame, snapshot(item.imageId, item.frame)).catch(() => undefined);
      }
    };
  }, [elRef, stackRef, posRef]);

  /** Deletes one measurement (or the newest) of the image on screen, and saves the rest. */
  const remove = useCallback(
    (uuid?: string) => {
      const item = stackRef.current[posRef.current];
      const el = elRef.current;
      if (!item || !el) return;
      const list = snapshot(item.imageId, item.frame);
      const target = uuid ?? list[list.length - 1]?.uuid;
      if (!target || !removeAnnotation(item.imageId, target)) return;
      cornerstone.updateImage(el);
      setTick((t) => t + 1);
      saveMeasurements(item.instanceId, item.frame, snapshot(item.imageId, item.frame)).catch((e) => console.warn('measurement not saved', e));
    },
    [elRef, stackRef, posRef],
  );

  return { tick, ensureLoaded, remove };
}
