/**
 * The mapping between saved measurements (legacy cornerstone-tools state: handles in image pixel coordinates,
 * x = column, y = row) and a DICOM TID 1500 Measurement Report. The SR content is written and read by dcmjs's
 * Cornerstone adapter (dcmjs.adapters.Cornerstone.MeasurementReport and its tool classes), never by hand; this
 * file gives it the tool state it expects, adds the modules of the Enhanced SR IOD around the content, and
 * fixes what the adapter gets wrong for a study with several series (its evidence names the first series only).
 *
 * What a report carries: a length in mm, an angle in degrees, a rectangle / ellipse ROI's area in mm² (and its
 * mean in HU on CT), each with the SCOORD of its points on the referenced image. A probe (one point) has no
 * Cornerstone adapter in dcmjs and is not written; a length or area on an image without Pixel Spacing would have
 * to say pixels, which a TID 1500 length in mm cannot, so it is not written either (both reported as skipped).
 */
import dcmjs from 'dcmjs';
import { measure, usableSpacing, type PixelSpacing } from '../../shared/viewer/measure';
import { ENHANCED_SR_SOP_CLASS_UID } from '../../shared/api/measurements-sr';
import type { MeasurementKind } from '../../shared/api/library';
import { PATIENT_STUDY_KEYWORDS, newUid } from '../keyimages/kos';

type Naturalized = Record<string, unknown>;
interface Point {
  x: number;
  y: number;
}
interface ToolClass {
  toolType: string;
  getMeasurementData(group: Naturalized): Naturalized;
  isValidCornerstoneTrackingIdentifier(id: string): boolean;
}
interface TID300ToolClass {
  TID300Representation: unknown;
  getTID300RepresentationArguments(tool: Naturalized): Naturalized;
}
interface MeasurementReportApi {
  CORNERSTONE_TOOL_CLASSES_BY_TOOL_TYPE: Record<string, TID300ToolClass>;
  generateReport(toolState: Record<string, Record<string, { data: Naturalized[] }>>, metadata: { get(type: string, imageId: string): unknown }, options: Naturalized): { dataset: Naturalized };
  CORNERSTONE_TOOL_CLASSES_BY_UTILITY_TYPE: Record<string, ToolClass>;
}
const { MeasurementReport } = (dcmjs as unknown as { adapters: { Cornerstone: { MeasurementReport: MeasurementReportApi } } }).adapters.Cornerstone;

/** Our kinds and the cornerstone-tools tool types the adapter knows them by. */
const TOOL_OF: Partial<Record<MeasurementKind, string>> = { length: 'Length', angle: 'Angle', rectangleRoi: 'RectangleRoi', ellipticalRoi: 'EllipticalRoi' };
const KIND_OF: Record<string, MeasurementKind> = { Length: 'length', Angle: 'angle', RectangleRoi: 'rectangleRoi', EllipticalRoi: 'ellipticalRoi' };

/** One saved measurement with what the report needs of its image. */
export interface SourceMeasurement {
  sopInstanceUid: string;
  sopClassUid: string;
  seriesInstanceUid: string;
  /** 0-based frame (the store's); the report's Referenced Frame Number is 1-based. */
  frame: number;
  kind: MeasurementKind;
  data: Record<string, unknown>;
  stats: Record<string, unknown>;
  pixelSpacing: PixelSpacing;
  modality: string | null;
}

/** A measurement as written: its kind, image and value with the unit in the report. */
export interface WrittenMeasurement {
  sopInstanceUid: string;
  frame: number;
  kind: MeasurementKind;
  value: number;
  unit: 'mm' | 'deg' | 'mm2';
  meanHu: number | null;
}

export interface SkippedMeasurement {
  sopInstanceUid: string;
  kind: string;
  reason: string;
}

function isPoint(p: unknown): p is Point {
  const q = p as Point | null;
  return !!q && typeof q === 'object' && Number.isFinite(q.x) && Number.isFinite(q.y);
}

/** Area of a rectangle / ellipse ROI from its two corners and the Pixel Spacing (mm²), or null. */
export function roiArea(kind: 'rectangleRoi' | 'ellipticalRoi', handles: unknown, spacing: PixelSpacing): number | null {
  const s = usableSpacing(spacing);
  const h = (handles ?? {}) as Record<string, unknown>;
  if (!s || !isPoint(h.start) || !isPoint(h.end)) return null;
  const w = Math.abs(h.end.x - h.start.x) * s.col;
  const t = Math.abs(h.end.y - h.start.y) * s.row;
  if (!(w > 0 && t > 0)) return null;
  return kind === 'rectangleRoi' ? w * t : (Math.PI * w * t) / 4;
}

