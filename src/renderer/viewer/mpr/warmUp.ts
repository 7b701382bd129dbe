/**
 * Warms the MPR's renderer while the reader looks at a series that forms a volume: the first MPR
 * after the app started spent ≈ 0.3–0.6 s on what every later one reuses — the MPR rendering
 * engine and its WebGL contexts, vtk.js's volume shader program (its source hashed, compiled and
 * linked; under software GL the driver's own compile too) and the first run of the volume code.
 * Here a tiny volume (8³ voxels, a 16-bit CT like the reader's, half-float texture as the session
 * builds it, and the sample count per ray of the shown series, which vtk.js writes into the
 * shader) is drawn once in an off-screen 32×32 plane of the MPR's engine, when the browser is
 * idle, and then taken down again: the engine (shared by every MPR, see mprRenderingEngine) keeps
 * its contexts and vtk.js keeps the program in the context's shader cache. Nothing is shown; if
 * anything fails, the first MPR simply does this work itself.
 */
import { cache, Enums, setVolumesForViewports, volumeLoader, type Types } from '@cornerstonejs/core';
import { webGlIsSoftware } from '../cornerstone';
import { halfFloatTexture, INTERACTIVE_PIXEL_SCALE, interactiveSwitch, mprRenderingEngine, removeVolume } from './mprSession';
import { hasWebGL2, initVolume } from './initVolume';

const VIEWPORT_ID = 'medimg-mpr-warm-up';
const VOLUME_ID = 'medimg-mpr-warm-up-volume';
const N = 8;

/** A volume's shape as the index knows it (volumeGeometry's decision). */
export interface VolumeShape {
  rows: number;
  columns: number;
  slices: number;
  /** [row spacing, column spacing, slice spacing], mm. */
  spacing: readonly [number, number, number];
}

/**
 * vtk.js writes the most samples a ray can take into the volume shader's source: the volume's
 * diagonal ÷ the sample distance (Cornerstone3D: the mean spacing ÷ 2 × its multiplier), so each
 * volume shape has its own program. The warm-up's tiny volume is given the sample distance that
 * yields the shown series' count (`multiplier`: Cornerstone3D's sample distance multiplier).
 */
export function maximumSamples(shape: VolumeShape, multiplier: number): number {
  const [rs, cs, zs] = shape.spacing;
  // The bounds vtk.js measures here span dimensions × spacing (measured: 1429 for 512 × 512 × 300 at 0.703 / 0.703 / 1.25 mm).
  const diagonal = Math.hypot(shape.columns * cs, shape.rows * rs, shape.slices * zs);
  return Math.ceil(diagonal / ((multiplier * (rs + cs + zs)) / 6));
}

let chain: Promise<unknown> = Promise.resolve();
let failed = false;
/** Shader variants (maximum samples per ray) drawn once already; null: the plain tiny volume's. */
const warmed = new Set<number | null>();
/** Cornerstone3D's sample distance multiplier, once seen. */
let multiplier: number | null = null;

/** How many warm-up frames were drawn (read by the MPR benchmark: was the renderer warm at the click). */
export function warmUpsDrawn(): number {
  return warmed.size;
}

/**
 * Draws the tiny volume once (queued; a shape whose program is already warm is skipped). Resolves
 * true once drawn, false when skipped, without WebGL 2, or when it failed (then never again).
 */
export function warmUpVolumeRendering(shape?: VolumeShape): Promise<boolean> {
  const next = chain.then(() => (failed ? false : run(shape ?? null)));
  chain = next.catch((e: unknown) => {
    failed = true;
    console.info('MPR warm-up skipped:', e instanceof Error ? e.message : String(e));
  });
  return next.catch(() => false);
}

