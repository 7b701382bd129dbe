import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { Enums as CoreEnums, imageLoadPoolManager } from '@cornerstonejs/core';
import { describeLoadError, forgetImage, imageIdFor, isCached, loadImage, type CsImage } from './cornerstone';
import { setShown } from './diagnostics';
import { cancelDrawing } from './measureTools';
import { metaOf } from './meta';
import { overlayFor, type Overlay } from './ViewportOverlay';
import { growStack, rememberGeometry, stackViewportOf } from './stackViewport';
import { stackOf, type SeriesView, type StackItem } from './types';
import { applyDefaultWindow, setFlips } from './viewOperations';
import type { ViewInfo } from './viewState';

export type LoadState = { kind: 'empty' } | { kind: 'loading' } | { kind: 'ready' } | { kind: 'error'; message: string; hint: string };

/** Images either side of the one on screen decoded ahead, nearest first. */
const PREFETCH = 12;

interface Options {
  elRef: RefObject<HTMLDivElement | null>;
  index: number;
  series: SeriesView | null;
  stackRef: RefObject<StackItem[]>;
  posRef: RefObject<number>;
  view: ViewInfo | null;
  readView(): void;
  /** Loads an instance's saved measurements before its first image is drawn. */
  ensureMeasurements(item: StackItem): Promise<void>;
  /** An image is on screen (its restored measurements go on it). */
  onDisplayed(imageId: string): void;
}

/**
 * The open series as a stack of images and the one on screen: `show(n)` loads image n (its
 * neighbours prefetched; our own load, with its timeout and readable errors) and then lets the
 * stack viewport display it from the cache with the current view, or says why it cannot; a new
 * series starts at its first image with the image's own window. Also the corner texts of the image
 * shown.
 */
