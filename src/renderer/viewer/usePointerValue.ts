import { useEffect, useState, type RefObject } from 'react';
import { Enums as CoreEnums } from '@cornerstonejs/core';
import type { CsImage } from './cornerstone';
import { rescaleOf, valuesAt } from './pixels';
import { screenToImage, stackViewportOf } from './stackViewport';

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
  const px = image.getPixelData();
  const i = row * image.columns + col;
  if (px[i] === undefined) return null;
  const r = rescaleOf(image);
  const { stored, value } = valuesAt(image, px, i, r);
  return { x: col, y: row, stored, value, rescaled: r.slope !== 1 || r.intercept !== 0 };
}

/** Follows the mouse over a viewport's element (once per animation frame) and reads the pixel under it. */
export function usePointerValue(elRef: RefObject<HTMLDivElement | null>, imageRef: RefObject<CsImage | null>): PointerValue | null {
  const [value, setValue] = useState<PointerValue | null>(null);
  useEffect(() => {
    const el = elRef.current;
    if (!el) return;
    let frame = 0;
    let last: { clientX: number; clientY: number } | null = null;
    const read = () => {
      frame = 0;
      const image = imageRef.current;
      const vp = stackViewportOf(el);
      if (!last || !image || !vp) return setValue(null);
      try {
        const box = el.getBoundingClientRect();
        const p = screenToImage(vp, image.imageId, last.clientX - box.left, last.clientY - box.top);
        const v = p ? pixelValue(image, p.x, p.y) : null;
        setValue((old) => (old && v && old.x === v.x && old.y === v.y && old.value === v.value ? old : v));
      } catch {
        setValue(null); // no image displayed on the element yet
      }
    };
    const onMove = (e: MouseEvent) => {
      last = { clientX: e.clientX, clientY: e.clientY };
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
    el.addEventListener(CoreEnums.Events.STACK_NEW_IMAGE, onNewImage);
    return () => {
      el.removeEventListener('mousemove', onMove);
      el.removeEventListener('mouseleave', onLeave);
      el.removeEventListener(CoreEnums.Events.STACK_NEW_IMAGE, onNewImage);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [elRef, imageRef]);
  return value;
}
