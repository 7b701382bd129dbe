/**
 * Cornerstone3D in one place, for the stack viewer and the MPR viewer alike:
 *  - core, tools and the DICOM image loader are initialised once (`initCornerstone()`, idempotent);
 *  - one RenderingEngine for the whole reading area (`getRenderingEngine()`), so WebGL contexts are
 *    shared instead of one per viewport;
 *  - images load with the wadouri scheme from the renderer's own origin (`dicom/<instance id>`);
 *  - every load has a timeout, because a decode worker that cannot start makes a load wait for ever;
 *  - without WebGL (or after the context is lost) stacks render on the CPU (`renderMode()` says
 *    which), and volumes cannot (`volumeRenderingAvailable()`).
 */
import * as core from '@cornerstonejs/core';
import { cache, Enums as CoreEnums, imageLoader, metaData, RenderingEngine, type StackViewport, type Types as CoreTypes } from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import dicomImageLoader, { wadouri } from '@cornerstonejs/dicom-image-loader';
import { forgetMeta, rememberMeta } from './meta';
import { describeParserFailure, isLibraryMessage } from '../../shared/parser-messages';
import { decoderFaultSince, watchDecoderFaults } from './decoder-faults';
import { withSingleSampleContexts } from './glContexts';

export { core, tools, dicomImageLoader };

/** What Cornerstone3D's image objects carry that we read. */
export interface CsImage {
  imageId: string;
  rows: number;
  columns: number;
  width: number;
  height: number;
  minPixelValue: number;
  maxPixelValue: number;
  slope: number;
  intercept: number;
  windowCenter?: number | number[];
  windowWidth?: number | number[];
  color: boolean;
  columnPixelSpacing?: number;
  rowPixelSpacing?: number;
  sizeInBytes: number;
  /** Set when the loader already applied the rescale (the pixel data are modality values). */
  preScale?: { scaled?: boolean; scalingParameters?: { rescaleSlope?: number; rescaleIntercept?: number } };
  getPixelData(): ArrayLike<number>;
}

/** The id of the one rendering engine every viewer viewport lives in. */
export const RENDERING_ENGINE_ID = 'medimg-reading';

let ready = false;
let engine: RenderingEngine | null = null;
let cpuReason: string | null = null;
const modeListeners = new Set<() => void>();

/**
 * Initialises core, tools and the image loader once. Safe to call from every viewport (and from
 * the MPR viewer); later calls do nothing.
 */
