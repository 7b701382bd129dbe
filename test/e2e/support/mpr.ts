/**
 * Helpers for the MPR specs: the phantom volume computed here from the generator's own files
 * (independently of the renderer), its values at world positions, and what the MPR view drew.
 */
import { readFileSync } from 'node:fs';
import { expect, type Page } from '@playwright/test';
import type { MprTestHook, Plane } from '../../../src/renderer/viewer/mpr/mprSession';
import { animationFrames } from './viewer';

/** The sample generator's CT geometry (src/node/dicom/sample.ts): 512², 0.703125 mm pixels, 1.25 mm slices, the last slice at z = 0. */
export interface PhantomVolume {
  cols: number;
  rows: number;
  slices: number;
  spacing: number;
  thickness: number;
  origin: [number, number, number];
  /** HU, slice-major. */
  hu: Int16Array;
}

export function readPhantom(files: string[]): PhantomVolume {
  const rows = 512;
  const cols = 512;
  const spacing = 0.703125;
  const thickness = 1.25;
  const n = files.length;
  const hu = new Int16Array(rows * cols * n);
  const bytes = rows * cols * 2;
  files.forEach((f, k) => {
    const buf = readFileSync(f);
    // Pixel Data is the last element of each file; stored value = HU + 1024 (Rescale Intercept −1024).
    const px = new Int16Array(buf.buffer.slice(buf.byteOffset + buf.length - bytes, buf.byteOffset + buf.length));
    const base = k * rows * cols;
    for (let i = 0; i < px.length; i++) hu[base + i] = px[i]! - 1024;
  });
  return { cols, rows, slices: n, spacing, thickness, origin: [-((cols - 1) / 2) * spacing, -((rows - 1) / 2) * spacing, -(n - 1) * thickness], hu };
}

/** Continuous voxel index of a world (LPS, mm) position, or null outside the volume. */
export function indexOf(v: PhantomVolume, w: readonly number[]): [number, number, number] | null {
  const i = (w[0]! - v.origin[0]) / v.spacing;
  const j = (w[1]! - v.origin[1]) / v.spacing;
  const k = (w[2]! - v.origin[2]) / v.thickness;
  if (i < 0 || j < 0 || k < 0 || i > v.cols - 1 || j > v.rows - 1 || k > v.slices - 1) return null;
  return [i, j, k];
}

const voxel = (v: PhantomVolume, i: number, j: number, k: number) => v.hu[k * v.rows * v.cols + j * v.cols + i]!;

/** Trilinear HU at a world position (the renderer samples its 3D texture linearly too). */
export function huAt(v: PhantomVolume, w: readonly number[]): number | null {
  const idx = indexOf(v, w);
  if (!idx) return null;
  const [x, y, z] = idx;
  const i0 = Math.min(v.cols - 2, Math.floor(x));
  const j0 = Math.min(v.rows - 2, Math.floor(y));
  const k0 = Math.min(v.slices - 2, Math.floor(z));
  const fx = x - i0;
  const fy = y - j0;
  const fz = z - k0;
  let s = 0;
  for (const [di, wx] of [[0, 1 - fx], [1, fx]] as const)
    for (const [dj, wy] of [[0, 1 - fy], [1, fy]] as const)
      for (const [dk, wz] of [[0, 1 - fz], [1, fz]] as const) s += wx * wy * wz * voxel(v, i0 + di, j0 + dj, k0 + dk);
  return s;
}

/** The grey level a linear VOI window gives a value (0–255). */
export function greyOf(hu: number, voi: { lower: number; upper: number }): number {
  return Math.max(0, Math.min(255, ((hu - voi.lower) / (voi.upper - voi.lower)) * 255));
}

export function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((x, y) => x + y, 0) / n;
  const mb = b.reduce((x, y) => x + y, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

declare global {
  interface Window {
    medimgMpr?: MprTestHook;
  }
}

/** Clicks the toolbar's MPR button and waits until the whole volume is in. */
export async function openMpr(page: Page, timeout = 180_000): Promise<void> {
  const button = page.getByTestId('mpr-button');
  await expect(button).toBeEnabled({ timeout: 30_000 });
  await button.click();
  await expect(page.getByTestId('mpr')).toHaveAttribute('data-phase', 'complete', { timeout });
  await settle(page);
}

export async function settle(page: Page): Promise<void> {
  await page.evaluate(() => window.medimgMpr!.settle());
  await animationFrames(page);
}

export async function planes(page: Page) {
  return page.evaluate(() => window.medimgMpr!.planes());
}

export async function sample(page: Page, plane: Plane, n: number) {
  return page.evaluate(([p, k]) => window.medimgMpr!.sample(p as Plane, k as number), [plane, n] as const);
}

/** Takes the named screenshot at 1920×1080 and 1280×720 (letting the viewports re-fit and redraw first). */
export async function mprScreens(page: Page, shot: (name: string) => Promise<string>, name: string): Promise<void> {
  for (const [w, h] of [
    [1920, 1080],
    [1280, 720],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await animationFrames(page, 4);
    await settle(page);
    await shot(`${name}-${w}x${h}`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  await animationFrames(page, 4);
  await settle(page);
}

/** Bilinear HU in the plane x = const column `i` (voxel index), at world (y, z); null outside. */
function huInColumn(v: PhantomVolume, i: number, y: number, z: number): number | null {
  const j = (y - v.origin[1]) / v.spacing;
  const k = (z - v.origin[2]) / v.thickness;
  if (j < 0 || k < 0 || j > v.rows - 1 || k > v.slices - 1) return null;
  const j0 = Math.min(v.rows - 2, Math.floor(j));
  const k0 = Math.min(v.slices - 2, Math.floor(k));
  const fy = j - j0;
  const fz = k - k0;
  return (
    (1 - fy) * (1 - fz) * voxel(v, i, j0, k0) + fy * (1 - fz) * voxel(v, i, j0 + 1, k0) + (1 - fy) * fz * voxel(v, i, j0, k0 + 1) + fy * fz * voxel(v, i, j0 + 1, k0 + 1)
  );
}

/**
 * What a sagittal slab of `thickness` mm centred on x = `x0` should show at world (y, z): the
 * maximum, minimum or mean over the voxel columns inside the slab (computed here from the files).
 */
export function sagittalSlab(v: PhantomVolume, x0: number, thickness: number, y: number, z: number, mode: 'mip' | 'minip' | 'average'): number | null {
  const lo = Math.max(0, Math.ceil((x0 - thickness / 2 - v.origin[0]) / v.spacing));
  const hi = Math.min(v.cols - 1, Math.floor((x0 + thickness / 2 - v.origin[0]) / v.spacing));
  let acc = mode === 'mip' ? -Infinity : mode === 'minip' ? Infinity : 0;
  let n = 0;
  for (let i = lo; i <= hi; i++) {
    const h = huInColumn(v, i, y, z);
    if (h === null) return null;
    acc = mode === 'mip' ? Math.max(acc, h) : mode === 'minip' ? Math.min(acc, h) : acc + h;
    n++;
  }
  if (!n) return null;
  return mode === 'average' ? acc / n : acc;
}
