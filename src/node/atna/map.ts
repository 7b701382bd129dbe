/**
 * Our audit log's actions → DICOM PS3.15 A.5.3 audit messages (the mapping table is in docs/audit.md).
 * Pure: the entry and what the caller looked up (patient of the study, names) come in as arguments.
 */
import type { AuditEntry } from '../audit';
import { AUDIT_SOURCE_WORKSTATION, DCM, RFC3881, type ActiveParticipant, type AuditEvent, type CodedValue, type EventActionCode, type EventOutcome, type ParticipantObject } from './message';

export interface MappingContext {
  workstation: { host: string; osUser: string };
  /** The patient of a study in the local index (ID and name), or null when it is not indexed. */
  patientOf(studyInstanceUid: string): { id: string; name: string | null } | null;
  /** A display name for an actor (an identity's name), or null. */
  nameOf(actor: string): string | null;
  /** AuditEnterpriseSiteID (the institution), when known. */
  siteId?: string | null;
}

interface EventShape {
  eventId: CodedValue;
  eventTypes?: CodedValue[];
  action: EventActionCode;
  outcome?: EventOutcome;
  /** The requesting user's role, when the message kind defines one. */
  userRole?: CodedValue;
  /** Another active participant (the recipient, the sender, the destination folder, the PACS queried). */
  other?: (e: AuditEntry) => ActiveParticipant | null;
  /** Participant objects of its own (the query of a Query event), before the patient and study. */
  objects?: (e: AuditEntry) => ParticipantObject[];
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The mapping table: our action → EventID / EventTypeCode / EventActionCode. */
export const ATNA_MAPPING: Record<string, EventShape> = {
  view: { eventId: DCM.dicomInstancesAccessed, action: 'R' },
  login: { eventId: DCM.userAuthentication, eventTypes: [DCM.login], action: 'E' },
  'login.failed': { eventId: DCM.userAuthentication, eventTypes: [DCM.login], action: 'E', outcome: 4 },
  logout: { eventId: DCM.userAuthentication, eventTypes: [DCM.logout], action: 'E' },
  'export.original': { eventId: DCM.export, action: 'R', userRole: DCM.source, other: destinationMedia },
  'export.anonymised': { eventId: DCM.export, action: 'R', userRole: DCM.source, other: destinationMedia },
  'export.png': { eventId: DCM.export, action: 'R', userRole: DCM.source, other: destinationMedia },
  'export.failed': { eventId: DCM.export, action: 'R', outcome: 4, userRole: DCM.source },
  override: { eventId: DCM.securityAlert, eventTypes: [DCM.emergencyOverrideStarted], action: 'E' },
  share: {
    eventId: DCM.beginTransferring,
    action: 'E',
    userRole: DCM.source,
    other: (e) => (str(e.details.recipient) ? { userId: str(e.details.recipient)!, isRequestor: false, roles: [DCM.destination] } : null),
  },
  receive: {
    eventId: DCM.import,
    action: 'C',
    userRole: DCM.destination,
    other: (e) => (str(e.details.sender) ? { userId: str(e.details.sender)!, isRequestor: false, roles: [DCM.source] } : null),
  },
  'consent.collected': { eventId: DCM.patientRecord, action: 'U' },
  /** A PACS search (QIDO-RS or C-FIND): PS3.15 A.5.3.13 Query — the PACS as the responding process, the query as the object. */
  'pacs.query': {
    eventId: DCM.query,
    action: 'E',
    userRole: DCM.source,
    other: (e) => {
      const p = obj(e.details.pacs);
      const id = str(p.aeTitle) ?? str(p.url) ?? str(p.connection);
      if (!id) return null;
      const host = str(p.host);
      return { userId: id, alternativeUserId: str(p.connection) ?? undefined, isRequestor: false, roles: [DCM.destination], ...(host ? { networkAccessPoint: { id: host, type: /^[\d.]+$|:/.test(host) ? 2 : 1 } } : {}) };
    },
    objects: (e) => {
      const q = obj(e.details.query);
      const details = [{ type: 'QueryLevel', value: str(e.details.level) ?? 'STUDY' }];
      if (str(e.details.via) === 'dimse') details.push({ type: 'TransferSyntax', value: '1.2.840.10008.1.2.1' });
      // The SOP Class queried: Study Root Query/Retrieve Information Model – FIND (a QIDO-RS search asks the same model over HTTP).
      return [{ id: '1.2.840.10008.5.1.4.1.2.2.1', typeCode: 2, typeCodeRole: 3, idType: DCM.sopClassUid, query: JSON.stringify(q), details, description: str(e.details.via) === 'dimse' ? 'C-FIND' : 'QIDO-RS' }];
    },
  },
  /** (for the consent-revocation work on its own branch: same message, its own action name) */
  'consent.revoked': { eventId: DCM.patientRecord, action: 'U' },
};

function destinationMedia(e: AuditEntry): ActiveParticipant | null {
  const dir = str(e.details.outDir);
  return dir ? { userId: dir, isRequestor: false, roles: [DCM.destinationMedia] } : null;
}

function outcomeOf(e: AuditEntry, shape: EventShape): { outcome: EventOutcome; description?: string } {
  if (shape.outcome !== undefined) return { outcome: shape.outcome, description: str(e.details.error) ?? undefined };
  if (e.action === 'pacs.query' && str(e.details.error)) return { outcome: 4, description: str(e.details.error)! };
  if (e.action === 'receive') {
    const access = obj(e.details.access);
    if (access.granted === false) return { outcome: 4, description: str(access.text) ?? 'access denied by the ledger' };
    if (e.details.verified === false) return { outcome: 4, description: 'images do not match the record on the ledger' };
  }
  return { outcome: 0 };
}

/** The ATNA event for an audit-log entry, or null for actions that have no ATNA counterpart. */
export function atnaEventFor(e: AuditEntry, ctx: MappingContext): AuditEvent | null {
  const shape = ATNA_MAPPING[e.action];
  if (!shape) return null;
  const w = obj(e.details.workstation);
  const host = str(w.host) ?? ctx.workstation.host;
  const osUser = str(w.osUser) ?? ctx.workstation.osUser;
  const identity = obj(e.details.identity);
  const account = obj(e.details.account);
  const userName = str(identity.name) ?? str(account.name) ?? ctx.nameOf(e.actor) ?? undefined;
  const user: ActiveParticipant = {
    userId: e.actor,
    alternativeUserId: osUser,
    userName,
    isRequestor: true,
    networkAccessPoint: { id: host, type: 1 },
    roles: shape.userRole ? [shape.userRole] : [],
  };
  const participants = [user];
  const other = shape.other?.(e);
  if (other) participants.push(other);
  const objects: ParticipantObject[] = shape.objects?.(e) ?? [];
  const study = e.subject.study;
  const patientFromEntry = obj(e.details.patient);
  const patient = str(patientFromEntry.id) ? { id: str(patientFromEntry.id)!, name: str(patientFromEntry.name) } : study ? ctx.patientOf(study) : null;
  if (patient) objects.push({ id: patient.id, typeCode: 1, typeCodeRole: 1, idType: RFC3881.patientNumber, name: patient.name ?? undefined });
  if (study) {
    objects.push({
      id: study,
      typeCode: 2,
      typeCodeRole: 3,
      idType: DCM.studyInstanceUid,
      description: e.subject.series ? `series ${e.subject.series}` : undefined,
      details: [{ type: 'medimgshr-audit-seq', value: String(e.seq) }],
    });
  }
  const { outcome, description } = outcomeOf(e, shape);
  return {
    eventId: shape.eventId,
    eventTypes: shape.eventTypes,
    action: shape.action,
    dateTime: e.at,
    outcome,
    outcomeDescription: description ?? (e.reason ? `reason: ${e.reason}` : undefined),
    participants,
    source: { id: `MedImgShr@${ctx.workstation.host}`, enterpriseSiteId: ctx.siteId ?? undefined, type: AUDIT_SOURCE_WORKSTATION },
    objects,
  };
}
