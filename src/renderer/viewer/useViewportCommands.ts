import { useImperativeHandle, type Ref, type RefObject } from 'react';
import type { StackViewport } from '@cornerstonejs/core';
import type { CsImage } from './cornerstone';
import { rescaleOf } from './pixels';
import { stackViewportOf } from './stackViewport';
import type { StackItem, ViewportApi } from './types';
import { applyViewOp, setWindow } from './viewOperations';
import { relativeWindow } from '../../shared/viewer/presets';

interface Parts {
  elRef: RefObject<HTMLDivElement | null>;
  imageRef: RefObject<CsImage | null>;
  stackRef: RefObject<StackItem[]>;
  posRef: RefObject<number>;
  readView(): void;
  show(target: number): Promise<void>;
  cine: ViewportApi['cine'];
  setFps: ViewportApi['setFps'];
  deleteMeasurement: ViewportApi['deleteMeasurement'];
  /** A named preset was applied (its window), for the overlay. */
  onPreset(p: { label: string; center: number; width: number }): void;
}

/** The commands the app sends to a viewport (from the toolbar and the keyboard): presets, view operations, scrolling, cine, deleting a measurement. */
export function useViewportCommands(apiRef: Ref<ViewportApi | null>, { elRef, imageRef, stackRef, posRef, readView, show, cine, setFps, deleteMeasurement, onPreset }: Parts): void {
  useImperativeHandle(
    apiRef,
    (): ViewportApi => {
      // View changes need an image on screen; the overlay reads the new view back at once.
      const onImage = (change: (vp: StackViewport, image: CsImage) => void) => {
        const vp = stackViewportOf(elRef.current);
        const image = imageRef.current;
        if (!vp || !image) return;
        change(vp, image);
        readView();
      };
      return {
        preset: (center, width) => onImage((vp) => setWindow(vp, center, width)),
        relativePreset: (p) =>
          onImage((vp, image) => {
            if (image.color) return;
            // The loader may have applied the rescale already: the window is then computed on modality values.
            const r = rescaleOf(image);
            const w = r.scaled ? relativeWindow(image.getPixelData(), 1, 0, p) : relativeWindow(image.getPixelData(), r.slope, r.intercept, p);
            if (!w) return;
            setWindow(vp, w.center, w.width);
            onPreset({ label: p.label, center: w.center, width: w.width });
          }),
        view: (op) => onImage((vp, image) => applyViewOp(vp, image, op)),
        scroll: (delta) => {
          const n = stackRef.current.length;
          if (!n) return;
          const target = delta === 'first' ? 0 : delta === 'last' ? n - 1 : posRef.current + delta;
          void show(target);
        },
        scrollTo: (i) => void show(i),
        cine,
        setFps,
        deleteMeasurement,
      };
    },
    [elRef, imageRef, stackRef, posRef, readView, show, cine, setFps, deleteMeasurement, onPreset],
  );
}
