/**
 * Read-only diagnostics for tests and benchmarks: the pixel statistics of the image each
 * viewport shows, from Cornerstone3D's image.getPixelData() as stored values (the loader's
 * pre-applied rescale undone, src/renderer/viewer/pixels.ts). No patient data, no writes.
 */
import type { CsImage } from './cornerstone';
import { drawnLabels } from './measureTools';
import { rescaleOf, valuesAt } from './pixels';
import { renderMode } from './cornerstone';
import { stackViewportOf } from './stackViewport';
import { annotation as csAnnotation } from '@cornerstonejs/tools';

const shown = new Map<number, CsImage>();

export interface PixelStats {
  /** The image these values are from (a spec compares it with the viewport's data-image-id before trusting them). */
  imageId: string;
  rows: number;
  columns: number;
  color: boolean;
  min: number;
  max: number;
  mean: number;
  count: number;
  slope: number;
  intercept: number;
}

function stats(index: number): PixelStats | null {
  const image = shown.get(index);
  if (!image) return null;
  const px = image.getPixelData();
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let count = 0;
  const r = rescaleOf(image);
  // Colour images come as RGB (or RGBA): skip an alpha channel.
  const step = image.color ? Math.max(3, Math.round(px.length / (image.rows * image.columns))) : 1;
  for (let i = 0; i < px.length; i++) {
    if (step === 4 && i % 4 === 3) continue;
    const v = image.color ? px[i]! : valuesAt(image, px, i, r).stored;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    count++;
  }
  return { imageId: image.imageId, rows: image.rows, columns: image.columns, color: image.color, min, max, mean: count ? sum / count : 0, count, slope: r.slope, intercept: r.intercept };
}

/** Modality-value (e.g. HU) statistics of a rectangle of image pixels [x0, x1) × [y0, y1), computed here independently of the tools. */
function regionStats(index: number, x0: number, y0: number, x1: number, y1: number): { mean: number; sd: number; min: number; max: number; count: number } | null {
  const image = shown.get(index);
  if (!image || image.color) return null;
  const px = image.getPixelData();
  const r = rescaleOf(image);
  const values: number[] = [];
  for (let y = Math.max(0, Math.ceil(y0)); y < Math.min(image.rows, y1); y++) {
    for (let x = Math.max(0, Math.ceil(x0)); x < Math.min(image.columns, x1); x++) values.push(valuesAt(image, px, y * image.columns + x, r).value);
  }
  if (!values.length) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, sd, min: Math.min(...values), max: Math.max(...values), count: values.length };
}

export function setShown(index: number, image: CsImage | null): void {
  if (image) shown.set(index, image);
  else shown.delete(index);
}

declare global {
  interface Window {
    medimgDiagnostics?: {
      pixelStats(index: number): PixelStats | null;
      regionStats: typeof regionStats;
      /** The label last drawn next to each length / angle, by annotation uuid. */
      measurementLabels(): Record<string, string>;
      /** The annotations in Cornerstone3D's state: tool, uuid, draft, number of points. */
      annotations(): { tool: string; uuid: string; draft: boolean; points: number }[];
      /** The image id the stack viewport of viewport `index` displays now (read in its render events). */
      currentImageId(index: number): string | null;
      /** How stacks render: 'gpu' (WebGL) or 'cpu' (no WebGL, or a software WebGL), and why. */
      renderMode(): { mode: 'gpu' | 'cpu'; reason: string | null };
    };
  }
}

if (typeof window !== 'undefined') window.medimgDiagnostics = Object.freeze({ pixelStats: stats, regionStats, measurementLabels: () => Object.fromEntries(drawnLabels),
    annotations: () =>
      (csAnnotation.state.getAllAnnotations() as { metadata?: { toolName?: string }; annotationUID?: string; data?: { __draft?: boolean; handles?: { points?: unknown[] } } }[]).map((a) => ({
        tool: a.metadata?.toolName ?? '',
        uuid: a.annotationUID ?? '',
        draft: !!a.data?.__draft,
        points: a.data?.handles?.points?.length ?? 0,
      })),
    currentImageId: (index: number) => stackViewportOf(document.querySelector(`[data-testid=viewport][data-index="${index}"] .viewport__canvas`) as HTMLElement | null)?.getCurrentImageId() ?? null,
    renderMode: () => {
      const { mode, reason } = renderMode();
      return { mode, reason };
    },
  });
