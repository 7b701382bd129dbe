/** What the view buttons and keys do to a stack viewport that shows an image (no React here). */
import { utilities as csUtils, type StackViewport } from '@cornerstonejs/core';
import type { CsImage } from './cornerstone';
import type { ViewportApi } from './types';
import { isCpuStack, scaleOf } from './viewState';

export type ViewOp = Parameters<ViewportApi['view']>[0];

/** A window preset: centre and width in modality units. */
export function setWindow(vp: StackViewport, center: number, width: number): void {
  vp.setProperties({ voiRange: csUtils.windowLevel.toLowHighRange(width, center) });
  vp.render();
}

/**
 * The image's own default window (its first Window Center / Width, in modality units); when it
 * carries no usable window (e.g. an RT dose grid), the window spans its modality-value range, so
 * the image is never shown as a flat threshold. Set explicitly: both renderers then agree.
 */
export function defaultWindowOf(image: CsImage): { center: number; width: number } {
  const first = (v: number | number[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const wc = Number(first(image.windowCenter));
  const ww = Number(first(image.windowWidth));
  if (Number.isFinite(wc) && Number.isFinite(ww) && ww > 1 + 1e-9) return { center: wc, width: ww };
  const scaled = !!image.preScale?.scaled;
  const lo = scaled ? image.minPixelValue : image.minPixelValue * image.slope + image.intercept;
  const hi = scaled ? image.maxPixelValue : image.maxPixelValue * image.slope + image.intercept;
  // The whole range, however narrow in modality units (a dose grid in Gy spans less than 1).
  return { center: (hi + lo) / 2, width: hi > lo ? hi - lo : 1 };
}

export function applyDefaultWindow(vp: StackViewport, image: CsImage): void {
  if (image.color) return;
  const w = defaultWindowOf(image);
  setWindow(vp, w.center, w.width);
}

/**
 * Flips. Cornerstone3D's flip() works on the GPU's image data, which a CPU-rendered stack has none
 * of (the flip would be recorded but never drawn); its CPU camera takes flips directly.
 */
export function setFlips(vp: StackViewport, flips: { flipHorizontal?: boolean; flipVertical?: boolean }): void {
  if (isCpuStack(vp)) vp.setCamera(flips);
  else vp.setViewPresentation(flips);
}

const turn = (deg: number) => ((deg % 360) + 360) % 360;

/** Fit, 1:1, rotate, flip, invert or reset the view of `image` on `vp`. */
export function applyViewOp(vp: StackViewport, image: CsImage, op: ViewOp): void {
  switch (op) {
    case 'fit':
      vp.resetCamera({ resetPan: true, resetZoom: true });
      break;
    case 'actual-size': {
      const s = scaleOf(vp);
      if (Number.isFinite(s) && s > 0) vp.setZoom(vp.getZoom() / s);
      break;
    }
    case 'rotate-right':
      vp.setViewPresentation({ rotation: turn(vp.getRotation() + 90) });
      break;
    case 'rotate-left':
      vp.setViewPresentation({ rotation: turn(vp.getRotation() - 90) });
      break;
    case 'flip-h':
      setFlips(vp, { flipHorizontal: !vp.getCamera().flipHorizontal });
      break;
    case 'flip-v':
      setFlips(vp, { flipVertical: !vp.getCamera().flipVertical });
      break;
    case 'invert':
      vp.setProperties({ invert: !vp.getProperties().invert });
      break;
    case 'reset':
      vp.resetProperties();
      vp.resetCamera();
      vp.setViewPresentation({ rotation: 0 });
      setFlips(vp, { flipHorizontal: false, flipVertical: false });
      vp.resetCamera({ resetPan: true, resetZoom: true });
      applyDefaultWindow(vp, image);
      break;
  }
  vp.render();
}