const pt = (p: Point): Point => ({ x: p.x, y: p.y });

/** The adapter's tool state for one measurement, or why it cannot be written. */
function toolDataOf(m: SourceMeasurement): { tool: string; item: Naturalized; written: WrittenMeasurement } | { reason: string } {
  const tool = TOOL_OF[m.kind];
  if (!tool) {
    return { reason: m.kind === 'probe' ? 'a probe (one point value) has no TID 1500 mapping in the dcmjs Cornerstone adapter' : `a ${m.kind} has no TID 1500 mapping here` };
  }
  const h = (m.data.handles ?? {}) as Record<string, unknown>;
  const base = { sopInstanceUid: m.sopInstanceUid, frame: m.frame, kind: m.kind };
  if (m.kind === 'length' || m.kind === 'angle') {
    const r = measure(m.kind, h, m.pixelSpacing);
    if (!r) return { reason: `the ${m.kind}'s points are incomplete` };
    if (m.kind === 'length') {
      if (!r.calibrated) return { reason: 'the image has no Pixel Spacing (0028,0030), so the length is in pixels, not mm' };
      return { tool, item: { handles: { start: pt(h.start as Point), end: pt(h.end as Point) }, length: r.value }, written: { ...base, value: r.value, unit: 'mm', meanHu: null } };
    }
    return {
      tool,
      item: { handles: { start: pt(h.start as Point), middle: pt(h.middle as Point), end: pt(h.end as Point) }, rAngle: r.value },
      written: { ...base, value: r.value, unit: 'deg', meanHu: null },
    };
  }
  const kind = m.kind as 'rectangleRoi' | 'ellipticalRoi';
  const area = roiArea(kind, h, m.pixelSpacing);
  if (area === null) {
    return { reason: usableSpacing(m.pixelSpacing) ? 'the ROI has no area (its corners are missing or coincide)' : 'the image has no Pixel Spacing (0028,0030), so the area is in pixels, not mm²' };
  }
  const value = Number(area.toFixed(2));
  const mean = m.stats.mean;
  const meanHu = m.modality === 'CT' && typeof mean === 'number' && Number.isFinite(mean) ? Number(mean.toFixed(1)) : null;
  return {
    tool,
    item: { handles: { start: pt(h.start as Point), end: pt(h.end as Point) }, cachedStats: { area: value }, meanHu },
    written: { ...base, value, unit: 'mm2', meanHu },
  };
}

const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : v && typeof v === 'object' ? [v as T] : []);
const codeOf = (item: Naturalized, key = 'ConceptNameCodeSequence'): Naturalized | undefined => asArray<Naturalized>(item[key])[0];

/** Runs a dcmjs adapter call without its console.log chatter (it logs every ROI it converts). */
function quiet<T>(fn: () => T): T {
  const log = console.log;
  console.log = () => {};
  try {
    return fn();
  } finally {
    console.log = log;
  }
}

/**
 * The adapter's ROI classes leave the area's unit out (the ellipse's then reads "1", no unit) and never pass the
 * mean; dcmjs's TID 300 ROI items take both (areaUnit, mean + modalityUnit). For the one call, the two classes give
 * them: area in mm², the mean in HU (CT only, set by toolDataOf).
 */
function withRoiUnits<T>(fn: () => T): T {
  const registry = MeasurementReport.CORNERSTONE_TOOL_CLASSES_BY_TOOL_TYPE;
  const saved = { RectangleRoi: registry.RectangleRoi!, EllipticalRoi: registry.EllipticalRoi! };
  for (const [name, cls] of Object.entries(saved)) {
    registry[name] = {
      TID300Representation: cls.TID300Representation,
      getTID300RepresentationArguments: (tool) => ({
        ...cls.getTID300RepresentationArguments(tool),
        areaUnit: 'mm2',
        ...(typeof tool.meanHu === 'number' ? { mean: tool.meanHu, modalityUnit: 'HU' } : {}),
      }),
    };
  }
  try {
    return fn();
  } finally {
    Object.assign(registry, saved);
  }
}

/** Type 2 attributes of the Patient / General Study modules: present (maybe empty). */
const TYPE2 = ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber'];

