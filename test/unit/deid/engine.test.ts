import { describe, expect, it } from 'vitest';
import {
  UidMap,
  burnedInVerdict,
  deidentifyDataset,
  dummyValue,
  resolveAction,
  uuidUid,
  type DcmDict,
} from '../../../src/core/deid/deidentify';

describe('UIDs', () => {
  it('uuidUid writes a UUID as one decimal integer under 2.25, within the 64-character UI limit', () => {
    expect(uuidUid('00000000-0000-0000-0000-000000000001')).toBe('2.25.1');
    expect(uuidUid('ffffffff-ffff-ffff-ffff-ffffffffffff')).toBe(`2.25.${(2n ** 128n - 1n).toString()}`);
    for (let i = 0; i < 50; i++) {
      const u = uuidUid();
      expect(u).toMatch(/^2\.25\.(0|[1-9]\d*)$/);
      expect(u.length).toBeLessThanOrEqual(64);
    }
    expect(() => uuidUid('not-a-uuid')).toThrow();
  });

  it('UidMap gives the same new UID for the same original (trailing padding ignored) and different ones otherwise', () => {
    const m = new UidMap();
    const a = m.get('1.2.3');
    expect(m.get('1.2.3\0')).toBe(a);
    expect(m.get('1.2.3 ')).toBe(a);
    expect(m.get('1.2.4')).not.toBe(a);
    expect(m.size).toBe(2);
  });
});

describe('combined codes', () => {
  it('resolve to the rightmost action when conformance matters, the leftmost under "remove"; C is removal', () => {
    expect(resolveAction('X/Z', 'conformant')).toBe('Z');
    expect(resolveAction('X/Z/D', 'conformant')).toBe('D');
    expect(resolveAction('X/Z/U*', 'conformant')).toBe('U*');
    expect(resolveAction('Z/D', 'conformant')).toBe('D');
    expect(resolveAction('X/Z/D', 'remove')).toBe('X');
    expect(resolveAction('Z/D', 'remove')).toBe('Z');
    expect(resolveAction('C', 'conformant')).toBe('X');
    expect(resolveAction('K', 'conformant')).toBe('K');
  });

  it('dummy values fit their VR', () => {
    expect(dummyValue('DA')[0]).toMatch(/^\d{8}$/);
    expect(dummyValue('TM')[0]).toMatch(/^\d{6}$/);
    expect(dummyValue('AS')[0]).toMatch(/^\d{3}[DWMY]$/);
    expect((dummyValue('SH')[0] as string).length).toBeLessThanOrEqual(16);
    expect(dummyValue('CS')[0]).toMatch(/^[A-Z0-9 _]{1,16}$/);
    expect(dummyValue('PN')[0]).toEqual({ Alphabetic: 'ANONYMOUS' });
  });
});

describe('walking sequences', () => {
  it('applies the profile at any depth and remaps unlisted instance UIDs, keeping class UIDs', () => {
    const uids = new UidMap();
    const dict: DcmDict = {
      '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
      '00081115': {
        vr: 'SQ', // Referenced Series Sequence (not in the table): walked
        Value: [
          {
            '0020000E': { vr: 'UI', Value: ['9.9.1'] },
            '00081199': {
              vr: 'SQ',
              Value: [{ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.4'] }, '00081155': { vr: 'UI', Value: ['9.9.2'] }, '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Deep^Name' }] } }],
            },
          },
        ],
      },
      '00209999': { vr: 'UI', Value: ['9.9.3'] }, // an unlisted UI attribute
      '00091001': { vr: 'LO', Value: ['private'] },
      '60000010': { vr: 'US', Value: [512] }, // overlay rows: whole overlay group goes
    };
    const log = deidentifyDataset(dict, { uids });
    const series = (dict['00081115']!.Value as DcmDict[])[0]!;
    const inner = (series['00081199']!.Value as DcmDict[])[0]!;
    expect(series['0020000E']!.Value).toEqual([uids.get('9.9.1')]);
    expect(inner['00081155']!.Value).toEqual([uids.get('9.9.2')]);
    expect(inner['00081150']!.Value).toEqual(['1.2.840.10008.5.1.4.1.1.4']);
    expect(inner['00100010']!.Value).toEqual([]);
    expect(dict['00209999']!.Value).toEqual([uids.get('9.9.3')]);
    expect(dict['00080016']!.Value).toEqual(['1.2.840.10008.5.1.4.1.1.2']);
    expect(dict['00091001']).toBeUndefined();
    expect(dict['60000010']).toBeUndefined();
    expect(log.privateRemoved).toBe(1);
    expect(log.curvesOverlaysRemoved).toBe(1);
  });

  it('a D sequence keeps its items but replaces the text inside', () => {
    const dict: DcmDict = {
      '0040A073': {
        vr: 'SQ',
        Value: [{ '0040A075': { vr: 'PN', Value: [{ Alphabetic: 'Dr^Who' }] }, '0040A027': { vr: 'LO', Value: ['Hospital'] }, '00080104': { vr: 'LO', Value: ['Dr Who Code'] } }],
      },
    };
    deidentifyDataset(dict, { uids: new UidMap() });
    const item = (dict['0040A073']!.Value as DcmDict[])[0]!;
    expect(JSON.stringify(item)).not.toMatch(/Who|Hospital/);
    expect(item['0040A027']).toBeUndefined(); // Verifying Organization: X
  });
});

describe('burned-in annotation', () => {
  const img = (extra: DcmDict): DcmDict => ({ '7FE00010': { vr: 'OW', Value: [new ArrayBuffer(2)] }, ...extra });
  it('YES blocks, NO passes, unknown blocks only for burn-in-prone modalities and secondary captures', () => {
    expect(burnedInVerdict(img({ '00280301': { vr: 'CS', Value: ['YES'] }, '00080060': { vr: 'CS', Value: ['CT'] } }))).toMatchObject({ status: 'yes', blocks: true });
    expect(burnedInVerdict(img({ '00280301': { vr: 'CS', Value: ['NO'] }, '00080060': { vr: 'CS', Value: ['US'] } }))).toMatchObject({ status: 'no', blocks: false });
    expect(burnedInVerdict(img({ '00080060': { vr: 'CS', Value: ['US'] } }))).toMatchObject({ status: 'unknown-prone', blocks: true });
    expect(burnedInVerdict(img({ '00080060': { vr: 'CS', Value: ['CT'] }, '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] } }))).toMatchObject({ blocks: true });
    expect(burnedInVerdict(img({ '00080060': { vr: 'CS', Value: ['MR'] } }))).toMatchObject({ status: 'unknown', blocks: false });
    expect(burnedInVerdict({ '00080060': { vr: 'CS', Value: ['US'] } })).toMatchObject({ status: 'no-pixels', blocks: false });
    expect(burnedInVerdict(img({ '00280301': { vr: 'CS', Value: ['YES'] } })).reason).toMatch(/burned-in annotation/);
  });
});
