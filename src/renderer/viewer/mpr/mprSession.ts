/**
 * One MPR session: one streaming image volume whose slices are decoded into the shared texture as
 * they come, while the three viewports already draw it (the first reformatted frame appears
 * before the last slice). The volume is laid out from three files' headers (first, middle, last:
 * what Cornerstone3D's wadouri volume loader reads; the library's index already proved the series
 * evenly spaced, see volumeGeometry), not from every file read twice. The slices come in
 * interleaved: every 8th across the whole length first, so the sagittal and coronal planes show
 * the whole scan coarsely at once and fill in, instead of a growing band.
 */
import { cache, Enums, eventTarget, RenderingEngine, setVolumesForViewports, utilities, volumeLoader, type Types } from '@cornerstonejs/core';
import { decodeWorkers, engineDestroyed, getRenderingEngine, provideIndexPlanes, releaseIdleDecodeWorkers, releaseParsedFile, webGlIsSoftware, type IndexPlane } from '../cornerstone';
import { directionLetters, type EdgeMarkers, type Vec3 } from '../../../shared/viewer/orientation';
import type { SlabMode } from '../../../shared/viewer/volume';
import { volumeImageId, type SeriesVolume } from './volumeGeometry';
import { createMprTools, type MprTools, type PrimaryTool } from './mprTools';
import { cacheViewReference, nearestSampling, reducedCanvas, type ReducedCanvas } from './dragRendering';
import { contextAttributes, offscreenCanvasSizes, shrinkIdleContexts, withSingleSampleContexts } from '../glContexts';

export type { PrimaryTool };
export const PLANES = ['axial', 'sagittal', 'coronal'] as const;
export type Plane = (typeof PLANES)[number];

export interface MprPaneInfo {
  markers: EdgeMarkers;
  /** Where the plane cuts the patient, e.g. "F 187.5 mm" (along its main axis). */
  positionLabel: string;
  ww: number;
  wc: number;
  /** "MIP 10 mm" when a slab projection is on. */
  slab: string | null;
  oblique: boolean;
}

export type MprProgress = { stage: 'reading' | 'streaming'; done: number; total: number } | { stage: 'complete'; total: number };

interface Callbacks {
  onProgress(p: MprProgress): void;
  onPane(plane: Plane, info: MprPaneInfo): void;
}

/** Milliseconds from start(): what the benchmark and the tests read. */
export interface MprTiming {
  startedAt: number;
  headersReadMs: number | null;
  firstFrameMs: number | null;
  /** Slices in the volume when the first reformatted frame was drawn. */
  firstFrameSlices: number | null;
  /** The first frame drawn after every 8th slice was in (the whole scan length shown, coarsely). */
  coarseFrameMs: number | null;
  completeMs: number | null;
  renders: number;
  /** The progress stages shown, in order (reading, streaming, complete). */
  stages: string[];
}

const BLEND: Record<SlabMode, Enums.BlendModes> = {
  mip: Enums.BlendModes.MAXIMUM_INTENSITY_BLEND,
  minip: Enums.BlendModes.MINIMUM_INTENSITY_BLEND,
  average: Enums.BlendModes.AVERAGE_INTENSITY_BLEND,
};
const SLAB_WORD: Record<SlabMode, string> = { mip: 'MIP', minip: 'MinIP', average: 'Average' };
const ORIENTATION: Record<Plane, Enums.OrientationAxis> = {
  axial: Enums.OrientationAxis.AXIAL,
  sagittal: Enums.OrientationAxis.SAGITTAL,
  coronal: Enums.OrientationAxis.CORONAL,
};
const DEFAULT_NORMAL: Record<Plane, Vec3> = { axial: [0, 0, 1], sagittal: [1, 0, 0], coronal: [0, 1, 0] };

let sequence = 0;

let sharedEngine: RenderingEngine | null = null;
/**
 * The one rendering engine of every MPR (and of the benchmark's peer): each engine holds its own
 * pool of WebGL contexts (seven by default) and a page gets sixteen, so an engine per session ran
 * out after a few MPR opens — a lost context switches the whole viewer to the CPU renderer.
 * Sessions add and remove their viewports.
 */
export function mprRenderingEngine(): RenderingEngine {
  if (!sharedEngine || engineDestroyed(sharedEngine)) {
    // Without 4× multisampled framebuffers (see glContexts).
    sharedEngine = withSingleSampleContexts(() => new RenderingEngine('medimg-mpr'));
  }
  return sharedEngine;
}

/** While streaming, the planes are drawn again at most this often (each draw is costly under software GL). */
const STREAM_REDRAW_MS = 1000;

