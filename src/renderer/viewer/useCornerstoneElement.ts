import { useEffect, useRef, type RefObject } from 'react';
import { cornerstone, initCornerstone } from './cornerstone';
import { addTools, reapplyTools } from './tools';

/**
 * The viewport's element as a cornerstone element, for the component's lifetime: enabled once
 * (tools registered first, or they ignore the mouse), its canvas kept to the element's size, and
 * `onRendered` called after every render; disabled on unmount.
 */
export function useCornerstoneElement(elRef: RefObject<HTMLDivElement | null>, onRendered: () => void): void {
  const renderedRef = useRef(onRendered);
  renderedRef.current = onRendered;

  useEffect(() => {
    const el = elRef.current;
    if (!el) return;
    initCornerstone();
    addTools();
    cornerstone.enable(el);
    reapplyTools();
    const rendered = () => renderedRef.current();
    el.addEventListener('cornerstoneimagerendered', rendered);
    const ro = new ResizeObserver(() => {
      try {
        cornerstone.resize(el, false);
      } catch {
        /* no image yet */
      }
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      el.removeEventListener('cornerstoneimagerendered', rendered);
      try {
        cornerstone.disable(el);
      } catch {
        /* already gone */
      }
    };
  }, [elRef]);
}
