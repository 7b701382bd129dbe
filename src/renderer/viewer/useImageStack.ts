import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { cornerstone, describeLoadError, imageIdFor, loadImage, type CsImage, type CsViewport } from './cornerstone';
import { setShown } from './diagnostics';
import { cancelDrawing } from './measureTools';
import { metaOf } from './meta';
import { overlayFor, type Overlay } from './ViewportOverlay';
import { stackOf, type SeriesView, type StackItem } from './types';
import { defaultViewport } from './viewOperations';
import { toInfo, type ViewInfo } from './viewState';

export type LoadState = { kind: 'empty' } | { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string; hint: string };

const PREFETCH = 3;

interface Options {
  elRef: RefObject<HTMLDivElement | null>;
  index: number;
  series: SeriesView | null;
  stackRef: RefObject<StackItem[]>;
  posRef: RefObject<number>;
  viewportRef: RefObject<CsViewport | null>;
  view: ViewInfo | null;
  readView(): void;
  /** Loads an instance's saved measurements before its first image is drawn. */
  ensureMeasurements(item: StackItem): Promise<void>;
}

/**
 * The open series as a stack of images and the one on screen: `show(n)` loads image n (its
 * neighbours prefetched) and draws it with the current view, or says why it cannot; a new series
 * starts at its first image with the image's own window. Also the corner texts of the image shown.
 */
export function useImageStack({ elRef, index, series, stackRef, posRef, viewportRef, view, readView, ensureMeasurements }: Options) {
  const seqRef = useRef(0);
  const imageRef = useRef<CsImage | null>(null);
  const [state, setState] = useState<LoadState>({ kind: 'empty' });
  const [pos, setPos] = useState(0);
  const [count, setCount] = useState(0);
  const [overlay, setOverlay] = useState<Overlay | null>(null);

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
        const vp: CsViewport = initial || !viewportRef.current ? defaultViewport(el, image) : { ...viewportRef.current };
        // A measurement half-drawn on the previous image is discarded, not carried to this one.
        if (imageRef.current && imageRef.current.imageId !== image.imageId) cancelDrawing(el);
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
        clearCanvas(el);
        setState({ kind: 'error', message: err.message, hint: err.hint });
      }
    },
    [elRef, stackRef, posRef, viewportRef, ensureMeasurements, readView, index],
  );

  // A new series: new stack, first image with the image's own default window. The same series
  // grown (a retrieve still arriving): the longer stack, the image on screen and its view kept.
  const shownSeriesRef = useRef<{ id: string; label: string } | null>(null);
  useEffect(() => {
    const stack = series ? stackOf(series, (id, f, n) => imageIdFor(id, f, n)) : [];
    const before = shownSeriesRef.current;
    shownSeriesRef.current = series ? { id: series.seriesId, label: series.label } : null;
    const onScreen = stackRef.current[posRef.current]?.imageId;
    if (series && before && before.id === series.seriesId && before.label === series.label && onScreen && imageRef.current) {
      const at = stack.findIndex((it) => it.imageId === onScreen);
      if (at >= 0) {
        stackRef.current = stack;
        setCount(stack.length);
        posRef.current = at;
        setPos(at);
        prefetch(stack, at);
        // its saved measurements may have changed (a Measurement Report opened): read them again
        void ensureMeasurements(stack[at]!);
        return;
      }
    }
    viewportRef.current = null;
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

  // Orientation markers follow rotation/flip.
  useEffect(() => {
    const item = stackRef.current[pos];
    if (state.kind !== 'ready' || !item) return;
    setOverlay(overlayFor(metaOf(item.imageId), view));
  }, [view?.rotation, view?.hflip, view?.vflip, pos, state.kind]);

  return { state, pos, count, overlay, imageRef, show };
}

/** Clears the canvas so a stale image is never shown under an error. */
function clearCanvas(el: HTMLElement): void {
  try {
    const canvas = el.querySelector('canvas');
    canvas?.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
  } catch {
    /* ignore */
  }
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