export function initCornerstone(): void {
  if (ready) return;
  ready = true;
  // A damaged JPEG 2000 can decode to a 0-wide image: catch that fault so the load says so (decoder-faults.ts).
  watchDecoderFaults();
  // Two WebGL contexts per rendering engine, not Cornerstone3D's seven: stacks draw on the CPU and
  // the three MPR planes share one context, so the other five per engine only held memory (about
  // 50 MB in the renderer plus the GPU process's share) and, with the MPR engine's seven, took 14
  // of Chromium's 16 contexts, past which it drops the oldest.
  core.init({ rendering: { webGlContextCount: 2 } } as Parameters<typeof core.init>[0]);
  // No WebGL at all (disabled, blocklisted GPU): core already switched to CPU rendering.
  if (core.getShouldUseCPURendering()) cpuReason = 'WebGL is not available';
  tools.init();
  for (const T of [
    tools.WindowLevelTool,
    tools.PanTool,
    tools.ZoomTool,
    tools.StackScrollTool,
    tools.LengthTool,
    tools.AngleTool,
    tools.RectangleROITool,
    tools.EllipticalROITool,
    tools.ProbeTool,
    tools.ReferenceLinesTool,
    tools.CrosshairsTool,
  ]) {
    try {
      tools.addTool(T);
    } catch {
      /* already added */
    }
  }
  // The reading room's annotation colours (as before the migration): amber, cyan while selected.
  const style = tools.annotation.config.style;
  style.setDefaultToolStyles({
    global: {
      ...style.getDefaultToolStyles().global,
      color: '#f2c14e',
      colorHighlighted: '#7fe3ff',
      colorSelected: '#7fe3ff',
      lineWidth: '1.5',
      textBoxColor: '#f2c14e',
      textBoxColorHighlighted: '#7fe3ff',
      textBoxColorSelected: '#7fe3ff',
      textBoxFontFamily: '"DejaVu Sans", Arial, sans-serif',
      textBoxFontSize: '13px',
    },
  } as Parameters<typeof style.setDefaultToolStyles>[0]);
  // The decode workers are module workers the bundler emits next to our bundle (vite.config.ts),
  // started on the first load. One fewer than the cores (at least one, at most four): the main
  // thread renders.
  const workers = Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1));
  // Prefetches (useImageStack) a few at a time: enough to keep reading and decoding ahead of a
  // reader scrolling at the display rate (one at a time could not: the files' fetch and parse
  // then idle the decoder), few enough that a new series' first image waits behind at most three
  // (the decode workers take tasks first come, first served).
  core.imageLoadPoolManager.setMaxSimultaneousRequests(CoreEnums.RequestType.Prefetch, 3);
  dicomImageLoader.init({
    maxWebWorkers: workers,
    // The per-instance metadata provider reading the parsed file (dicom-parser's data set, kept by
    // the loader's dataSetCacheManager): the overlays, the tag names and the measurement units come
    // from the displayed file's own header, as before the migration.
    useLegacyMetadataProvider: true,
  } as Parameters<typeof dicomImageLoader.init>[0]);
  // The loader's metadata provider throws on some files without a Modality, which leaves the image
  // load pending for ever. Ask it first, inside a try, and answer with an empty module when it
  // throws, so the image still builds (without geometry).
  const wado = wadouri.metaData.metaDataProvider as (type: string, imageId: string) => unknown;
  metaData.addProvider((type: string, imageId: string) => {
    if (!imageId?.startsWith('wadouri:')) return undefined;
    const kept = keptModules.get(imageId);
    if (kept && type in kept) return kept[type];
    try {
      return wado(type, imageId) ?? (type === 'imagePlaneModule' ? indexPlanes.get(imageId) : undefined);
    } catch {
      return type === 'imagePlaneModule' || type === 'generalSeriesModule' || type === 'imagePixelModule' ? (type === 'imagePlaneModule' ? indexPlanes.get(imageId) : undefined) ?? {} : undefined;
    }
  }, 10_000);
}

/**
 * Image plane modules from the library's index, for slices whose file has not been read yet.
 * Cornerstone3D's volume viewports look up the slice nearest to the axial plane (getClosestImageId)
 * every time the crosshairs draw, through every slice's imagePlaneModule: while the volume streams
 * in, the files not yet read answered nothing, so each draw logged "Missing imagePositionPatient"
 * for each of them (≈ 5,000 console warnings per MPR open). Once a file is read, its own header
 * answers again. Set by the MPR for its series' slices while it is open.
 */
const indexPlanes = new Map<string, Record<string, unknown>>();

export interface IndexPlane {
  imagePositionPatient: number[];
  imageOrientationPatient: number[];
  /** [row spacing, column spacing] (PixelSpacing order). */
  pixelSpacing: number[];
  rows: number;
  columns: number;
  sliceThickness: number | null;
}

/** Puts index planes in for these image ids (until the returned function is called). */
export function provideIndexPlanes(planes: ReadonlyMap<string, IndexPlane>): () => void {
  for (const [imageId, p] of planes) {
    indexPlanes.set(imageId, {
      imagePositionPatient: [...p.imagePositionPatient],
      imageOrientationPatient: [...p.imageOrientationPatient],
      rowCosines: p.imageOrientationPatient.slice(0, 3),
      columnCosines: p.imageOrientationPatient.slice(3, 6),
      pixelSpacing: [...p.pixelSpacing],
      rowPixelSpacing: p.pixelSpacing[0],
      columnPixelSpacing: p.pixelSpacing[1],
      rows: p.rows,
      columns: p.columns,
      sliceThickness: p.sliceThickness ?? undefined,
    });
  }
  return () => {
    for (const imageId of planes.keys()) indexPlanes.delete(imageId);
  };
}

/**
 * The metadata modules of released single-frame images: taken from the parsed file when the image
 * loads, so the file's bytes can be dropped and the memory held per slice is its pixels (the
 * viewports ask for these modules whenever an image is shown again).
 */
