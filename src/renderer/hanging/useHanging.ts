/**
 * Opening a study by its hanging protocol (src/core/hanging, saved in Settings → Hanging protocols): the
 * layout, the series of each viewport, and each viewport's window once its first image is on screen.
 */
import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import type { HangingPlan } from '../../shared/api';
import { presetById } from '../../shared/viewer/presets';
import { BridgeError, call } from '../bridge';
import { Store } from '../store';
import type { SeriesView, ViewportApi, ViewportStatus } from '../viewer/types';
import type { Layout } from '../viewer/ViewportArea';

interface Options {
  series: (SeriesView | null)[];
  statuses: (ViewportStatus | null)[];
  apis: RefObject<ViewportApi | null>[];
  openInto(index: number, seriesId: number): Promise<void>;
  setLayout(layout: Layout): void;
  setActive(index: number): void;
  clear(index: number): void;
  onError(message: string): void;
}

/** The protocol the study last opened followed (the status bar names it); name null: none applied. */
export const appliedProtocol = new Store<{ studyId: number; name: string | null } | null>(null);

export function useHanging({ series, statuses, apis, openInto, setLayout, setActive, clear, onError }: Options) {
  const [applied, setApplied] = useState<{ studyId: number; name: string | null } | null>(null);
  /** Windows waiting for their viewport's first image: index → series id and preset. */
  const pending = useRef(new Map<number, { seriesId: string; window: string }>());
  const [tick, setTick] = useState(0);

  const openStudy = useCallback(
    async (studyId: number) => {
      let plan: HangingPlan;
      try {
        plan = await call('hanging.plan', { studyId });
      } catch (e) {
        onError(e instanceof BridgeError ? e.error.message : String(e));
        return;
      }
      if (!plan.cells.some((c) => c.seriesId !== null)) {
        onError('This study has no images to show (its series hold documents only).');
        return;
      }
      pending.current.clear();
      setLayout(plan.layout);
      for (let i = 0; i < plan.cells.length; i++) {
        const c = plan.cells[i]!;
        if (c.seriesId === null) {
          clear(i);
          continue;
        }
        if (c.window && presetById(c.window)) pending.current.set(i, { seriesId: String(c.seriesId), window: c.window });
        await openInto(i, c.seriesId);
      }
      setActive(0);
      setApplied({ studyId, name: plan.protocol?.name ?? null });
      appliedProtocol.set({ studyId, name: plan.protocol?.name ?? null });
      setTick((t) => t + 1);
    },
    [openInto, setLayout, setActive, clear, onError],
  );

  // A viewport whose first image of the planned series is on screen gets its window.
  useEffect(() => {
    for (const [i, p] of [...pending.current]) {
      const st = statuses[i];
      const view = series[i];
      if (!view || view.seriesId !== p.seriesId || !st?.imageId || !st.instanceId || !view.instances.some((x) => x.id === st.instanceId)) continue;
      const preset = presetById(p.window)!;
      pending.current.delete(i);
      apis[i]?.current?.preset(preset.center, preset.width);
    }
  }, [statuses, series, apis, tick]);

  return { openStudy, applied };
}
