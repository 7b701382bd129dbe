/**
 * Dates and durations in words, for what a patient or clinician reads (consent text, CLI output):
 * "until 12 March 2027", "for 30 days", "CT chest, 22 November 2026". One place for the renderer
 * and the CLI (both may import src/shared).
 */

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "12 March 2027" for an ISO time (UTC day), or null. */
export function dateInWords(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** "22 November 2026" for a DICOM date (YYYYMMDD), or null. */
export function dicomDateInWords(da: string | null | undefined): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(da?.trim() ?? '');
  if (!m) return null;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return null;
  return `${Number(m[3])} ${MONTHS[month - 1]} ${m[1]}`;
}

/** "for 1 day" / "for 30 days". */
export function forDays(days: number): string {
  return `for ${days} day${days === 1 ? '' : 's'}`;
}

/** "for 30 days, until 12 March 2027" (the end in words, computed from `from`, default now). */
export function consentLengthInWords(days: number, from: Date = new Date()): string {
  const until = dateInWords(new Date(from.getTime() + days * 86_400_000).toISOString());
  return `${forDays(days)}, until ${until}`;
}

/** A study as a person names it: "CT chest (22 November 2026)"; the UID only when nothing else is known. */
export function studyInWords(s: { description: string | null; date: string | null; modalities?: string[]; studyInstanceUid: string }): string {
  const what = s.description?.trim() || (s.modalities?.length ? `${s.modalities.join('/')} study` : null);
  const when = dicomDateInWords(s.date);
  if (what && when) return `${what} of ${when}`;
  if (what) return `${what} (undated)`;
  if (when) return `the study of ${when}`;
  return `study ${s.studyInstanceUid}`;
}
