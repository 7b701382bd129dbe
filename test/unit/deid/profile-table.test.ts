/**
 * Table test of EVERY attribute the Basic Application Level Confidentiality Profile names
 * (PS3.15 Annex E, Table E.1-1, as encoded in src/core/deid/basic-profile.ts): for each row a data
 * set containing that attribute is created with dcmjs, written as a Part 10 file, anonymised, read
 * back, and the action checked on the value — under both combined-code policies.
 */
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { BASIC_PROFILE, profileRow, type ProfileRow } from '../../../src/core/deid/basic-profile';
import { UidMap, resolveAction, type CombinedPolicy, type DcmDict, type DcmElement } from '../../../src/core/deid/deidentify';
import { anonymiseBytes } from '../../../src/node/dicom/anonymise';

const { DicomMessage, DicomDict, DicomMetaDictionary } = dcmjs.data;

const BASE_SOP = '1.2.826.0.1.3680043.8.498.900';
const SECRET = 'Secret Value';

/** Concrete tag for a row (repeating groups get their first group). */
function concrete(tag: string): string {
  if (tag === '50xxxxxx') return '50003000';
  return tag.replace(/x/g, '0');
}

function vrOf(tag: string): string {
  if (tag === '50003000' || tag === '60003000') return 'OW';
  if (tag === '60004000') return 'LT';
  const e = DicomMetaDictionary.dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`] as { vr: string } | undefined;
  if (!e) throw new Error(`no dictionary entry for ${tag}`);
  return e.vr.slice(0, 2);
}

function secretValue(vr: string, i: number): unknown[] {
  switch (vr) {
    case 'PN':
      return [{ Alphabetic: 'Secret^Person' }];
    case 'DA':
      return ['20240102'];
    case 'TM':
      return ['101112'];
    case 'DT':
      return ['20240102101112'];
    case 'AS':
      return ['042Y'];
    case 'IS':
      return [42];
    case 'DS':
      return [4.2];
    case 'UI':
      return [`1.2.826.0.1.3680043.8.498.${1000 + i}`];
    case 'CS':
      return ['SECRETCS'];
    case 'AE':
      return ['SECRETAE'];
    case 'UR':
      return ['http://secret.example/'];
    case 'US':
    case 'SS':
    case 'UL':
    case 'SL':
      return [42];
    case 'FL':
    case 'FD':
      return [4.5];
    case 'SQ':
      return [
        {
          '00080100': { vr: 'SH', Value: ['SECRET1'] },
          '00080104': { vr: 'LO', Value: ['Secret Person Name'] },
          '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
          '00081155': { vr: 'UI', Value: [`1.2.826.0.1.3680043.8.498.${5000 + i}`] },
        },
      ];
    case 'OB':
    case 'OW':
    case 'UN':
      return [new Uint8Array([1, 2, 3, 4]).buffer];
    default:
      return [SECRET];
  }
}

function baseDict(): DcmDict {
  return {
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
    '00080018': { vr: 'UI', Value: [BASE_SOP] },
    '00080060': { vr: 'CS', Value: ['CT'] },
    '00080070': { vr: 'LO', Value: ['ACME Scanners'] },
    '0020000D': { vr: 'UI', Value: ['1.2.826.0.1.3680043.8.498.901'] },
    '0020000E': { vr: 'UI', Value: ['1.2.826.0.1.3680043.8.498.902'] },
    '00280301': { vr: 'CS', Value: ['NO'] },
    '00090010': { vr: 'LO', Value: ['ACME PRIVATE'] },
    '00091001': { vr: 'LO', Value: ['Secret private value'] },
  };
}

function buildFile(row: ProfileRow, i: number): { bytes: Uint8Array; tag: string; original: DcmElement } {
  const tag = concrete(row.tag);
  const dict = baseDict();
  const vr = vrOf(tag);
  const original: DcmElement = { vr, Value: secretValue(vr, i) };
  const meta: DcmDict = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
    '00020003': { vr: 'UI', Value: [BASE_SOP] },
    '00020010': { vr: 'UI', Value: ['1.2.840.10008.1.2.1'] },
    '00020012': { vr: 'UI', Value: ['1.2.826.0.1.3680043.8.498.1'] },
  };
  if (tag.startsWith('0002')) {
    original.Value = [BASE_SOP];
  } else if (tag !== '00080018') {
    dict[tag] = structuredClone(original);
  } else {
    original.Value = [BASE_SOP];
  }
  const out = new DicomDict(meta);
  out.dict = dict;
  return { bytes: new Uint8Array(out.write()), tag, original };
}

function readBack(bytes: Uint8Array): { meta: DcmDict; dict: DcmDict } {
  return DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function isEmpty(el: DcmElement): boolean {
  const v = el.Value ?? [];
  return v.every((x) => x === '' || x === null || (typeof x === 'object' && x !== null && 'Alphabetic' in x && !(x as { Alphabetic: string }).Alphabetic));
}

function containsSecret(value: unknown): boolean {
  return /Secret|SECRET|20240102|1\.2\.826\.0\.1\.3680043\.8\.498\.[15]\d{3}/.test(JSON.stringify(value ?? null, (_k, v: unknown) => (v instanceof ArrayBuffer ? [...new Uint8Array(v)] : v)));
}

describe.each<CombinedPolicy>(['conformant', 'remove'])('every Basic-profile attribute (policy %s)', (policy) => {
  it.each(BASIC_PROFILE.map((row, i) => [row.tag, row.name, row.action, i] as const))('%s %s → %s', (_tag, _name, _action, i) => {
    const row = BASIC_PROFILE[i]!;
    const uids = new UidMap();
    const { bytes, tag, original } = buildFile(row, i);
    const result = anonymiseBytes(bytes, { uids, combined: policy });
    const { meta, dict } = readBack(result.bytes);
    const action = resolveAction(row.action, policy);
    const el = tag.startsWith('0002') ? meta[tag] : dict[tag];
    // private attributes always go; the attribute the profile does not name stays
    expect(dict['00091001']).toBeUndefined();
    expect(dict['00080070']?.Value).toEqual(['ACME Scanners']);
    expect(dict['00120062']?.Value).toEqual(['YES']);
    switch (action) {
      case 'X':
        expect(el, `${tag} should be removed`).toBeUndefined();
        break;
      case 'Z':
        expect(el, `${tag} should be present`).toBeDefined();
        expect(isEmpty(el!), `${tag} should be empty: ${JSON.stringify(el)}`).toBe(true);
        break;
      case 'D':
        expect(el, `${tag} should be present`).toBeDefined();
        expect(el!.Value && el!.Value.length, `${tag} should hold a dummy`).toBeGreaterThan(0);
        expect(isEmpty(el!)).toBe(false);
        expect(containsSecret(el!.Value), `${tag} still holds the original: ${JSON.stringify(el!.Value)}`).toBe(false);
        if (el!.vr === 'SQ') {
          const item = (el!.Value as DcmDict[])[0]!;
          expect(item['00081155']?.Value).toEqual([uids.get(String((original.Value as DcmDict[])[0]!['00081155']!.Value![0]))]);
        }
        break;
      case 'U': {
        expect(el, `${tag} should be present`).toBeDefined();
        const orig = String(original.Value![0]);
        expect(el!.Value).toEqual([uids.get(orig)]);
        expect(String(el!.Value![0])).toMatch(/^2\.25\.\d{1,39}$/);
        break;
      }
      case 'U*': {
        expect(el, `${tag} should be kept with its UIDs replaced`).toBeDefined();
        const item = (el!.Value as DcmDict[])[0]!;
        const origItem = (original.Value as DcmDict[])[0]!;
        expect(item['00081155']?.Value).toEqual([uids.get(String(origItem['00081155']!.Value![0]))]);
        expect(item['00081150']?.Value).toEqual(['1.2.840.10008.5.1.4.1.1.2']);
        break;
      }
      default:
        throw new Error(`unexpected action ${action}`);
    }
  });
});

describe('the profile table', () => {
  it('names each tag as the DICOM data dictionary does (dcmjs), so no tag number is mistyped', () => {
    // Keywords drop possessives: "Patient's Name" → PatientName, "Operators' Name" → OperatorName.
    const norm = (s: string, keepPluralS = false) => s.replace(/'s\b/g, '').replace(/s'/g, keepPluralS ? 's' : '').toLowerCase().replace(/^retired_/, '').replace(/\(retired\)/, '').replace(/[^a-z0-9]/g, '').replace(/s$/, '');
    const mismatches: string[] = [];
    for (const row of BASIC_PROFILE) {
      if (row.tag.includes('x')) continue;
      const e = DicomMetaDictionary.dictionary[`(${row.tag.slice(0, 4)},${row.tag.slice(4)})`] as { name: string } | undefined;
      if (!e || (norm(e.name) !== norm(row.name) && norm(e.name) !== norm(row.name, true))) mismatches.push(`${row.tag} ${row.name} ≠ ${e?.name}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('has one row per tag, every action code valid, and a few well-known rows as the standard gives them', () => {
    const tags = BASIC_PROFILE.map((r) => r.tag);
    expect(new Set(tags).size).toBe(tags.length);
    expect(BASIC_PROFILE.length).toBeGreaterThan(400);
    for (const r of BASIC_PROFILE) expect(['D', 'Z', 'X', 'K', 'C', 'U', 'Z/D', 'X/Z', 'X/D', 'X/Z/D', 'X/Z/U*']).toContain(r.action);
    expect(profileRow('00100010')?.action).toBe('Z'); // Patient's Name
    expect(profileRow('00100020')?.action).toBe('Z'); // Patient ID
    expect(profileRow('00100030')?.action).toBe('Z'); // Birth Date
    expect(profileRow('00080050')?.action).toBe('Z'); // Accession Number
    expect(profileRow('00080080')?.action).toBe('X/Z/D'); // Institution Name
    expect(profileRow('00081140')?.action).toBe('X/Z/U*'); // Referenced Image Sequence
    expect(profileRow('0020000D')?.action).toBe('U');
    expect(profileRow('00080018')?.action).toBe('U');
    expect(profileRow('00080060')).toBeUndefined(); // Modality: kept
  });

  it('matches repeating groups only on even groups 50xx/60xx up to 1E', () => {
    expect(profileRow('60003000')?.name).toBe('Overlay Data');
    expect(profileRow('601E3000')?.name).toBe('Overlay Data');
    expect(profileRow('60203000')).toBeUndefined();
    expect(profileRow('60013000')).toBeUndefined(); // odd group: private, handled as private
    expect(profileRow('50100010')?.name).toMatch(/Curve/);
  });
});