const keptModules = new Map<string, Record<string, unknown>>();
const KEPT_MODULE_TYPES = [
  'imagePlaneModule',
  'imagePixelModule',
  'voiLutModule',
  'modalityLutModule',
  'generalSeriesModule',
  'generalImageModule',
  'generalStudyModule',
  'patientModule',
  'patientStudyModule',
  'sopCommonModule',
  'calibrationModule',
  'multiframeModule',
  'petIsotopeModule',
  'petSeriesModule',
  'overlayPlaneModule',
  'transferSyntax',
  'cineModule',
  'ultrasoundEnhancedRegionModule',
  'instance',
];

/** The shared rendering engine (created on first use). */
export function getRenderingEngine(): RenderingEngine {
  initCornerstone();
  if (!engine || engineDestroyed(engine)) {
    // Without 4× multisampled framebuffers (see glContexts).
    engine = withSingleSampleContexts(() => new RenderingEngine(RENDERING_ENGINE_ID));
  }
  return engine;
}

/** The rendering engine's private render loop (Cornerstone3D 5.x: RenderingEngine → its implementation). */
interface EngineLoop {
  _renderFlaggedViewports?: () => void;
  _animationFrameHandle?: number | null;
  _animationFrameSet?: boolean;
}

/** When each viewport last asked for drawNow. */
const lastDrawNow = new Map<string, number>();
/** Two draws asked for by one viewport closer than this (a wheel burst, several keys in one frame) wait for the next frame. */
const DRAW_NOW_SPACING_MS = 10;

/**
 * Draws what the engine has been asked to render now instead of in its next animation frame.
 * Cornerstone3D renders in a requestAnimationFrame callback; a scroll step asked for during a frame's
 * callbacks (a held key delivered there, cine's timer) was then drawn only in the frame after, and a
 * step asked for in that frame replaced it before it was drawn: every other image was never drawn
 * (30 fps at most on a 60 Hz display). At most one such draw per viewport and frame interval (linked
 * viewports following a step each draw theirs at once too); anything more goes to the engine's
 * frame as before.
 */
export function drawNow(viewportId: string): void {
  const now = performance.now();
  if (now - (lastDrawNow.get(viewportId) ?? -Infinity) < DRAW_NOW_SPACING_MS || !engine) return;
  const loop = (engine as unknown as { _implementation?: EngineLoop })._implementation;
  if (typeof loop?._renderFlaggedViewports !== 'function') return;
  lastDrawNow.set(viewportId, now);
  if (loop._animationFrameHandle) cancelAnimationFrame(loop._animationFrameHandle);
  loop._animationFrameHandle = null;
  loop._animationFrameSet = false;
  try {
    loop._renderFlaggedViewports();
  } catch (e) {
    // as a failed render in the engine's own frame would be: logged, the image state unchanged
    console.warn('render failed', e instanceof Error ? e.message : e);
  }
}

/**
 * How stacks render: 'gpu' with WebGL, 'cpu' on Cornerstone3D's CPU renderer — either because
 * there is no WebGL (`fallback`: the viewports say so) or because the WebGL is a software
 * rasteriser (SwiftShader, llvmpipe), where the CPU renderer is the faster one (ADR 0008:
 * every WebGL frame is read back from the software rasteriser, ≈ 90 ms a frame here).
 */
export interface StackRenderMode {
  mode: 'gpu' | 'cpu';
  reason: string | null;
  /** True when the CPU renderer stands in for a missing or lost WebGL (not chosen for speed). */
  fallback: boolean;
}

/** Set in the console or by a test to compare the two renderers: 'gpu' | 'cpu' (read at start). */
export const STACK_RENDERER_OVERRIDE_KEY = 'medimg.stackRenderer';

let softwareGl: string | null | undefined;
/** The WebGL renderer's name when it is a software rasteriser (WEBGL_debug_renderer_info), else null. */
function softwareWebGl(): string | null {
  if (softwareGl === undefined) {
    const caps = core.getRenderingCapabilities() as { webgl?: boolean; softwareRasterizer?: boolean; renderer?: string };
    softwareGl = caps.webgl && caps.softwareRasterizer ? caps.renderer || 'software WebGL' : null;
  }
  return softwareGl;
}

/** True when WebGL is a software rasteriser (SwiftShader, llvmpipe): every pixel drawn costs CPU time. */
export function webGlIsSoftware(): boolean {
  initCornerstone();
  return softwareWebGl() !== null;
}

