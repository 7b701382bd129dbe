import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import { utilities as csUtils, type StackViewport, type Types } from '@cornerstonejs/core';
import { imageToWorld, stackViewportOf } from './stackViewport';

/**
 * The view of the image on screen as the overlays and data-* attributes show it, in the legacy
 * viewer's terms (the specs and the orientation markers use them): scale = screen pixels per image
 * pixel, tx / ty = the pan in image pixels, rotation clockwise in degrees, flips, invert, and the
 * window in modality units.
 */
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

/** CPU-rendered stack viewports keep the drawn view in their fallback element (legacy terms). */
interface CpuStack {
  useCPURendering?: boolean;
  _cpuFallbackEnabledElement?: { viewport?: { voi?: { windowWidth: number; windowCenter: number } } };
}

/** True when the stack viewport draws with Cornerstone3D's CPU renderer. */
export function isCpuStack(vp: StackViewport): boolean {
  return !!(vp as unknown as CpuStack).useCPURendering;
}

/** The window (centre, width) of a viewport's VOI range. */
export function windowOf(vp: StackViewport): { wc: number; ww: number } | null {
  if (isCpuStack(vp)) {
    // The CPU renderer answers getProperties() with the new image's own default after a scroll,
    // while it keeps drawing with the reader's window: read the window it draws with.
    const voi = (vp as unknown as CpuStack)._cpuFallbackEnabledElement?.viewport?.voi;
    if (voi && Number.isFinite(voi.windowWidth) && Number.isFinite(voi.windowCenter)) return { wc: voi.windowCenter, ww: voi.windowWidth };
  }
  const range = vp.getProperties().voiRange;
  if (!range) return null;
  const { windowCenter, windowWidth } = csUtils.windowLevel.toWindowLevel(range.lower, range.upper);
  return { wc: windowCenter, ww: windowWidth };
}

/** Screen (CSS) pixels per image pixel along a row. */
export function scaleOf(vp: StackViewport): number {
  const id = vp.getCurrentImageId();
  const a = id ? imageToWorld(id, { x: 0, y: 0 }) : null;
  const b = id ? imageToWorld(id, { x: 1, y: 0 }) : null;
  if (!a || !b) return NaN;
  const ca = vp.worldToCanvas(a);
  const cb = vp.worldToCanvas(b);
  return Math.hypot(cb[0] - ca[0], cb[1] - ca[1]);
}

export function readViewInfo(vp: StackViewport): ViewInfo | null {
  const win = windowOf(vp);
  const cam = vp.getCamera();
  if (!win || !cam) return null;
  const scale = scaleOf(vp);
  if (!Number.isFinite(scale)) return null;
  // Pan is in world mm along the view plane: express it in image pixels (legacy translation).
  const pan = vp.getPan() as Types.Point2;
  const img = vp.getCornerstoneImage() as { columnPixelSpacing?: number; rowPixelSpacing?: number } | undefined;
  const sx = img?.columnPixelSpacing || 1;
  const sy = img?.rowPixelSpacing || 1;
  const props = vp.getProperties();
  return {
    wc: win.wc,
    ww: win.ww,
    scale,
    rotation: ((Math.round(vp.getRotation()) % 360) + 360) % 360,
    hflip: !!cam.flipHorizontal,
    vflip: !!cam.flipVertical,
    invert: !!props.invert,
    tx: Math.abs(pan[0]) < 1e-6 ? 0 : pan[0] / sx,
    ty: Math.abs(pan[1]) < 1e-6 ? 0 : pan[1] / sy,
  };
}

function sameView(a: ViewInfo, b: ViewInfo): boolean {
  return a.wc === b.wc && a.ww === b.ww && a.scale === b.scale && a.rotation === b.rotation && a.hflip === b.hflip && a.vflip === b.vflip && a.invert === b.invert && a.tx === b.tx && a.ty === b.ty;
}

/**
 * Window/level, zoom, pan, rotation, flips and invert read back from the stack viewport after each
 * render (the tools change them behind React's back). The viewport itself keeps the view from one
 * image of the stack to the next.
 */
export function useViewState(elRef: RefObject<HTMLDivElement | null>) {
  const [view, setView] = useState<ViewInfo | null>(null);
  const frameRef = useRef(0);

  // Read once per animation frame, however many renders and camera / VOI events the frame had (a
  // scroll step fires several; each read asks the CPU renderer's camera a few times, the costliest
  // call of a step in the profile).
  const readView = useCallback(() => {
    if (frameRef.current) return;
    frameRef.current = requestAnimationFrame(() => {
      frameRef.current = 0;
      const vp = stackViewportOf(elRef.current);
      if (!vp) return;
      try {
        const next = readViewInfo(vp);
        if (!next) return;
        setView((prev) => (prev && sameView(prev, next) ? prev : next));
      } catch {
        /* no image yet */
      }
    });
  }, [elRef]);

  useEffect(() => () => cancelAnimationFrame(frameRef.current), []);

  const clearView = useCallback(() => setView(null), []);

  return { view, readView, clearView };
}
