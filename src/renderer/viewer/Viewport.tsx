import { memo, useCallback, useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react';
import {
  cornerstone,
  describeLoadError,
  imageIdFor,
  initCornerstone,
  loadImage,
  type CsImage,
  type CsViewport,
} from './cornerstone';
import { addTools, reapplyTools } from './tools';
import { removeAnnotation, restore, snapshot, views, type SavedMeasurement } from './measurements';
import { stackOf, type SeriesView, type StackItem, type ViewportApi, type ViewportBadges, type ViewportStatus } from './types';
import { edgeMarkers } from '../../shared/viewer/orientation';
import { setShown } from './diagnostics';
import { metaOf, type ImageMeta } from './meta';
import { loadMeasurements, saveMeasurements } from './measurementStore';
import { SERIES_MIME } from './seriesDrop';

interface Props {
  index: number;
  series: SeriesView | null;
  active: boolean;
  showOverlays: boolean;
  apiRef: Ref<ViewportApi | null>;
  /** Badges the app draws over the image (the viewer only says which image is on screen). */
  badges?: ViewportBadges;
  onActivate(index: number): void;
  onDropSeries(index: number, seriesId: string): void;
  onStatus(status: ViewportStatus): void;
}

/** The corner texts come straight from the image's header meta; the markers follow the view. */
type Overlay = Pick<ImageMeta, 'patient' | 'patientId' | 'study' | 'studyDate' | 'series' | 'modality' | 'position' | 'thickness'> & {
  markers: ReturnType<typeof edgeMarkers>;
};

interface ViewInfo {
  wc: number;
  ww: number;
  scale: number;
  rotation: number;
  hflip: boolean;
  vflip: boolean;
  invert: boolean;
  tx: number;
  ty: number;
}

type LoadState = { kind: 'empty' } | { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string; hint: string };

const PREFETCH = 3;

function overlayFor(meta: ImageMeta | undefined, view: ViewInfo | null): Overlay | null {
  if (!meta) return null;
  return {
    patient: meta.patient,
    patientId: meta.patientId,
    study: meta.study,
    studyDate: meta.studyDate,
    series: meta.series,
    modality: meta.modality,
    position: meta.position,
    thickness: meta.thickness,
    markers: view ? edgeMarkers(meta.iop, view) : null,
  };
}

/** One Cornerstone reading viewport: a stack, its tools, overlays and a clear message when an image fails. */
export const Viewport = memo(function Viewport({ index, series, active, showOverlays, apiRef, badges, onActivate, onDropSeries, onStatus }: Props) {
  const elRef = useRef<HTMLDivElement>(null);
  const stackRef = useRef<StackItem[]>([]);
  const posRef = useRef(0);
  const viewportRef = useRef<CsViewport | null>(null);
  const seqRef = useRef(0);
  const cineRef = useRef<{ playing: boolean; fps: number; timer: number | null }>({ playing: false, fps: 15, timer: null });
  const imageRef = useRef<CsImage | null>(null);
  const [state, setState] = useState<LoadState>({ kind: 'empty' });
  const [pos, setPos] = useState(0);
  const [count, setCount] = useState(0);
  const [view, setView] = useState<ViewInfo | null>(null);
  const [overlay, setOverlay] = useState<Overlay | null>(null);
  const [cine, setCine] = useState({ playing: false, fps: 15 });
  const [dragOver, setDragOver] = useState(false);
  const [measureTick, setMeasureTick] = useState(0);
  const loadedMeasurements = useRef(new Set<string>());
  const statusRef = useRef(onStatus);
  statusRef.current = onStatus;

  const readView = useCallback(() => {
    const el = elRef.current;
    if (!el) return;
    try {
      const vp = cornerstone.getViewport(el) as CsViewport | undefined;
      if (!vp) return;
      viewportRef.current = vp;
      const next = toInfo(vp);
      setView((prev) => (prev && sameView(prev, next) ? prev : next));
    } catch {
      /* not enabled yet */
    }
  }, []);

  const modality = series?.modality ?? '';

  // Report status upwards whenever something a panel shows changes.
  useEffect(() => {
    const item = stackRef.current[pos];
    const meta = item ? metaOf(item.imageId) : undefined;
    const hasSpacing = !!(imageRef.current?.columnPixelSpacing && imageRef.current?.rowPixelSpacing);
    statusRef.current({
      index,
      imageId: state.kind === 'ready' && item ? item.imageId : null,
      instanceId: item?.instanceId ?? null,
      frame: item?.frame ?? 0,
      position: pos,
      count,
      modality: meta?.modality || modality,
      cinePlaying: cine.playing,
      fps: cine.fps,
      measurements: item && state.kind === 'ready' ? views(item.imageId, item.instanceId, item.frame, meta?.unit ?? (modality === 'CT' ? 'HU' : ''), hasSpacing) : [],
    });
  }, [index, pos, count, state, cine, measureTick, modality]);

  /** Fetches the saved measurements of an instance once and puts them on its frames. */
  const ensureMeasurements = useCallback(async (item: StackItem) => {
    const key = item.instanceId;
    if (loadedMeasurements.current.has(key)) return;
    loadedMeasurements.current.add(key);
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
    setMeasureTick((t) => t + 1);
  }, []);

  const show = useCallback(
    async (target: number, initial = false) => {
      const el = elRef.current;
      const stack = stackRef.current;
      if (!el || stack.length === 0) return;
      const i = Math.max(0, Math.min(stack.length - 1, target));
      const item = stack[i]!;
      const seq = ++seqRef.current;
      posRef.current = i;
      setPos(i);
      const cached = isCached(item.imageId);
      if (!cached) setState((s) => (s.kind === 'ready' && !initial ? s : { kind: 'loading' }));
      try {
        const [image] = await Promise.all([loadImage(item.imageId), ensureMeasurements(item)]);
        if (seq !== seqRef.current) return;
        let vp: CsViewport;
        if (initial || !viewportRef.current) {
          vp = defaultViewport(el, image);
        } else {
          vp = { ...viewportRef.current };
        }
        cornerstone.displayImage(el, image, vp);
        if (initial) cornerstone.fitToWindow(el);
        imageRef.current = image;
        setShown(index, image);
        setState((prev) => (prev.kind === 'ready' ? prev : { kind: 'ready' }));
        readView();
        setOverlay(overlayFor(metaOf(item.imageId), viewportRef.current ? toInfo(viewportRef.current) : null));
        prefetch(stack, i);
      } catch (e) {
        if (seq !== seqRef.current) return;
        const err = describeLoadError(e);
        imageRef.current = null;
        setShown(index, null);
        setOverlay(null);
        try {
          // Clear the canvas so a stale image is never shown under the error.
          const canvas = el.querySelector('canvas');
          canvas?.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
        } catch {
          /* ignore */
        }
        setState({ kind: 'error', message: err.message, hint: err.hint });
      }
    },
    [ensureMeasurements, readView, index],
  );

  // Enable the element once.
  useEffect(() => {
    const el = elRef.current;
    if (!el) return;
    initCornerstone();
    addTools();
    cornerstone.enable(el);
    reapplyTools();
    const onRendered = () => readView();
    const onMeasure = (ev: Event) => {
      const item = stackRef.current[posRef.current];
      if (!item) return;
      setMeasureTick((t) => t + 1);
      if (ev.type === 'cornerstonetoolsmeasurementmodified') scheduleSave(item, 500);
      else scheduleSave(item, 0);
    };
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
    el.addEventListener('cornerstoneimagerendered', onRendered);
    el.addEventListener('cornerstonetoolsmeasurementcompleted', onMeasure);
    el.addEventListener('cornerstonetoolsmeasurementmodified', onMeasure);
    el.addEventListener('cornerstonetoolsmeasurementremoved', onMeasure);
    const ro = new ResizeObserver(() => {
      try {
        cornerstone.resize(el, false);
      } catch {
        /* no image yet */
      }
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      el.removeEventListener('cornerstoneimagerendered', onRendered);
      el.removeEventListener('cornerstonetoolsmeasurementcompleted', onMeasure);
      el.removeEventListener('cornerstonetoolsmeasurementmodified', onMeasure);
      el.removeEventListener('cornerstonetoolsmeasurementremoved', onMeasure);
      for (const [k, t] of timers) {
        clearTimeout(t);
        const item = stackRef.current.find((s) => s.imageId === k);
        if (item) void saveMeasurements(item.instanceId, item.frame, snapshot(item.imageId, item.frame)).catch(() => undefined);
      }
      stopCine();
      try {
        cornerstone.disable(el);
      } catch {
        /* already gone */
      }
    };
  }, []);

  // A new series: new stack, first image with the image's own default window.
  useEffect(() => {
    stopCine();
    loadedMeasurements.current.clear();
    viewportRef.current = null;
    const stack = series ? stackOf(series, (id, f, n) => imageIdFor(id, f, n)) : [];
    stackRef.current = stack;
    setCount(stack.length);
    setPos(0);
    if (stack.length === 0) {
      setState(series ? { kind: 'error', message: 'This series has no images.', hint: 'Re-import the series.' } : { kind: 'empty' });
      setOverlay(null);
      return;
    }
    setState({ kind: 'loading' });
    void show(0, true);
  }, [series]);

  function stopCine() {
    const c = cineRef.current;
    if (c.timer !== null) clearTimeout(c.timer);
    c.timer = null;
    c.playing = false;
    setCine((s) => (s.playing ? { ...s, playing: false } : s));
  }

  function startCine() {
    const c = cineRef.current;
    if (stackRef.current.length < 2) return;
    c.playing = true;
    setCine({ playing: true, fps: c.fps });
    const tick = async () => {
      if (!c.playing) return;
      const started = performance.now();
      const n = stackRef.current.length;
      await show((posRef.current + 1) % n);
      if (!c.playing) return;
      const wait = Math.max(0, 1000 / c.fps - (performance.now() - started));
      c.timer = window.setTimeout(() => void tick(), wait);
    };
    c.timer = window.setTimeout(() => void tick(), 1000 / c.fps);
  }

  const modify = useCallback(
    (change: (vp: CsViewport) => void) => {
      const el = elRef.current;
      if (!el || !imageRef.current) return;
      const vp = cornerstone.getViewport(el) as CsViewport;
      change(vp);
      cornerstone.setViewport(el, vp);
      readView();
    },
    [readView],
  );

  useImperativeHandle(
    apiRef,
    (): ViewportApi => ({
      preset: (center, width) =>
        modify((vp) => {
          vp.voi = { windowCenter: center, windowWidth: width };
        }),
      view: (op) => {
        const el = elRef.current;
        if (!el || !imageRef.current) return;
        switch (op) {
          case 'fit':
            cornerstone.fitToWindow(el);
            readView();
            return;
          case 'actual-size':
            return modify((vp) => {
              vp.scale = 1;
            });
          case 'rotate-right':
            return modify((vp) => {
              vp.rotation = (((vp.rotation + 90) % 360) + 360) % 360;
            });
          case 'rotate-left':
            return modify((vp) => {
              vp.rotation = (((vp.rotation - 90) % 360) + 360) % 360;
            });
          case 'flip-h':
            return modify((vp) => {
              vp.hflip = !vp.hflip;
            });
          case 'flip-v':
            return modify((vp) => {
              vp.vflip = !vp.vflip;
            });
          case 'invert':
            return modify((vp) => {
              vp.invert = !vp.invert;
            });
          case 'reset': {
            const vp = defaultViewport(el, imageRef.current);
            cornerstone.setViewport(el, vp);
            cornerstone.fitToWindow(el);
            readView();
            return;
          }
        }
      },
      scroll: (delta) => {
        const n = stackRef.current.length;
        if (!n) return;
        const target = delta === 'first' ? 0 : delta === 'last' ? n - 1 : posRef.current + delta;
        void show(target);
      },
      scrollTo: (i) => void show(i),
      cine: (op) => {
        const c = cineRef.current;
        if (op === 'toggle') {
          if (c.playing) stopCine();
          else startCine();
        } else if (op === 'play') startCine();
        else if (op === 'stop') stopCine();
        else {
          c.fps = op === 'faster' ? Math.min(60, c.fps < 5 ? c.fps + 1 : c.fps + 5) : Math.max(1, c.fps <= 5 ? c.fps - 1 : c.fps - 5);
          setCine({ playing: c.playing, fps: c.fps });
        }
      },
      setFps: (fps) => {
        const c = cineRef.current;
        c.fps = Math.max(1, Math.min(60, Math.round(fps)));
        setCine({ playing: c.playing, fps: c.fps });
      },
      deleteMeasurement: (uuid) => {
        const item = stackRef.current[posRef.current];
        const el = elRef.current;
        if (!item || !el) return;
        const list = snapshot(item.imageId, item.frame);
        const target = uuid ?? list[list.length - 1]?.uuid;
        if (!target || !removeAnnotation(item.imageId, target)) return;
        cornerstone.updateImage(el);
        setMeasureTick((t) => t + 1);
        saveMeasurements(item.instanceId, item.frame, snapshot(item.imageId, item.frame)).catch((e) => console.warn('measurement not saved', e));
      },
    }),
    [modify, readView, show],
  );

  // Wheel scrolls the stack (one image per notch); the tools keep the mouse buttons.
  useEffect(() => {
    const el = elRef.current;
    if (!el) return;
    let acc = 0;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      if (!stackRef.current.length) return;
      acc += e.deltaY;
      const step = Math.abs(acc) >= 50 ? Math.trunc(acc / 50) || Math.sign(acc) : 0;
      if (step === 0 && Math.abs(e.deltaY) > 0 && e.deltaMode !== 0) {
        acc = 0;
        void show(posRef.current + Math.sign(e.deltaY));
        return;
      }
      if (step !== 0) {
        acc -= step * 50;
        void show(posRef.current + step);
      }
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [show]);

  // Overlay markers follow rotation/flip.
  useEffect(() => {
    const item = stackRef.current[pos];
    if (state.kind !== 'ready' || !item) return;
    setOverlay(overlayFor(metaOf(item.imageId), view));
  }, [view?.rotation, view?.hflip, view?.vflip, pos, state.kind]);

  const item = stackRef.current[pos];
  const markers = overlay?.markers;
  return (
    <div
      className={`viewport${active ? ' viewport--active' : ''}${dragOver ? ' viewport--drop' : ''}${state.kind === 'empty' ? ' viewport--empty' : ''}`}
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
      onMouseDownCapture={() => onActivate(index)}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes(SERIES_MIME)) {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
          setDragOver(true);
        }
      }}
      onDragLeave={() => setDragOver(false)}
      onDrop={(e) => {
        const id = e.dataTransfer.getData(SERIES_MIME);
        setDragOver(false);
        if (id) {
          e.preventDefault();
          e.stopPropagation();
          onDropSeries(index, id);
        }
      }}
    >
      <div className="viewport__canvas" ref={elRef} onContextMenu={(e) => e.preventDefault()} />
      {state.kind === 'empty' && (
        <div className="viewport__hint">
          <p className="viewport__hint-title">No series open</p>
          <p>Select a series in the study list, or drag it here.</p>
        </div>
      )}
      {state.kind === 'loading' && <div className="viewport__loading">Loading…</div>}
      {state.kind === 'error' && (
        <div className="viewport__error" role="alert" data-testid="viewport-error">
          <p className="viewport__error-title">Cannot display this image</p>
          <p>{state.message}</p>
          <p className="viewport__error-hint">{state.hint}</p>
          {count > 1 && <p className="viewport__error-hint">Image {pos + 1} of {count} — scroll to read the others.</p>}
        </div>
      )}
      {showOverlays && state.kind !== 'empty' && (
        <div className="overlay" data-testid="overlay" aria-hidden={state.kind !== 'ready'}>
          {overlay && (
            <>
              <div className="overlay__corner overlay__corner--tl">
                <div className="overlay__strong">{overlay.patient}</div>
                <div>{overlay.patientId}</div>
                <div>{overlay.studyDate}</div>
                <div>{overlay.study}</div>
              </div>
              <div className="overlay__corner overlay__corner--tr">
                <div className="overlay__strong">{overlay.modality}</div>
                <div>{overlay.series}</div>
              </div>
            </>
          )}
          <div className="overlay__corner overlay__corner--bl" data-testid="overlay-slice">
            <div>
              Im {count ? pos + 1 : 0}/{count}
              {item && item.frame > 0 ? ` · fr ${item.frame + 1}` : ''}
            </div>
            {overlay?.position && <div>{overlay.position}</div>}
            {overlay?.thickness && <div>{overlay.thickness}</div>}
          </div>
          {view && state.kind === 'ready' && (
            <div className="overlay__corner overlay__corner--br" data-testid="overlay-wl">
              <div>
                W {Math.round(view.ww)} L {Math.round(view.wc)}
                {view.invert ? ' · inv' : ''}
              </div>
              <div>Zoom {(view.scale * 100).toFixed(0)}%</div>
              {cine.playing && <div>Cine {cine.fps} fps</div>}
            </div>
          )}
          {markers && state.kind === 'ready' && (
            <>
              <div className="overlay__marker overlay__marker--top" data-testid="marker-top">{markers.top}</div>
              <div className="overlay__marker overlay__marker--right" data-testid="marker-right">{markers.right}</div>
              <div className="overlay__marker overlay__marker--bottom" data-testid="marker-bottom">{markers.bottom}</div>
              <div className="overlay__marker overlay__marker--left" data-testid="marker-left">{markers.left}</div>
            </>
          )}
        </div>
      )}
      {badges?.({ index, seriesId: series?.seriesId ?? null, instanceIds: instanceIdsOf(series), instanceId: item?.instanceId ?? null, ready: state.kind === 'ready' })}
      {count > 1 && (
        <input
          className="viewport__scrollbar"
          type="range"
          min={0}
          max={count - 1}
          value={pos}
          aria-label="Image in series"
          data-testid="stack-scrollbar"
          onChange={(e) => void show(Number(e.target.value))}
         
        />
      )}
    </div>
  );
});

