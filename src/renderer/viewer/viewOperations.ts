/** What the view buttons and keys do to a stack viewport that shows an image (no React here). */
import { utilities as csUtils, type StackViewport } from '@cornerstonejs/core';
import type { CsImage } from './cornerstone';
import type { ViewportApi } from './types';
import { scaleOf, windowOf } from './viewState';

export type ViewOp = Parameters<ViewportApi['view']>[0];

/** A window preset: centre and width in modality units. */
export function setWindow(vp: StackViewport, center: number, width: number): void {
  vp.setProperties({ voiRange: csUtils.windowLevel.toLowHighRange(width, center) });
  vp.render();
}

/**
 * The image's own default window; when it carries no usable window (e.g. an RT dose grid), the
 * window spans its modality-value range, so the image is never shown as a flat threshold.
 */
export function applyDefaultWindow(vp: StackViewport, image: CsImage): void {
  if (image.color) return;
  const w = windowOf(vp);
  if (w && Number.isFinite(w.ww) && Number.isFinite(w.wc) && w.ww > 1 + 1e-9) return;
  const scaled = !!image.preScale?.scaled;
  const lo = scaled ? image.minPixelValue : image.minPixelValue * image.slope + image.intercept;
  const hi = scaled ? image.maxPixelValue : image.maxPixelValue * image.slope + image.intercept;
  setWindow(vp, (hi + lo) / 2, Math.max(1, hi - lo));
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
      vp.setViewPresentation({ flipHorizontal: !vp.getCamera().flipHorizontal });
      break;
    case 'flip-v':
      vp.setViewPresentation({ flipVertical: !vp.getCamera().flipVertical });
      break;
    case 'invert':
      vp.setProperties({ invert: !vp.getProperties().invert });
      break;
    case 'reset':
      vp.resetProperties();
      vp.resetCamera();
      vp.setViewPresentation({ rotation: 0, flipHorizontal: false, flipVertical: false });
      vp.resetCamera({ resetPan: true, resetZoom: true });
      applyDefaultWindow(vp, image);
      break;
  }
  vp.render();
}
