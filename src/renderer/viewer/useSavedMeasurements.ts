import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { eventTarget } from '@cornerstonejs/core';
import { Enums as ToolEnums, type Types as ToolTypes } from '@cornerstonejs/tools';
import { applyPending, removeAnnotation, restore, snapshot, type SavedMeasurement } from './measurements';
import { loadMeasurements, saveMeasurements } from './measurementStore';
import { stackViewportOf } from './stackViewport';
import type { SeriesView, StackItem } from './types';

const EVENTS = [ToolEnums.Events.ANNOTATION_COMPLETED, ToolEnums.Events.ANNOTATION_MODIFIED, ToolEnums.Events.ANNOTATION_REMOVED] as const;

/**
 * The measurements on a viewport's images, kept in the database: loaded once per instance (onto
 * every frame of it; put on an image when it is first displayed, since the image ↔ world
 * conversion needs its geometry), saved after each edit (while a handle is dragged, half a second
 * after the last move), deleted on request. `tick` changes whenever the list on screen may have
 * changed.
 */
export function useSavedMeasurements(elRef: RefObject<HTMLDivElement | null>, stackRef: RefObject<StackItem[]>, posRef: RefObject<number>, series: SeriesView | null) {
  const loaded = useRef(new Set<string>());
  const [tick, setTick] = useState(0);

  // A new series reads its measurements again (another viewport may have changed them).
  useEffect(() => {
    loaded.current.clear();
  }, [series]);

  /** Fetches the saved measurements of an instance once and queues them for its frames. */
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
    },
    [stackRef],
  );

  /** After an image is displayed: its restored measurements go on it. */
  const onDisplayed = useCallback(
    (imageId: string) => {
      const vp = stackViewportOf(elRef.current);
      if (vp && applyPending(vp, imageId)) {
        vp.render();
        setTick((t) => t + 1);
      }
    },
    [elRef],
  );

  // Save after the tools change an annotation of one of our images; pending saves are written on unmount.
  useEffect(() => {
    const timers = new Map<string, number>();
    // What was last written per image: the tools also report hover and selection as modifications,
    // which must not rewrite (and re-date) an unchanged measurement.
    const written = new Map<string, string>();
    const itemOf = (imageId: string | undefined) => (imageId ? stackRef.current.find((s) => s.imageId === imageId) : undefined);
    const scheduleSave = (item: StackItem, delay: number) => {
      const key = item.imageId;
      const old = timers.get(key);
      if (old) clearTimeout(old);
      timers.set(
        key,
        window.setTimeout(() => {
          timers.delete(key);
          const snap = snapshot(item.imageId, item.frame);
          const json = JSON.stringify(snap);
          if (written.get(key) === json) return;
          written.set(key, json);
          saveMeasurements(item.instanceId, item.frame, snap).catch((e) => {
            written.delete(key);
            console.warn('measurement not saved', e);
          });
        }, delay),
      );
    };
    const onMeasure = (ev: Event) => {
      const a = (ev as CustomEvent<{ annotation?: ToolTypes.Annotation }>).detail?.annotation;
      const item = itemOf(a?.metadata?.referencedImageId);
      // Only the image on screen in this viewport (another viewport may show the same series).
      if (!item || stackRef.current[posRef.current]?.imageId !== item.imageId) return;
      setTick((t) => t + 1);
      if ((a?.data as { __draft?: boolean } | undefined)?.__draft) return;
      scheduleSave(item, ev.type === ToolEnums.Events.ANNOTATION_MODIFIED ? 500 : 0);
    };
    for (const e of EVENTS) eventTarget.addEventListener(e, onMeasure);
    return () => {
      for (const e of EVENTS) eventTarget.removeEventListener(e, onMeasure);
      for (const [k, t] of timers) {
        clearTimeout(t);
        const item = stackRef.current.find((s) => s.imageId === k);
        if (item) void saveMeasurements(item.instanceId, item.frame, snapshot(item.imageId, item.frame)).catch(() => undefined);
      }
    };
  }, [stackRef, posRef]);

  /** Deletes one measurement (or the newest) of the image on screen, and saves the rest. */
  const remove = useCallback(
    (uuid?: string) => {
      const item = stackRef.current[posRef.current];
      if (!item) return;
      const list = snapshot(item.imageId, item.frame);
      const target = uuid ?? list[list.length - 1]?.uuid;
      if (!target || !removeAnnotation(item.imageId, target)) return;
      stackViewportOf(elRef.current)?.render();
      setTick((t) => t + 1);
      saveMeasurements(item.instanceId, item.frame, snapshot(item.imageId, item.frame)).catch((e) => console.warn('measurement not saved', e));
    },
    [elRef, stackRef, posRef],
  );

  return { tick, ensureLoaded, onDisplayed, remove };
}