export interface ReportInput {
  /** Naturalized Patient / Study attributes of the study (as an image of it says them). */
  study: Naturalized;
  measurements: SourceMeasurement[];
  /** Person Observer Name (TID 1002): who saved the report. */
  observer: string;
  seriesNumber?: number;
  sopInstanceUid?: string;
  seriesInstanceUid?: string;
  at?: Date;
  manufacturer?: string;
}

/** The Enhanced SR data set of a TID 1500 Measurement Report, with what went in and what did not. */
export function measurementReportDataset(input: ReportInput): { dataset: Naturalized; written: WrittenMeasurement[]; skipped: SkippedMeasurement[] } {
  const studyUid = input.study.StudyInstanceUID;
  if (typeof studyUid !== 'string' || !studyUid) throw new Error('the study has no Study Instance UID');
  const toolState: Record<string, Record<string, { data: Naturalized[] }>> = {};
  const images = new Map<string, SourceMeasurement>();
  const written: WrittenMeasurement[] = [];
  const skipped: SkippedMeasurement[] = [];
  // grouped per image, then per tool type: the order the adapter writes its measurement groups in
  const byImage = new Map<string, Map<string, { item: Naturalized; written: WrittenMeasurement }[]>>();
  for (const m of input.measurements) {
    const r = toolDataOf(m);
    if ('reason' in r) {
      skipped.push({ sopInstanceUid: m.sopInstanceUid, kind: m.kind, reason: r.reason });
      continue;
    }
    const imageId = `${m.sopInstanceUid}#${m.frame}`;
    images.set(imageId, m);
    if (!byImage.has(imageId)) byImage.set(imageId, new Map());
    const tools = byImage.get(imageId)!;
    if (!tools.has(r.tool)) tools.set(r.tool, []);
    tools.get(r.tool)!.push({ item: r.item, written: r.written });
  }
  if (byImage.size === 0) return { dataset: {}, written, skipped };
  for (const [imageId, tools] of byImage) {
    toolState[imageId] = {};
    for (const [tool, items] of tools) {
      toolState[imageId][tool] = { data: items.map((i) => i.item) };
      written.push(...items.map((i) => i.written));
    }
  }
  const first = images.values().next().value!;
  const metadata = {
    get(type: string, imageId: string): unknown {
      const m = images.get(imageId);
      if (!m) return undefined;
      if (type === 'generalSeriesModule') return { studyInstanceUID: studyUid, seriesInstanceUID: first.seriesInstanceUid };
      if (type === 'sopCommonModule') return { sopClassUID: m.sopClassUid, sopInstanceUID: m.sopInstanceUid };
      if (type === 'frameNumber') return m.frame + 1;
      return undefined;
    },
  };
  const generated = quiet(() => withRoiUnits(() => MeasurementReport.generateReport(toolState, metadata, {}))).dataset;
  const sr = JSON.parse(JSON.stringify(generated, (k, v: unknown) => (k === '_meta' || k === '_vrMap' ? undefined : v))) as Naturalized;

  // The observer is the reader who saved it (the adapter says "unknown^unknown").
  const content = asArray<Naturalized>(sr.ContentSequence);
  for (const item of content) if (item.ValueType === 'PNAME' && codeOf(item)?.CodeValue === '121008') item.PersonName = input.observer;
  const measurements = content.find((c) => codeOf(c)?.CodeValue === '126010');
  const groups = asArray<Naturalized>(measurements?.ContentSequence).filter((g) => codeOf(g)?.CodeValue === '125007');
  if (groups.length !== written.length) throw new Error(`dcmjs wrote ${groups.length} measurement groups for ${written.length} measurements`);

  // Evidence: every referenced image under its own series (the adapter puts them all under the first one's).
  const bySeries = new Map<string, Map<string, SourceMeasurement>>();
  for (const m of images.values()) {
    if (!bySeries.has(m.seriesInstanceUid)) bySeries.set(m.seriesInstanceUid, new Map());
    bySeries.get(m.seriesInstanceUid)!.set(m.sopInstanceUid, m);
  }
  const evidence = [
    {
      StudyInstanceUID: studyUid,
      ReferencedSeriesSequence: [...bySeries].map(([series, ms]) => ({
        SeriesInstanceUID: series,
        ReferencedSOPSequence: [...ms.values()].map((m) => ({ ReferencedSOPClassUID: m.sopClassUid, ReferencedSOPInstanceUID: m.sopInstanceUid })),
      })),
    },
  ];

  const study: Naturalized = {};
  for (const k of PATIENT_STUDY_KEYWORDS) if (input.study[k] !== undefined) study[k] = input.study[k];
  for (const k of TYPE2) if (study[k] === undefined || study[k] === null) study[k] = '';
  if (study.PatientIdentityRemoved === 'YES' && !study.DeidentificationMethod && !study.DeidentificationMethodCodeSequence) delete study.PatientIdentityRemoved;
  const iso = (input.at ?? new Date()).toISOString();
  const date = iso.slice(0, 10).replace(/-/g, '');
  const time = iso.slice(11, 19).replace(/:/g, '');
  const dataset: Naturalized = {
    // SOP Common
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: ENHANCED_SR_SOP_CLASS_UID,
    SOPInstanceUID: input.sopInstanceUid ?? newUid(),
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    // Patient, General Study
    ...study,
    // SR Document Series
    Modality: 'SR',
    SeriesInstanceUID: input.seriesInstanceUid ?? newUid(),
    SeriesNumber: String(input.seriesNumber ?? 999),
    SeriesDate: date,
    SeriesTime: time,
    SeriesDescription: 'Measurement Report',
    ReferencedPerformedProcedureStepSequence: [],
    // General Equipment
    Manufacturer: input.manufacturer ?? 'MedImgShr',
    // SR Document General
    InstanceNumber: '1',
    ContentDate: date,
    ContentTime: time,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: evidence,
    // SR Document Content (TID 1500, as dcmjs wrote it)
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: sr.ConceptNameCodeSequence,
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: sr.ContentTemplateSequence,
    ContentSequence: content,
  };
  return { dataset, written, skipped };
}