function stackRendererOverride(): 'gpu' | 'cpu' | null {
  try {
    const v = globalThis.localStorage?.getItem(STACK_RENDERER_OVERRIDE_KEY);
    return v === 'gpu' || v === 'cpu' ? v : null;
  } catch {
    return null;
  }
}

export function renderMode(): StackRenderMode {
  initCornerstone();
  if (core.getShouldUseCPURendering()) return { mode: 'cpu', reason: cpuReason ?? 'WebGL is not available', fallback: true };
  const override = stackRendererOverride();
  if (override === 'gpu') return { mode: 'gpu', reason: null, fallback: false };
  if (override === 'cpu') return { mode: 'cpu', reason: `${STACK_RENDERER_OVERRIDE_KEY} = cpu`, fallback: false };
  const sw = softwareWebGl();
  return sw ? { mode: 'cpu', reason: `WebGL is a software rasteriser (${sw})`, fallback: false } : { mode: 'gpu', reason: null, fallback: false };
}

/**
 * Puts a stack viewport on the CPU renderer while the rest of the engine (MPR's volumes) keeps
 * WebGL. Cornerstone3D chooses the pipeline per viewport class from the global setting, so the
 * viewport is told per instance: its render, resize and camera calls then take the CPU path.
 */
export function putStackOnCpu(vp: StackViewport): void {
  const v = vp as StackViewport & { getUseCustomRenderingPipeline(): boolean };
  v.getUseCustomRenderingPipeline = () => true;
  vp.setUseCPURendering(true);
}

/** Volumes (MPR, MIP) need WebGL; the stack viewer does not. */
export function volumeRenderingAvailable(): { ok: true } | { ok: false; message: string } {
  initCornerstone();
  const m: { mode: 'gpu' | 'cpu'; reason: string | null } = core.getShouldUseCPURendering() ? { mode: 'cpu', reason: cpuReason } : { mode: 'gpu', reason: null };
  return m.mode === 'gpu'
    ? { ok: true }
    : {
        ok: false,
        message: `Multiplanar reformats need WebGL, and ${m.reason === 'WebGL context lost' ? 'the graphics context was lost' : 'this computer offers none'}. Stacks still show on the CPU renderer; restart MedImgShr or enable hardware acceleration for MPR.`,
      };
}

/** Called whenever the render mode changes (e.g. a lost WebGL context switched stacks to the CPU). */
export function onRenderModeChange(fn: () => void): () => void {
  modeListeners.add(fn);
  return () => modeListeners.delete(fn);
}

/**
 * A WebGL context in use was lost (GPU reset, driver crash; see onContextLost): switch every stack to the CPU renderer,
 * so the image stays on screen, and tell the viewports to say so.
 */
export function fallBackToCpu(reason = 'WebGL context lost'): void {
  if (core.getShouldUseCPURendering()) return;
  cpuReason = reason;
  core.setUseCPURendering(true, true);
  for (const fn of modeListeners) fn();
}

/** What Cornerstone3D says about a lost context: its engine and the index in that engine's pool. */
export interface LostContext {
  renderingEngineId?: string;
  contextIndex?: number;
}

let unloading = false;

interface EngineInternals {
  hasBeenDestroyed?: boolean;
  _implementation?: { hasBeenDestroyed?: boolean; contextPool?: { getContextIndexForViewport?(id: string): number | undefined } };
}

/** True once an engine was destroyed (RenderingEngine keeps the flag on its implementation). */
export function engineDestroyed(e: RenderingEngine): boolean {
  const x = e as unknown as EngineInternals;
  return Boolean(x.hasBeenDestroyed || x._implementation?.hasBeenDestroyed);
}

/**
 * Whether a lost context is one the viewer was drawing with: it belongs to a rendering engine
 * that is still alive (not destroyed: an engine being torn down on purpose loses its contexts
 * with it) and a viewport of that engine draws through it with WebGL (stacks on the CPU renderer
 * draw through none; the volume viewports share the pool's first context).
 */
