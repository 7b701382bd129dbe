/** Values of the index's JSON-encoded columns (Image Position / Orientation (Patient), Pixel Spacing). */

/** A column written as a JSON array of numbers, or null when it is empty or not that. */
export function numbersColumn(v: unknown): number[] | null {
  if (typeof v !== 'string') return null;
  try {
    const a = JSON.parse(v) as unknown;
    return Array.isArray(a) && a.every((x) => typeof x === 'number') ? (a as number[]) : null;
  } catch {
    return null;
  }
}
