/**
 * Linked viewing across the viewports on screen (docs/linked-viewing.md):
 *  - reference lines: the active viewport's slice drawn on the other viewports' images of the same frame of reference;
 *  - linked scrolling by position: scrolling the active viewport moves the others of the same frame of reference
 *    (and the same orientation, within 15°) to their slice nearest in position along their normal — not by index;
 *    between frames of reference only after "Sync here" (they then keep the offset along the normal they had);
 *  - linked W/L: the active viewport's window copied to the viewports of the same modality.
 * It reads the viewports through their status and `viewportWindows` (viewportReports.ts) and drives them only
 * through ViewportApi.scrollTo / preset.
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type RefObject } from 'react';
import { centreOf, nearestSlice, offsetAlongNormal, referenceLine, sameOrientation, type ImagePlane, type SlicePosition } from '../../../shared/viewer/geometry';
import { sourceOfView } from '../../library/seriesViews';
import type { SeriesView, ViewportApi, ViewportImageLayer, ViewportStatus } from '../types';
import { ReferenceLineSvg } from './ReferenceLineSvg';
import { seriesGeometry, stackSlices, type SeriesGeometry } from './seriesGeometry';
import { viewportWindows } from './viewportReports';

export interface LinkToggles {
  referenceLines: boolean;
  scroll: boolean;
  windowLevel: boolean;
}

interface Options {
  series: (SeriesView | null)[];
  statuses: (ViewportStatus | null)[];
  active: number;
  /** Viewports on screen (the layout's cells). */
  cells: number;
  apis: RefObject<ViewportApi | null>[];
}

const keyOf = (v: SeriesView) => `${v.seriesId}|${sourceOfView(v) ?? ''}`;
const pairKey = (a: SeriesView, b: SeriesView) => `${keyOf(a)}>${keyOf(b)}`;

export interface LinkedViewing {
  toggles: LinkToggles;
  setToggle(name: keyof LinkToggles, on: boolean): void;
  layer: ViewportImageLayer | undefined;
  /** Viewports on screen whose series have another frame of reference than the active one's (same orientation): they can be synced by hand. */
  unlinked: number[];
  /** Links the viewports on screen at the slices they show now (kept offset along the normal). */
  syncHere(): void;
  /** Pairs synced by hand (for the status text). */
  manualCount: number;
  /** The Frame of Reference UID of the series shown in viewport i (null: unknown or not loaded). */
  frameOfReference(i: number): string | null;
}