export function contextInUse(lost: LostContext): boolean {
  if (unloading || !lost.renderingEngineId) return false;
  const engine = core.getRenderingEngine(lost.renderingEngineId) as RenderingEngine | undefined;
  if (!engine || engineDestroyed(engine)) return false;
  const index = lost.contextIndex ?? 0;
  const pool = (engine as unknown as EngineInternals)._implementation?.contextPool;
  return engine.getViewports().some((vp: CoreTypes.IViewport) => {
    const custom = (vp as { getUseCustomRenderingPipeline?(): boolean }).getUseCustomRenderingPipeline?.() ?? false;
    return !custom && (pool?.getContextIndexForViewport?.(vp.id) ?? 0) === index;
  });
}

/**
 * A context was lost. Only the real loss of a live context switches the viewer to the CPU
 * renderer (a GPU reset, a driver crash, the browser taking a context back): a context of an
 * engine that is being destroyed, of the page being closed, or one no viewport draws with (an
 * idle context of the pool) leaves the renderer as it is. The check waits for the current task to
 * end, so that an engine destroyed right after its contexts were released counts as torn down.
 */
function onContextLost(lost: LostContext): void {
  setTimeout(() => {
    if (contextInUse(lost)) fallBackToCpu('WebGL context lost');
    else console.info('WebGL context released, not lost in use: renderer unchanged', lost.renderingEngineId, lost.contextIndex);
  }, 0);
}

/**
 * Cornerstone3D's cache rejects a second, internal promise with a failed load's error, which
 * nobody awaits: an "uncaught" rejection for every unreadable image, although loadImage() has
 * handled that very error (said why on screen). Those, and only those, are marked handled.
 */
const handledLoadErrors = new Set<unknown>();
function noteHandled(e: unknown): void {
  if (e === null || e === undefined) return;
  handledLoadErrors.add(e);
  setTimeout(() => handledLoadErrors.delete(e), 10_000);
}

if (typeof window !== 'undefined') {
  core.eventTarget.addEventListener(CoreEnums.Events.WEBGL_CONTEXT_LOST, (e: Event) => onContextLost((e as CustomEvent<LostContext>).detail));
  // A page being closed or reloaded tears its contexts down: no reason to switch anything.
  window.addEventListener('pagehide', () => {
    unloading = true;
  });
  window.addEventListener('unhandledrejection', (ev) => {
    if (handledLoadErrors.has(ev.reason)) ev.preventDefault();
  });
}

/** The wadouri image id of one frame of an instance served at `dicom/<id>` on our origin. */
export function imageIdFor(instanceId: string | number, frame?: number, frames = 1): string {
  const url = new URL(`dicom/${encodeURIComponent(String(instanceId))}`, location.href).href;
  // Cornerstone3D's wadouri frames are 1-based (the legacy loader's were 0-based): `frame=0` read
  // the bytes before the Pixel Data as a frame, and the last frame was never shown.
  return frames > 1 ? `wadouri:${url}?frame=${(frame ?? 0) + 1}` : `wadouri:${url}`;
}

export class ImageLoadError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'ImageLoadError';
  }
}