async function run(shape: VolumeShape | null): Promise<boolean> {
  if (!hasWebGL2()) return false;
  const known = shape ? (multiplier === null ? undefined : maximumSamples(shape, multiplier)) : null;
  if (known !== undefined && warmed.has(known)) return false;
  initVolume();
  const engine = mprRenderingEngine();
  // Not while an MPR (or the benchmark's peer) is on the engine: it has warmed it already.
  if (engine.getViewports().length) return false;
  const el = document.createElement('div');
  el.setAttribute('aria-hidden', 'true');
  el.dataset.testid = 'mpr-warm-up';
  el.style.cssText = 'position:fixed;left:-64px;top:0;width:32px;height:32px;visibility:hidden;pointer-events:none;contain:strict';
  document.body.appendChild(el);
  let enabled = false;
  try {
    engine.enableElement({ viewportId: VIEWPORT_ID, type: Enums.ViewportType.ORTHOGRAPHIC, element: el, defaultOptions: { orientation: Enums.OrientationAxis.AXIAL, background: [0, 0, 0] as Types.Point3 } });
    enabled = true;
    // A soft-tissue-like ramp in HU, so the draw samples real values through the CT window.
    const scalarData = new Int16Array(N * N * N).map((_, i) => (i % 64) * 32 - 1000);
    const volume = volumeLoader.createLocalVolume(VOLUME_ID, {
      scalarData,
      dimensions: [N, N, N],
      spacing: [1, 1, 1],
      origin: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      metadata: {
        Modality: 'CT',
        FrameOfReferenceUID: 'medimg-mpr-warm-up',
        PhotometricInterpretation: 'MONOCHROME2',
        BitsAllocated: 16,
        BitsStored: 16,
        HighBit: 15,
        PixelRepresentation: 1,
        SamplesPerPixel: 1,
        PixelSpacing: [1, 1],
        Rows: N,
        Columns: N,
        voiLut: [{ windowCenter: 40, windowWidth: 400 }],
      } as unknown as Types.Metadata,
    });
    halfFloatTexture(volume);
    await setVolumesForViewports(engine, [{ volumeId: VOLUME_ID }], [VIEWPORT_ID]);
    const vp = engine.getViewport(VIEWPORT_ID) as Types.IVolumeViewport;
    vp.setProperties({ voiRange: { lower: -160, upper: 240 } });
    let variant: number | null = null;
    const mapper = vp.getDefaultActor()?.actor.getMapper() as { getSampleDistance?(): number; setSampleDistance?(d: number): boolean } | undefined;
    if (shape && mapper?.getSampleDistance && mapper.setSampleDistance) {
      // The tiny volume's spacing is 1 mm, so Cornerstone3D gave it 0.5 mm × its multiplier.
      multiplier = mapper.getSampleDistance() / 0.5;
      variant = maximumSamples(shape, multiplier);
      if (warmed.has(variant)) return false;
      mapper.setSampleDistance((N * Math.sqrt(3)) / (variant - 0.5));
    } else if (warmed.has(null)) return false;
    const draw = () => {
      const drawn = new Promise<void>((resolve) => {
        el.addEventListener(Enums.Events.IMAGE_RENDERED, () => resolve(), { once: true });
        setTimeout(resolve, 10_000);
      });
      engine.renderViewports([VIEWPORT_ID]);
      return drawn;
    };
    // Under software GL the session draws while streaming (and dragging) at a reduced resolution
    // into vtk.js's own framebuffer, then scales up: another pipeline for the driver, and a copy
    // program. The first frame is drawn that way, so the warm-up draws once that way too.
    const sw = webGlIsSoftware() ? interactiveSwitch(engine, VIEWPORT_ID) : null;
    if (sw) {
      (mapper as { setInitialInteractionScale?(s: number): boolean } | undefined)?.setInitialInteractionScale?.(INTERACTIVE_PIXEL_SCALE);
      sw.on = true;
      try {
        await draw();
      } finally {
        // The switch is the context's: an MPR started meanwhile sets it for its own draws.
        if (engine.getViewports().every((v) => v.id === VIEWPORT_ID)) sw.on = false;
      }
    }
    await draw();
    warmed.add(variant);
    return true;
  } finally {
    if (enabled) {
      try {
        engine.disableElement(VIEWPORT_ID);
      } catch {
        /* already gone */
      }
    }
    const slices = (cache.getVolume(VOLUME_ID) as { imageIds?: string[] } | undefined)?.imageIds ?? [];
    removeVolume(VOLUME_ID);
    for (const id of slices) {
      try {
        cache.removeImageLoadObject(id, { force: true });
      } catch {
        /* not cached */
      }
    }
    el.remove();
  }
}
