/**
 * Priors on a PACS: when the local library has no earlier study of the patient, the configured PACS
 * connections are asked (QIDO-RS or C-FIND by Patient ID, modality and a date up to the current
 * study's). Pure choices here; the hook asks and retrieves. The Issuer of Patient ID is not in a
 * study-level answer, so it is checked after the retrieve, on the files, by the local prior search.
 */
import type { PacsSeries, PacsStudy, PriorSearch } from '../../../shared/api';

type Current = PriorSearch['current'];

/** "20250310" / "2025-03-10" → "20250310"; "" for none. */
const day = (d: string | null | undefined) => (d ?? '').replace(/-/g, '').slice(0, 8);
/** "101500.123" / "10:15:00" → "101500"; a missing time sorts as midnight. */
const clock = (t: string | null | undefined) => (t ?? '').replace(/:/g, '').slice(0, 6).padEnd(6, '0');
const when = (d: string | null | undefined, t: string | null | undefined) => `${day(d)}${clock(t)}`;

/** The date range to ask the PACS for: up to the current study's day (the same day can hold an earlier study). */
export function priorQueryDateTo(current: Current): string | null {
  const d = day(current.date);
  return d.length === 8 ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : null;
}

/**
 * The PACS's studies that are earlier studies of this patient with the modality, most recent first:
 * same Patient ID (exactly: a PACS may match more loosely), not the current study, an earlier study
 * date and time, the modality among the study's (when the PACS lists them).
 */
export function earlierStudies(current: Current, studies: PacsStudy[]): PacsStudy[] {
  const now = when(current.date, current.time);
  const modality = current.modality.trim().toUpperCase();
  return studies
    .filter((s) => s.patientId.trim() === current.patientId.trim())
    .filter((s) => s.studyInstanceUid !== current.studyInstanceUid)
    .filter((s) => day(s.date).length === 8 && when(s.date, s.time) < now)
    .filter((s) => s.modalities.length === 0 || s.modalities.some((m) => m.trim().toUpperCase() === modality))
    .sort((a, b) => (when(b.date, b.time) < when(a.date, a.time) ? -1 : when(b.date, b.time) > when(a.date, a.time) ? 1 : 0));
}

/**
 * The prior's series to retrieve: the modality of the open series; then the same description, the
 * same series number, more images (as the local prior search scores them).
 */
export function comparableSeries(current: Current, series: PacsSeries[]): PacsSeries | null {
  const modality = current.modality.trim().toUpperCase();
  const same = (a: string | number | null, b: string | number | null) => a !== null && b !== null && String(a).trim().toUpperCase() === String(b).trim().toUpperCase();
  const score = (s: PacsSeries) => (same(s.description, current.series.description) ? 2 : 0) + (same(s.number, current.series.number) ? 1 : 0);
  const candidates = series.filter((s) => (s.modality ?? '').trim().toUpperCase() === modality && (s.instanceCount ?? 1) > 0);
  return candidates.sort((a, b) => score(b) - score(a) || (b.instanceCount ?? 0) - (a.instanceCount ?? 0) || (a.number ?? 0) - (b.number ?? 0))[0] ?? null;
}
