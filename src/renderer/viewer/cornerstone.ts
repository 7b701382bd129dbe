/**
 * Cornerstone in one place: the libraries are initialised once (tools before any element is
 * enabled, or they ignore the mouse), images load with the wadouri scheme from the renderer's
 * own origin, and every load has a timeout, because a decode worker that cannot start makes
 * loadAndCacheImage wait forever.
 */
import cornerstone from 'cornerstone-core';
import cornerstoneTools from 'cornerstone-tools';
import cornerstoneMath from 'cornerstone-math';
import cornerstoneWADOImageLoader from 'cornerstone-wado-image-loader';
import dicomParser from 'dicom-parser';
import Hammer from 'hammerjs';

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
  cornerstoneTools.external.cornerstone = cornerstone;
  cornerstoneTools.external.cornerstoneMath = cornerstoneMath;
  cornerstoneTools.external.Hammer = Hammer;
  cornerstoneWADOImageLoader.external.cornerstone = cornerstone;
  cornerstoneWADOImageLoader.external.dicomParser = dicomParser;
  const workers = Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1));
  try {
    cornerstoneWADOImageLoader.webWorkerManager.initialize({
      maxWebWorkers: workers,
      startWebWorkersOnDemand: true,
      taskConfiguration: { decodeTask: { initializeCodecsOnStartup: false, strict: false } },
    });
  } catch (e) {
    console.warn('decode workers did not start', e);
  }
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
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ImageLoadError(`The image did not decode within ${Math.round(timeoutMs / 1000)} s.`, 'The decoder may have failed to start; try reopening the series.')),
      timeoutMs,
    );
  });
  try {
    return (await Promise.race([cornerstone.loadAndCacheImage(imageId), timeout])) as CsImage;
  } catch (e) {
    throw describeLoadError(e);
  } finally {
    clearTimeout(timer);
  }
}

/** Turns whatever the loader rejected with into a message a reader can act on. */
export function describeLoadError(e: unknown): ImageLoadError {
  if (e instanceof ImageLoadError) return e;
  const any = e as { error?: unknown; message?: string; request?: { status?: number } } | string | undefined;
  let text = '';
  if (typeof any === 'string') text = any;
  else if (any && typeof any === 'object') {
    if (any.request?.status && any.request.status >= 400) {
      return new ImageLoadError(`The image file could not be read (HTTP ${any.request.status}).`, 'The file may have been moved or deleted since import; re-import it.');
    }
    const inner = any.error as { message?: string } | string | undefined;
    text = typeof inner === 'string' ? inner : (inner?.message ?? any.message ?? '');
  }
  if (/transfer syntax|no decoder|unsupported/i.test(text)) {
    return new ImageLoadError(`This image uses a compression this viewer cannot decode (${text}).`, 'Convert it to an uncompressed transfer syntax, e.g. with dcmdjpeg or dcmconv.');
  }
  if (/eval|Content Security Policy|CSP/i.test(text)) {
    return new ImageLoadError('The image codec was blocked by the security policy.', 'This compression needs a decoder the app does not allow; convert the file to an uncompressed transfer syntax.');
  }
  if (/buffer overread|truncat|beyond|out of range|offset/i.test(text)) {
    return new ImageLoadError(`The file is truncated or damaged: ${text}.`, 'Re-export the image from its source.');
  }
  return new ImageLoadError(`This image could not be decoded${text ? `: ${text}` : '.'}`, 'The file may be damaged or not an image (e.g. a report or a plan).');
}

/** The parsed DICOM data set of a loaded wadouri image (kept by the loader's cache). */
export function dataSetOf(imageId: string): DicomDataSet | undefined {
  try {
    const url = imageId.replace(/^wadouri:/, '').replace(/[?&]frame=\d+$/, '');
    return cornerstoneWADOImageLoader.wadouri.dataSetCacheManager.get(url) as DicomDataSet | undefined;
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
