import { describe, expect, it } from 'vitest';
import { exportGate, isIdentifiable, type VerificationCounts } from '../../src/core/gates';

const counts = (c: Partial<VerificationCounts>): VerificationCounts => ({ verified: 0, altered: 0, 'not-registered': 0, 'ledger-unreachable': 0, unreadable: 0, ...c });

describe('export gate rule (src/core/gates.ts)', () => {
  it('original DICOM and a PNG with overlay text are identifiable; anonymised DICOM and a bare PNG are not', () => {
    expect(isIdentifiable('dicom-original')).toBe(true);
    expect(isIdentifiable('png', ['  ', 'DOE^JANE'])).toBe(true);
    expect(isIdentifiable('png', ['', '   '])).toBe(false);
    expect(isIdentifiable('dicom-anonymised', ['DOE^JANE'])).toBe(false);
  });

  it('an identifiable export goes only when every image is verified; otherwise it may be overridden', () => {
    expect(exportGate({ format: 'dicom-original', identifiable: true, instances: 3, counts: counts({ verified: 3 }) })).toMatchObject({ allowed: true, overridable: false });
    const refused = exportGate({ format: 'dicom-original', identifiable: true, instances: 3, counts: counts({ verified: 1, altered: 1, 'ledger-unreachable': 1 }) });
    expect(refused).toMatchObject({ allowed: false, overridable: true });
    const verified = refused.checks.find((c) => c.code === 'verified')!;
    expect(verified.ok).toBe(false);
    expect(verified.message).toBe('2 of 3 image(s) are not verified (1 altered, 1 ledger-unreachable).');
    expect(verified.remedy).toMatch(/override with a typed reason/);
  });

  it('a non-identifiable export goes even when nothing is verified (the ledger is down)', () => {
    const g = exportGate({ format: 'dicom-anonymised', identifiable: false, instances: 2, counts: counts({ 'ledger-unreachable': 2 }) });
    expect(g).toMatchObject({ allowed: true, overridable: false });
    expect(g.checks.every((c) => c.ok)).toBe(true);
    expect(g.checks.find((c) => c.code === 'verified')!.remedy).toBeNull();
  });
});