/**
 * The image's own default view; when it carries no usable window (e.g. an RT dose grid), the
 * window spans its modality-value range, so the image is never shown as a flat threshold.
 */
function defaultViewport(el: HTMLElement, image: CsImage): CsViewport {
  const vp = cornerstone.getDefaultViewportForImage(el, image) as CsViewport;
  const { windowWidth: ww, windowCenter: wc } = vp.voi;
  if (!image.color && (!Number.isFinite(ww) || !Number.isFinite(wc) || ww <= 1e-9)) {
    const lo = image.minPixelValue * image.slope + image.intercept;
    const hi = image.maxPixelValue * image.slope + image.intercept;
    vp.voi = { windowWidth: Math.max(1, hi - lo), windowCenter: (hi + lo) / 2 };
  }
  return vp;
}

function sameView(a: ViewInfo, b: ViewInfo): boolean {
  return a.wc === b.wc && a.ww === b.ww && a.scale === b.scale && a.rotation === b.rotation && a.hflip === b.hflip && a.vflip === b.vflip && a.invert === b.invert && a.tx === b.tx && a.ty === b.ty;
}

function toInfo(vp: CsViewport): ViewInfo {
  return { wc: vp.voi.windowCenter, ww: vp.voi.windowWidth, scale: vp.scale, rotation: vp.rotation, hflip: vp.hflip, vflip: vp.vflip, invert: vp.invert, tx: vp.translation.x, ty: vp.translation.y };
}

function isCached(imageId: string): boolean {
  try {
    return !!cornerstone.imageCache.getImageLoadObject(imageId);
  } catch {
    return false;
  }
}

function prefetch(stack: StackItem[], i: number): void {
  for (let d = 1; d <= PREFETCH; d++) {
    for (const j of [i + d, i - d]) {
      const it = stack[j];
      if (it && !isCached(it.imageId)) loadImage(it.imageId).catch(() => undefined);
    }
  }
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
