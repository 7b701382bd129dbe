/**
 * The structure of a DICOM PS3.15 Annex A.5.1 audit message (the DICOM schema, coded values as
 * csd-code / codeSystemName / originalText), transcribed as a table, and a checker that walks a
 * parsed message against it: only the schema's elements, in its order, with its cardinalities;
 * required attributes present, no attribute the schema does not define, enumerated values valid.
 */
import { DOMParser } from '@xmldom/xmldom';

interface ChildRule {
  name: string;
  min: number;
  max: number;
}
interface ElementRule {
  attrs: Record<string, { required: boolean; pattern?: RegExp }>;
  /** Children in schema order; a group of alternatives is written as 'A|B'. */
  children: ChildRule[];
  text?: boolean;
}

const CODED: ElementRule = {
  attrs: { 'csd-code': { required: true, pattern: /^\S+$/ }, codeSystemName: { required: true, pattern: /^\S+$/ }, originalText: { required: true, pattern: /\S/ }, displayName: { required: false } },
  children: [],
};
const N = Number.POSITIVE_INFINITY;

export const A51: Record<string, ElementRule> = {
  AuditMessage: {
    attrs: {},
    children: [
      { name: 'EventIdentification', min: 1, max: 1 },
      { name: 'ActiveParticipant', min: 1, max: N },
      { name: 'AuditSourceIdentification', min: 1, max: 1 },
      { name: 'ParticipantObjectIdentification', min: 0, max: N },
    ],
  },
  EventIdentification: {
    attrs: {
      EventActionCode: { required: false, pattern: /^[CRUDE]$/ },
      EventDateTime: { required: true, pattern: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/ },
      EventOutcomeIndicator: { required: true, pattern: /^(0|4|8|12)$/ },
    },
    children: [
      { name: 'EventID', min: 1, max: 1 },
      { name: 'EventTypeCode', min: 0, max: N },
      { name: 'EventOutcomeDescription', min: 0, max: 1 },
    ],
  },
  EventID: CODED,
  EventTypeCode: CODED,
  EventOutcomeDescription: { attrs: {}, children: [], text: true },
  ActiveParticipant: {
    attrs: {
      UserID: { required: true, pattern: /\S/ },
      AlternativeUserID: { required: false },
      UserName: { required: false },
      UserIsRequestor: { required: true, pattern: /^(true|false)$/ },
      NetworkAccessPointID: { required: false },
      NetworkAccessPointTypeCode: { required: false, pattern: /^[1-5]$/ },
    },
    children: [
      { name: 'RoleIDCode', min: 0, max: N },
      { name: 'MediaIdentifier', min: 0, max: 1 },
    ],
  },
  RoleIDCode: CODED,
  AuditSourceIdentification: {
    attrs: { AuditEnterpriseSiteID: { required: false }, AuditSourceID: { required: true, pattern: /\S/ } },
    children: [{ name: 'AuditSourceTypeCode', min: 0, max: N }],
  },
  AuditSourceTypeCode: CODED,
  ParticipantObjectIdentification: {
    attrs: {
      ParticipantObjectID: { required: true, pattern: /\S/ },
      ParticipantObjectTypeCode: { required: false, pattern: /^[1-4]$/ },
      ParticipantObjectTypeCodeRole: { required: false, pattern: /^([1-9]|1\d|2[0-4])$/ },
      ParticipantObjectDataLifeCycle: { required: false },
      ParticipantObjectSensitivity: { required: false },
    },
    children: [
      { name: 'ParticipantObjectIDTypeCode', min: 1, max: 1 },
      { name: 'ParticipantObjectName|ParticipantObjectQuery', min: 0, max: 1 },
      { name: 'ParticipantObjectDetail', min: 0, max: N },
      { name: 'ParticipantObjectDescription', min: 0, max: N },
      { name: 'SOPClass', min: 0, max: N },
      { name: 'Accession', min: 0, max: N },
      { name: 'MPPS', min: 0, max: N },
      { name: 'ParticipantObjectContainsStudy', min: 0, max: 1 },
      { name: 'Encrypted', min: 0, max: 1 },
      { name: 'Anonymized', min: 0, max: 1 },
    ],
  },
  ParticipantObjectIDTypeCode: CODED,
  ParticipantObjectName: { attrs: {}, children: [], text: true },
  ParticipantObjectQuery: { attrs: {}, children: [], text: true },
  ParticipantObjectDescription: { attrs: {}, children: [], text: true },
  ParticipantObjectDetail: { attrs: { type: { required: true, pattern: /\S/ }, value: { required: true, pattern: /^[A-Za-z0-9+/=]*$/ } }, children: [] },
};

export interface Parsed {
  doc: Document;
  root: Element;
}

export function parse(xml: string): Parsed {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level: string, msg: string) => (level !== 'warning' ? errors.push(msg) : undefined) } as never).parseFromString(xml, 'text/xml') as unknown as Document;
  if (errors.length) throw new Error(`not well-formed XML: ${errors.join('; ')}`);
  return { doc, root: doc.documentElement };
}

const elements = (e: Element): Element[] => Array.from(e.childNodes as unknown as ArrayLike<Node>).filter((n): n is Element => n.nodeType === 1);

/** Problems found walking `e` against the table (empty when the message has the A.5.1 structure). */
export function checkA51(e: Element, path = e.tagName): string[] {
  const rule = A51[e.tagName];
  if (!rule) return [`${path}: element not in the schema`];
  const out: string[] = [];
  for (const a of Array.from(e.attributes as unknown as ArrayLike<Attr>)) {
    const r = rule.attrs[a.name];
    if (!r) out.push(`${path}: attribute ${a.name} not in the schema`);
    else if (r.pattern && !r.pattern.test(a.value)) out.push(`${path}: ${a.name}="${a.value}" is not a valid value`);
  }
  for (const [name, r] of Object.entries(rule.attrs)) if (r.required && !e.hasAttribute(name)) out.push(`${path}: required attribute ${name} missing`);
  const kids = elements(e);
  if (!rule.text && !rule.children.length && kids.length) out.push(`${path}: must be empty`);
  let i = 0;
  for (const c of rule.children) {
    const names = c.name.split('|');
    let n = 0;
    while (i < kids.length && names.includes(kids[i]!.tagName)) {
      out.push(...checkA51(kids[i]!, `${path}/${kids[i]!.tagName}[${n}]`));
      n++;
      i++;
    }
    if (n < c.min) out.push(`${path}: needs at least ${c.min} ${c.name}`);
    if (n > c.max) out.push(`${path}: at most ${c.max} ${c.name}`);
  }
  if (i < kids.length) out.push(`${path}: ${kids[i]!.tagName} is not allowed here (wrong element or order)`);
  return out;
}

/** The coded value of an element as [code, system, meaning]. */
export const codeOf = (e: Element | null | undefined): [string | null, string | null, string | null] =>
  e ? [e.getAttribute('csd-code'), e.getAttribute('codeSystemName'), e.getAttribute('originalText')] : [null, null, null];

export const all = (e: Element | Document, tag: string): Element[] => Array.from(e.getElementsByTagName(tag) as unknown as ArrayLike<Element>);