/** Loads (and caches) an image, failing with a readable message instead of hanging. */
export async function loadImage(imageId: string, timeoutMs = 20_000): Promise<CsImage> {
  initCornerstone();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = performance.now();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          decoderFaultSince(started)
            ? new ImageLoadError('This image could not be decoded: the decoder produced an image with no width or height (the compressed data is damaged).', 'Re-export the image from its source.')
            : new ImageLoadError(`The image did not decode within ${Math.round(timeoutMs / 1000)} s.`, 'The decoder may have failed to start; try reopening the series.'),
        ),
      timeoutMs,
    );
  });
  try {
    const image = (await Promise.race([imageLoader.loadAndCacheImage(imageId), timeout])) as unknown as CsImage;
    keepMetaAndRelease(imageId, image);
    if (renderMode().mode === 'cpu') storedValuesForCpu(image);
    // A damaged codestream can "decode" to nothing (the JPEG 2000 codec returns a 0×0 image):
    // never hand an empty image to the renderer.
    const expected = image.rows * image.columns;
    if (!(image.width > 0 && image.height > 0 && expected > 0) || image.getPixelData().length < expected) {
      cache.removeImageLoadObject(imageId);
      throw new ImageLoadError(
        'This image could not be decoded: the decoder produced no pixels (the compressed data is damaged).',
        'Re-export the image from its source.',
      );
    }
    return image;
  } catch (e) {
    noteHandled(e);
    if (!(e instanceof ImageLoadError)) console.warn('image load failed', imageId, e instanceof Error ? e.message : safeJson(e));
    throw describeLoadError(e);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes a grey image drawable by Cornerstone3D's CPU renderer without changing any value the
 * viewer reads. That renderer windows through a lookup table indexed by the stored value, so
 *  - it cannot take the loader's float pixels (a rescale with a fractional slope, e.g. PET): it
 *    would re-quantise them to 16 bits in place, on the cached image, and every value read from it
 *    afterwards (pointer, presets, statistics) would be off. The file's own stored integers are
 *    put back instead, exactly, the rescale kept as the image's slope and intercept;
 *  - a 32-bit image (an RT dose grid) can span billions of stored values: a table that long
 *    hangs the page. The renderer then gets a 16-bit copy for display (same window, same look),
 *    while `getPixelData()` keeps the exact values and `pixelRescale` their rescale.
 */
function storedValuesForCpu(image: CsImage): void {
  const img = image as CsImage & { voxelManager?: { getScalarData(): ArrayLike<number> }; dataType?: string; medimgCpuReady?: boolean };
  if (img.medimgCpuReady || image.color) return;
  img.medimgCpuReady = true;
  const px = image.getPixelData();
  // 8- and 16-bit integers always fit the renderer's table.
  if (px instanceof Int16Array || px instanceof Uint16Array || px instanceof Uint8Array || px instanceof Int8Array) return;
  const p = image.preScale;
  let stored: ArrayLike<number> = px;
  let slope = image.slope ?? 1;
  let intercept = image.intercept ?? 0;
  let min = Infinity;
  let max = -Infinity;
  if (px instanceof Float32Array && p?.scaled) {
    slope = p.scalingParameters?.rescaleSlope ?? 1;
    intercept = p.scalingParameters?.rescaleIntercept ?? 0;
    if (!slope) return;
    const ints = new Float64Array(px.length);
    for (let i = 0; i < px.length; i++) {
      const v = Math.round((px[i]! - intercept) / slope);
      ints[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const Arr = min >= 0 && max <= 0xffff ? Uint16Array : min >= -0x8000 && max <= 0x7fff ? Int16Array : Int32Array;
    stored = Arr.from(ints);
    img.dataType = Arr.name;
    image.preScale = { ...p, scaled: false };
  } else {
    for (let i = 0; i < px.length; i++) {
      const v = px[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (!(max >= min)) return;
  const exact = stored;
  img.getPixelData = () => exact;
  if (max - min <= 0xffff) {
    if (img.voxelManager) img.voxelManager.getScalarData = () => exact;
    image.minPixelValue = min;
    image.maxPixelValue = max;
    image.slope = slope;
    image.intercept = intercept;
    return;
  }
  // Too wide for the renderer's table: a 16-bit display copy, its own rescale onto the same values.
  const step = (max - min) / 0xffff;
  const display = new Uint16Array(stored.length);
  for (let i = 0; i < stored.length; i++) display[i] = Math.round((stored[i]! - min) / step);
  if (img.voxelManager) img.voxelManager.getScalarData = () => display;
  pixelRescales.set(image, { slope, intercept });
  image.minPixelValue = 0;
  image.maxPixelValue = 0xffff;
  image.slope = step * slope;
  image.intercept = min * slope + intercept;
}

/** The exact rescale of images whose renderer copy was re-quantised (storedValuesForCpu). */
const pixelRescales = new WeakMap<object, { slope: number; intercept: number }>();

/** The rescale (modality = stored × slope + intercept) of `getPixelData()`'s values, when it differs from the image's slope / intercept. */
export function pixelRescale(image: CsImage): { slope: number; intercept: number } | undefined {
  return pixelRescales.get(image);
}

/** True when the image is in the cache (loaded or loading). */
export function isCached(imageId: string): boolean {
  try {
    return !!cache.getImageLoadObject(imageId);
  } catch {
    return false;
  }
}

/**
 * Forgets a cached image (pixels, kept metadata, overlay header), so its next load reads the file
 * the instance points to now.
 */
export function forgetImage(imageId: string): void {
  keptModules.delete(imageId);
  forgetMeta(imageId);
  try {
    if (cache.getImageLoadObject(imageId)) cache.removeImageLoadObject(imageId);
  } catch {
    /* not cached */
  }
}

/** The cached image of an id, if any. */
export function cachedImage(imageId: string): CsImage | undefined {
  return cache.getImage(imageId) as unknown as CsImage | undefined;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (k, x) => (k === 'dataSet' || k === 'byteArray' ? undefined : x))?.slice(0, 300) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Turns whatever the loader rejected with into a message a reader can act on. */
export function describeLoadError(e: unknown): ImageLoadError {
  if (e instanceof ImageLoadError) return e;
  const any = e as { error?: unknown; message?: string; request?: { status?: number } } | string | undefined;
  let text = '';
  if (typeof any === 'string') text = any;
  else if (any && typeof any === 'object') {
    const req = (any.request ?? any.error) as { status?: unknown; readyState?: unknown } | undefined;
    const status = req && typeof req === 'object' && typeof req.status === 'number' ? req.status : 0;
    if (status === 404 || status === 410) {
      return new ImageLoadError('The image file could not be read: it was moved or deleted after import.', 'Re-import the file from its new place, or remove the series from the index.');
    }
    if (status >= 400) {
      return new ImageLoadError(`The image file could not be read (HTTP ${status}).`, 'Check that the file is still readable, then reopen the series.');
    }
    const inner = any.error as { message?: string; exception?: string } | string | undefined;
    text = typeof inner === 'string' ? inner : (inner?.message ?? inner?.exception ?? any.message ?? '');
  }
  if (/transfer syntax|no decoder|unsupported/i.test(text)) {
    return new ImageLoadError(`This image uses a compression this viewer cannot decode (${text}).`, 'Convert it to an uncompressed transfer syntax, e.g. with dcmdjpeg or dcmconv.');
  }
  if (/eval|Content Security Policy|CSP/i.test(text)) {
    return new ImageLoadError('The image codec was blocked by the security policy.', 'Restart MedImgShr; if it persists, report it (the decode worker must be served with its own policy, see docs/security.md).');
  }
  if (/buffer overread|buffer overrun|truncat|beyond|out of range|offset/i.test(text)) {
    return new ImageLoadError(`The file is truncated or its header is damaged (${describeParserFailure(text)}).`, 'Re-export the image from its source.');
  }
  // the parser's or a codec's own words say nothing to a reader: the same DICOM terms as the import report
  if (isLibraryMessage(text) || /^dicomParser/.test(text)) text = describeParserFailure(text);
  return new ImageLoadError(`This image could not be decoded${text ? `: ${text}` : '.'}`, 'The file may be damaged or not an image (e.g. a report or a plan).');
}

/**
 * Takes what the viewer shows from the header, keeps the metadata modules the viewports ask for,
 * then lets the loader forget its parsed copy of a single-frame file (the decoded pixels stay in
 * the image cache). Multi-frame files keep their data set: the other frames are decoded from it.
 */
function keepMetaAndRelease(imageId: string, image: CsImage): void {
  const ds = dataSetOf(imageId);
  rememberMeta(imageId, ds);
  if (ds && !/[?&]frame=\d+$/.test(imageId)) {
    const wado = wadouri.metaData.metaDataProvider as (type: string, imageId: string) => unknown;
    const modules: Record<string, unknown> = {};
    for (const t of KEPT_MODULE_TYPES) {
      try {
        modules[t] = wado(t, imageId);
      } catch {
        modules[t] = t === 'imagePlaneModule' || t === 'generalSeriesModule' || t === 'imagePixelModule' ? {} : undefined;
      }
    }
    keptModules.set(imageId, modules);
    try {
      wadouri.dataSetCacheManager.unload(urlOf(imageId));
    } catch {
      /* not cached */
    }
    // The loader also hangs the parsed data set (and so the whole file's bytes) on the image.
    (image as CsImage & { data?: unknown }).data = undefined;
  }
}

interface DecodeWorkers {
  instances: (unknown | null)[];
  loadCounters: number[];
  /** When each worker last finished a task (null: none since it started). */
  lastActiveTime?: (number | null)[];
}
interface WorkerManager {
  workerRegistry?: Record<string, DecodeWorkers | undefined>;
  terminateWorkerInstance?(name: string, index: number): void;
  getNextWorkerAPI?(name: string): { index: number } | null;
}
const DECODE_WORKERS = 'dicomImageLoader';

/** The image loader's entry in Cornerstone3D's web worker manager, with the manager. */
function decodeWorkerRegistry(): { manager: WorkerManager | undefined; workers: DecodeWorkers | undefined } {
  const manager = core.getWebWorkerManager() as unknown as WorkerManager | undefined;
  return { manager, workers: manager?.workerRegistry?.[DECODE_WORKERS] };
}

/**
 * Ends the image loader's decode workers that have no task at the moment and have decoded since
 * they started, and starts one fresh worker in their place (below). Each file's bytes go to a worker (transferred) and come back as a new
 * pixel array, so after a volume's few hundred files the worker's own heap still holds tens of
 * megabytes of those buffers, freed only when its garbage collector next runs: measured with
 * Chromium's memory-infra, 40 MiB of the renderer's array buffers 1 s after an MPR volume was
 * complete (the main thread collected), gone some seconds later when idle, later still under
 * load. Ending the worker frees them at once. Returns how many workers were ended.
 */
export function releaseIdleDecodeWorkers(): number {
  const { manager, workers } = decodeWorkerRegistry();
  if (!workers || typeof manager?.terminateWorkerInstance !== 'function') return 0;
  let n = 0;
  workers.instances.forEach((instance, i) => {
    // A worker that has decoded nothing since it started holds no files' buffers: kept.
    if (instance === null || (workers.loadCounters[i] ?? 0) > 0 || workers.lastActiveTime?.[i] === null) return;
    manager.terminateWorkerInstance!(DECODE_WORKERS, i);
    n++;
  });
  decodeWorkersEnded += n;
  // A fresh worker is started at once (its heap holds the loader's code, not the files), so the
  // next decode does not wait for one to start: the stack view's next slice after the MPR, or the
  // next MPR's first slice (which came ~300–400 ms later with none running: bench, load 1–3).
  // The manager starts one when asked for the next worker; the load that asking counts is given back.
  if (n > 0 && typeof manager.getNextWorkerAPI === 'function' && workers.instances.every((w) => w === null)) {
    const next = manager.getNextWorkerAPI(DECODE_WORKERS);
    if (next) workers.loadCounters[next.index] = Math.max(0, (workers.loadCounters[next.index] ?? 1) - 1);
  }
  return n;
}
let decodeWorkersEnded = 0;

/** How many decode workers are running, and how many releaseIdleDecodeWorkers has ended so far (read by the tests). */
export function decodeWorkers(): { running: number; ended: number } {
  const { workers } = decodeWorkerRegistry();
  return { running: workers ? workers.instances.filter((i) => i !== null).length : 0, ended: decodeWorkersEnded };
}

/** The same release for a slice the MPR's volume loader decoded (its pixels are then in the volume). */
export function releaseParsedFile(imageId: string, image: object): void {
  keepMetaAndRelease(imageId, image as CsImage);
}

function urlOf(imageId: string): string {
  return imageId.replace(/^wadouri:/, '').replace(/[?&]frame=\d+$/, '');
}

/** The parsed DICOM data set of a loaded wadouri image (kept by the loader's cache). */
export function dataSetOf(imageId: string): DicomDataSet | undefined {
  try {
    return wadouri.dataSetCacheManager.get(urlOf(imageId)) as unknown as DicomDataSet | undefined;
  } catch {
    return undefined;
  }
}

/** A point in patient (world) coordinates, mm. */
export type WorldPoint = CoreTypes.Point3;

export interface DicomElement {
  tag: string;
  vr?: string;
  length: number;
  dataOffset: number;
  items?: { dataSet?: DicomDataSet; length: number }[];
  fragments?: unknown[];
  hadUndefinedLength?: boolean;
}

export interface DicomDataSet {
  elements: Record<string, DicomElement>;
  byteArray: Uint8Array;
  string(tag: string, index?: number): string | undefined;
  uint16(tag: string, index?: number): number | undefined;
  int16(tag: string, index?: number): number | undefined;
  uint32(tag: string, index?: number): number | undefined;
  int32(tag: string, index?: number): number | undefined;
  float(tag: string, index?: number): number | undefined;
  double(tag: string, index?: number): number | undefined;
  floatString(tag: string, index?: number): number | undefined;
  intString(tag: string, index?: number): number | undefined;
}
