/**
 * DICOM PS3.15 Annex A.5 audit messages (IHE ATNA), built as XML text. Pure: no I/O, no clock, no
 * host lookups — everything the message says is in its input, so the unit tests check every element.
 *
 * Structure (A.5.1, the DICOM schema with csd-code / codeSystemName / originalText coded values):
 *   AuditMessage
 *     EventIdentification (EventActionCode, EventDateTime, EventOutcomeIndicator)
 *       EventID, EventTypeCode*, EventOutcomeDescription?
 *     ActiveParticipant+ (UserID, AlternativeUserID?, UserName?, UserIsRequestor, NetworkAccessPointID?, NetworkAccessPointTypeCode?)
 *       RoleIDCode*
 *     AuditSourceIdentification (AuditEnterpriseSiteID?, AuditSourceID)
 *       AuditSourceTypeCode
 *     ParticipantObjectIdentification* (ParticipantObjectID, ParticipantObjectTypeCode, ParticipantObjectTypeCodeRole)
 *       ParticipantObjectIDTypeCode, ParticipantObjectName?, ParticipantObjectDetail*, ParticipantObjectDescription?
 */

export interface CodedValue {
  code: string;
  system: string;
  meaning: string;
}

const dcm = (code: string, meaning: string): CodedValue => ({ code, system: 'DCM', meaning });

/** The DCM codes this app uses (PS3.16 / PS3.15 A.5.3). */
export const DCM = {
  // EventID
  dicomInstancesAccessed: dcm('110103', 'DICOM Instances Accessed'),
  beginTransferring: dcm('110102', 'Begin Transferring DICOM Instances'),
  export: dcm('110106', 'Export'),
  import: dcm('110107', 'Import'),
  patientRecord: dcm('110110', 'Patient Record'),
  query: dcm('110112', 'Query'),
  securityAlert: dcm('110113', 'Security Alert'),
  userAuthentication: dcm('110114', 'User Authentication'),
  // EventTypeCode
  login: dcm('110122', 'Login'),
  logout: dcm('110123', 'Logout'),
  emergencyOverrideStarted: dcm('110127', 'Emergency Override Started'),
  // RoleIDCode
  application: dcm('110150', 'Application'),
  destination: dcm('110152', 'Destination Role ID'),
  source: dcm('110153', 'Source Role ID'),
  destinationMedia: dcm('110154', 'Destination Media'),
  sourceMedia: dcm('110155', 'Source Media'),
  // ParticipantObjectIDTypeCode
  studyInstanceUid: dcm('110180', 'Study Instance UID'),
  sopClassUid: dcm('110181', 'SOP Class UID'),
} as const;

/** RFC 3881 codes the DICOM schema keeps for participant object ID types. */
export const RFC3881 = {
  patientNumber: { code: '2', system: 'RFC-3881', meaning: 'Patient Number' } as CodedValue,
} as const;

/** AuditSourceTypeCode 1: End-user display device, diagnostic display (a viewing workstation). */
export const AUDIT_SOURCE_WORKSTATION: CodedValue = { code: '1', system: 'DCM', meaning: 'End-user display device, diagnostic display' };

export type EventActionCode = 'C' | 'R' | 'U' | 'D' | 'E';
/** 0 success, 4 minor failure, 8 serious failure, 12 major failure. */
export type EventOutcome = 0 | 4 | 8 | 12;

export interface ActiveParticipant {
  userId: string;
  alternativeUserId?: string;
  userName?: string;
  isRequestor: boolean;
  /** A host name (type 1) or an IP address (type 2). */
  networkAccessPoint?: { id: string; type: 1 | 2 };
  roles: CodedValue[];
}

export interface ParticipantObject {
  id: string;
  /** 1 person, 2 system object. */
  typeCode: 1 | 2;
  /** 1 patient, 3 report, 24 query … */
  typeCodeRole: number;
  idType: CodedValue;
  name?: string;
  /** ParticipantObjectQuery (e.g. the C-FIND identifier or the QIDO-RS query), written base64; instead of `name`. */
  query?: string;
  description?: string;
  details?: { type: string; value: string }[];
}

export interface AuditEvent {
  eventId: CodedValue;
  eventTypes?: CodedValue[];
  action: EventActionCode;
  /** ISO 8601 with zone. */
  dateTime: string;
  outcome: EventOutcome;
  outcomeDescription?: string;
  participants: ActiveParticipant[];
  source: { id: string; enterpriseSiteId?: string; type: CodedValue };
  objects: ParticipantObject[];
}

/** XML attribute / text escaping (also strips characters XML 1.0 cannot carry). */
export function xmlEscape(s: string): string {
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function attrs(a: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

function coded(tag: string, c: CodedValue): string {
  return `<${tag}${attrs({ 'csd-code': c.code, codeSystemName: c.system, originalText: c.meaning })}/>`;
}

/** The audit message as XML (UTF-8 text, no BOM, one line). */
export function buildAuditMessage(e: AuditEvent): string {
  if (e.participants.length === 0) throw new Error('an audit message needs at least one ActiveParticipant');
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>', '<AuditMessage>'];
  out.push(`<EventIdentification${attrs({ EventActionCode: e.action, EventDateTime: e.dateTime, EventOutcomeIndicator: e.outcome })}>`);
  out.push(coded('EventID', e.eventId));
  for (const t of e.eventTypes ?? []) out.push(coded('EventTypeCode', t));
  if (e.outcomeDescription) out.push(`<EventOutcomeDescription>${xmlEscape(e.outcomeDescription)}</EventOutcomeDescription>`);
  out.push('</EventIdentification>');
  for (const p of e.participants) {
    out.push(
      `<ActiveParticipant${attrs({
        UserID: p.userId,
        AlternativeUserID: p.alternativeUserId,
        UserName: p.userName,
        UserIsRequestor: p.isRequestor,
        NetworkAccessPointID: p.networkAccessPoint?.id,
        NetworkAccessPointTypeCode: p.networkAccessPoint?.type,
      })}>`,
    );
    for (const r of p.roles) out.push(coded('RoleIDCode', r));
    out.push('</ActiveParticipant>');
  }
  out.push(`<AuditSourceIdentification${attrs({ AuditEnterpriseSiteID: e.source.enterpriseSiteId, AuditSourceID: e.source.id })}>`);
  out.push(coded('AuditSourceTypeCode', e.source.type));
  out.push('</AuditSourceIdentification>');
  for (const o of e.objects) {
    out.push(`<ParticipantObjectIdentification${attrs({ ParticipantObjectID: o.id, ParticipantObjectTypeCode: o.typeCode, ParticipantObjectTypeCodeRole: o.typeCodeRole })}>`);
    out.push(coded('ParticipantObjectIDTypeCode', o.idType));
    if (o.query !== undefined) out.push(`<ParticipantObjectQuery>${Buffer.from(o.query, 'utf8').toString('base64')}</ParticipantObjectQuery>`);
    else if (o.name) out.push(`<ParticipantObjectName>${xmlEscape(o.name)}</ParticipantObjectName>`);
    for (const d of o.details ?? []) out.push(`<ParticipantObjectDetail${attrs({ type: d.type, value: Buffer.from(d.value, 'utf8').toString('base64') })}/>`);
    if (o.description) out.push(`<ParticipantObjectDescription>${xmlEscape(o.description)}</ParticipantObjectDescription>`);
    out.push('</ParticipantObjectIdentification>');
  }
  out.push('</AuditMessage>');
  return out.join('');
}
