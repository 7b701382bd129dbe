/**
 * The benchmark's peer: the same volume built with bare Cornerstone3D calls (same loader, no
 * React and no toolbar; three orthographic viewports side by side over the whole window), in the
 * same page, so the cost of the MPR view itself shows as a ratio. Started only by
 * test/bench/mpr.bench.ts, through window.medimgMprBench.
 */
import { cache, Enums, eventTarget, setVolumesForViewports, volumeLoader, type RenderingEngine, type Types } from '@cornerstonejs/core';
import { wadouri } from '@cornerstonejs/dicom-image-loader';
import { initVolume } from './initVolume';
import { mprRenderingEngine } from './mprSession';
import { warmUpsDrawn } from './warmUp';

let n = 0;
let held: { engine: RenderingEngine; volumeId: string; els: HTMLDivElement[] } | null = null;

const PLANES = [
  ['axial', Enums.OrientationAxis.AXIAL],
  ['sagittal', Enums.OrientationAxis.SAGITTAL],
  ['coronal', Enums.OrientationAxis.CORONAL],
] as const;

/** Drops every decoded image and parsed file, so the next volume comes from the files again. */
export function purgeImageCaches(): void {
  cache.purgeCache();
  (wadouri.dataSetCacheManager as unknown as { purge(): void }).purge();
}

/**
 * Builds the volume from the files (Cornerstone3D's own streaming volume loader, its default
 * order) and shows it in three planes. `hold`: keep it shown (for the memory reading and the drag)
 * until bareRelease().
 */
export async function bareVolume(imageIds: string[], opts: { hold?: boolean } = {}): Promise<{ first: number; complete: number }> {
  initVolume();
  bareRelease();
  const id = ++n;
  const t0 = performance.now();
  const els = PLANES.map((_, i) => {
    const el = document.createElement('div');
    el.style.cssText = `position:fixed;top:0;left:${(100 * i) / 3}vw;width:${100 / 3}vw;height:100vh;z-index:1000`;
    document.body.appendChild(el);
    return el;
  });
  // The MPR's engine (its WebGL context), with the peer's own three viewports.
  const engine = mprRenderingEngine();
  const volumeId = `cornerstoneStreamingImageVolume:medimg-bare-${id}`;
  let keep = false;
  try {
    PLANES.forEach(([p, orientation], i) => engine.enableElement({ viewportId: `bare-${p}`, type: Enums.ViewportType.ORTHOGRAPHIC, element: els[i]!, defaultOptions: { orientation } }));
    const volume = await volumeLoader.createAndCacheVolume(volumeId, { imageIds });
    let processed = 0;
    let first: number | null = null;
    let complete: number | null = null;
    const onModified = (e: Event) => {
      const d = (e as CustomEvent<{ volumeId: string; framesProcessed: number }>).detail;
      if (d.volumeId !== volumeId) return;
      processed = d.framesProcessed;
      if (processed >= imageIds.length) complete ??= performance.now() - t0;
    };
    const onRendered = () => {
      if (first === null && processed > 0) first = performance.now() - t0;
    };
    eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onModified);
    els[1]!.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
    (volume as Types.IImageVolume & { load(): void }).load();
    await setVolumesForViewports(engine, [{ volumeId }], PLANES.map(([p]) => `bare-${p}`));
    engine.renderViewports(PLANES.map(([p]) => `bare-${p}`));
    while (complete === null || first === null) await new Promise((r) => setTimeout(r, 20));
    eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onModified);
    els[1]!.removeEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
    // The last slices' render.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    keep = Boolean(opts.hold);
    if (keep) held = { engine, volumeId, els };
    return { first, complete };
  } finally {
    if (!keep) release({ engine, volumeId, els });
  }
}

/**
 * The least a crosshair drag asks of the renderer: the sagittal and coronal planes move (one
 * voxel a frame, back and forth) and both are drawn again, once per animation frame, for
 * `frames` frames. Frames per second of the sagittal plane, on the held volume.
 */
