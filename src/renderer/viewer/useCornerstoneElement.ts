import { useEffect, useRef, type RefObject } from 'react';
import { Enums as CoreEnums } from '@cornerstonejs/core';
import { getRenderingEngine, initCornerstone } from './cornerstone';
import { viewportIdFor } from './stackViewport';
import { addViewportToTools, removeViewportFromTools } from './tools';
import { trackClicks } from './measureTools';

/**
 * The viewport's element as a Cornerstone3D stack viewport, for the component's lifetime: enabled
 * in the shared rendering engine, put under the viewer's tools, kept to the element's size (the
 * image keeps its zoom relative to the fit), and `onRendered` called after every render and view
 * change; disabled on unmount.
 */
export function useCornerstoneElement(elRef: RefObject<HTMLDivElement | null>, index: number, onRendered: () => void): void {
  const renderedRef = useRef(onRendered);
  renderedRef.current = onRendered;

  useEffect(() => {
    const el = elRef.current;
    if (!el) return;
    initCornerstone();
    const engine = getRenderingEngine();
    const viewportId = viewportIdFor(index);
    engine.enableElement({ viewportId, type: CoreEnums.ViewportType.STACK, element: el, defaultOptions: { background: [0, 0, 0] } });
    addViewportToTools(viewportId);
    const untrack = trackClicks(el);
    const rendered = () => renderedRef.current();
    const events = [CoreEnums.Events.IMAGE_RENDERED, CoreEnums.Events.CAMERA_MODIFIED, CoreEnums.Events.VOI_MODIFIED];
    for (const e of events) el.addEventListener(e, rendered);
    let frame = 0;
    const ro = new ResizeObserver(() => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        try {
          engine.resize(true, true);
        } catch {
          /* engine gone */
        }
      });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      untrack();
      if (frame) cancelAnimationFrame(frame);
      for (const e of events) el.removeEventListener(e, rendered);
      removeViewportFromTools(viewportId);
      try {
        engine.disableElement(viewportId);
      } catch {
        /* already gone */
      }
    };
  }, [elRef, index]);
}
