import { useEffect, useState, type RefObject } from 'react';
import { cornerstone, type CsImage } from './cornerstone';

/** The pixel under the mouse: its image coordinates, stored value and modality value (rescale slope/intercept applied). */
export interface PointerValue {
  x: number;
  y: number;
  stored: number;
  value: number;
  /** True when the file has a rescale that changes the value (slope ≠ 1 or intercept ≠ 0). */
  rescaled: boolean;
}

/** The value of one pixel of a grayscale image, or null outside it / for colour images. */
export function pixelValue(image: CsImage, x: number, y: number): PointerValue | null {
  if (image.color) return null;
  const col = Math.floor(x);
  const row = Math.floor(y);
  if (col < 0 || row < 0 || col >= image.columns || row >= image.rows) return null;
  const stored = image.getPixelData()[row * image.columns + col];
  if (stored === undefined) return null;
  const slope = image.slope ?? 1;
  const intercept = image.intercept ?? 0;
  return { x: col, y: row, stored, value: stored * slope + intercept, rescaled: slope !== 1 || intercept !== 0 };
}

/** Follows the mouse over a viewport's element (once per animation frame) and reads the pixel under it. */
export function usePointerValue(elRef: RefObject<HTMLDivElement | null>, imageRef: RefObject<CsImage | null>): PointerValue | null {
  const [value, setValue] = useState<PointerValue | null>(null);
  useEffect(() => {
    const el = elRef.current;
    if (!el) return;
    let frame = 0;
    let last: { pageX: number; pageY: number } | null = null;
    const read = () => {
      frame = 0;
      const image = imageRef.current;
      if (!last || !image) return setValue(null);
      try {
        const p = cornerstone.pageToPixel(el, last.pageX, last.pageY) as { x: number; y: number };
        const v = pixelValue(image, p.x, p.y);
        setValue((old) => (old && v && old.x === v.x && old.y === v.y && old.value === v.value ? old : v));
      } catch {
        setValue(null); // no image displayed on the element yet
      }
    };
    const onMove = (e: MouseEvent) => {
      last = { pageX: e.pageX, pageY: e.pageY };
      if (!frame) frame = requestAnimationFrame(read);
    };
    const onLeave = () => {
      last = null;
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      setValue(null);
    };
    // A new image under a still mouse (scrolling, cine): read the pixel again.
    const onNewImage = () => {
      if (last && !frame) frame = requestAnimationFrame(read);
    };
    el.addEventListener('mousemove', onMove);
    el.addEventListener('mouseleave', onLeave);
    el.addEventListener('cornerstonenewimage', onNewImage);
    return () => {
      el.removeEventListener('mousemove', onMove);
      el.removeEventListener('mouseleave', onLeave);
      el.removeEventListener('cornerstonenewimage', onNewImage);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [elRef, imageRef]);
  return value;
}
