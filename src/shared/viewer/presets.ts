/**
 * CT window/level presets (centre/width in Hounsfield units). Values follow Radiopaedia's
 * "Windowing (CT)" article (https://radiopaedia.org/articles/windowing-ct); where it gives a
 * range we use the midpoint, see docs/viewer.md. Brain is narrow around 40 HU; bone is wide and
 * high — a well-known viewer ships the two swapped, tests check the values applied here.
 */
export interface WindowPreset {
  id: string;
  label: string;
  /** Window centre (level), HU. */
  center: number;
  /** Window width, HU. */
  width: number;
  /** The key that applies it. */
  key: string;
}

export const CT_PRESETS: readonly WindowPreset[] = [
  { id: 'brain', label: 'Brain', center: 40, width: 80, key: '1' },
  { id: 'subdural', label: 'Subdural', center: 75, width: 215, key: '2' },
  { id: 'stroke', label: 'Stroke', center: 40, width: 40, key: '3' },
  { id: 'lung', label: 'Lung', center: -600, width: 1500, key: '4' },
  { id: 'mediastinum', label: 'Mediastinum', center: 50, width: 350, key: '5' },
  { id: 'abdomen', label: 'Abdomen', center: 40, width: 400, key: '6' },
  { id: 'liver', label: 'Liver', center: 60, width: 160, key: '7' },
  { id: 'bone', label: 'Bone', center: 400, width: 1800, key: '8' },
] as const;

export function presetById(id: string): WindowPreset | undefined {
  return CT_PRESETS.find((p) => p.id === id);
}

/**
 * Converts a window in modality units (HU) to the stored-value window Cornerstone applies when
 * the image has a rescale: cornerstone's voi works on modality values already, so this is the
 * identity; kept as a function so the tests state the rule.
 */
export function voiFor(preset: WindowPreset): { windowCenter: number; windowWidth: number } {
  return { windowCenter: preset.center, windowWidth: preset.width };
}

/**
 * MR and PET presets. MR signal has no absolute scale (it depends on coil, sequence and
 * scanner gain), so fixed centre/width numbers would mean nothing from one series to the next:
 * MR presets are windows over the image's own distribution of values (percentiles).
 * PET presets are on the stored values after the rescale (Bq/ml or counts, as the file says),
 * from zero to a fraction of the image's maximum — NOT SUV: SUV needs the injected dose, its
 * time, the half-life, the patient's weight and decay-corrected units in the header and a check
 * that they are consistent, which this viewer does not do yet, so it does not pretend to.
 * They take the keys of the CT presets (1–4) on an MR or PET image.
 */
export interface RelativePreset {
  id: string;
  label: string;
  key: string;
  /** 'percentile': low/high are quantiles (0..1) of the image's values; 'max': fractions of its maximum (from 0). */
  basis: 'percentile' | 'max';
  low: number;
  high: number;
}

export const MR_PRESETS: readonly RelativePreset[] = [
  { id: 'mr-full', label: 'MR full range', key: '1', basis: 'percentile', low: 0, high: 1 },
  { id: 'mr-soft', label: 'MR soft tissue', key: '2', basis: 'percentile', low: 0.02, high: 0.98 },
  { id: 'mr-contrast', label: 'MR high contrast', key: '3', basis: 'percentile', low: 0.2, high: 0.9 },
  { id: 'mr-bright', label: 'MR bright (fluid / fat)', key: '4', basis: 'percentile', low: 0.5, high: 0.995 },
] as const;

export const PT_PRESETS: readonly RelativePreset[] = [
  { id: 'pt-full', label: 'PET full (0–100 % max)', key: '1', basis: 'max', low: 0, high: 1 },
  { id: 'pt-hot', label: 'PET hot spots (0–50 % max)', key: '2', basis: 'max', low: 0, high: 0.5 },
  { id: 'pt-low', label: 'PET low uptake (0–25 % max)', key: '3', basis: 'max', low: 0, high: 0.25 },
] as const;

/** The image-relative presets of a modality (MR, PT), or null when its presets are the CT ones in HU. */
export function relativePresetsFor(modality: string): readonly RelativePreset[] | null {
  const m = modality.toUpperCase();
  return m === 'MR' ? MR_PRESETS : m === 'PT' || m === 'PET' ? PT_PRESETS : null;
}

/**
 * The window (modality values) of a relative preset over an image's stored values: at most
 * `maxSamples` evenly spaced pixels are sorted for the percentiles. Width is at least 1.
 */
export function relativeWindow(stored: ArrayLike<number>, slope: number, intercept: number, p: RelativePreset, maxSamples = 65_536): { center: number; width: number } | null {
  const n = stored.length;
  if (!n) return null;
  const step = Math.max(1, Math.floor(n / maxSamples));
  const values: number[] = [];
  for (let i = 0; i < n; i += step) values.push(stored[i]! * slope + intercept);
  values.sort((a, b) => a - b);
  const q = (f: number) => values[Math.min(values.length - 1, Math.max(0, Math.round(f * (values.length - 1))))]!;
  let lo: number, hi: number;
  if (p.basis === 'percentile') {
    lo = q(p.low);
    hi = q(p.high);
  } else {
    const max = values[values.length - 1]!;
    lo = Math.min(0, values[0]!) + p.low * max;
    hi = p.high * max;
  }
  const width = Math.max(1, hi - lo);
  return { center: lo + width / 2, width };
}

/** The name of the CT preset a window equals (HU, CT images), else null. */
export function ctPresetName(modality: string, center: number, width: number): string | null {
  if (modality.toUpperCase() !== 'CT') return null;
  return CT_PRESETS.find((p) => Math.abs(p.center - center) < 0.5 && Math.abs(p.width - width) < 0.5)?.label ?? null;
}
