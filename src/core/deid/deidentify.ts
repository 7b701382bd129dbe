/**
 * The de-identification engine: applies the Basic Application Level Confidentiality Profile
 * (PS3.15 Annex E, see basic-profile.ts) to a data set held in dcmjs's "dict" shape
 * (`{ 'GGGGEEEE': { vr, Value } }`, sequences as arrays of such dicts). Pure: no I/O; the caller
 * reads and writes the file. Sequences are walked recursively at any depth.
 *
 * Decisions beyond the table (documented in docs/anonymisation.md):
 * - combined codes (X/Z, X/D, Z/D, X/Z/D, X/Z/U*): the table allows the left action only when the
 *   attribute is not needed for IOD conformance. We have no per-IOD type tables, so by default
 *   ("conformant") the rightmost action is applied — Z keeps a Type 2 attribute present but empty,
 *   D keeps a Type 1 attribute present with a dummy, U* keeps a reference sequence with its UIDs
 *   remapped. `combined: 'remove'` applies the leftmost (X) instead.
 * - C (clean) is treated as X (remove); the Basic column does not use C.
 * - all private attributes (odd groups, including private creators) are removed — the Basic profile
 *   default (no Retain Safe Private option).
 * - curves (50xx) are removed entirely; overlays (60xx) are removed as whole groups, not just Overlay
 *   Data / Overlay Comments, since an overlay plane without its data is not conformant.
 * - UI attributes the table does not name are remapped too (consistently), unless they hold a
 *   DICOM-defined UID (1.2.840.10008.*) or are a class/coding-scheme UID listed in KEEP_UID_TAGS.
 * - D on a sequence keeps the items but replaces every text, date and time value inside them with a
 *   dummy (UIDs are remapped, numbers and codes strings of VR CS are kept).
 */
import { PROFILE_EDITION, profileRow, type DeidAction } from './basic-profile';

export interface DcmElement {
  vr: string;
  Value?: unknown[];
  _rawValue?: unknown;
  [k: string]: unknown;
}
export type DcmDict = Record<string, DcmElement>;

/** What happened to an attribute. */
export type Applied = 'removed' | 'emptied' | 'dummy' | 'uid' | 'kept' | 'walked';

export type CombinedPolicy = 'conformant' | 'remove';

/** A fresh UID under the 2.25 root (ISO/IEC 9834-8: a UUID written as one decimal integer). */
export function uuidUid(uuid: string = globalThis.crypto.randomUUID()): string {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return `2.25.${BigInt(`0x${hex}`).toString(10)}`;
}

/**
 * Original UID → new UID, one map per export, so every file of the export (and every reference
 * inside sequences) gets the same replacement for the same original.
 */
export class UidMap {
  private readonly map = new Map<string, string>();
  constructor(private readonly generate: () => string = () => uuidUid()) {}
  get(original: string): string {
    const key = original.replace(/[\0 ]+$/, '');
    if (key === '') return key;
    let v = this.map.get(key);
    if (v === undefined) {
      v = this.generate();
      this.map.set(key, v);
    }
    return v;
  }
  has(original: string): boolean {
    return this.map.has(original);
  }
  get size(): number {
    return this.map.size;
  }
  /** The originals that were replaced (for tests and in-memory checks; never write this anywhere). */
  originals(): string[] {
    return [...this.map.keys()];
  }
}

/** UI attributes whose values name classes, syntaxes or coding schemes, never instances: kept. */
export const KEEP_UID_TAGS = new Set([
  '00020002', // Media Storage SOP Class UID
  '00020010', // Transfer Syntax UID
  '00020012', // Implementation Class UID
  '00041510', // Referenced SOP Class UID in File
  '00041512', // Referenced Transfer Syntax UID in File
  '00080016', // SOP Class UID
  '0008001A', // Related General SOP Class UID
  '0008001B', // Original Specialized SOP Class UID
  '00080062', // SOP Classes in Study
  '0008010C', // Coding Scheme UID
  '00080117', // Context UID
  '00080118', // Mapping Resource UID
  '00081150', // Referenced SOP Class UID
  '00081151', // Referenced SOP Class UID (alternate use; some vendors)
  '0018100B', // Manufacturer's Device Class UID
  '04000010', // MAC Calculation Transfer Syntax UID
]);

const TEXT_VRS = new Set(['AE', 'LO', 'LT', 'SH', 'ST', 'UC', 'UT', 'PN', 'UR']);
const DATE_VRS = new Set(['DA', 'DT', 'TM']);
const NUMERIC_BINARY = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV']);