/** One measurement read from a report: what the store saves, plus its value as the report says it. */
export interface ReportMeasurement {
  sopInstanceUid: string;
  frame: number;
  kind: MeasurementKind;
  data: Record<string, unknown>;
  stats: Record<string, number | string | null>;
  /** The report's value (mm, degrees, mm²) and the mean in HU when it has one. */
  value: number | null;
  meanHu: number | null;
}

/** The measurements of a TID 1500 report (read with dcmjs, naturalized), through the adapter's tool classes. */
export function reportMeasurements(ds: Naturalized): { sopInstanceUid: string; studyInstanceUid: string; measurements: ReportMeasurement[]; unreadable: SkippedMeasurement[] } {
  const template = asArray<Naturalized>(ds.ContentTemplateSequence)[0];
  if (ds.ValueType !== 'CONTAINER' || String(template?.TemplateIdentifier ?? '') !== '1500' || codeOf(ds)?.CodeValue !== '126000') {
    throw new Error(`not a TID 1500 Measurement Report (SOP Class ${String(ds.SOPClassUID)}, template ${String(template?.TemplateIdentifier ?? 'none')})`);
  }
  const measurements: ReportMeasurement[] = [];
  const unreadable: SkippedMeasurement[] = [];
  const container = asArray<Naturalized>(ds.ContentSequence).find((c) => codeOf(c)?.CodeValue === '126010');
  const classes = Object.values(MeasurementReport.CORNERSTONE_TOOL_CLASSES_BY_UTILITY_TYPE);
  for (const group of asArray<Naturalized>(container?.ContentSequence).filter((g) => codeOf(g)?.CodeValue === '125007')) {
    const items = asArray<Naturalized>(group.ContentSequence);
    const tracking = items.find((i) => codeOf(i)?.CodeValue === '112039');
    const trackingId = typeof tracking?.TextValue === 'string' ? tracking.TextValue : '';
    const cls = classes.find((c) => c.isValidCornerstoneTrackingIdentifier(trackingId));
    const kind = cls ? KIND_OF[cls.toolType] : undefined;
    const image = findImage(group);
    if (!cls || !kind) {
      unreadable.push({ sopInstanceUid: image ?? '', kind: trackingId || 'unknown', reason: `a measurement group this app does not draw (tracking identifier "${trackingId || 'none'}")` });
      continue;
    }
    let state: Naturalized;
    try {
      state = quiet(() => cls.getMeasurementData(withAccessors(group)));
    } catch (err) {
      unreadable.push({ sopInstanceUid: image ?? '', kind, reason: `the measurement group could not be read (${err instanceof Error ? err.message : String(err)})` });
      continue;
    }
    const sop = String(state.sopInstanceUid ?? image ?? '');
    const h = (state.handles ?? {}) as Record<string, unknown>;
    const names = kind === 'angle' ? ['start', 'middle', 'end'] : ['start', 'end'];
    if (!sop || !names.every((n) => isPoint(h[n]))) {
      unreadable.push({ sopInstanceUid: sop, kind, reason: 'the measurement has no image reference or no complete SCOORD' });
      continue;
    }
    let handles = Object.fromEntries(names.map((n) => [n, pt(h[n] as Point)]));
    if (kind === 'rectangleRoi' || kind === 'ellipticalRoi') {
      // the report keeps the box (an ellipse by its axes), not which corner was drawn first: top-left to bottom-right
      const [a, b] = [handles.start!, handles.end!];
      handles = { start: { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y) }, end: { x: Math.max(a.x, b.x), y: Math.max(a.y, b.y) } };
    }
    const nums = items.filter((i) => i.ValueType === 'NUM');
    const numOf = (code?: string): number | null => {
      const n = code ? nums.find((i) => codeOf(i)?.CodeValue === code) : nums[0];
      const v = Number(asArray<Naturalized>(n?.MeasuredValueSequence)[0]?.NumericValue);
      return Number.isFinite(v) ? v : null;
    };
    const value = numOf();
    const meanHu = numOf('373098007');
    const stats: Record<string, number | string | null> = kind === 'rectangleRoi' || kind === 'ellipticalRoi' ? { area: value, mean: meanHu, sd: null, min: null, max: null } : {};
    measurements.push({ sopInstanceUid: sop, frame: Math.max(0, Number(state.frameIndex ?? 1) - 1), kind, data: { handles }, stats, value, meanHu });
  }
  return { sopInstanceUid: String(ds.SOPInstanceUID), studyInstanceUid: String(ds.StudyInstanceUID), measurements, unreadable };
}

