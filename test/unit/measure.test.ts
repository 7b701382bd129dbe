/** Properties of the one length / angle computation (src/shared/viewer/measure.ts), over random handles and spacings. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DECIMALS, measure, rawAngle, rawLength, round, statsOf, usableSpacing } from '../../src/shared/viewer/measure';

// Handles sit on a sub-pixel grid (cornerstone gives image coordinates of mouse events: fractions of a pixel).
const coord = fc.integer({ min: -4096 * 256, max: 4096 * 256 }).map((n) => n / 256);
const point = fc.record({ x: coord, y: coord });
const spacingValue = fc.integer({ min: 1, max: 5000 }).map((n) => n / 1000);
const spacing = fc.oneof(fc.tuple(spacingValue, spacingValue), fc.constant(null));
const RUNS = { numRuns: 600, seed: 17 };

const distinct = (a: { x: number; y: number }, b: { x: number; y: number }) => a.x !== b.x || a.y !== b.y;

describe('measure: length', () => {
  it('is the spacing-scaled distance, rounded by the one rule, with text = value', () => {
    fc.assert(
      fc.property(point, point, spacing, (a, b, sp) => {
        fc.pre(distinct(a, b));
        const r = measure('length', { start: a, end: b }, sp);
        const s = usableSpacing(sp);
        const raw = Math.hypot((b.x - a.x) * (s?.col ?? 1), (b.y - a.y) * (s?.row ?? 1));
        fc.pre(raw > 0);
        expect(r).not.toBeNull();
        expect(r!.value).toBe(Number(raw.toFixed(DECIMALS)));
        expect(Math.abs(r!.value - raw)).toBeLessThanOrEqual(0.05 + raw * 1e-12);
        expect(r!.unit).toBe(s ? 'mm' : 'px');
        expect(r!.text).toBe(`${r!.value.toFixed(DECIMALS)} ${r!.unit}`);
        expect(r!.label).toBe(`Length ${r!.text}`);
        expect(Number.parseFloat(r!.text)).toBe(r!.value);
        expect(statsOf(r!)).toEqual({ length: r!.value, unit: r!.unit, text: r!.text });
      }),
      RUNS,
    );
  });

  it('does not depend on the drawing direction or on where it is drawn', () => {
    fc.assert(
      fc.property(point, point, spacing, fc.integer({ min: -500, max: 500 }), fc.integer({ min: -500, max: 500 }), (a, b, sp, tx, ty) => {
        fc.pre(distinct(a, b));
        const r = measure('length', { start: a, end: b }, sp);
        expect(measure('length', { start: b, end: a }, sp)?.value).toBe(r?.value);
        // integer shifts keep the differences exact in floating point
        const moved = measure('length', { start: { x: a.x + tx, y: a.y + ty }, end: { x: b.x + tx, y: b.y + ty } }, sp);
        if (r && moved) expect(Math.abs(moved.value - r.value)).toBeLessThanOrEqual(0.1);
      }),
      RUNS,
    );
  });

  it('scales x by the column spacing and y by the row spacing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), spacingValue, spacingValue, (d, row, col) => {
        expect(rawLength({ x: 0, y: 0 }, { x: d, y: 0 }, [row, col])).toBeCloseTo(d * col, 9);
        expect(rawLength({ x: 0, y: 0 }, { x: 0, y: d }, [row, col])).toBeCloseTo(d * row, 9);
      }),
      RUNS,
    );
  });
});

describe('measure: angle', () => {
  it('lies in [0, 180], is symmetric in its arms and agrees with the cosine law', () => {
    fc.assert(
      fc.property(point, point, point, spacing, (a, m, b, sp) => {
        fc.pre(distinct(a, m) && distinct(b, m));
        const r = measure('angle', { start: a, middle: m, end: b }, sp);
        expect(r).not.toBeNull();
        expect(r!.value).toBeGreaterThanOrEqual(0);
        expect(r!.value).toBeLessThanOrEqual(180);
        expect(measure('angle', { start: b, middle: m, end: a }, sp)!.value).toBe(r!.value);
        expect(r!.text).toBe(`${r!.value.toFixed(DECIMALS)}°`);
        expect(r!.label).toBe(`Angle ${r!.text}`);
        const s = usableSpacing(sp);
        const sx = s?.col ?? 1, sy = s?.row ?? 1;
        const ux = (a.x - m.x) * sx, uy = (a.y - m.y) * sy, vx = (b.x - m.x) * sx, vy = (b.y - m.y) * sy;
        const cos = (ux * vx + uy * vy) / (Math.hypot(ux, uy) * Math.hypot(vx, vy));
        // away from 0° / 180° the cosine law is well conditioned
        fc.pre(Math.abs(cos) < 0.999);
        const law = (Math.acos(cos) * 180) / Math.PI;
        expect(Math.abs(rawAngle(a, m, b, sp) - law)).toBeLessThan(1e-6);
        expect(Math.abs(r!.value - law)).toBeLessThanOrEqual(0.05 + 1e-6);
      }),
      RUNS,
    );
  });

  it('reads 90° for perpendicular arms along the axes whatever the spacing (angles are in the patient plane)', () => {
    fc.assert(
      fc.property(point, fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1, max: 900 }), spacing, (m, dx, dy, sp) => {
        expect(measure('angle', { start: { x: m.x + dx, y: m.y }, middle: m, end: { x: m.x, y: m.y - dy } }, sp)!.value).toBe(90);
      }),
      RUNS,
    );
    // and 45° on the pixel grid is not 45° on an anisotropic image
    expect(measure('angle', { start: { x: 10, y: 0 }, middle: { x: 0, y: 0 }, end: { x: 10, y: 10 } }, [2, 1])!.value).toBe(round((Math.atan2(20, 10) * 180) / Math.PI));
  });

  it('two angles on either side of a straight line add up to 180°', () => {
    fc.assert(
      fc.property(point, point, point, spacing, (a, m, b, sp) => {
        fc.pre(distinct(a, m) && distinct(b, m));
        const opposite = { x: 2 * m.x - a.x, y: 2 * m.y - a.y };
        fc.pre(distinct(opposite, m));
        expect(rawAngle(a, m, b, sp) + rawAngle(opposite, m, b, sp)).toBeCloseTo(180, 6);
      }),
      RUNS,
    );
  });
});

describe('measure: incomplete measurements have no value', () => {
  it('a missing, non-finite or coincident handle gives null', () => {
    fc.assert(
      fc.property(point, spacing, fc.constantFrom(NaN, Infinity, -Infinity, undefined, null, '3'), (p, sp, bad) => {
        expect(measure('length', { start: p, end: p }, sp)).toBeNull();
        expect(measure('length', { start: p }, sp)).toBeNull();
        expect(measure('length', { start: p, end: { x: bad, y: 1 } }, sp)).toBeNull();
        expect(measure('angle', { start: p, middle: p, end: { x: p.x + 1, y: p.y } }, sp)).toBeNull();
        expect(measure('angle', { start: { x: p.x + 1, y: p.y }, end: { x: p.x, y: p.y + 1 } }, sp)).toBeNull();
        expect(measure('angle', { start: p, middle: { x: p.x + 1, y: bad }, end: p }, sp)).toBeNull();
        expect(measure('angle', undefined, sp)).toBeNull();
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('a spacing that is not two positive finite numbers falls back to pixels', () => {
    for (const bad of [[0, 1], [1, -1], [NaN, 1], [1], [], null, undefined, [Infinity, 1]]) {
      const r = measure('length', { start: { x: 0, y: 0 }, end: { x: 3, y: 4 } }, bad as number[] | null);
      expect(r).toMatchObject({ value: 5, unit: 'px', text: '5.0 px', calibrated: false });
    }
  });

  it('rounds by one rule and never shows -0', () => {
    expect(round(84.05)).toBe(Number((84.05).toFixed(1)));
    expect(round(-0.01)).toBe(0);
    expect(Object.is(round(-0.01), -0)).toBe(false);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e5, noNaN: true }), (v) => {
        expect(round(v).toFixed(DECIMALS)).toBe(v.toFixed(DECIMALS));
      }),
      RUNS,
    );
  });
});
