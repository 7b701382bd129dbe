import { useEffect, useRef } from 'react';

/**
 * A model's heat map drawn over the image on its own <canvas>. It knows nothing of the viewer: it
 * is given the image size and a function from image pixel (col, row) to the viewport's screen
 * coordinates (CSS pixels relative to this canvas's box), so pan, zoom, rotation and flips follow
 * (the map is placed with the affine transform of three image corners).
 */
export interface HeatmapOverlayProps {
  /** row by row, 0..255 over the map's own min..max */
  values: Uint8Array;
  width: number;
  height: number;
  imageSize: { columns: number; rows: number };
  imageToScreen(col: number, row: number): { x: number; y: number };
  /** 0..1 */
  opacity?: number;
}

/** A perceptual blue → yellow → red ramp; low values fade out so the image stays readable. */
function colour(v: number): [number, number, number, number] {
  const t = v / 255;
  const r = Math.round(255 * Math.min(1, Math.max(0, 1.8 * t - 0.4)));
  const g = Math.round(255 * Math.min(1, Math.max(0, t < 0.6 ? t / 0.6 : (1 - t) / 0.4 + 0.2)));
  const b = Math.round(255 * Math.min(1, Math.max(0, 1 - 2 * t)));
  return [r, g, b, Math.round(255 * Math.min(1, 0.15 + 0.85 * t))];
}

export function HeatmapOverlay({ values, width, height, imageSize, imageToScreen, opacity = 0.45 }: HeatmapOverlayProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    canvas.width = Math.max(1, Math.round(w * dpr));
    canvas.height = Math.max(1, Math.round(h * dpr));
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const src = document.createElement('canvas');
    src.width = width;
    src.height = height;
    const sctx = src.getContext('2d')!;
    const img = sctx.createImageData(width, height);
    for (let i = 0; i < width * height; i++) img.data.set(colour(values[i] ?? 0), i * 4);
    sctx.putImageData(img, 0, 0);
    // The map covers the whole image: its (0,0) is the image's corner (0,0), its (w,h) the corner (columns,rows).
    const p00 = imageToScreen(0, 0);
    const p10 = imageToScreen(imageSize.columns, 0);
    const p01 = imageToScreen(0, imageSize.rows);
    ctx.setTransform((dpr * (p10.x - p00.x)) / width, (dpr * (p10.y - p00.y)) / width, (dpr * (p01.x - p00.x)) / height, (dpr * (p01.y - p00.y)) / height, dpr * p00.x, dpr * p00.y);
    ctx.globalAlpha = opacity;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(src, 0, 0);
    const p11 = imageToScreen(imageSize.columns, imageSize.rows);
    // Where the map was drawn (CSS pixels), for tests and diagnostics.
    const xs = [p00.x, p10.x, p01.x, p11.x];
    const ys = [p00.y, p10.y, p01.y, p11.y];
    canvas.dataset.box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)].map((v) => v.toFixed(1)).join(',');
  });
  return <canvas ref={ref} className="ai-heatmap" data-testid="ai-heatmap" data-map-size={`${width}x${height}`} aria-label="AI heat map overlay" />;
}

export function decodeBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
