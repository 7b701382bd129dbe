/** Measurements as stored by the main process: loaded per instance, saved per image (instance + frame). */
import { call } from '../bridge';
import type { MeasurementKind } from '../../shared/api';
import type { ToolName } from '../../shared/viewer/shortcuts';
import type { SavedMeasurement } from './measurements';

const KIND_OF: Record<string, MeasurementKind> = {
  Length: 'length',
  Angle: 'angle',
  RectangleRoi: 'rectangleRoi',
  EllipticalRoi: 'ellipticalRoi',
  Probe: 'probe',
};
const TOOL_OF: Partial<Record<MeasurementKind, ToolName>> = {
  length: 'Length',
  angle: 'Angle',
  rectangleRoi: 'RectangleRoi',
  ellipticalRoi: 'EllipticalRoi',
  probe: 'Probe',
};

/** Which stored measurement row holds which annotation (by the annotation's uuid), per instance+frame. */
const rows = new Map<string, Map<string, number>>();
const key = (instanceId: string, frame: number) => `${instanceId}#${frame}`;
/** Saves of one image run one after another, so a quick edit never races a create. */
const queues = new Map<string, Promise<void>>();

export async function loadMeasurements(instanceId: string): Promise<SavedMeasurement[]> {
  const { measurements } = await call('measurements.list', { instanceId: Number(instanceId) });
  const out: SavedMeasurement[] = [];
  for (const m of measurements) {
    const tool = TOOL_OF[m.kind];
    if (!tool) continue;
    const uuid = typeof m.data.uuid === 'string' ? m.data.uuid : `m${m.id}`;
    const k = key(instanceId, m.frame);
    if (!rows.has(k)) rows.set(k, new Map());
    rows.get(k)!.set(uuid, m.id);
    out.push({ uuid, tool, frame: m.frame, data: m.data });
  }
  return out;
}

function statsOf(tool: ToolName, data: Record<string, unknown>): Record<string, number | string | null> {
  const s = (data.cachedStats ?? {}) as Record<string, unknown>;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  switch (tool) {
    case 'Length':
    case 'Angle':
      return {}; // always measured (snapshot() gives `stats`), recomputed by the main process
    case 'Probe':
      return { value: n(s.mo ?? s.sp), x: n(s.x), y: n(s.y) };
    default:
      return { mean: n(s.mean), sd: n(s.stdDev), min: n(s.min), max: n(s.max), area: n(s.area) };
  }
}

/** Makes the stored measurements of one image equal to `items` (create, update, delete). */
export function saveMeasurements(instanceId: string, frame: number, items: SavedMeasurement[]): Promise<void> {
  const k = key(instanceId, frame);
  const prev = queues.get(k) ?? Promise.resolve();
  const next = prev
    .catch(() => undefined)
    .then(async () => {
      if (!rows.has(k)) rows.set(k, new Map());
      const known = rows.get(k)!;
      const keep = new Set<string>();
      for (const m of items) {
        keep.add(m.uuid);
        const id = known.get(m.uuid);
        const saved = await call('measurements.save', {
          ...(id ? { id } : {}),
          instanceId: Number(instanceId),
          frame,
          kind: KIND_OF[m.tool] ?? 'annotation',
          data: { ...m.data, uuid: m.uuid },
          stats: m.stats ?? statsOf(m.tool, m.data),
        });
        known.set(m.uuid, saved.id);
      }
      for (const [uuid, id] of [...known]) {
        if (keep.has(uuid)) continue;
        await call('measurements.delete', { id });
        known.delete(uuid);
      }
    });
  queues.set(k, next);
  return next;
}
