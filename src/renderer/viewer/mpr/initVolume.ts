/**
 * Cornerstone3D for the volume viewer, started once. The stack viewer's migration owns the shared
 * initCornerstone(); until the two are folded together this guard makes either order safe: each
 * library's own "already initialised" state is asked first, so nothing is registered twice.
 */
import { getRenderingCapabilities, init as coreInit, isCornerstoneInitialized } from '@cornerstonejs/core';
import { addTool, CrosshairsTool, init as toolsInit, PanTool, StackScrollTool, WindowLevelTool, ZoomTool } from '@cornerstonejs/tools';
import { init as dicomImageLoaderInit } from '@cornerstonejs/dicom-image-loader';

let started = false;

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
  if (started) return;
  started = true;
  if (!isCornerstoneInitialized()) {
    coreInit();
    // One decode worker per spare core: on this 2-core kind of machine the page needs the other.
    dicomImageLoaderInit({ maxWebWorkers: Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)) });
  }
  toolsInit();
  for (const tool of [CrosshairsTool, WindowLevelTool, PanTool, ZoomTool, StackScrollTool]) {
    try {
      addTool(tool);
    } catch {
      /* already added by the stack viewer */
    }
  }
}

export function renderingCapabilities(): { webgl: boolean } {
  return { webgl: Boolean((getRenderingCapabilities() as { webgl?: boolean }).webgl) };
}