/** A non-empty dummy value consistent with the VR. */
export function dummyValue(vr: string): unknown[] {
  switch (vr) {
    case 'PN':
      return [{ Alphabetic: 'ANONYMOUS' }];
    case 'AE':
    case 'LO':
    case 'LT':
    case 'SH':
    case 'ST':
    case 'UC':
    case 'UT':
    case 'CS':
      return ['ANONYMISED'];
    case 'UR':
      return ['urn:anonymised'];
    case 'DA':
      return ['19000101'];
    case 'TM':
      return ['000000'];
    case 'DT':
      return ['19000101000000'];
    case 'AS':
      return ['000Y'];
    case 'IS':
    case 'DS':
      return ['0'];
    case 'AT':
      return [0];
    default:
      if (NUMERIC_BINARY.has(vr)) return [0];
      // OB, OW, OD, OF, OL, OV, UN: two zero bytes (even length, non-empty).
      return [new Uint8Array(2).buffer];
  }
}

/** Resolves a table code to the one action applied, under the combined-code policy. */
export function resolveAction(code: DeidAction, policy: CombinedPolicy): 'X' | 'Z' | 'D' | 'U' | 'K' | 'U*' {
  if (code === 'C') return 'X';
  if (!code.includes('/')) return code as 'X' | 'Z' | 'D' | 'U' | 'K';
  const parts = code.split('/');
  const pick = policy === 'remove' ? parts[0]! : parts[parts.length - 1]!;
  return pick as 'X' | 'Z' | 'D' | 'U*';
}

export interface DeidContext {
  uids: UidMap;
  combined?: CombinedPolicy;
}

export interface DeidLog {
  /** Action applied to each top-level attribute that was changed or removed, by tag. */
  applied: Map<string, Applied>;
  privateRemoved: number;
  curvesOverlaysRemoved: number;
  /** Attributes changed or removed at any depth. */
  changed: number;
}

function isPrivateGroup(tag: string): boolean {
  return parseInt(tag.slice(0, 4), 16) % 2 === 1;
}
function isCurveOrOverlay(tag: string): boolean {
  const g = parseInt(tag.slice(0, 4), 16);
  return ((g >= 0x5000 && g <= 0x501e) || (g >= 0x6000 && g <= 0x601e)) && g % 2 === 0;
}

function setValue(el: DcmElement, value: unknown[]): void {
  el.Value = value;
  delete el._rawValue;
}

function mapUidValues(el: DcmElement, uids: UidMap): void {
  const vals = (el.Value ?? []).map((v) => (typeof v === 'string' && v !== '' ? uids.get(v) : v));
  setValue(el, vals);
}

/**
 * De-identifies `dict` in place. `meta` (the file meta group) gets its Media Storage SOP Instance UID
 * remapped with the same map. Returns what was done.
 */
export function deidentifyDataset(dict: DcmDict, ctx: DeidContext, meta?: DcmDict): DeidLog {
  const policy = ctx.combined ?? 'conformant';
  const log: DeidLog = { applied: new Map(), privateRemoved: 0, curvesOverlaysRemoved: 0, changed: 0 };

  const walk = (d: DcmDict, top: boolean, dummyText: boolean): void => {
    for (const tag of Object.keys(d)) {
      const el = d[tag]!;
      const T = tag.toUpperCase();
      const note = (a: Applied) => {
        if (top) log.applied.set(T, a);
        if (a !== 'kept' && a !== 'walked') log.changed++;
      };
      if (isPrivateGroup(T)) {
        delete d[tag];
        log.privateRemoved++;
        note('removed');
        continue;
      }
      if (isCurveOrOverlay(T)) {
        delete d[tag];
        log.curvesOverlaysRemoved++;
        note('removed');
        continue;
      }
      const row = profileRow(T);
      if (row) {
        const action = resolveAction(row.action, policy);
        switch (action) {
          case 'X':
            delete d[tag];
            note('removed');
            break;
          case 'Z':
            setValue(el, []);
            note('emptied');
            break;
          case 'D':
            if (el.vr === 'SQ') {
              for (const item of (el.Value ?? []) as DcmDict[]) walk(item, false, true);
              if (!el.Value || el.Value.length === 0) setValue(el, [{}]);
            } else if (el.vr === 'UI') {
              if (el.Value && el.Value.length > 0) mapUidValues(el, ctx.uids);
              else setValue(el, [uuidUid()]);
            } else {
              setValue(el, dummyValue(el.vr));
            }
            note('dummy');
            break;
          case 'U':
            if (el.vr === 'SQ') {
              for (const item of (el.Value ?? []) as DcmDict[]) walk(item, false, dummyText);
            } else {
              mapUidValues(el, ctx.uids);
            }
            note('uid');
            break;
          case 'U*':
            for (const item of (el.Value ?? []) as DcmDict[]) walk(item, false, dummyText);
            note('walked');
            break;
          case 'K':
            note('kept');
            break;
        }
        continue;
      }
      // Not named by the profile.
      if (el.vr === 'SQ') {
        for (const item of (el.Value ?? []) as DcmDict[]) walk(item, false, dummyText);
        continue;
      }
      if (el.vr === 'UI') {
        if (KEEP_UID_TAGS.has(T)) continue;
        const vals = el.Value ?? [];
        if (vals.some((v) => typeof v === 'string' && v !== '' && !v.startsWith('1.2.840.10008.'))) {
          setValue(
            el,
            vals.map((v) => (typeof v === 'string' && v !== '' && !v.startsWith('1.2.840.10008.') ? ctx.uids.get(v) : v)),
          );
          note('uid');
        }
        continue;
      }
      if (dummyText && (TEXT_VRS.has(el.vr) || DATE_VRS.has(el.vr)) && el.Value && el.Value.length > 0) {
        setValue(el, dummyValue(el.vr));
        note('dummy');
      }
    }
  };
  walk(dict, true, false);

  if (meta) {
    const ms = meta['00020003'];
    if (ms && ms.Value && ms.Value.length > 0) mapUidValues(ms, ctx.uids);
    for (const tag of Object.keys(meta)) if (isPrivateGroup(tag)) delete meta[tag];
    // The SOP instance in the meta must match the data set's.
    const sop = dict['00080018']?.Value?.[0];
    if (ms && typeof sop === 'string') setValue(ms, [sop]);
  }
  return log;
}

