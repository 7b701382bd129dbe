import { memo, useCallback, useEffect, useRef, useState, type Ref } from 'react';
import { ctPresetName } from '../../shared/viewer/presets';
import { usePointerValue } from './usePointerValue';
import { useSeriesDrop } from './seriesDrop';
import type { SeriesView, StackItem, ViewportApi, ViewportBadges, ViewportImageLayer, ViewportStatus } from './types';
import { imageToWorld, stackViewportOf } from './stackViewport';
import { useCine } from './useCine';
import { useCornerstoneElement } from './useCornerstoneElement';
import { useImageStack } from './useImageStack';
import { useSavedMeasurements } from './useSavedMeasurements';
import { useStatusReport } from './useStatusReport';
import { useViewportCommands } from './useViewportCommands';
import { useViewState } from './viewState';
import { useWheelScroll } from './useWheelScroll';
import { useRenderMode } from './useRenderMode';
import { ViewportMessage } from './ViewportMessage';
import { ViewportOverlay } from './ViewportOverlay';
import { useReportWindow } from './linking/viewportReports';
// The viewer benchmark's peer (window.medimgStackBench) lives beside the stack code it is compared with.
import './bareStack';

interface Props {
  index: number;
  series: SeriesView | null;
  active: boolean;
  showOverlays: boolean;
  /** Other viewports are on screen (they follow this one's every step: linked scrolling, reference lines). */
  shared?: boolean;
  apiRef: Ref<ViewportApi | null>;
  /** Badges the app draws over the image (the viewer only says which image is on screen). */
  badges?: ViewportBadges;
  /** A layer the app draws over the image (the AI heat map), given where the image is on screen. */
  imageLayer?: ViewportImageLayer;
  onActivate(index: number): void;
  onDropSeries(index: number, seriesId: string): void;
  onStatus(status: ViewportStatus): void;
}

/** One Cornerstone3D reading viewport: a stack, its tools, overlays and a clear message when an image fails. */
export const Viewport = memo(function Viewport({ index, series, active, showOverlays, shared = true, apiRef, badges, imageLayer, onActivate, onDropSeries, onStatus }: Props) {
  const elRef = useRef<HTMLDivElement>(null);
  const stackRef = useRef<StackItem[]>([]);
  const posRef = useRef(0);

  // Measurements first: their pending saves are written before the element is disabled on unmount.
  const measurements = useSavedMeasurements(elRef, stackRef, posRef, series);
  const { view, readView } = useViewState(elRef);
  useCornerstoneElement(elRef, index, readView);
  const stack = useImageStack({ elRef, index, series, stackRef, posRef, view, readView, ensureMeasurements: measurements.ensureLoaded, onDisplayed: measurements.onDisplayed });
  const render = useRenderMode();
  const { state, pos, count, overlay, imageRef, show } = stack;
  // Without WebGL the stack renders on the CPU: said in the overlay (slower; no MPR).
  // Said only when the CPU renderer stands in for a missing WebGL (chosen for speed, it is no news).
  const cpuNote = render.mode === 'cpu' && render.fallback && state.kind === 'ready' ? { text: 'CPU rendering', title: `${render.reason ?? 'WebGL is not available'}: images are drawn by the CPU renderer (slower; MPR is not available).` } : null;
  const { cine, command: cineCommand, setFps } = useCine(series, stackRef, posRef, show);
  const [applied, setApplied] = useState<{ label: string; center: number; width: number } | null>(null);
  const onPreset = useCallback((p: { label: string; center: number; width: number }) => setApplied(p), []);
  useViewportCommands(apiRef, { elRef, imageRef, stackRef, posRef, readView, show, cine: cineCommand, setFps, deleteMeasurement: measurements.remove, onPreset });
  const pointer = usePointerValue(elRef, imageRef);
  useWheelScroll(elRef, stackRef, posRef, show);
  const drop = useSeriesDrop(index, onDropSeries);

  const item = stackRef.current[pos];
  const modality = series?.modality ?? '';
  const presetName = !view
    ? null
    : (ctPresetName(overlay?.modality || modality, view.wc, view.ww) ??
      (applied && Math.abs(applied.center - view.wc) < 0.5 && Math.abs(applied.width - view.ww) < 0.5 ? applied.label : null));
  useReportWindow(index, view?.wc, view?.ww); // linked viewing's hook (linking/viewportReports.ts)
  useStatusReport({ index, item, image: imageRef.current, state, pos, count, modality, cine, measureTick: measurements.tick, everyFrame: shared }, onStatus);

  return (
    <div
      className={`viewport${active ? ' viewport--active' : ''}${drop.dragOver ? ' viewport--drop' : ''}${state.kind === 'empty' ? ' viewport--empty' : ''}`}
      data-testid="viewport"
      data-index={index}
      data-state={state.kind}
      data-position={pos}
      data-count={count}
      data-image-id={item?.imageId ?? ''}
      data-instance-id={item?.instanceId ?? ''}
      data-wc={view ? Math.round(view.wc * 100) / 100 : ''}
      data-ww={view ? Math.round(view.ww * 100) / 100 : ''}
      data-scale={view ? view.scale.toFixed(4) : ''}
      data-rotation={view?.rotation ?? ''}
      data-tx={view ? view.tx.toFixed(1) : ''}
      data-ty={view ? view.ty.toFixed(1) : ''}
      data-hflip={view?.hflip ? 'true' : 'false'}
      data-vflip={view?.vflip ? 'true' : 'false'}
      data-invert={view?.invert ? 'true' : 'false'}
      data-cine={cine.playing ? 'playing' : 'stopped'}
      data-fps={cine.fps}
      data-render={render.mode}
      onMouseDownCapture={() => onActivate(index)}
      {...drop.handlers}
    >
      <div className="viewport__canvas" ref={elRef} onContextMenu={(e) => e.preventDefault()} />
      <ViewportMessage state={state} pos={pos} count={count} />
      {!showOverlays && cpuNote && (
        <div className="viewport__note" data-testid="cpu-rendering-note" role="status" title={cpuNote.title}>
          {cpuNote.text}
        </div>
      )}
      {imageLayer && state.kind === 'ready' && imageRef.current && item &&
        imageLayer({ index, instanceId: item.instanceId, imageSize: { columns: imageRef.current.columns, rows: imageRef.current.rows }, imageToScreen: (x, y) => imageToScreen(elRef.current, item.imageId, x, y) })}
      {showOverlays && state.kind !== 'empty' && <ViewportOverlay overlay={overlay} ready={state.kind === 'ready'} item={item} pos={pos} count={count} view={view} cine={cine} presetName={presetName} pointer={pointer} note={cpuNote} />}
      {badges && (
        // The badges' own row above the image: they never cover the image or its overlay text.
        <div className="viewport__badges" data-testid="viewport-badges">
          {badges({ index, seriesId: series?.seriesId ?? null, instanceIds: instanceIdsOf(series), instanceId: item?.instanceId ?? null, ready: state.kind === 'ready' })}
        </div>
      )}
      {count > 1 && <StackScrollbar pos={pos} count={count} show={show} />}
    </div>
  );
});