/**
 * The order slices are read into the volume: every 8th first (each shown also in the 7 empty
 * slots after it until their own slice comes, Cornerstone3D's "nearby frames"), then the 4th, 2nd
 * and the rest between them, each into its own slot only. Priorities: lower first. Every slice
 * written into the volume (a copy into a nearby slot too) is converted to half floats on the main
 * thread and uploaded into the texture: copies in the later stages as well (the 4th into the 3
 * slots after it, the 2nd into the next) made 750 uploads of 300 slices, for a preview that the
 * first stage already gives whole.
 */
const STREAM_STAGES = [
  { id: 'mpr-every-8th', decimate: 8, offset: 0, priority: 1, requestType: Enums.RequestType.Interaction, nearbyFrames: [1, 2, 3, 4, 5, 6, 7].map((offset) => ({ offset, imageQualityStatus: Enums.ImageQualityStatus.FAR_REPLICATE })) },
  { id: 'mpr-every-4th', decimate: 8, offset: 4, priority: 2, requestType: Enums.RequestType.Interaction },
  { id: 'mpr-every-2nd', decimate: 4, offset: 2, priority: 3, requestType: Enums.RequestType.Interaction },
  { id: 'mpr-rest', decimate: 2, offset: 1, priority: 4, requestType: Enums.RequestType.Interaction },
];

/**
 * Puts a signed 16-bit CT volume into a 16-bit float texture (R16F) instead of Cornerstone3D's
 * 32-bit one (R32F): half the texture memory, which under a software rasteriser is ordinary
 * memory of the GPU process (−150 MiB for a 300-slice 512² CT). Cornerstone3D's own options do
 * not reach this here: `preferSizeOverAccuracy` only applies to textures built in one piece, its
 * streaming mappers switch half floats off for every volume, and the 16-bit normalised textures it
 * would use instead (EXT_texture_norm16) are not offered by SwiftShader.
 * A half float holds every integer in −2048…2048 exactly, so HU from air (−1024) to dense bone
 * are drawn from the very values of the files; above 2048 HU (metal) it rounds to 2 HU, which no
 * window wider than 2 HU per grey level shows. The values the tools read (probe, statistics) come
 * from the decoded slices, not from the texture. Other volumes (unsigned MR, float PET) keep R32F.
 */
export function halfFloatTexture(volume: Types.IImageVolume): boolean {
  if ((volume as { dataType?: string }).dataType !== 'Int16Array') return false;
  const tex = (volume as unknown as { vtkOpenGLTexture?: VtkTexture }).vtkOpenGLTexture;
  if (!tex || typeof tex.get !== 'function' || typeof tex.useHalfFloat !== 'function') return false;
  // vtk.js uses half floats when the texture allows them (its model's enableUseHalfFloat) and the
  // data fit (canUseHalfFloat, which only its one-piece upload works out). The streaming mapper
  // calls enableUseHalfFloat(false) before every texture build, and vtk.js freezes the texture's
  // methods, so the model's flag is made to stay on instead.
  const model = tex.get();
  if (!model || typeof model !== 'object' || Object.isFrozen(model)) return false;
  model.canUseHalfFloat = true;
  Object.defineProperty(model, 'enableUseHalfFloat', { configurable: true, enumerable: true, get: () => true, set: () => undefined });
  return true;
}

/**
 * Takes a volume out of Cornerstone3D's cache and frees its texture in its GL context.
 * Cornerstone3D's volume destroy calls vtk.js's releaseGraphicsResources without the render
 * window, and vtk.js deletes the GL texture only when given one; the MPR engine is kept for the
 * next MPR, so each closed MPR left its whole texture in the GPU process (measured: a second MPR
 * added 162–170 MiB, with this 12 MiB).
 */
export function removeVolume(volumeId: string): void {
  const tex = (cache.getVolume(volumeId) as { vtkOpenGLTexture?: { get?(): { _openGLRenderWindow?: unknown } | undefined; releaseGraphicsResources?(w: unknown): void } } | undefined)?.vtkOpenGLTexture;
  const window = tex?.get?.()?._openGLRenderWindow;
  if (window && typeof tex?.releaseGraphicsResources === 'function') {
    try {
      tex.releaseGraphicsResources(window);
    } catch {
      /* the context is already gone, and the texture with it */
    }
  }
  try {
    cache.removeVolumeLoadObject(volumeId);
  } catch {
    /* never created */
  }
}

interface VtkTexture {
  /** True when the texture is (to be) built with half floats. */
  useHalfFloat(): boolean;
  /** The model itself without names; else the named fields. */
  get(...names: string[]): Record<string, unknown>;
}

