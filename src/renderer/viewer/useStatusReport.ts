import { useEffect, useRef } from 'react';
import { flushSync } from 'react-dom';
import { actionForKey, keyOf } from '../../shared/viewer/shortcuts';
import type { CsImage } from './cornerstone';
import { views } from './measurements';
import { metaOf } from './meta';
import type { LoadState } from './useImageStack';
import type { StackItem, ViewportStatus } from './types';
import { reportTiming, SCROLL_REPORT_MS } from './statusTiming';

interface Inputs {
  index: number;
  item: StackItem | undefined;
  image: CsImage | null;
  state: LoadState;
  pos: number;
  count: number;
  modality: string;
  cine: { playing: boolean; fps: number };
  /** Changes whenever the measurements on screen may have changed. */
  measureTick: number;
  /**
   * Other viewports follow this one (a layout of more than one cell: linked scrolling, reference
   * lines): every step is reported in the frame it is shown. Alone, a scroll is reported at most
   * every SCROLL_REPORT_MS (its last step always).
   */
  everyFrame: boolean;
}

export function useStatusReport({ index, item, image, state, pos, count, modality, cine, measureTick, everyFrame }: Inputs, onStatus: (status: ViewportStatus) => void): void {
  const statusRef = useRef(onStatus);
  statusRef.current = onStatus;
  const itemRef = useRef(item);
  itemRef.current = item;
  const imageRef = useRef(image);
  imageRef.current = image;

  // Sent once per animation frame, outside the event that moved the stack: each report re-renders
  // the app (toolbar, panels), and a key held down or a scrolling wheel makes several in one frame.
  const frameRef = useRef(0);
  const timerRef = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const pendingRef = useRef<ViewportStatus | null>(null);
  const sentRef = useRef<{ status: ViewportStatus; at: number } | null>(null);
  const sendRef = useRef<(() => void) | null>(null);
  useEffect(() => {
    // Anything but another scroll step (a key such as K "key image", a click on a panel or tool)
    // acts on the image on screen: a report held back by the scroll is sent first, synchronously,
    // so the app's handler already sees that image.
    // The same for a report waiting for the next frame: a key pressed before that frame (K right after
    // the image changed) must not act on the image shown before.
    const flush = (e: Event) => {
      if ((timerRef.current === undefined && !frameRef.current) || !sendRef.current) return;
      if (e instanceof KeyboardEvent && actionForKey(keyOf(e) ?? '')?.kind === 'scroll') return;
      clearTimeout(timerRef.current);
      cancelAnimationFrame(frameRef.current);
      const send = sendRef.current;
      flushSync(send);
    };
    window.addEventListener('keydown', flush, true);
    window.addEventListener('pointerdown', flush, true);
    return () => {
      window.removeEventListener('keydown', flush, true);
      window.removeEventListener('pointerdown', flush, true);
      cancelAnimationFrame(frameRef.current);
      clearTimeout(timerRef.current);
    };
  }, []);

  useEffect(() => {
    const item = itemRef.current;
    const meta = item ? metaOf(item.imageId) : undefined;
    const hasSpacing = !!(imageRef.current?.columnPixelSpacing && imageRef.current?.rowPixelSpacing);
    const next: ViewportStatus = {
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
    };
    pendingRef.current = next;
    const send = () => {
      frameRef.current = 0;
      timerRef.current = undefined;
      const s = pendingRef.current;
      pendingRef.current = null;
      if (!s) return;
      sentRef.current = { status: s, at: performance.now() };
      statusRef.current(s);
    };
    sendRef.current = send;
    const last = sentRef.current;
    const sinceLast = last ? performance.now() - last.at : Infinity;
    if (reportTiming(last?.status ?? null, next, sinceLast, everyFrame) === 'later') {
      // A scroll step soon after the last report: reported with the step the reader stops on (or
      // the next one due), not in this frame.
      if (frameRef.current || timerRef.current !== undefined) return;
      timerRef.current = setTimeout(send, SCROLL_REPORT_MS - sinceLast);
      return;
    }
    if (frameRef.current) return;
    if (timerRef.current !== undefined) {
      clearTimeout(timerRef.current);
      timerRef.current = undefined;
    }
    frameRef.current = requestAnimationFrame(send);
  }, [index, pos, count, state, cine, measureTick, modality, everyFrame]);
}
