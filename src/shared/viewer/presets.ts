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
