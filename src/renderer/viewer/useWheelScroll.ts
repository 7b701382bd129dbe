import { useEffect, type RefObject } from 'react';
import type { StackItem } from './types';

/**
 * The mouse wheel scrolls the stack, one image per notch (50 px of a pixel-precise wheel or
 * trackpad, any line/page step); the tools keep the mouse buttons.
 */
export function useWheelScroll(elRef: RefObject<HTMLDivElement | null>, stackRef: RefObject<StackItem[]>, posRef: RefObject<number>, show: (target: number) => Promise<void>): void {
  useEffect(() => {
    const el = elRef.current;
    if (!el) return;
    let acc = 0;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      if (!stackRef.current.length) return;
      acc += e.deltaY;
      const step = Math.abs(acc) >= 50 ? Math.trunc(acc / 50) || Math.sign(acc) : 0;
      if (step === 0 && Math.abs(e.deltaY) > 0 && e.deltaMode !== 0) {
        acc = 0;
        void show(posRef.current + Math.sign(e.deltaY));
        return;
      }
      if (step !== 0) {
        acc -= step * 50;
        void show(posRef.current + step);
      }
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [elRef, stackRef, posRef, show]);
}