export function useLinkedViewing({ series, statuses, active, cells, apis }: Options): LinkedViewing {
  const [toggles, setToggles] = useState<LinkToggles>({ referenceLines: true, scroll: true, windowLevel: false });
  const setToggle = useCallback((name: keyof LinkToggles, on: boolean) => setToggles((t) => ({ ...t, [name]: on })), []);
  const [geo, setGeo] = useState<Map<string, SeriesGeometry>>(new Map());
  const [manual, setManual] = useState<Map<string, number>>(new Map());

  useEffect(() => {
    let live = true;
    // One viewport on screen links nothing: its series' full instance list (1.4 MB for 2,000 images) is not asked.
    if (cells < 2) return;
    for (const v of series.slice(0, cells)) {
      if (!v || geo.has(keyOf(v))) continue;
      seriesGeometry(v).then(
        (g) => live && setGeo((prev) => (prev.has(keyOf(v)) ? prev : new Map(prev).set(keyOf(v), g))),
        () => undefined, // no geometry: no reference lines or linking for this series, the viewport itself still shows it
      );
    }
    return () => {
      live = false;
    };
  }, [series, geo, cells]);

  const geoOf = useCallback((i: number): SeriesGeometry | null => (series[i] ? (geo.get(keyOf(series[i]!)) ?? null) : null), [series, geo]);
  /** The plane of the image on screen in viewport i. */
  const planeOf = useCallback(
    (i: number): ImagePlane | null => {
      const id = statuses[i]?.instanceId;
      return (id && geoOf(i)?.planes.get(id)) || null;
    },
    [statuses, geoOf],
  );
  const slicesOf = useCallback((i: number): (SlicePosition | null)[] => (series[i] && geoOf(i) ? stackSlices(series[i]!, geoOf(i)!) : []), [series, geoOf]);

  const sameFor = (a: ImagePlane, g: SeriesGeometry | null) => !!a.frameOfReferenceUid && a.frameOfReferenceUid === g?.frameOfReferenceUid;

  // ---- linked scrolling by position
  const scrolled = useRef<{ active: number; seriesId: string; position: number } | null>(null);
  /** A scroll came before the geometry it needs (a series just opened): the others follow once it arrives. */
  const pendingAlign = useRef(false);
  const activeStatus = statuses[active];
  useEffect(() => {
    const view = series[active];
    const cur = view && activeStatus ? { active, seriesId: keyOf(view), position: activeStatus.position } : null;
    const before = scrolled.current;
    scrolled.current = cur;
    // Another active viewport or series: an earlier scroll no longer asks to be followed.
    if (!cur || (before && (before.active !== cur.active || before.seriesId !== cur.seriesId))) pendingAlign.current = false;
    // Only a scroll of the same series in the same active viewport moves the others (not opening a series, not activating).
    const scrolledNow = !!cur && !!before && before.active === cur.active && before.seriesId === cur.seriesId && before.position !== cur.position;
    if (!toggles.scroll || !cur || (!scrolledNow && !pendingAlign.current)) return;
    const src = planeOf(active);
    if (!src) {
      pendingAlign.current = true;
      return;
    }
    let missing = false;
    const centre = centreOf(src);
    for (let j = 0; j < cells; j++) {
      const target = series[j];
      if (j === active || !target) continue;
      if (!geoOf(j)) {
        missing = true;
        continue;
      }
      const slices = slicesOf(j);
      const any = slices.find((s): s is SlicePosition => s !== null);
      if (!any || !sameOrientation(src, any)) continue;
      const offset = sameFor(src, geoOf(j)) ? 0 : manual.get(pairKey(view!, target));
      if (offset === undefined) continue;
      const candidates = slices.map((s, k) => ({ s, k })).filter((x): x is { s: SlicePosition; k: number } => x.s !== null);
      const best = nearestSlice(centre, candidates.map((c) => c.s), offset);
      if (!best) continue;
      const k = candidates[best.index]!.k;
      if (statuses[j]?.position !== k) apis[j]?.current?.scrollTo(k);
    }
    pendingAlign.current = missing;
    // deliberately driven by the active viewport's position only (and the geometry a pending scroll waits for)
  }, [activeStatus?.position, activeStatus?.instanceId, active, series[active], geo]);

  // ---- linked W/L
  const windows = useSyncExternalStore(viewportWindows.subscribe, viewportWindows.get);
  const windowed = useRef<{ active: number; seriesId: string; wc: number; ww: number } | null>(null);
  const activeWindow = windows[active] ?? null;
  useEffect(() => {
    const view = series[active];
    const cur = view && activeWindow ? { active, seriesId: keyOf(view), ...activeWindow } : null;
    const before = windowed.current;
    windowed.current = cur;
    if (!toggles.windowLevel || !cur || !before || before.active !== cur.active || before.seriesId !== cur.seriesId || (before.wc === cur.wc && before.ww === cur.ww)) return;
    const modality = (statuses[active]?.modality || view!.modality).toUpperCase();
    for (let j = 0; j < cells; j++) {
      if (j === active || !series[j]) continue;
      if ((statuses[j]?.modality || series[j]!.modality).toUpperCase() !== modality) continue;
      const w = windows[j];
      if (w && Math.abs(w.wc - cur.wc) < 1e-6 && Math.abs(w.ww - cur.ww) < 1e-6) continue;
      apis[j]?.current?.preset(cur.wc, cur.ww);
    }
    // deliberately driven by the active viewport's window only
  }, [activeWindow?.wc, activeWindow?.ww, active, series[active]]);

  // ---- manual sync between frames of reference
  const unlinked = useMemo(() => {
    const src = planeOf(active);
    const out: number[] = [];
    if (!src) return out;
    for (let j = 0; j < cells; j++) {
      if (j === active || !series[j]) continue;
      const p = planeOf(j);
      if (p && !sameFor(src, geoOf(j)) && sameOrientation(src, p)) out.push(j);
    }
    return out;
  }, [planeOf, geoOf, active, cells, series]);

  const syncHere = useCallback(() => {
    setManual((prev) => {
      const next = new Map(prev);
      for (let a = 0; a < cells; a++) {
        for (let b = 0; b < cells; b++) {
          const pa = planeOf(a);
          const pb = planeOf(b);
          if (a === b || !pa || !pb || !series[a] || !series[b] || sameFor(pa, geoOf(b)) || !sameOrientation(pa, pb)) continue;
          next.set(pairKey(series[a]!, series[b]!), offsetAlongNormal(centreOf(pa), pb));
        }
      }
      return next;
    });
  }, [cells, planeOf, geoOf, series]);

  // ---- reference lines
  const source = planeOf(active);
  const layer = useMemo<ViewportImageLayer | undefined>(() => {
    if (!toggles.referenceLines || !source || cells < 2) return undefined;
    return (ctx) => {
      if (ctx.index === active || ctx.index >= cells || !ctx.instanceId) return null;
      const target = geoOf(ctx.index)?.planes.get(ctx.instanceId);
      const line = target ? referenceLine(source, target) : null;
      return line ? <ReferenceLineSvg line={line} imageToScreen={ctx.imageToScreen} source={active} imageSize={ctx.imageSize} /> : null;
    };
  }, [toggles.referenceLines, source, cells, active, geoOf]);

  const frameOfReference = useCallback((i: number) => geoOf(i)?.frameOfReferenceUid ?? null, [geoOf]);
  return { toggles, setToggle, layer, unlinked, syncHere, manualCount: manual.size, frameOfReference };
}