/** The image the group's SCOORD is selected from. */
function findImage(group: Naturalized): string | null {
  for (const item of asArray<Naturalized>(group.ContentSequence)) {
    for (const sc of asArray<Naturalized>(item.ContentSequence)) {
      for (const img of asArray<Naturalized>(sc.ContentSequence)) {
        const ref = asArray<Naturalized>(img.ReferencedSOPSequence)[0];
        if (ref?.ReferencedSOPInstanceUID) return String(ref.ReferencedSOPInstanceUID);
      }
    }
  }
  return null;
}

/**
 * The adapter reads single-item sequences as objects (group.X.Y); a file read back gives arrays. Each array of one
 * item gets that item's fields as properties too (what dcmjs's own addAccessors does), so both read the same.
 */
function withAccessors<T>(v: T): T {
  if (Array.isArray(v)) {
    const arr = v.map((x) => withAccessors(x as unknown)) as unknown[];
    if (arr.length === 1 && arr[0] && typeof arr[0] === 'object' && !Array.isArray(arr[0])) {
      for (const [k, val] of Object.entries(arr[0] as Naturalized)) if (!(k in arr)) Object.defineProperty(arr, k, { value: val, enumerable: false });
    }
    return arr as T;
  }
  if (v && typeof v === 'object' && !(v instanceof ArrayBuffer) && !ArrayBuffer.isView(v)) {
    return Object.fromEntries(Object.entries(v as Naturalized).map(([k, x]) => [k, withAccessors(x)])) as T;
  }
  return v;
}

/** Same points (to 1e-3 px): a rectangle / ellipse by its box, whichever corners the report gives. */
export function samePoints(kind: MeasurementKind, a: unknown, b: unknown): boolean {
  const ha = (a ?? {}) as Record<string, unknown>;
  const hb = (b ?? {}) as Record<string, unknown>;
  const eq = (x: number, y: number) => Math.abs(x - y) < 1e-3;
  if (kind === 'rectangleRoi' || kind === 'ellipticalRoi') {
    if (![ha.start, ha.end, hb.start, hb.end].every(isPoint)) return false;
    const box = (h: Record<string, unknown>) => {
      const [s, e] = [h.start as Point, h.end as Point];
      return [Math.min(s.x, e.x), Math.min(s.y, e.y), Math.max(s.x, e.x), Math.max(s.y, e.y)];
    };
    const [p, q] = [box(ha), box(hb)];
    return p.every((v, i) => eq(v, q[i]!));
  }
  const names = kind === 'angle' ? ['start', 'middle', 'end'] : ['start', 'end'];
  return names.every((n) => isPoint(ha[n]) && isPoint(hb[n]) && eq((ha[n] as Point).x, (hb[n] as Point).x) && eq((ha[n] as Point).y, (hb[n] as Point).y));
}