/**
 * Under a software rasteriser, while a mouse button is held on a plane (crosshair drag, pan, zoom,
 * window) and while the volume streams in, the planes are drawn with 1/INTERACTIVE_PIXEL_SCALE of
 * their pixels (a third of the width and height) and scaled up; on release, and once the last
 * slice is in, the three planes are drawn again at full resolution. There each plane's draw costs
 * CPU time in proportion to its pixels (measured in the GPU process: ≈ 45 ms per full-size plane
 * of the 1920×1080 layout, plus ≈ 20 ms whatever the size), and a crosshair drag draws two planes
 * per mouse move. vtk.js's volume mapper has this mode built in (its "small viewport", used while
 * its interactor animates); Cornerstone3D never animates that interactor, so the session says when
 * to use it (interactiveSwitch). The slab's sampling along the ray is unchanged (the mapper's
 * interaction sample-distance factor stays 1). With a hardware GPU the planes are always drawn at
 * full resolution.
 */
export const INTERACTIVE_PIXEL_SCALE = 9;

interface InteractorModel {
  inRender?: boolean;
  animationRequest?: unknown;
}
const interactiveSwitches = new WeakMap<object, { on: boolean }>();

/**
 * The switch of the vtk.js interactor behind a viewport's WebGL context: while `on`, the volume
 * mappers of that context see an animating interactor during a draw (vtk.js's isAnimating() reads
 * `animationRequest`), and so draw at their interaction scale. Outside a draw the interactor is as
 * before (its render() would skip the draw of an animating window). Null when vtk.js's objects
 * are not as expected: the planes are then always drawn at full resolution.
 */
export function interactiveSwitch(engine: RenderingEngine, viewportId: string): { on: boolean } | null {
  type Pool = { getContextIndexForViewport?(id: string): number | undefined; getContextByIndex?(i: number): { context?: { getInteractor?(): { get?(): unknown } } } | undefined };
  const pool = (engine as unknown as { _implementation?: { contextPool?: Pool } })._implementation?.contextPool;
  const index = pool?.getContextIndexForViewport?.(viewportId);
  const interactor = index === undefined ? undefined : pool?.getContextByIndex?.(index)?.context?.getInteractor?.();
  const model = interactor?.get?.() as InteractorModel | undefined;
  if (!model || typeof model !== 'object' || Object.isFrozen(model) || !('inRender' in model) || !('animationRequest' in model)) return null;
  const known = interactiveSwitches.get(model);
  if (known) return known;
  if (Object.getOwnPropertyDescriptor(model, 'animationRequest')?.configurable === false) return null;
  const sw = { on: false };
  let request: unknown = model.animationRequest ?? null;
  Object.defineProperty(model, 'animationRequest', {
    configurable: true,
    enumerable: true,
    get: () => request ?? (sw.on && model.inRender ? -1 : null),
    set: (v: unknown) => {
      request = v;
    },
  });
  interactiveSwitches.set(model, sw);
  return sw;
}

/** The index's plane of each slice of the volume (all of them have one: decideVolume required it). */
function indexPlanesOf(series: SeriesVolume, ids: ReadonlySet<string>): Map<string, IndexPlane> {
  const out = new Map<string, IndexPlane>();
  for (const i of series.instances) {
    const imageId = volumeImageId(i.id);
    const g = i.geometry;
    if (!ids.has(imageId) || !g.imagePositionPatient || !g.imageOrientationPatient || !g.pixelSpacing || i.rows === null || i.columns === null) continue;
    out.set(imageId, { imagePositionPatient: g.imagePositionPatient, imageOrientationPatient: g.imageOrientationPatient, pixelSpacing: g.pixelSpacing, rows: i.rows, columns: i.columns, sliceThickness: g.sliceThickness });
  }
  return out;
}

