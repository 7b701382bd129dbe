/**
 * THE HOOK between a viewport's internals and linked viewing (reference lines, linked scrolling and W/L):
 * a viewport reports its window here with one call; everything else linked viewing needs (which image is
 * on screen, its position in the stack) comes from the ViewportStatus it already reports, and it drives
 * viewports only through ViewportApi (scrollTo, preset). Whatever renders the viewport (legacy cornerstone
 * or Cornerstone3D) keeps calling `useReportWindow(index, wc, ww)` after each render.
 */
import { useEffect } from 'react';
import { Store } from '../../store';

export interface ViewportWindow {
  wc: number;
  ww: number;
}

export const viewportWindows = new Store<(ViewportWindow | null)[]>([null, null, null, null]);

export function useReportWindow(index: number, wc: number | undefined, ww: number | undefined): void {
  useEffect(() => {
    const next = wc !== undefined && ww !== undefined && Number.isFinite(wc) && Number.isFinite(ww) ? { wc, ww } : null;
    const prev = viewportWindows.get()[index] ?? null;
    if (prev?.wc === next?.wc && prev?.ww === next?.ww) return;
    viewportWindows.set((all) => all.map((w, i) => (i === index ? next : w)));
  }, [index, wc, ww]);
}
