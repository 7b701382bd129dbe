/**
 * Cornerstone3D for the volume viewer: the one initCornerstone() of the stack viewer (core, tools
 * including crosshairs, the image loader with its metadata providers), and what volumes need of it.
 */
import { getRenderingCapabilities } from '@cornerstonejs/core';
import { initCornerstone } from '../cornerstone';

/** WebGL 2 is what volume (3D texture) rendering needs; the stack view has a CPU path, MPR has none. */
export function hasWebGL2(): boolean {
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2');
    if (!gl) return false;
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return true;
  } catch {
    return false;
  }
}

export function initVolume(): void {
  initCornerstone();
}

export function renderingCapabilities(): { webgl: boolean } {
  return { webgl: Boolean((getRenderingCapabilities() as { webgl?: boolean }).webgl) };
}