const cross = (a: readonly number[], b: readonly number[]): Vec3 => [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
const neg = (a: readonly number[]): Vec3 => [-a[0]!, -a[1]!, -a[2]!];

export class MprSession {
  readonly timing: MprTiming = { startedAt: 0, headersReadMs: null, firstFrameMs: null, firstFrameSlices: null, coarseFrameMs: null, completeMs: null, renders: 0, stages: [] };
  private readonly id = ++sequence;
  private readonly volumeId: string;
  private readonly viewportIds: Record<Plane, string>;
  private engine: RenderingEngine | null = null;
  private tools: MprTools | null = null;
  private volume: Types.IImageVolume | null = null;
  private cancelled = false;
  private framesProcessed = 0;
  private coarseIn = false;
  private readonly pendingReports = new Set<Plane>();
  private reportFrame = 0;
  private slab: { mode: SlabMode | null; thickness: number } = { mode: null, thickness: 10 };
  private primary: PrimaryTool = 'crosshairs';
  private readonly off: (() => void)[] = [];

  private readonly cb: Callbacks;

  constructor(
    private readonly series: SeriesVolume,
    private readonly elements: Record<Plane, HTMLDivElement>,
    callbacks: Callbacks,
  ) {
    this.cb = {
      onPane: callbacks.onPane,
      onProgress: (p) => {
        if (this.timing.stages[this.timing.stages.length - 1] !== p.stage) this.timing.stages.push(p.stage);
        callbacks.onProgress(p);
      },
    };
    this.volumeId = `cornerstoneStreamingImageVolume:medimg-mpr-${series.seriesId}-${this.id}`;
    this.viewportIds = { axial: `mpr-axial-${this.id}`, sagittal: `mpr-sagittal-${this.id}`, coronal: `mpr-coronal-${this.id}` };
  }

  async start(): Promise<void> {
    const t0 = performance.now();
    this.timing.startedAt = t0;
    const { imageIds } = this.series;
    const total = imageIds.length;
    if (this.cancelled) return;
    // The three headers the volume is laid out from (Cornerstone3D's loader reads them in createAndCacheVolume).
    this.cb.onProgress({ stage: 'reading', done: 0, total });
    const engine = mprRenderingEngine();
    this.engine = engine;
    for (const p of PLANES) {
      engine.enableElement({
        viewportId: this.viewportIds[p],
        type: Enums.ViewportType.ORTHOGRAPHIC,
        element: this.elements[p],
        defaultOptions: { orientation: ORIENTATION[p], background: [0, 0, 0] as Types.Point3 },
      });
    }
    exposeTestHook(this);

    // A slice's file is parsed to decode it; once its pixels are in the volume only its header's
    // modules are kept (the file's bytes would otherwise stay with the loader: a second copy of the volume).
    const ids = new Set(imageIds);
    const onLoaded = (e: Event) => {
      const image = (e as CustomEvent<{ image: { imageId: string } }>).detail.image;
      if (ids.has(image.imageId)) releaseParsedFile(image.imageId, image);
    };
    eventTarget.addEventListener(Enums.Events.IMAGE_LOADED, onLoaded);
    this.off.push(() => eventTarget.removeEventListener(Enums.Events.IMAGE_LOADED, onLoaded));
    // Where each slice lies, from the index, until its file is read (see provideIndexPlanes).
    this.off.push(provideIndexPlanes(indexPlanesOf(this.series, ids)));
    utilities.imageRetrieveMetadataProvider.add(this.volumeId, { stages: STREAM_STAGES });
    this.off.push(() => utilities.imageRetrieveMetadataProvider.add(this.volumeId, undefined));
    const volume = await volumeLoader.createAndCacheVolume(this.volumeId, { imageIds });
    if (this.cancelled) return;
    this.volume = volume;
    if (this.series.modality === 'CT') halfFloatTexture(volume);
    this.timing.headersReadMs = performance.now() - t0;
    // Cornerstone3D draws every viewport of a streaming volume again after each 2 % of its slices:
    // under a software rasteriser each draw of a plane costs a readback of its canvas (≈ 0.1–0.3 s
    // here), so the load spent most of its time drawing ~50 intermediate frames × 3 planes. The
    // planes are drawn here instead: at once with the first slice, when every 8th slice is in (the
    // whole length, coarsely), then at most every STREAM_REDRAW_MS, and when the volume is complete.
    (volume as unknown as { autoRenderOnLoad: boolean }).autoRenderOnLoad = false;
    const onStage = (e: Event) => {
      if ((e as CustomEvent<{ stageId: string }>).detail.stageId !== STREAM_STAGES[0]!.id) return;
      this.coarseIn = true;
      this.drawStreaming(true);
    };
    eventTarget.addEventListener(Enums.Events.IMAGE_RETRIEVAL_STAGE, onStage);
    this.off.push(() => eventTarget.removeEventListener(Enums.Events.IMAGE_RETRIEVAL_STAGE, onStage));
    const onModified = (e: Event) => {
      const d = (e as CustomEvent<{ volumeId: string; framesProcessed: number }>).detail;
      if (d.volumeId !== this.volumeId) return;
      this.framesProcessed = d.framesProcessed;
      if (d.framesProcessed >= total) {
        this.timing.completeMs ??= performance.now() - t0;
        this.streaming = false;
        this.updateInteractive();
        this.cb.onProgress({ stage: 'complete', total });
        this.drawStreaming(true);
        this.releaseDecodeWorkers();
      } else {
        if (d.framesProcessed % Math.max(1, Math.floor(total / 50)) === 0) this.cb.onProgress({ stage: 'streaming', done: d.framesProcessed, total });
        this.drawStreaming(this.timing.firstFrameMs === null);
      }
    };
    eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onModified);
    this.off.push(() => eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onModified));
    // Every slice processed, the last one possibly unreadable (an error counts as processed but is
    // no IMAGE_VOLUME_MODIFIED): the planes are drawn at full resolution from now on in any case.
    const onAllProcessed = (e: Event) => {
      if ((e as CustomEvent<{ volumeId: string }>).detail.volumeId !== this.volumeId || !this.streaming) return;
      this.streaming = false;
      this.updateInteractive();
      this.drawStreaming(true);
      this.releaseDecodeWorkers();
    };
    eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_LOADING_COMPLETED, onAllProcessed);
    this.off.push(() => eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_LOADING_COMPLETED, onAllProcessed));
    this.cb.onProgress({ stage: 'streaming', done: 0, total });

    for (const p of PLANES) this.listen(p);
    (volume as Types.IImageVolume & { load(cb?: () => void): void }).load();
    await setVolumesForViewports(engine, [{ volumeId: this.volumeId }], Object.values(this.viewportIds));
    if (this.cancelled) return;
    this.interactive = this.setUpInteractiveRendering(engine);
    this.streaming = this.framesProcessed < total;
    this.updateInteractive();
    this.tools = createMprTools({ toolGroupId: `medimg-mpr-tools-${this.id}`, voiSyncId: `medimg-mpr-voi-${this.id}`, renderingEngineId: engine.id, viewportIds: this.viewportIds });
    this.tools.setPrimary(this.primary);
    // The tools read each plane's view reference many times per frame (see dragRendering).
    for (const p of PLANES) {
      const vp = this.viewport(p);
      if (vp) this.off.push(cacheViewReference(vp));
    }
    if (this.series.modality === 'CT') this.setWindow(40, 400, false);
    this.applySlab();
    engine.renderViewports(Object.values(this.viewportIds));
  }

  private interactive: { on: boolean } | null = null;

  private pointerDown = false;
  private streaming = true;

  /** The planes' shared offscreen canvas at 1/3 of its width and height while a button is held (software GL; see dragRendering). */
  private heldCanvas: ReducedCanvas | null = null;
  /** Nearest-voxel sampling while the canvas is reduced (see dragRendering). */
  private readonly heldSampling = nearestSampling(() => PLANES.map((p) => this.viewport(p)));

  /**
   * Whether the next draws are at the interactive (reduced) resolution: a button held on a plane
   * (a smaller offscreen canvas when possible, else vtk.js's small viewport), or slices still
   * coming (vtk.js's small viewport).
   */
  private updateInteractive(): void {
    const held = !this.cancelled && this.pointerDown;
    this.heldCanvas?.set(held);
    const canvasReduced = this.heldCanvas?.on ?? false;
    this.heldSampling.set(canvasReduced);
    if (this.interactive) this.interactive.on = !this.cancelled && !canvasReduced && (this.pointerDown || this.streaming);
  }

  /** Reduced-resolution draws while a mouse button is held on a plane or slices are still coming (software GL only, see INTERACTIVE_PIXEL_SCALE). */
  private setUpInteractiveRendering(engine: RenderingEngine): { on: boolean } | null {
    if (!webGlIsSoftware()) return null;
    const sw = interactiveSwitch(engine, this.viewportIds.axial);
    if (!sw) return null;
    this.heldCanvas = reducedCanvas(engine, Object.values(this.viewportIds), Math.sqrt(INTERACTIVE_PIXEL_SCALE));
    for (const p of PLANES) {
      const mapper = this.viewport(p)?.getDefaultActor()?.actor.getMapper() as { setInitialInteractionScale?(s: number): boolean } | undefined;
      // Read by vtk.js once, at the mapper's first draw (still to come).
      mapper?.setInitialInteractionScale?.(INTERACTIVE_PIXEL_SCALE);
    }
    const down = () => {
      this.pointerDown = true;
      this.updateInteractive();
    };
    const up = () => {
      if (!this.pointerDown) return;
      this.pointerDown = false;
      this.updateInteractive();
      if (!sw.on) this.engine?.renderViewports(Object.values(this.viewportIds));
    };
    for (const p of PLANES) {
      this.elements[p].addEventListener('mousedown', down);
      this.off.push(() => this.elements[p].removeEventListener('mousedown', down));
    }
    window.addEventListener('mouseup', up, true);
    window.addEventListener('blur', up);
    this.off.push(() => {
      window.removeEventListener('mouseup', up, true);
      window.removeEventListener('blur', up);
      sw.on = false;
      this.heldCanvas?.set(false);
      this.heldSampling.set(false);
    });
    return sw;
  }

  private workerRelease: ReturnType<typeof setTimeout> | null = null;

  /**
   * Every slice is in: the decode workers' leftovers (the files' buffers their heaps have not
   * collected yet) are freed by ending the idle workers (releaseIdleDecodeWorkers). A worker still
   * decoding for the stack view is left alone, and tried once more a few seconds later.
   */
  private releaseDecodeWorkers(): void {
    releaseIdleDecodeWorkers();
    this.workerRelease ??= setTimeout(() => {
      this.workerRelease = null;
      if (!this.cancelled) releaseIdleDecodeWorkers();
    }, 3000);
  }

  private lastStreamDraw = 0;
  private streamDrawTimer: ReturnType<typeof setTimeout> | null = null;

  /** Slices whose decoded copy was dropped once their pixels were in the texture. */
  private readonly releasedSlices = new Set<number>();

  /**
   * Once a slice's pixels are in the volume's texture, its decoded copy in the image cache is
   * dropped: the volume is then held once (in the texture; under software GL that is the GPU
   * process's memory), not twice. A slice is released only when it is in at full quality and its
   * frame was uploaded (the texture marks it done, and re-marks every frame on a full update, so a
   * frame waiting for upload is never released). The MPR reads no voxel values on the CPU beyond
   * the two slices kept (its tools are crosshairs, window, pan, zoom, scroll); the stack view
   * decodes a released slice again from its file when it shows it.
   */
  private releaseUploadedSlices(): void {
    const volume = this.volume as (Types.IImageVolume & { cachedFrames?: number[] }) | null;
    const tex = (volume as unknown as { vtkOpenGLTexture?: { getUpdatedFrames?(): (boolean | null | undefined)[] } } | null)?.vtkOpenGLTexture;
    const uploaded = tex?.getUpdatedFrames?.();
    if (!volume || !uploaded || !volume.cachedFrames) return;
    const ids = volume.imageIds;
    // Kept: the first slice (Cornerstone3D's volume voxel manager takes its array type from it)
    // and the middle one (the window/level drag scales its speed by that slice's range).
    const keep = new Set([0, Math.floor(ids.length / 2)]);
    for (let i = 0; i < ids.length; i++) {
      if (keep.has(i) || this.releasedSlices.has(i) || uploaded[i] !== null || volume.cachedFrames[i] !== Enums.ImageQualityStatus.FULL_RESOLUTION) continue;
      const id = ids[i]!;
      const image = cache.getImage(id) as { imageQualityStatus?: number } | undefined;
      if (!image || (image.imageQualityStatus ?? Enums.ImageQualityStatus.FULL_RESOLUTION) < Enums.ImageQualityStatus.FULL_RESOLUTION) continue;
      try {
        cache.removeImageLoadObject(id, { force: true });
        this.releasedSlices.add(i);
      } catch {
        /* not cached */
      }
    }
  }

  /** Draws the three planes while the volume streams in: now, or once the redraw interval has passed. */
  private drawStreaming(now: boolean): void {
    const draw = () => {
      this.streamDrawTimer = null;
      this.lastStreamDraw = performance.now();
      this.engine?.renderViewports(Object.values(this.viewportIds));
    };
    if (now) {
      if (this.streamDrawTimer) clearTimeout(this.streamDrawTimer);
      draw();
      return;
    }
    if (this.streamDrawTimer) return;
    this.streamDrawTimer = setTimeout(draw, Math.max(0, this.lastStreamDraw + STREAM_REDRAW_MS - performance.now()));
  }

  private viewport(p: Plane): Types.IVolumeViewport | null {
    return (this.engine?.getViewport(this.viewportIds[p]) as Types.IVolumeViewport | undefined) ?? null;
  }

  private listen(p: Plane): void {
    const el = this.elements[p];
    const update = () => this.reportNextFrame(p);
    const onRendered = () => {
      this.timing.renders++;
      this.releaseUploadedSlices();
      if (this.timing.firstFrameMs === null && this.framesProcessed > 0) {
        this.timing.firstFrameMs = performance.now() - this.timing.startedAt;
        this.timing.firstFrameSlices = this.framesProcessed;
      }
      if (this.timing.coarseFrameMs === null && this.coarseIn) this.timing.coarseFrameMs = performance.now() - this.timing.startedAt;
    };
    el.addEventListener(Enums.Events.CAMERA_MODIFIED, update);
    el.addEventListener(Enums.Events.VOI_MODIFIED, update);
    el.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
    this.off.push(() => {
      el.removeEventListener(Enums.Events.CAMERA_MODIFIED, update);
      el.removeEventListener(Enums.Events.VOI_MODIFIED, update);
      el.removeEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
    });
  }

  /**
   * A drag changes the cameras on every mouse move: the overlays (position, markers, window) are
   * worked out and handed to React once per animation frame, not per event and plane.
   */
  private reportNextFrame(p: Plane): void {
    this.pendingReports.add(p);
    if (this.reportFrame) return;
    this.reportFrame = requestAnimationFrame(() => {
      this.reportFrame = 0;
      const planes = [...this.pendingReports];
      this.pendingReports.clear();
      for (const q of planes) this.report(q);
    });
  }

  private report(p: Plane): void {
    const vp = this.viewport(p);
    if (!vp) return;
    const cam = vp.getCamera();
    const up = cam.viewUp as Vec3;
    const normal = cam.viewPlaneNormal as Vec3;
    const right = cross(up, normal);
    const markers: EdgeMarkers = { top: directionLetters(up), bottom: directionLetters(neg(up)), right: directionLetters(right), left: directionLetters(neg(right)) };
    const voi = (vp.getProperties() as { voiRange?: { lower: number; upper: number } } | undefined)?.voiRange ?? { lower: 0, upper: 0 };
    const axis = DEFAULT_NORMAL[p].findIndex((c) => c !== 0);
    const oblique = Math.abs(normal[axis]!) < 0.9995;
    const v = cam.focalPoint![axis]!;
    const [posWord, negWord] = axis === 0 ? ['L', 'R'] : axis === 1 ? ['P', 'A'] : ['H', 'F'];
    const positionLabel = `${v >= 0 ? posWord : negWord} ${Math.abs(v).toFixed(1)} mm`;
    this.cb.onPane(p, {
      markers,
      positionLabel,
      ww: voi.upper - voi.lower,
      wc: (voi.upper + voi.lower) / 2,
      slab: this.slab.mode ? `${SLAB_WORD[this.slab.mode]} ${this.slab.thickness} mm` : null,
      oblique,
    });
  }

  resize(): void {
    if (!this.engine) return;
    this.engine.resize(true, true);
  }

  setPrimaryTool(tool: PrimaryTool): void {
    this.primary = tool;
    this.tools?.setPrimary(tool);
  }

  /** One window on all three planes (the synchroniser would follow a drag; a preset is set on each). */
  setWindow(center: number, width: number, render = true): void {
    for (const p of PLANES) this.viewport(p)?.setProperties({ voiRange: { lower: center - width / 2, upper: center + width / 2 } });
    if (render) this.engine?.renderViewports(Object.values(this.viewportIds));
    for (const p of PLANES) this.report(p);
  }

  setSlab(mode: SlabMode | null, thicknessMm: number): void {
    this.slab = { mode, thickness: thicknessMm };
    this.applySlab();
    this.engine?.renderViewports(Object.values(this.viewportIds));
  }

  private applySlab(): void {
    if (!this.volume) return;
    for (const p of PLANES) {
      const vp = this.viewport(p);
      if (!vp) continue;
      if (this.slab.mode) {
        vp.setBlendMode(BLEND[this.slab.mode]);
        // Cornerstone3D puts its two clipping planes at ± slabThickness from the plane, so its value
        // is half the slab (measured: a 40 mm MinIP matched an 80 mm slab computed from the files).
        vp.setSlabThickness(this.slab.thickness / 2);
      } else {
        vp.setBlendMode(Enums.BlendModes.COMPOSITE);
        vp.resetSlabThickness();
      }
      this.report(p);
    }
  }

  destroy(): void {
    this.cancelled = true;
    if (this.reportFrame) cancelAnimationFrame(this.reportFrame);
    if (this.streamDrawTimer) clearTimeout(this.streamDrawTimer);
    if (this.workerRelease) clearTimeout(this.workerRelease);
    for (const f of this.off.splice(0)) f();
    try {
      (this.volume as { cancelLoading?: () => void } | null)?.cancelLoading?.();
    } catch {
      /* not loading */
    }
    this.tools?.destroy();
    for (const id of Object.values(this.viewportIds)) {
      try {
        this.engine?.disableElement(id);
      } catch {
        /* never enabled */
      }
    }
    // The engine is kept for the next MPR; its pane-sized canvas need not be (see shrinkIdleContexts).
    if (this.engine) shrinkIdleContexts(this.engine);
    this.engine = null;
    removeVolume(this.volumeId);
    if (window.medimgMpr?.session === this) delete window.medimgMpr;
  }

  // ---- read by the test hook and the benchmark ----

  planes(): Record<Plane, { focalPoint: number[]; normal: number[]; viewUp: number[]; voi: { lower: number; upper: number } | null; slabMm: number; blendMode: number }> {
    const out = {} as ReturnType<MprSession['planes']>;
    for (const p of PLANES) {
      const vp = this.viewport(p)!;
      const cam = vp.getCamera();
      out[p] = {
        focalPoint: [...cam.focalPoint!],
        normal: [...cam.viewPlaneNormal!],
        viewUp: [...cam.viewUp!],
        voi: (vp.getProperties() as { voiRange?: { lower: number; upper: number } } | undefined)?.voiRange ?? null,
        // The whole slab, plane ± Cornerstone3D's slabThickness.
        slabMm: 2 * vp.getSlabThickness(),
        blendMode: vp.getBlendMode(),
      };
    }
    return out;
  }

  canvasToWorld(p: Plane, xy: [number, number]): number[] {
    return [...this.viewport(p)!.canvasToWorld(xy as Types.Point2)];
  }

  worldToCanvas(p: Plane, world: [number, number, number]): number[] {
    return [...this.viewport(p)!.worldToCanvas(world as Types.Point3)];
  }

  /** Renders the three planes and resolves after the frame is on the canvases. */
  async settle(): Promise<void> {
    this.engine?.renderViewports(Object.values(this.viewportIds));
    for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r));
  }

  /**
   * The rendered frame of a plane on an n × n grid of canvas points: each point's world position
   * and the grey level drawn there (the red channel of the viewport's 2D canvas).
   */
  sample(p: Plane, n: number): { world: number[]; grey: number; canvas: [number, number] }[] {
    const vp = this.viewport(p)!;
    const canvas = vp.canvas;
    const dpr = canvas.width / Math.max(1, canvas.clientWidth);
    const ctx = canvas.getContext('2d')!;
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    const out: { world: number[]; grey: number; canvas: [number, number] }[] = [];
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const xy: [number, number] = [((i + 0.5) * w) / n, ((j + 0.5) * h) / n];
        const px = Math.min(canvas.width - 1, Math.floor(xy[0] * dpr));
        const py = Math.min(canvas.height - 1, Math.floor(xy[1] * dpr));
        out.push({ world: [...vp.canvasToWorld(xy as Types.Point2)], grey: img.data[(py * canvas.width + px) * 4]!, canvas: xy });
      }
    }
    return out;
  }

  /** How many of the volume's slices still have a decoded copy in the image cache (see releaseUploadedSlices). */
  decodedSlicesHeld(): number {
    return this.series.imageIds.filter((id) => cache.getImage(id) !== undefined).length;
  }

  /** The volume texture's internal format as GL names it (e.g. 'R16F', 'R32F'), once it is built. */
  textureFormat(): string | null {
    const tex = (this.volume as unknown as { vtkOpenGLTexture?: VtkTexture } | null)?.vtkOpenGLTexture;
    const format = tex?.get('internalFormat').internalFormat as number | undefined;
    if (!format) return null;
    const names: Record<number, string> = { 0x822d: 'R16F', 0x822e: 'R32F', 0x8f98: 'R16_SNORM', 0x822a: 'R16', 0x8229: 'R8' };
    return names[format] ?? `0x${format.toString(16)}`;
  }

  /** True while the planes are drawn at the interactive (reduced) resolution. */
  get interacting(): boolean {
    return (this.heldCanvas?.on ?? false) || (this.interactive?.on ?? false);
  }

  get progress(): { framesProcessed: number; total: number } {
    return { framesProcessed: this.framesProcessed, total: this.series.imageIds.length };
  }
}

