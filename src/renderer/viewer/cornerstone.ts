/**
 * Cornerstone in one place: the libraries are initialised once (tools before any element is
 * enabled, or they ignore the mouse), images load with the wadouri scheme from the renderer's
 * own origin, and every load has a timeout, because a decode worker that cannot start makes
 * loadAndCacheImage wait forever.
 */
import cornerstone from 'cornerstone-core';
import cornerstoneTools from 'cornerstone-tools';
import cornerstoneMath from 'cornerstone-math';
// The loader's dynamic-import build starts its decode worker from a URL (served from the app's own
// origin next to our bundle; see vite.config.ts), not from a blob, so the worker gets its own CSP:
// the JPEG-LS / JPEG 2000 glue needs 'unsafe-eval', and only that worker gets it (src/shared/csp.ts).
import cornerstoneWADOImageLoader from 'cornerstone-wado-image-loader/dist/dynamic-import/cornerstoneWADOImageLoader.min.js';
import dicomParser from 'dicom-parser';
import Hammer from 'hammerjs';
import { rememberMeta } from './meta';
import { describeParserFailure, isLibraryMessage } from '../../shared/parser-messages';
import { decoderFaultSince, watchDecoderFaults } from './decoder-faults';

export { cornerstone, cornerstoneTools, cornerstoneWADOImageLoader, dicomParser };

/** What cornerstone's image objects carry that we read. */
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
  getPixelData(): ArrayLike<number>;
}

export interface CsViewport {
  scale: number;
  translation: { x: number; y: number };
  voi: { windowWidth: number; windowCenter: number };
  invert: boolean;
  rotation: number;
  hflip: boolean;
  vflip: boolean;
}

let ready = false;

export function initCornerstone(): void {
  if (ready) return;
  ready = true;
  watchDecoderFaults();
  cornerstoneTools.external.cornerstone = cornerstone;
  cornerstoneTools.external.cornerstoneMath = cornerstoneMath;
  cornerstoneTools.external.Hammer = Hammer;
  cornerstoneWADOImageLoader.external.cornerstone = cornerstone;
  cornerstoneWADOImageLoader.external.dicomParser = dicomParser;
  const workers = Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1));
  try {
    cornerstoneWADOImageLoader.webWorkerManager.initialize({
      maxWebWorkers: workers,
      // On demand: starting the worker with the app measured 2–4× slower first pixels (bench, 2 cores).
      startWebWorkersOnDemand: true,
      taskConfiguration: { decodeTask: { initializeCodecsOnStartup: false, strict: false } },
    });
  } catch (e) {
    console.warn('decode workers did not start', e);
  }
  // The loader's metadata provider throws on files without a Modality (it calls .includes on it),
  // which leaves the image load pending for ever. Ask it first, inside a try, and answer with an
  // empty module when it throws, so the image still builds (without geometry).
  const wado = cornerstoneWADOImageLoader.wadouri.metaData.metaDataProvider as (type: string, imageId: string) => unknown;
  cornerstone.metaData.addProvider((type: string, imageId: string) => {
    if (!imageId?.startsWith('wadouri:')) return undefined;
    try {
      return wado(type, imageId);
    } catch {
      return type === 'imagePlaneModule' || type === 'generalSeriesModule' || type === 'imagePixelModule' ? {} : undefined;
    }
  }, 10_000);
  cornerstoneTools.init({ showSVGCursors: false, globalToolSyncEnabled: true });
  cornerstoneTools.toolStyle.setToolWidth(1.5);
  cornerstoneTools.toolColors.setToolColor('#f2c14e');
  cornerstoneTools.toolColors.setActiveColor('#7fe3ff');
  cornerstoneTools.textStyle.setFont('13px "DejaVu Sans", Arial, sans-serif');
}

/** The wadouri image id of one frame of an instance served at `dicom/<id>` on our origin. */
export function imageIdFor(instanceId: string | number, frame?: number, frames = 1): string {
  const url = new URL(`dicom/${encodeURIComponent(String(instanceId))}`, location.href).href;
  return frames > 1 ? `wadouri:${url}?frame=${frame ?? 0}` : `wadouri:${url}`;
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
    const image = (await Promise.race([cornerstone.loadAndCacheImage(imageId), timeout])) as CsImage;
    keepMetaAndRelease(imageId, image);
    // A damaged codestream can "decode" to nothing (the JPEG 2000 codec returns a 0×0 image):
    // never hand an empty image to the renderer.
    const expected = image.rows * image.columns;
    if (!(image.width > 0 && image.height > 0 && expected > 0) || image.getPixelData().length < expected) {
      cornerstone.imageCache.removeImageLoadObject(imageId);
      throw new ImageLoadError(
        'This image could not be decoded: the decoder produced no pixels (the compressed data is damaged).',
        'Re-export the image from its source.',
      );
    }
    return image;
  } catch (e) {
    if (!(e instanceof ImageLoadError)) console.warn('image load failed', imageId, e instanceof Error ? e.message : safeJson(e));
    throw describeLoadError(e);
  } finally {
    clearTimeout(timer);
  }
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
 * Takes what the viewer shows from the header, then lets the loader forget its parsed copy of a
 * single-frame file (the decoded pixels stay in cornerstone's image cache). Multi-frame files keep
 * their data set: the other frames are decoded from it.
 */
function keepMetaAndRelease(imageId: string, image: CsImage): void {
  const ds = dataSetOf(imageId);
  rememberMeta(imageId, ds);
  if (ds && !/[?&]frame=\d+$/.test(imageId)) {
    try {
      cornerstoneWADOImageLoader.wadouri.dataSetCacheManager.unload(urlOf(imageId));
    } catch {
      /* not cached */
    }
    // The loader also hangs the parsed data set (and so the whole file's bytes) on the image
    // itself; the cache would then hold every file twice (file bytes + decoded pixels).
    (image as CsImage & { data?: unknown }).data = undefined;
  }
}

function urlOf(imageId: string): string {
  return imageId.replace(/^wadouri:/, '').replace(/[?&]frame=\d+$/, '');
}

/** The parsed DICOM data set of a loaded wadouri image (kept by the loader's cache). */
export function dataSetOf(imageId: string): DicomDataSet | undefined {
  try {
    return cornerstoneWADOImageLoader.wadouri.dataSetCacheManager.get(urlOf(imageId)) as DicomDataSet | undefined;
  } catch {
    return undefined;
  }
}

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
