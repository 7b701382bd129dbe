import { useEffect, useRef } from 'react';
import type { CsImage } from './cornerstone';
import { views } from './measurements';
import { metaOf } from './meta';
import type { LoadState } from './useImageStack';
import type { StackItem, ViewportStatus } from './types';

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
}

/** Tells the app what this viewport shows (image, position, cine, measurements) whenever any of it changes, for the toolbar and side panels. */
export function useStatusReport({ index, item, image, state, pos, count, modality, cine, measureTick }: Inputs, onStatus: (status: ViewportStatus) => void): void {
  const statusRef = useRef(onStatus);
  statusRef.current = onStatus;
  const itemRef = useRef(item);
  itemRef.current = item;
  const imageRef = useRef(image);
  imageRef.current = image;

  // Sent once per animation frame, outside the event that moved the stack: each report re-renders
  // the app (toolbar, panels), and a key held down or a scrolling wheel makes several in one frame.
  const frameRef = useRef(0);
  const pendingRef = useRef<ViewportStatus | null>(null);
  useEffect(() => () => cancelAnimationFrame(frameRef.current), []);

  useEffect(() => {
    const item = itemRef.current;
    const meta = item ? metaOf(item.imageId) : undefined;
    const hasSpacing = !!(imageRef.current?.columnPixelSpacing && imageRef.current?.rowPixelSpacing);
    pendingRef.current = {
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
    if (frameRef.current) return;
    frameRef.current = requestAnimationFrame(() => {
      frameRef.current = 0;
      const s = pendingRef.current;
      pendingRef.current = null;
      if (s) statusRef.current(s);
    });
  }, [index, pos, count, state, cine, measureTick, modality]);
}
