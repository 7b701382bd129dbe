/**
 * The measurements on an image: Cornerstone3D's annotation state (world coordinates) read and
 * written in the stored format of the legacy viewer (image-pixel handles, cornerstone-tools' field
 * names), so measurements saved before the migration load unchanged and new ones are stored the
 * same way. The conversion image ↔ world is src/renderer/viewer/stackViewport.ts.
 */
import { annotation as csAnnotation, type Types as ToolTypes } from '@cornerstonejs/tools';
import type { StackViewport, Types } from '@cornerstonejs/core';
import type { ToolName } from '../../shared/viewer/shortcuts';
import type { MeasurementView } from './types';
import { lineHandles, measureAnnotation } from './measureTools';
import { statsOf as measuredStats } from '../../shared/viewer/measure';
import { ANNOTATION_TOOLS, CS_TOOL, TOOL_OF_CS } from './tools';
import { imageToWorld, worldToImage } from './stackViewport';

type Annotation = ToolTypes.Annotation;

export interface SavedMeasurement {
  uuid: string;
  tool: ToolName;
  frame: number;
  data: Record<string, unknown>;
  /** For a length / angle: the one value (src/shared/viewer/measure.ts) as stored. */
  stats?: Record<string, number | string>;
}

type Pt = { x: number; y: number };

/** An annotation in the legacy format: handles in image pixels, statistics under cachedStats. */
interface ToolData {
  uuid?: string;
  cachedStats?: Record<string, number | undefined>;
  handles?: { start?: Pt; middle?: Pt; end?: Pt; textBox?: unknown };
  [k: string]: unknown;
}

interface CsData {
  uuid?: string;
  __draft?: boolean;
  /** The statistics as stored, for a restored ROI / probe the tool has not recomputed yet. */
  __stored?: Record<string, number | undefined>;
  handles: { points: Types.Point3[]; textBox?: unknown; activeHandleIndex?: number | null };
  cachedStats?: Record<string, Record<string, unknown>>;
}

