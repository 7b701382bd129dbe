/**
 * Hanging protocols: how a study is laid out on the first screen, chosen by its modality, body part
 * and number of image series (as Weasis / OHIF do). Pure: the caller gives the study's series; this
 * module picks the protocol and says which series goes into which viewport with which window.
 */

export type HangingLayout = '1x1' | '1x2' | '2x2';
/** 'fit': the smallest of 1×1 / 1×2 / 2×2 that shows every image series (up to four). */
export type ProtocolLayout = HangingLayout | 'fit';

export interface HangingCell {
  /** The n-th image series of the study (1-based, in series-number order). */
  series: number;
  /** A CT window preset id (src/shared/viewer/presets.ts: brain, lung, mediastinum, bone, …); null: the image's own window. */
  window: string | null;
}

export interface HangingProtocol {
  id: string;
  name: string;
  /** Modalities it applies to (any of them present in the study), upper case, e.g. ["CR","DX"]. */
  modalities: string[];
  /** Body Part Examined (0018,0015) it applies to, e.g. "CHEST"; '' for any. */
  bodyPart: string;
  /** Number of image series the study must have at least / at most (null: no limit). */
  minSeries: number | null;
  maxSeries: number | null;
  layout: ProtocolLayout;
  /** The viewports in reading order; with layout 'fit', the series 1…n fill it and cells may be empty. */
  cells: HangingCell[];
}

/** A series of the study as matching needs it. */
export interface StudySeries {
  id: number;
  modality: string;
  bodyPart: string;
  number: number | null;
  /** Images (frames) with pixels; series without (SR, KOS, presentation states) are not hung. */
  images: number;
}

export interface HangingPlan {
  protocol: { id: string; name: string } | null;
  layout: HangingLayout;
  cells: { seriesId: number | null; window: string | null }[];
}

const CELLS: Record<HangingLayout, number> = { '1x1': 1, '1x2': 2, '2x2': 4 };

/** Built in: CR/DX one image; CT chest soft tissue beside lung; MR series side by side; other CT one series. */
export const DEFAULT_PROTOCOLS: readonly HangingProtocol[] = [
  { id: 'cr-dx', name: 'Radiograph (CR/DX): 1×1', modalities: ['CR', 'DX'], bodyPart: '', minSeries: null, maxSeries: null, layout: '1x1', cells: [{ series: 1, window: null }] },
  {
    id: 'ct-chest',
    name: 'CT chest: soft tissue beside lung window',
    modalities: ['CT'],
    bodyPart: 'CHEST',
    minSeries: null,
    maxSeries: null,
    layout: '1x2',
    cells: [
      { series: 1, window: 'mediastinum' },
      { series: 1, window: 'lung' },
    ],
  },
  { id: 'mr', name: 'MR: series side by side (up to 2×2)', modalities: ['MR'], bodyPart: '', minSeries: null, maxSeries: null, layout: 'fit', cells: [] },
  { id: 'ct', name: 'CT: first series', modalities: ['CT'], bodyPart: '', minSeries: null, maxSeries: null, layout: '1x1', cells: [{ series: 1, window: null }] },
];

/** The image series of a study in hanging order: series number, then id. */
export function imageSeries(series: readonly StudySeries[]): StudySeries[] {
  return series.filter((s) => s.images > 0).sort((a, b) => (a.number ?? Infinity) - (b.number ?? Infinity) || a.id - b.id);
}

/** Body parts compare without case and spaces/underscores ("Chest", "CHEST "). */
const part = (s: string) => s.trim().toUpperCase().replace(/[\s_]+/g, '');

/** True when the protocol applies to the study (its image series). */
export function matches(p: HangingProtocol, series: readonly StudySeries[]): boolean {
  const img = imageSeries(series);
  if (img.length === 0) return false;
  const mods = new Set(img.map((s) => s.modality.trim().toUpperCase()));
  if (!p.modalities.some((m) => mods.has(m.trim().toUpperCase()))) return false;
  if (p.bodyPart.trim() && !img.some((s) => part(s.bodyPart) === part(p.bodyPart))) return false;
  if (p.minSeries !== null && img.length < p.minSeries) return false;
  if (p.maxSeries !== null && img.length > p.maxSeries) return false;
  return true;
}

/** The first protocol in the list that applies (the list's order is the reader's priority), else null. */
export function matchProtocol(protocols: readonly HangingProtocol[], series: readonly StudySeries[]): HangingProtocol | null {
  return protocols.find((p) => matches(p, series)) ?? null;
}

/**
 * The first screen of a study: the matching protocol's layout with its series, or (no protocol)
 * its first image series in 1×1. Cells naming a series the study does not have stay empty.
 */
export function planHanging(protocols: readonly HangingProtocol[], series: readonly StudySeries[]): HangingPlan {
  const img = imageSeries(series);
  const p = matchProtocol(protocols, series);
  if (!p) return { protocol: null, layout: '1x1', cells: [{ seriesId: img[0]?.id ?? null, window: null }] };
  // Only the series of the protocol's modalities are hung (an MR study's secondary captures are not).
  const mods = new Set(p.modalities.map((m) => m.trim().toUpperCase()));
  const own = img.filter((s) => mods.has(s.modality.trim().toUpperCase()));
  if (p.layout === 'fit') {
    const n = Math.min(4, own.length);
    const layout: HangingLayout = n <= 1 ? '1x1' : n === 2 ? '1x2' : '2x2';
    const cells = Array.from({ length: CELLS[layout] }, (_, i) => {
      const cell = p.cells[i];
      return { seriesId: own[(cell?.series ?? i + 1) - 1]?.id ?? null, window: cell?.window ?? null };
    });
    return { protocol: { id: p.id, name: p.name }, layout, cells };
  }
  const cells = Array.from({ length: CELLS[p.layout] }, (_, i) => {
    const cell = p.cells[i];
    return cell ? { seriesId: own[cell.series - 1]?.id ?? null, window: cell.window } : { seriesId: null, window: null };
  });
  return { protocol: { id: p.id, name: p.name }, layout: p.layout, cells };
}

/** Why a protocol cannot be saved, in the reader's words; null when it is valid. */
export function protocolProblem(p: HangingProtocol): string | null {
  if (!p.name.trim()) return 'A hanging protocol needs a name.';
  if (p.modalities.length === 0 || p.modalities.some((m) => !/^[A-Z0-9]{1,16}$/i.test(m.trim()))) return `"${p.name}": give one or more modalities as DICOM codes, e.g. CT, MR, CR, DX.`;
  if (p.minSeries !== null && p.maxSeries !== null && p.minSeries > p.maxSeries) return `"${p.name}": the minimum number of series is above the maximum.`;
  if (p.layout !== 'fit' && p.cells.length > CELLS[p.layout]) return `"${p.name}": ${p.cells.length} viewports do not fit a ${p.layout} layout.`;
  if (p.cells.some((c) => !Number.isInteger(c.series) || c.series < 1 || c.series > 64)) return `"${p.name}": a viewport names a series number that is not 1–64.`;
  return null;
}
