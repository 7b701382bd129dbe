import { useCallback, useRef, useState, type RefObject } from 'react';
import { cornerstone, type CsViewport } from './cornerstone';

/** The view of the image on screen as the overlays and data-* attributes show it. */
export interface ViewInfo {
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

export function toInfo(vp: CsViewport): ViewInfo {
  return { wc: vp.voi.windowCenter, ww: vp.voi.windowWidth, scale: vp.scale, rotation: vp.rotation, hflip: vp.hflip, vflip: vp.vflip, invert: vp.invert, tx: vp.translation.x, ty: vp.translation.y };
}

function sameView(a: ViewInfo, b: ViewInfo): boolean {
  return a.wc === b.wc && a.ww === b.ww && a.scale === b.scale && a.rotation === b.rotation && a.hflip === b.hflip && a.vflip === b.vflip && a.invert === b.invert && a.tx === b.tx && a.ty === b.ty;
}

/**
 * Window/level, zoom, pan, rotation, flips and invert read back from cornerstone after each render
 * (the tools change them behind React's back). `viewportRef` keeps cornerstone's own object, so the
 * next image of the stack is shown with the same view.
 */
export function useViewState(elRef: RefObject<HTMLDivElement | null>) {
  const viewportRef = useRef<CsViewport | null>(null);
  const [view, setView] = useState<ViewInfo | null>(null);

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
  }, [elRef]);

  return { view, viewportRef, readView };
}
