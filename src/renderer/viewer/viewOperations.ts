/** What the view buttons and keys do to a cornerstone element that shows an image (no React here). */
import { cornerstone, type CsImage, type CsViewport } from './cornerstone';
import type { ViewportApi } from './types';

export type ViewOp = Parameters<ViewportApi['view']>[0];

/**
 * The image's own default view; when it carries no usable window (e.g. an RT dose grid), the
 * window spans its modality-value range, so the image is never shown as a flat threshold.
 */
export function defaultViewport(el: HTMLElement, image: CsImage): CsViewport {
  const vp = cornerstone.getDefaultViewportForImage(el, image) as CsViewport;
  const { windowWidth: ww, windowCenter: wc } = vp.voi;
  if (!image.color && (!Number.isFinite(ww) || !Number.isFinite(wc) || ww <= 1e-9)) {
    const lo = image.minPixelValue * image.slope + image.intercept;
    const hi = image.maxPixelValue * image.slope + image.intercept;
    vp.voi = { windowWidth: Math.max(1, hi - lo), windowCenter: (hi + lo) / 2 };
  }
  return vp;
}

function modify(el: HTMLElement, change: (vp: CsViewport) => void): void {
  const vp = cornerstone.getViewport(el) as CsViewport;
  change(vp);
  cornerstone.setViewport(el, vp);
}

/** A window preset: centre and width in modality units. */
export function setWindow(el: HTMLElement, center: number, width: number): void {
  modify(el, (vp) => {
    vp.voi = { windowCenter: center, windowWidth: width };
  });
}

const turn = (deg: number) => ((deg % 360) + 360) % 360;

/** Fit, 1:1, rotate, flip, invert or reset the view of `image` on `el`. */
export function applyViewOp(el: HTMLElement, image: CsImage, op: ViewOp): void {
  switch (op) {
    case 'fit':
      cornerstone.fitToWindow(el);
      return;
    case 'actual-size':
      return modify(el, (vp) => {
        vp.scale = 1;
      });
    case 'rotate-right':
      return modify(el, (vp) => {
        vp.rotation = turn(vp.rotation + 90);
      });
    case 'rotate-left':
      return modify(el, (vp) => {
        vp.rotation = turn(vp.rotation - 90);
      });
    case 'flip-h':
      return modify(el, (vp) => {
        vp.hflip = !vp.hflip;
      });
    case 'flip-v':
      return modify(el, (vp) => {
        vp.vflip = !vp.vflip;
      });
    case 'invert':
      return modify(el, (vp) => {
        vp.invert = !vp.invert;
      });
    case 'reset':
      cornerstone.setViewport(el, defaultViewport(el, image));
      cornerstone.fitToWindow(el);
      return;
  }
}