export function useImageStack({ elRef, index, series, stackRef, posRef, view, readView, ensureMeasurements, onDisplayed }: Options) {
  const seqRef = useRef(0);
  const imageRef = useRef<CsImage | null>(null);
  /** The series whose image ids the stack viewport holds (setStack once per series). */
  const stackSetRef = useRef<StackItem[] | null>(null);
  const [state, setState] = useState<LoadState>({ kind: 'empty' });
  const [pos, setPos] = useState(0);
  const [count, setCount] = useState(0);
  const [overlay, setOverlay] = useState<Overlay | null>(null);
  const [shown, setShownTick] = useState(0);

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
        const vp = stackViewportOf(el);
        if (!vp) return;
        // A measurement half-drawn on the previous image is discarded, not carried to this one.
        if (imageRef.current && imageRef.current.imageId !== image.imageId) cancelDrawing(el);
        if (initial || stackSetRef.current !== stack) {
          stackSetRef.current = stack;
          await vp.setStack(
            stack.map((s) => s.imageId),
            i,
          );
          if (seq !== seqRef.current) return;
          // A new series: the image's own window, no rotation / flip, fitted.
          vp.resetProperties();
          vp.setViewPresentation({ rotation: 0 });
          setFlips(vp, { flipHorizontal: false, flipVertical: false });
          vp.resetCamera();
          applyDefaultWindow(vp, image);
        } else {
          await vp.setImageIdIndex(i);
          if (seq !== seqRef.current) return;
        }
        el.style.visibility = '';
        rememberGeometry(vp);
        onDisplayed(item.imageId);
        vp.render();
        imageRef.current = image;
        setShown(index, image);
        setState((prev) => (prev.kind === 'ready' ? prev : { kind: 'ready' }));
        readView();
        setShownTick((t) => t + 1);
        prefetch(stack, i);
      } catch (e) {
        if (seq !== seqRef.current) return;
        const err = describeLoadError(e);
        imageRef.current = null;
        setShown(index, null);
        setOverlay(null);
        // Never a stale image under an error message.
        el.style.visibility = 'hidden';
        setState({ kind: 'error', message: err.message, hint: err.hint });
      }
    },
    [elRef, stackRef, posRef, ensureMeasurements, onDisplayed, readView, index],
  );

  // A new series: new stack, first image with the image's own default window. Its images are read
  // from their files again (unless another viewport shows them): the header and pixels on screen
  // are those of the file the library holds now, not of an earlier read of the same instance.
  // The same series grown (a retrieve still arriving): the longer stack, the image on screen and
  // its view kept, nothing re-read.
  const shownSeriesRef = useRef<{ id: string; label: string } | null>(null);
  useEffect(() => {
    const stack = series ? stackOf(series, (id, f, n) => imageIdFor(id, f, n)) : [];
    const before = shownSeriesRef.current;
    shownSeriesRef.current = series ? { id: series.seriesId, label: series.label } : null;
    const onScreen = stackRef.current[posRef.current]?.imageId;
    if (series && before && before.id === series.seriesId && before.label === series.label && onScreen && imageRef.current) {
      const at = stack.findIndex((it) => it.imageId === onScreen);
      if (at >= 0) {
        const vp = stackViewportOf(elRef.current);
        stackRef.current = stack;
        openStacks.set(index, stack);
        // setStack would reset the reader's window, zoom and flips: the viewport's list is grown in place.
        if (vp && stackSetRef.current) {
          growStack(vp, stack.map((s) => s.imageId), at);
          stackSetRef.current = stack;
        }
        setCount(stack.length);
        posRef.current = at;
        setPos(at);
        prefetch(stack, at);
        return;
      }
    }
    cancelPrefetch();
    openStacks.set(index, stack);
    const elsewhere = new Set([...openStacks].filter(([i]) => i !== index).flatMap(([, s]) => s.map((it) => it.imageId)));
    for (const it of stack) if (!elsewhere.has(it.imageId)) forgetImage(it.imageId);
    stackRef.current = stack;
    stackSetRef.current = null;
    setCount(stack.length);
    setPos(0);
    if (stack.length === 0) {
      setState(series ? { kind: 'error', message: 'This series has no images.', hint: 'Re-import the series.' } : { kind: 'empty' });
      setOverlay(null);
      if (elRef.current) elRef.current.style.visibility = series ? 'hidden' : '';
      return;
    }
    setState({ kind: 'loading' });
    void show(0, true);
  }, [series]);

  useEffect(() => () => void openStacks.delete(index), [index]);

  // Orientation markers follow rotation/flip.
  useEffect(() => {
    const item = stackRef.current[pos];
    if (state.kind !== 'ready' || !item) return;
    setOverlay(overlayFor(metaOf(item.imageId), view));
  }, [view?.rotation, view?.hflip, view?.vflip, pos, state.kind, shown]);

  return { state, pos, count, overlay, imageRef, show };
}

/** The stacks open in each viewport (by index). */
const openStacks = new Map<number, StackItem[]>();

/**
 * Queues the neighbours of image i, nearest first, as Cornerstone3D prefetch requests: at most one
 * is read and decoded at a time (initCornerstone), and the queue is replaced whenever the reader
 * moves or opens another series, so a prefetch never stands between a reader and the image they
 * asked for (with one decode worker on a 2-core machine, six queued decodes cost a new series'
 * first image ≈ 0.5 s).
 */
function prefetch(stack: StackItem[], i: number): void {
  imageLoadPoolManager.clearRequestStack(CoreEnums.RequestType.Prefetch);
  for (let d = 1; d <= PREFETCH; d++) {
    for (const j of [i + d, i - d]) {
      const it = stack[j];
      if (!it || isCached(it.imageId)) continue;
      const imageId = it.imageId;
      imageLoadPoolManager.addRequest(
        () => (isCached(imageId) ? Promise.resolve() : loadImage(imageId).then(() => undefined, () => undefined)),
        CoreEnums.RequestType.Prefetch,
        { imageId },
        d,
      );
    }
  }
}

/** Drops the queued prefetches (a new series is opening: its first image comes first). */
export function cancelPrefetch(): void {
  imageLoadPoolManager.clearRequestStack(CoreEnums.RequestType.Prefetch);
}