function annotationsOf(imageId: string): Annotation[] {
  const all = csAnnotation.state.getAllAnnotations() as Annotation[];
  return all.filter((a) => a.metadata?.referencedImageId === imageId && TOOL_OF_CS[a.metadata.toolName] && ANNOTATION_TOOLS.includes(TOOL_OF_CS[a.metadata.toolName]!));
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** One annotation in the legacy format, or null when its points cannot be converted yet. */
function toLegacy(tool: ToolName, a: Annotation, imageId: string): ToolData | null {
  const d = a.data as unknown as CsData;
  const pts = d.handles?.points ?? [];
  const img = pts.map((p) => worldToImage(imageId, p));
  if (img.some((p) => !p)) return null;
  const P = img as Pt[];
  const stats = Object.values(d.cachedStats ?? {})[0] ?? {};
  const stored = d.__stored ?? {};
  switch (tool) {
    case 'Length':
      return { uuid: d.uuid, handles: lineHandles('length', pts, imageId) ?? undefined };
    case 'Angle':
      return { uuid: d.uuid, handles: lineHandles('angle', pts, imageId) ?? undefined };
    case 'RectangleRoi':
    case 'EllipticalRoi': {
      const xs = P.map((p) => p.x);
      const ys = P.map((p) => p.y);
      const has = num(stats.mean) !== undefined;
      return {
        uuid: d.uuid,
        handles: { start: { x: Math.min(...xs), y: Math.min(...ys) }, end: { x: Math.max(...xs), y: Math.max(...ys) } },
        cachedStats: has ? { mean: num(stats.mean), stdDev: num(stats.stdDev), min: num(stats.min), max: num(stats.max), area: num(stats.area) } : stored,
      };
    }
    case 'Probe': {
      const p = P[0];
      if (!p) return null;
      const v = num(stats.value);
      return { uuid: d.uuid, handles: { end: p }, cachedStats: v !== undefined ? { x: Math.floor(p.x), y: Math.floor(p.y), mo: v } : stored };
    }
    default:
      return null;
  }
}

export function readAnnotations(imageId: string): { tool: ToolName; data: ToolData; annotation: Annotation }[] {
  const out: { tool: ToolName; data: ToolData; annotation: Annotation }[] = [];
  for (const a of annotationsOf(imageId)) {
    const tool = TOOL_OF_CS[a.metadata!.toolName]!;
    if ((a.data as unknown as CsData).__draft) continue;
    const data = toLegacy(tool, a, imageId);
    if (data) out.push({ tool, data, annotation: a });
  }
  return out;
}

/**
 * The finished annotations of an image: not a draft (still being drawn), and for a length / angle
 * one whose handles give a value (an incomplete measurement is discarded, never shown or stored).
 */
export function finished(imageId: string): { tool: ToolName; data: ToolData }[] {
  return readAnnotations(imageId).filter(({ tool, data }) => !(tool === 'Length' || tool === 'Angle') || measureAnnotation(tool, data, imageId) !== null);
}

/** Serialisable copy of the finished annotations on an image, in the stored (legacy) format. */
export function snapshot(imageId: string, frame: number): SavedMeasurement[] {
  return finished(imageId).map(({ tool, data }) => {
    const uuid = String(data.uuid ?? crypto.randomUUID());
    const { uuid: _u, ...rest } = data;
    const r = measureAnnotation(tool, data, imageId);
    return { uuid, tool, frame, data: JSON.parse(JSON.stringify(rest)) as Record<string, unknown>, ...(r ? { stats: measuredStats(r) } : {}) };
  });
}

/** Saved annotations waiting for their image to be displayed (the conversion needs its geometry). */
const pending = new Map<string, SavedMeasurement[]>();

/** Puts saved annotations back on an image (replacing what is there): now if it was displayed, else when it is. */
export function restore(imageId: string, saved: SavedMeasurement[]): void {
  pending.set(imageId, saved);
}

/** Called when `vp` displays `imageId`: adds the annotations restored for it. */
export function applyPending(vp: StackViewport, imageId: string): boolean {
  const saved = pending.get(imageId);
  if (!saved) return false;
  pending.delete(imageId);
  for (const a of annotationsOf(imageId)) csAnnotation.state.removeAnnotation(a.annotationUID!);
  const cam = vp.getCamera();
  const frameOfReferenceUID = vp.getFrameOfReferenceUID();
  for (const m of saved) {
    const a = fromLegacy(m, imageId, cam, frameOfReferenceUID);
    if (a) csAnnotation.state.addAnnotation(a, vp.element);
  }
  return true;
}

function fromLegacy(m: SavedMeasurement, imageId: string, cam: Types.ICamera, frameOfReferenceUID: string): Annotation | null {
  if (!ANNOTATION_TOOLS.includes(m.tool)) return null;
  const h = (m.data.handles ?? {}) as { start?: Pt; middle?: Pt; end?: Pt };
  const w = (p: Pt | undefined) => (p && Number.isFinite(p.x) && Number.isFinite(p.y) ? imageToWorld(imageId, p) : null);
  let pts: (Types.Point3 | null)[];
  switch (m.tool) {
    case 'Length':
      pts = [w(h.start), w(h.end)];
      break;
    case 'Angle':
      pts = [w(h.start), w(h.middle), w(h.end)];
      break;
    case 'RectangleRoi': {
      if (!h.start || !h.end) return null;
      const [x0, x1] = [Math.min(h.start.x, h.end.x), Math.max(h.start.x, h.end.x)];
      const [y0, y1] = [Math.min(h.start.y, h.end.y), Math.max(h.start.y, h.end.y)];
      pts = [w({ x: x0, y: y0 }), w({ x: x1, y: y0 }), w({ x: x0, y: y1 }), w({ x: x1, y: y1 })];
      break;
    }
    case 'EllipticalRoi': {
      if (!h.start || !h.end) return null;
      const [x0, x1] = [Math.min(h.start.x, h.end.x), Math.max(h.start.x, h.end.x)];
      const [y0, y1] = [Math.min(h.start.y, h.end.y), Math.max(h.start.y, h.end.y)];
      const cx = (x0 + x1) / 2;
      const cy = (y0 + y1) / 2;
      // Cornerstone3D's ellipse: bottom, top, left, right.
      pts = [w({ x: cx, y: y1 }), w({ x: cx, y: y0 }), w({ x: x0, y: cy }), w({ x: x1, y: cy })];
      break;
    }
    case 'Probe':
      pts = [w(h.end)];
      break;
    default:
      return null;
  }
  if (pts.some((p) => !p)) return null;
  const stored = (m.data.cachedStats ?? {}) as Record<string, number | undefined>;
  return {
    annotationUID: m.uuid,
    highlighted: false,
    invalidated: true,
    isLocked: false,
    isVisible: true,
    metadata: {
      toolName: CS_TOOL[m.tool],
      referencedImageId: imageId,
      FrameOfReferenceUID: frameOfReferenceUID,
      viewPlaneNormal: [...(cam.viewPlaneNormal ?? [0, 0, 1])] as Types.Point3,
      viewUp: [...(cam.viewUp ?? [0, -1, 0])] as Types.Point3,
    },
    data: {
      uuid: m.uuid,
      __stored: stored,
      label: '',
      handles: { points: pts as Types.Point3[], activeHandleIndex: null, textBox: { hasMoved: false, worldPosition: [0, 0, 0], worldBoundingBox: { topLeft: [0, 0, 0], topRight: [0, 0, 0], bottomLeft: [0, 0, 0], bottomRight: [0, 0, 0] } } },
      cachedStats: {},
    },
  } as unknown as Annotation;
}

export function removeAnnotation(imageId: string, uuid: string): boolean {
  const a = annotationsOf(imageId).find((x) => (x.data as unknown as CsData).uuid === uuid || x.annotationUID === uuid);
  if (!a) return false;
  csAnnotation.state.removeAnnotation(a.annotationUID!);
  return true;
}

const NAMES: Record<string, string> = { Length: 'Length', Angle: 'Angle', RectangleRoi: 'Rectangle', EllipticalRoi: 'Ellipse', Probe: 'Probe' };

function fmt(n: number | undefined, digits = 1): string {
  return n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
}

/** One line per measurement, in the modality's units (HU for CT); a length / angle is the one value of measure(). */
export function describe(tool: ToolName, data: ToolData, unit: string, hasSpacing: boolean, imageId?: string): string {
  const s = data.cachedStats ?? {};
  const u = unit ? ` ${unit}` : '';
  switch (tool) {
    case 'Length':
    case 'Angle':
      return measureAnnotation(tool, data, imageId)?.label ?? `${NAMES[tool]} –`;
    case 'RectangleRoi':
    case 'EllipticalRoi': {
      const area = s.area !== undefined ? ` · area ${fmt(s.area)} ${hasSpacing ? 'mm²' : 'px²'}` : '';
      return `${NAMES[tool]} mean ${fmt(s.mean)}${u} · SD ${fmt(s.stdDev)} · min ${fmt(s.min, 0)} · max ${fmt(s.max, 0)}${area}`;
    }
    case 'Probe': {
      const x = data.handles?.end?.x;
      const y = data.handles?.end?.y;
      return `Probe (${fmt(x, 0)}, ${fmt(y, 0)}) = ${fmt(s.mo ?? (s as Record<string, number>).sp, 1)}${u}`;
    }
    default:
      return tool;
  }
}

export function views(imageId: string, instanceId: string, frame: number, unit: string, hasSpacing: boolean): MeasurementView[] {
  return finished(imageId).map(({ tool, data }) => ({
    uuid: String(data.uuid ?? ''),
    tool,
    instanceId,
    frame,
    text: describe(tool, data, unit, hasSpacing, imageId),
  }));
}
