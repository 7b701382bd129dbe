/** Reading and writing cornerstone-tools' annotation state for one image. */
import { cornerstoneTools } from './cornerstone';
import { ANNOTATION_TOOLS } from './tools';
import type { ToolName } from '../../shared/viewer/shortcuts';
import type { MeasurementView } from './types';
import { measureAnnotation } from './measureTools';
import { statsOf as measuredStats } from '../../shared/viewer/measure';

export interface SavedMeasurement {
  uuid: string;
  tool: ToolName;
  frame: number;
  data: Record<string, unknown>;
  /** For a length / angle: the one value (src/shared/viewer/measure.ts) as stored. */
  stats?: Record<string, number | string>;
}

interface ToolData {
  uuid?: string;
  length?: number;
  rAngle?: number;
  unit?: string;
  cachedStats?: Record<string, number | undefined>;
  handles?: { end?: { x: number; y: number } };
  /** Still being drawn (see measureTools.ts): never listed, never saved. */
  __draft?: boolean;
  [k: string]: unknown;
}

function manager() {
  return cornerstoneTools.globalImageIdSpecificToolStateManager;
}

export function readAnnotations(imageId: string): { tool: ToolName; data: ToolData }[] {
  const state = (manager().saveImageIdToolState(imageId) ?? {}) as Record<string, { data?: ToolData[] }>;
  const out: { tool: ToolName; data: ToolData }[] = [];
  for (const tool of ANNOTATION_TOOLS) for (const data of state[tool]?.data ?? []) out.push({ tool, data });
  return out;
}

/**
 * The finished annotations of an image: not a draft (still being drawn), and for a length / angle
 * one whose handles give a value (an incomplete measurement is discarded, never shown or stored).
 */
export function finished(imageId: string): { tool: ToolName; data: ToolData }[] {
  return readAnnotations(imageId).filter(({ tool, data }) => !data.__draft && (!(tool === 'Length' || tool === 'Angle') || measureAnnotation(tool, data, imageId) !== null));
}

/** Serialisable copy of the finished annotations on an image. */
export function snapshot(imageId: string, frame: number): SavedMeasurement[] {
  return finished(imageId).map(({ tool, data }) => {
    const uuid = String(data.uuid ?? crypto.randomUUID());
    data.uuid = uuid;
    const { active: _a, invalidated: _i, __draft: _d, length: _l, rAngle: _r, ...rest } = data;
    const r = measureAnnotation(tool, data, imageId);
    return { uuid, tool, frame, data: JSON.parse(JSON.stringify(rest)) as Record<string, unknown>, ...(r ? { stats: measuredStats(r) } : {}) };
  });
}

/** Puts saved annotations back on an image (replacing what is there for those tools). */
export function restore(imageId: string, saved: SavedMeasurement[]): void {
  const state = (manager().saveImageIdToolState(imageId) ?? {}) as Record<string, { data: ToolData[] }>;
  for (const tool of ANNOTATION_TOOLS) state[tool] = { data: [] };
  for (const m of saved) {
    if (!ANNOTATION_TOOLS.includes(m.tool)) continue;
    state[m.tool]!.data.push({ ...m.data, uuid: m.uuid, invalidated: true, active: false, visible: true });
  }
  manager().restoreImageIdToolState(imageId, state);
}

export function removeAnnotation(imageId: string, uuid: string): boolean {
  const state = (manager().saveImageIdToolState(imageId) ?? {}) as Record<string, { data: ToolData[] }>;
  for (const tool of ANNOTATION_TOOLS) {
    const list = state[tool]?.data;
    const i = list?.findIndex((d) => d.uuid === uuid) ?? -1;
    if (list && i >= 0) {
      list.splice(i, 1);
      return true;
    }
  }
  return false;
}

const NAMES: Record<string, string> = { Length: 'Length', Angle: 'Angle', RectangleRoi: 'Rectangle', EllipticalRoi: 'Ellipse', Probe: 'Probe' };

function num(n: number | undefined, digits = 1): string {
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
      const area = s.area !== undefined ? ` · area ${num(s.area)} ${hasSpacing ? 'mm²' : 'px²'}` : '';
      return `${NAMES[tool]} mean ${num(s.mean)}${u} · SD ${num(s.stdDev)} · min ${num(s.min, 0)} · max ${num(s.max, 0)}${area}`;
    }
    case 'Probe': {
      const x = data.handles?.end?.x;
      const y = data.handles?.end?.y;
      return `Probe (${num(x, 0)}, ${num(y, 0)}) = ${num(s.mo ?? (s as Record<string, number>).sp, 1)}${u}`;
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
