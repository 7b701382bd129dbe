/**
 * Cornerstone3D for the volume viewer: the one initCornerstone() of the stack viewer (core, tools
 * including crosshairs, the image loader with its metadata providers), and what volumes need of it.
 */
import { getRenderingCapabilities } from '@cornerstonejs/core';
import { initCornerstone } from '../cornerstone';

let webGl2: boolean | null = null;

/**
 * WebGL 2 is what volume (3D texture) rendering needs; the stack view has a CPU path, MPR has none.
 * Asked once (a probe context costs ≈ 20–50 ms under software GL); a context lost later is the
 * MPR's own error to show.
 */
export function hasWebGL2(): boolean {
  if (webGl2 !== null) return webGl2;
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2');
    webGl2 = Boolean(gl);
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
  } catch {
    webGl2 = false;
  }
  return webGl2;
}

export function initVolume(): void {
  initCornerstone();
}

export function renderingCapabilities(): { webgl: boolean } {
  return { webgl: Boolean((getRenderingCapabilities() as { webgl?: boolean }).webgl) };
}