/** Read-only handle for the e2e specs and the benchmark (no patient data beyond what is on screen). */
export interface MprTestHook {
  session: MprSession;
  timing(): MprTiming;
  progress(): { framesProcessed: number; total: number };
  planes(): ReturnType<MprSession['planes']>;
  canvasToWorld(p: Plane, xy: [number, number]): number[];
  worldToCanvas(p: Plane, world: [number, number, number]): number[];
  settle(): Promise<void>;
  sample(p: Plane, n: number): ReturnType<MprSession['sample']>;
  /** The volume texture's internal format ('R16F' for a 16-bit CT, else 'R32F'). */
  textureFormat(): string | null;
  /** Slices of the volume whose decoded copy is still in the image cache. */
  decodedSlicesHeld(): number;
  /** The image loader's decode workers running now, and how many were ended (the ones that loaded a volume, once it is complete; one fresh one is started instead). */
  decodeWorkers(): { running: number; ended: number };
  /** Whether the MPR engine's initialised WebGL contexts are multisampled (see glContexts). */
  contextsAntialiased(): boolean[];
  /** [width, height] of each offscreen WebGL canvas of the MPR engine / of the stack engine (see shrinkIdleContexts). */
  canvasSizes(): { mpr: [number, number][]; stack: [number, number][] };
}

declare global {
  interface Window {
    medimgMpr?: MprTestHook;
  }
}

function exposeTestHook(s: MprSession): void {
  window.medimgMpr = {
    session: s,
    timing: () => ({ ...s.timing }),
    progress: () => s.progress,
    planes: () => s.planes(),
    canvasToWorld: (p, xy) => s.canvasToWorld(p, xy),
    worldToCanvas: (p, w) => s.worldToCanvas(p, w),
    settle: () => s.settle(),
    sample: (p, n) => s.sample(p, n),
    textureFormat: () => s.textureFormat(),
    decodedSlicesHeld: () => s.decodedSlicesHeld(),
    decodeWorkers: () => decodeWorkers(),
    contextsAntialiased: () => contextAttributes(mprRenderingEngine()).map((a) => a?.antialias ?? true),
    canvasSizes: () => ({ mpr: offscreenCanvasSizes(mprRenderingEngine()), stack: offscreenCanvasSizes(getRenderingEngine()) }),
  };
}