export async function bareDragFps(frames: number): Promise<number> {
  if (!held) throw new Error('no bare volume held');
  const { engine } = held;
  const ids = ['bare-sagittal', 'bare-coronal'];
  const sag = held.els[1]!;
  const times: number[] = [];
  const onRendered = () => times.push(performance.now());
  sag.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
  try {
    for (let i = 0; i < frames; i++) {
      const step = Math.floor(i / 20) % 2 === 0 ? 1 : -1;
      for (const vid of ids) {
        const vp = engine.getViewport(vid) as Types.IVolumeViewport;
        const cam = vp.getCamera();
        const nrm = cam.viewPlaneNormal!;
        const d = step * 0.7;
        const shift = (p: Types.Point3): Types.Point3 => [p[0] + nrm[0] * d, p[1] + nrm[1] * d, p[2] + nrm[2] * d];
        vp.setCamera({ focalPoint: shift(cam.focalPoint!), position: shift(cam.position!) });
      }
      const rendered = new Promise((r) => sag.addEventListener(Enums.Events.IMAGE_RENDERED, r, { once: true }));
      engine.renderViewports(ids);
      await rendered;
    }
  } finally {
    sag.removeEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
  }
  if (times.length < 2) return 0;
  return ((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!);
}

/**
 * The floor under any WebGL MPR on this machine: `planes` canvases of w × h, each frame one
 * 512 × 300 single-channel float texture (a reformatted plane's worth of voxels) drawn over the
 * whole canvas by a one-line shader, and copied to its on-screen 2D canvas (what Cornerstone3D
 * does with every frame it renders). Frames per second for `frames` animation frames.
 */
export async function rawWebGlFps(w: number, h: number, planes: number, frames: number): Promise<number> {
  const gl = document.createElement('canvas');
  gl.width = w;
  gl.height = h;
  const ctx = gl.getContext('webgl2', { preserveDrawingBuffer: true, antialias: false })!;
  const shader = (type: number, src: string) => {
    const s = ctx.createShader(type)!;
    ctx.shaderSource(s, src);
    ctx.compileShader(s);
    return s;
  };
  const prog = ctx.createProgram()!;
  ctx.attachShader(prog, shader(ctx.VERTEX_SHADER, '#version 300 es\nin vec2 p; out vec2 uv; void main(){ uv = p * 0.5 + 0.5; gl_Position = vec4(p, 0.0, 1.0); }'));
  ctx.attachShader(prog, shader(ctx.FRAGMENT_SHADER, '#version 300 es\nprecision highp float; uniform sampler2D t; uniform float o; in vec2 uv; out vec4 c; void main(){ float v = texture(t, uv).r / 400.0 + o; c = vec4(v, v, v, 1.0); }'));
  ctx.linkProgram(prog);
  ctx.useProgram(prog);
  const buf = ctx.createBuffer();
  ctx.bindBuffer(ctx.ARRAY_BUFFER, buf);
  ctx.bufferData(ctx.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), ctx.STATIC_DRAW);
  const loc = ctx.getAttribLocation(prog, 'p');
  ctx.enableVertexAttribArray(loc);
  ctx.vertexAttribPointer(loc, 2, ctx.FLOAT, false, 0, 0);
  const tex = ctx.createTexture();
  ctx.bindTexture(ctx.TEXTURE_2D, tex);
  const data = new Float32Array(512 * 300).map((_, i) => (i % 512) - 256);
  ctx.texImage2D(ctx.TEXTURE_2D, 0, ctx.R32F, 512, 300, 0, ctx.RED, ctx.FLOAT, data);
  ctx.texParameteri(ctx.TEXTURE_2D, ctx.TEXTURE_MIN_FILTER, ctx.NEAREST);
  ctx.texParameteri(ctx.TEXTURE_2D, ctx.TEXTURE_MAG_FILTER, ctx.NEAREST);
  const offset = ctx.getUniformLocation(prog, 'o');
  const screens = Array.from({ length: planes }, (_, i) => {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    c.style.cssText = `position:fixed;top:0;left:${i * w}px;z-index:1000`;
    document.body.appendChild(c);
    return c;
  });
  const t: number[] = [];
  try {
    for (let f = 0; f < frames; f++) {
      await new Promise((r) => requestAnimationFrame(r));
      for (const screen of screens) {
        ctx.viewport(0, 0, w, h);
        ctx.uniform1f(offset, (f % 10) / 100);
        ctx.drawArrays(ctx.TRIANGLE_STRIP, 0, 4);
        screen.getContext('2d')!.drawImage(gl, 0, 0);
      }
      t.push(performance.now());
    }
  } finally {
    for (const c of screens) c.remove();
    ctx.getExtension('WEBGL_lose_context')?.loseContext();
  }
  return ((t.length - 1) * 1000) / (t[t.length - 1]! - t[0]!);
}

function release(h: { engine: RenderingEngine; volumeId: string; els: HTMLDivElement[] }): void {
  for (const [p] of PLANES) {
    try {
      h.engine.disableElement(`bare-${p}`);
    } catch {
      /* never enabled */
    }
  }
  try {
    cache.removeVolumeLoadObject(h.volumeId);
  } catch {
    /* never created */
  }
  for (const el of h.els) el.remove();
}

export function bareRelease(): void {
  if (held) release(held);
  held = null;
}

export interface MprBench {
  bare: typeof bareVolume;
  bareDragFps: typeof bareDragFps;
  bareRelease: typeof bareRelease;
  purge: typeof purgeImageCaches;
  rawWebGlFps: typeof rawWebGlFps;
  /** Warm-up frames the app drew so far (warmUp.ts; none on the peer's `?mprWarmUp=0` page). */
  warmUps: typeof warmUpsDrawn;
}

declare global {
  interface Window {
    medimgMprBench?: MprBench;
  }
}

window.medimgMprBench = { bare: bareVolume, bareDragFps, bareRelease, purge: purgeImageCaches, rawWebGlFps, warmUps: warmUpsDrawn };