/** Code for the method, PS3.16 CID 7050: "Basic Application Confidentiality Profile". */
export const BASIC_PROFILE_CODE = { CodeValue: '113100', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Basic Application Confidentiality Profile' };

/**
 * Marks the data set as de-identified (PS3.15 E.1.1 and the Patient Identification Module):
 * Patient Identity Removed, De-identification Method, De-identification Method Code Sequence.
 * `identityRemoved` is false when burned-in annotation was knowingly kept (override).
 */
export function markDeidentified(dict: DcmDict, identityRemoved: boolean, method: string[]): void {
  dict['00120062'] = { vr: 'CS', Value: [identityRemoved ? 'YES' : 'NO'] };
  dict['00120063'] = { vr: 'LO', Value: method.map((m) => m.slice(0, 64)) };
  dict['00120064'] = {
    vr: 'SQ',
    Value: [
      {
        '00080100': { vr: 'SH', Value: [BASIC_PROFILE_CODE.CodeValue] },
        '00080102': { vr: 'SH', Value: [BASIC_PROFILE_CODE.CodingSchemeDesignator] },
        '00080104': { vr: 'LO', Value: [BASIC_PROFILE_CODE.CodeMeaning] },
      },
    ],
  };
}

export const DEID_METHOD = ['PS3.15 E.1 Basic Application Confidentiality Profile', 'MedImgShr; private attributes removed'];
export { PROFILE_EDITION };

/** Modalities whose images commonly carry burned-in text (names, dates) in the pixels. */
export const BURN_IN_PRONE_MODALITIES = new Set(['US', 'IVUS', 'XC', 'ES', 'GM', 'OT', 'SC', 'DOC']);
/** Secondary Capture SOP classes (screen grabs, scanned documents). */
const SECONDARY_CAPTURE = /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.7(\.|$)/;

export type BurnedInStatus = 'no' | 'yes' | 'unknown-prone' | 'unknown' | 'no-pixels';

export interface BurnedInVerdict {
  status: BurnedInStatus;
  /** True when this instance may not be exported as anonymised without an explicit override. */
  blocks: boolean;
  reason: string;
}

function firstString(d: DcmDict, tag: string): string | undefined {
  const v = d[tag]?.Value?.[0];
  return typeof v === 'string' ? v.trim().toUpperCase() : undefined;
}

/**
 * Burned In Annotation (0028,0301): YES blocks; NO passes; absent or empty blocks when the modality
 * (or a Secondary Capture SOP class) commonly burns text into the pixels, passes otherwise.
 */
export function burnedInVerdict(dict: DcmDict): BurnedInVerdict {
  const flag = firstString(dict, '00280301');
  const modality = firstString(dict, '00080060') ?? '';
  const sopClass = firstString(dict, '00080016') ?? '';
  const hasPixels = '7FE00010' in dict || '7FE00008' in dict || '7FE00009' in dict;
  if (!hasPixels) return { status: 'no-pixels', blocks: false, reason: 'The instance has no pixel data, so nothing can be burned in.' };
  if (flag === 'YES') {
    return { status: 'yes', blocks: true, reason: 'The image says it has burned-in annotation (0028,0301 = YES): patient details may be written in the pixels, which the profile cannot remove.' };
  }
  if (flag === 'NO') return { status: 'no', blocks: false, reason: 'Burned In Annotation is NO.' };
  if (BURN_IN_PRONE_MODALITIES.has(modality) || SECONDARY_CAPTURE.test(sopClass)) {
    const what = SECONDARY_CAPTURE.test(sopClass) ? 'a secondary capture' : `modality ${modality}`;
    return {
      status: 'unknown-prone',
      blocks: true,
      reason: `The image does not say whether it has burned-in annotation, and ${what} often has patient details written in the pixels.`,
    };
  }
  return { status: 'unknown', blocks: false, reason: `Burned In Annotation is not stated; modality ${modality || 'unknown'} rarely has burned-in text.` };
}
