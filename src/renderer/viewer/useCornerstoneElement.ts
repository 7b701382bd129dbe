import { useEffect, useRef, type RefObject } from 'react';
import { Enums as CoreEnums, type StackViewport } from '@cornerstonejs/core';
import { getRenderingEngine, initCornerstone, putStackOnCpu, renderMode } from './cornerstone';
import { viewportIdFor } from './stackViewport';
import { isCpuStack } from './viewState';
import { addViewportToTools, removeViewportFromTools } from './tools';
import { trackClicks } from './measureTools';
import { showCpuImageAsLayer } from './cpuImageLayer';
import { shrinkIdleContexts } from './glContexts';

/**
 * Resizes the engine's canvases. A stack keeps its zoom and pan relative to the fit (a fitted
 * image is re-fitted to the new size, a zoomed one rescaled), its rotation and flips — as the
 * legacy viewer did; Cornerstone3D's own resize keeps the absolute scale, which would crop a
 * fitted image when its viewport narrows.
 */
function resizeKeepingFit(engine: ReturnType<typeof getRenderingEngine>): void {
  const stacks = engine.getViewports().filter((v) => v.id.startsWith('stack-') && (v as StackViewport).getCurrentImageId?.());
  // The CPU renderer's own resize already does this (the legacy algorithm: a fitted image re-fits,
  // a zoomed one is rescaled); its presentation's zoom is absolute, so it is not put back.
  const presentations = stacks.map((v) => [v, isCpuStack(v as StackViewport) ? null : v.getViewPresentation()] as const);
  engine.resize(true, true);
  for (const [v, pres] of presentations) {
    if (pres) v.setViewPresentation(pres);
    v.render();
  }
}

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
    // Software WebGL: this stack draws on the CPU renderer (faster there); volumes keep WebGL.
    const mode = renderMode();
    const stackVp = engine.getViewport(viewportId) as StackViewport;
    if (mode.mode === 'cpu' && !mode.fallback) putStackOnCpu(stackVp);
    // On the CPU renderer the image is shown at its own size under a CSS transform (cpuImageLayer.ts).
    const unlayer = showCpuImageAsLayer(stackVp);
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
          resizeKeepingFit(engine);
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
      unlayer();
      try {
        engine.disableElement(viewportId);
        // The reading area left (e.g. for the MPR): its canvases' memory with it. Cornerstone3D
        // leaves its canvas in the element, and something still referred to it after the element
        // left the page (memory-infra: its reading-area sized buffers stayed in the GPU process
        // while the MPR was shown). Enabling the element again sizes it anew.
        for (const c of el.querySelectorAll('canvas')) {
          c.width = 0;
          c.height = 0;
        }
        shrinkIdleContexts(engine);
      } catch {
        /* already gone */
      }
    };
  }, [elRef, index]);
}