/**
 * The stack scrollbar. A quick drag (or a busy page) delivers many input events before the page
 * draws: each one shown at once made a synchronous React commit whose effects scheduled more work,
 * and after ≈ 50 of them React aborted with error #185 ("Maximum update depth exceeded"). The
 * slider is uncontrolled and asks for the last image once per frame instead; its thumb follows the
 * image shown when the stack moves otherwise (keys, wheel, cine).
 */
function StackScrollbar({ pos, count, show }: { pos: number; count: number; show(n: number): Promise<void> }) {
  const ref = useRef<HTMLInputElement>(null);
  const wanted = useRef<number | null>(null);
  const frame = useRef(0);
  useEffect(() => {
    if (ref.current && wanted.current === null) ref.current.value = String(pos);
  }, [pos, count]);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);
  return (
    <input
      ref={ref}
      className="viewport__scrollbar"
      type="range"
      min={0}
      max={count - 1}
      defaultValue={pos}
      aria-label="Image in series"
      data-testid="stack-scrollbar"
      onChange={(e) => {
        wanted.current = Number(e.target.value);
        if (frame.current) return;
        frame.current = requestAnimationFrame(() => {
          frame.current = 0;
          const n = wanted.current;
          wanted.current = null;
          if (n !== null) void show(n);
        });
      }}
    />
  );
}

const idsCache = new WeakMap<SeriesView, string[]>();
/** The instance ids of a series (same array for the same series, so effects do not re-run). */
function instanceIdsOf(series: SeriesView | null): string[] {
  if (!series) return [];
  let ids = idsCache.get(series);
  if (!ids) {
    ids = series.instances.map((i) => i.id);
    idsCache.set(series, ids);
  }
  return ids;
}

/**
 * Image pixel (legacy coordinates: (0, 0) the first pixel's top-left corner) → CSS pixels in the
 * viewport's canvas box, through the displayed image's world geometry (Cornerstone3D draws in world
 * coordinates). Off-screen (−1e6) until the image's geometry is known.
 */
function imageToScreen(el: HTMLElement | null, imageId: string, x: number, y: number): { x: number; y: number } {
  const vp = stackViewportOf(el);
  const cpu = vp && (vp as unknown as { useCPURendering?: boolean; _cpuFallbackEnabledElement?: { transform?: { transformPoint(p: number[]): number[] } } });
  if (cpu?.useCPURendering && cpu._cpuFallbackEnabledElement?.transform) {
    // The CPU renderer draws image pixels through this very transform (canvas device pixels).
    const [cx, cy] = cpu._cpuFallbackEnabledElement.transform.transformPoint([x, y]);
    const dpr = window.devicePixelRatio || 1;
    return { x: cx! / dpr, y: cy! / dpr };
  }
  const w = imageToWorld(imageId, { x, y });
  if (!vp || !w) return { x: -1e6, y: -1e6 };
  const c = vp.worldToCanvas(w);
  return { x: c[0], y: c[1] };
}
