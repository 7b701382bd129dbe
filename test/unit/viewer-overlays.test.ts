/** The overlay fields and MR / PET presets as pure functions: age, kVp/mAs, image-relative windows, preset names. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ageOf, exposureOf } from '../../src/renderer/viewer/meta';
import { ctPresetName, CT_PRESETS, MR_PRESETS, PT_PRESETS, relativePresetsFor, relativeWindow } from '../../src/shared/viewer/presets';
import { mulberry32 } from '../../src/core/prng';

const ds = (tags: Record<string, string>) => ({ string: (t: string) => tags[t] });

describe('overlay fields', () => {
  it("Patient's Age as written, else whole years from the birth and study dates", () => {
    expect(ageOf('054Y', '19700101', '20250101')).toBe('54 Y');
    expect(ageOf('003M', undefined, undefined)).toBe('3 M');
    expect(ageOf('000Y', undefined, undefined)).toBe('0 Y');
    expect(ageOf(undefined, '19700615', '20260614')).toBe('55 Y');
    expect(ageOf(undefined, '19700615', '20260615')).toBe('56 Y');
    expect(ageOf('', '', '20260615')).toBe('');
    expect(ageOf(undefined, '20300101', '20260101')).toBe('');
  });

  it('kVp and mAs: Exposure, else µAs, else tube current × exposure time', () => {
    expect(exposureOf(ds({ x00180060: '120', x00181152: '170' }))).toBe('120 kVp · 170 mAs');
    expect(exposureOf(ds({ x00180060: '80', x00181153: '2500' }))).toBe('80 kVp · 2.5 mAs');
    expect(exposureOf(ds({ x00181151: '200', x00181150: '500' }))).toBe('100 mAs');
    expect(exposureOf(ds({ x00180060: '120' }))).toBe('120 kVp');
    expect(exposureOf(ds({}))).toBe('');
  });
});

describe('presets', () => {
  it('MR / PET get image-relative presets; CT and others the HU table', () => {
    expect(relativePresetsFor('MR')).toBe(MR_PRESETS);
    expect(relativePresetsFor('PT')).toBe(PT_PRESETS);
    expect(relativePresetsFor('CT')).toBeNull();
    for (const p of CT_PRESETS) expect(ctPresetName('CT', p.center, p.width)).toBe(p.label);
    expect(ctPresetName('MR', 40, 80)).toBeNull();
    expect(ctPresetName('CT', 41, 80)).toBeNull();
  });

  it('a relative window lies within the image values (MR) or from 0 to the fraction of the maximum (PET), for random images', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 1500 }), fc.constantFrom(1, 2.5), fc.constantFrom(0, -100), (seed, n, slope, intercept) => {
        const rnd = mulberry32(seed);
        const px = Uint16Array.from({ length: n }, () => Math.floor(rnd() * 4096));
        const values = [...px].map((v) => v * slope + intercept);
        const min = Math.min(...values);
        const max = Math.max(...values);
        for (const p of MR_PRESETS) {
          const w = relativeWindow(px, slope, intercept, p)!;
          expect(w.width).toBeGreaterThanOrEqual(1);
          // within the values, give or take the minimum width of 1 (when the percentiles coincide)
          expect(w.center - w.width / 2).toBeGreaterThanOrEqual(min - 1);
          expect(w.center + w.width / 2).toBeLessThanOrEqual(max + 1);
          if (w.width > 1) {
            expect(w.center - w.width / 2).toBeGreaterThanOrEqual(min);
            expect(w.center + w.width / 2).toBeLessThanOrEqual(max);
          }
        }
        const full = relativeWindow(px, slope, intercept, MR_PRESETS[0]!)!;
        if (max - min >= 1) expect([full.center - full.width / 2, full.center + full.width / 2]).toEqual([min, max]);
        for (const p of PT_PRESETS) {
          const w = relativeWindow(px, slope, intercept, p)!;
          const lo = Math.min(0, min);
          if (p.high * max - lo >= 1) {
            expect(w.center - w.width / 2).toBeCloseTo(lo, 9);
            expect(w.center + w.width / 2).toBeCloseTo(p.high * max, 9);
          }
        }
      }),
      { numRuns: 80, seed: 3 },
    );
  });
});
