import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from 'react';
import { Enums as CoreEnums, imageLoadPoolManager } from '@cornerstonejs/core';
import { describeLoadError, drawNow, forgetImage, imageIdFor, isCached, loadImage, type CsImage } from './cornerstone';
import { setShown } from './diagnostics';
import { firstImageDone } from '../library/instanceList';
import { cancelDrawing } from './measureTools';
import { metaOf } from './meta';
import { overlayFor, type Overlay } from './ViewportOverlay';
import { growStack, rememberGeometry, stackViewportOf, viewportIdFor } from './stackViewport';
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
  const overlayRef = useRef<Overlay | null>(null);
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
      const cached = isCached(item.imageId);
      // A decoded image: the position changes with the image, in one render (scrolling); one still
      // to load: the position moves now, the image when it arrives.
      if (!cached) {
        setPos(i);
        setState((s) => (s.kind === 'ready' && !initial ? s : { kind: 'loading' }));
      }
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
        setPos(i);
        setState((prev) => (prev.kind === 'ready' ? prev : { kind: 'ready' }));
        firstImageDone(index);
        readView();
        setShownTick((t) => t + 1);
        prefetch(stack, i);
        // Drawn in this frame, not the next (cornerstone.ts drawNow: else every other scroll step is never drawn).
        drawNow(viewportIdFor(index));
      } catch (e) {
        if (seq !== seqRef.current) return;
        const err = describeLoadError(e);
        setPos(i);
        imageRef.current = null;
        setShown(index, null);
        overlayRef.current = null;
        // Never a stale image under an error message.
        el.style.visibility = 'hidden';
        setState({ kind: 'error', message: err.message, hint: err.hint });
        firstImageDone(index);
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
        // its saved measurements may have changed (a Measurement Report opened): read them again and,
        // the image being on screen already (no show() to put them on it), draw them now
        const item = stack[at]!;
        void ensureMeasurements(item).then(() => {
          if (stackRef.current[posRef.current]?.imageId === item.imageId) onDisplayed(item.imageId);
        });
        return;
      }
    }
    cancelPrefetch();
    openStacks.set(index, stack);
    const elsewhere = new Set([...openStacks].filter(([i]) => i !== index).flatMap(([, s]) => s.map((it) => it.imageId)));
    for (const it of stack) if (!elsewhere.has(it.imageId) && !takeWarmed(it.imageId)) forgetImage(it.imageId);
    stackRef.current = stack;
    stackSetRef.current = null;
    setCount(stack.length);
    setPos(0);
    if (stack.length === 0) {
      firstImageDone(index);
      setState(series ? { kind: 'error', message: 'This series has no images.', hint: 'Re-import the series.' } : { kind: 'empty' });
      overlayRef.current = null;
      if (elRef.current) elRef.current.style.visibility = series ? 'hidden' : '';
      return;
    }
    setState({ kind: 'loading' });
    void show(0, true);
  }, [series]);

  useEffect(
    () => () => {
      openStacks.delete(index);
      firstImageDone(index);
    },
    [index],
  );

  // The corner texts of the image shown; orientation markers follow rotation/flip. Derived in the
  // same render (an effect setting state made a second render per scroll step); while the next
  // image loads, the last one's texts stay (the message says it is loading).
  const overlay = useMemo(() => {
    const item = stackRef.current[pos];
    if (state.kind === 'ready' && item) overlayRef.current = overlayFor(metaOf(item.imageId), view);
    else if (state.kind !== 'loading') overlayRef.current = null;
    return overlayRef.current;
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

/**
 * Images read from their files for a series about to open (preloadFirstImage), by id → when. The
 * opening viewport keeps them instead of reading them again: they are already fresh.
 */
const warmed = new Map<string, number>();
const WARM_MS = 10_000;

function takeWarmed(imageId: string): boolean {
  const at = warmed.get(imageId);
  if (at === undefined) return false;
  warmed.delete(imageId);
  return performance.now() - at < WARM_MS;
}

/**
 * Starts reading and decoding the first image of a series that is about to open, while the app does
 * what must come before it is shown (the study opening is audited first): the image is then in the
 * cache when the viewport asks for it. Read from its file now (an earlier copy is forgotten first,
 * unless a viewport shows it), queued prefetches of other series dropped so they do not go first.
 */
export function preloadFirstImage(series: SeriesView): void {
  const first = series.instances[0];
  if (!first) return;
  const imageId = imageIdFor(first.id, 0, Math.max(1, first.frames || 1));
  cancelPrefetch();
  const shown = [...openStacks.values()].some((s) => s.some((it) => it.imageId === imageId));
  if (!shown) {
    if (warmed.has(imageId) && isCached(imageId)) return;
    forgetImage(imageId);
  }
  warmed.set(imageId, performance.now());
  void loadImage(imageId).catch(() => warmed.delete(imageId));
}

/** Drops the queued prefetches (a new series is opening: its first image comes first). */
export function cancelPrefetch(): void {
  imageLoadPoolManager.clearRequestStack(CoreEnums.RequestType.Prefetch);
}
