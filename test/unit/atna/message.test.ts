/**
 * ATNA audit messages (src/node/atna): every kind of entry the app records becomes a message with the
 * DICOM PS3.15 A.5.1 structure (checked element by element against the schema table in
 * test/support/atna-schema.ts) and the EventID / EventTypeCode / EventActionCode of the mapping in
 * docs/audit.md; the syslog framing is RFC 5424 and RFC 5425 octet counting.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/node/audit';
import { ATNA_MAPPING, atnaEventFor, buildAuditMessage, octetCounted, syslogMessage, type MappingContext } from '../../../src/node/atna';
import { all, checkA51, codeOf, parse } from '../../support/atna-schema';

const ctx: MappingContext = {
  workstation: { host: 'reading-room-2', osUser: 'drwho' },
  patientOf: (uid) => (uid === '1.2.826.0.1.3680043.8.498.1' ? { id: 'PAT-0042', name: 'Müller^Anna' } : null),
  nameOf: (a) => (a === '0xAbC0000000000000000000000000000000000001' ? 'Dr. Ada Lovelace' : null),
  siteId: null,
};
const STUDY = '1.2.826.0.1.3680043.8.498.1';
const ADA = '0xAbC0000000000000000000000000000000000001';

function entry(action: string, over: Partial<AuditEntry> = {}): AuditEntry {
  return { seq: 7, at: '2026-11-29T10:15:30.123Z', actor: ADA, action, subject: { study: STUDY }, details: {}, reason: null, prevHash: '0'.repeat(64), hash: 'a'.repeat(64), ...over };
}

function message(e: AuditEntry) {
  const ev = atnaEventFor(e, ctx);
  expect(ev).not.toBeNull();
  const xml = buildAuditMessage(ev!);
  const { root } = parse(xml);
  expect(root.tagName).toBe('AuditMessage');
  expect(checkA51(root)).toEqual([]);
  const ei = all(root, 'EventIdentification')[0]!;
  return {
    xml,
    root,
    eventId: codeOf(all(ei, 'EventID')[0]),
    eventTypes: all(ei, 'EventTypeCode').map((c) => codeOf(c)),
    action: ei.getAttribute('EventActionCode'),
    outcome: ei.getAttribute('EventOutcomeIndicator'),
    time: ei.getAttribute('EventDateTime'),
    participants: all(root, 'ActiveParticipant').map((p) => ({
      userId: p.getAttribute('UserID'),
      alt: p.getAttribute('AlternativeUserID'),
      name: p.hasAttribute('UserName') ? p.getAttribute('UserName') : null,
      requestor: p.getAttribute('UserIsRequestor'),
      nap: [p.getAttribute('NetworkAccessPointID'), p.getAttribute('NetworkAccessPointTypeCode')],
      roles: all(p, 'RoleIDCode').map((r) => codeOf(r)[0]),
    })),
    objects: all(root, 'ParticipantObjectIdentification').map((o) => ({
      id: o.getAttribute('ParticipantObjectID'),
      type: o.getAttribute('ParticipantObjectTypeCode'),
      role: o.getAttribute('ParticipantObjectTypeCodeRole'),
      idType: codeOf(all(o, 'ParticipantObjectIDTypeCode')[0]),
      name: all(o, 'ParticipantObjectName')[0]?.textContent ?? null,
    })),
    source: all(root, 'AuditSourceIdentification')[0]!.getAttribute('AuditSourceID'),
  };
}

describe('ATNA audit messages (DICOM PS3.15 A.5)', () => {
  it('a study viewing: DICOM Instances Accessed (110103, R), the user with workstation and OS user, the patient and the study', () => {
    const m = message(
      entry('view', {
        subject: { study: STUDY, series: '1.2.3.4' },
        details: { patient: { id: 'PAT-0042', name: 'Müller^Anna' }, workstation: { host: 'reading-room-2', osUser: 'drwho' }, identity: { address: ADA, name: 'Dr. Ada Lovelace' } },
      }),
    );
    expect(m.eventId).toEqual(['110103', 'DCM', 'DICOM Instances Accessed']);
    expect(m.action).toBe('R');
    expect(m.outcome).toBe('0');
    expect(m.time).toBe('2026-11-29T10:15:30.123Z');
    expect(m.participants).toEqual([{ userId: ADA, alt: 'drwho', name: 'Dr. Ada Lovelace', requestor: 'true', nap: ['reading-room-2', '1'], roles: [] }]);
    expect(m.objects).toEqual([
      { id: 'PAT-0042', type: '1', role: '1', idType: ['2', 'RFC-3881', 'Patient Number'], name: 'Müller^Anna' },
      { id: STUDY, type: '2', role: '3', idType: ['110180', 'DCM', 'Study Instance UID'], name: null },
    ]);
    expect(m.source).toBe('MedImgShr@reading-room-2');
  });

  it('viewing as the workstation user (no sign-in): the OS user is the UserID', () => {
    const m = message(entry('view', { actor: 'workstation:drwho@reading-room-2', details: { patient: { id: 'PAT-0042', name: null }, identity: null } }));
    expect(m.participants[0]).toMatchObject({ userId: 'workstation:drwho@reading-room-2', alt: 'drwho', name: null, requestor: 'true' });
  });

  it('login, failed login and logout: User Authentication (110114) with Login / Logout (110122 / 110123) and the outcome', () => {
    const ok = message(entry('login', { subject: {}, details: { account: { address: ADA, name: 'Dr. Ada Lovelace' } } }));
    expect([ok.eventId[0], ok.eventTypes, ok.action, ok.outcome]).toEqual(['110114', [['110122', 'DCM', 'Login']], 'E', '0']);
    expect(ok.objects).toEqual([]);
    const bad = message(entry('login.failed', { subject: {}, details: { error: 'The passphrase is not correct.' } }));
    expect([bad.eventId[0], bad.eventTypes[0]![0], bad.outcome]).toEqual(['110114', '110122', '4']);
    expect(parse(bad.xml).root.getElementsByTagName('EventOutcomeDescription')[0]!.textContent).toBe('The passphrase is not correct.');
    const out = message(entry('logout', { subject: {} }));
    expect([out.eventId[0], out.eventTypes[0]![0], out.outcome]).toEqual(['110114', '110123', '0']);
  });

  it('export: Export (110106) with the user as source and the folder as destination media; the patient is looked up by the study', () => {
    for (const a of ['export.original', 'export.anonymised', 'export.png']) {
      const m = message(entry(a, { details: { outDir: '/media/usb/out' } }));
      expect([m.eventId[0], m.action, m.outcome]).toEqual(['110106', 'R', '0']);
      expect(m.participants.map((p) => [p.userId, p.requestor, p.roles])).toEqual([
        [ADA, 'true', ['110153']],
        ['/media/usb/out', 'false', ['110154']],
      ]);
      expect(m.participants[0]!.name).toBe('Dr. Ada Lovelace');
      expect(m.objects.map((o) => o.id)).toEqual(['PAT-0042', STUDY]);
    }
    expect(message(entry('export.failed', { details: { error: 'disk full' } })).outcome).toBe('4');
  });

  it('share, receive, consent, override: Begin Transferring (110102), Import (110107), Patient Record (110110), Security Alert (110113 / 110127)', () => {
    const share = message(entry('share', { details: { recipient: '0x00000000000000000000000000000000000000B0' } }));
    expect([share.eventId[0], share.action]).toEqual(['110102', 'E']);
    expect(share.participants.map((p) => [p.userId, p.roles])).toEqual([
      [ADA, ['110153']],
      ['0x00000000000000000000000000000000000000B0', ['110152']],
    ]);
    const recv = message(entry('receive', { details: { sender: '0x00000000000000000000000000000000000000C0', access: { granted: true }, verified: true } }));
    expect([recv.eventId[0], recv.action, recv.outcome]).toEqual(['110107', 'C', '0']);
    expect(recv.participants.map((p) => p.roles)).toEqual([['110152'], ['110153']]);
    const denied = message(entry('receive', { details: { sender: '0x00000000000000000000000000000000000000C0', access: { granted: false, text: 'no consent' } } }));
    expect(denied.outcome).toBe('4');
    const consent = message(entry('consent.collected'));
    expect([consent.eventId[0], consent.action]).toEqual(['110110', 'U']);
    const ov = message(entry('override', { reason: 'ledger offline' }));
    expect([ov.eventId[0], ov.eventTypes[0]![0], ov.action]).toEqual(['110113', '110127', 'E']);
  });

  it('a PACS search → Query (110112): the PACS as Destination, the query on the Study Root FIND SOP Class; a failed one has outcome 4', () => {
    const details = { pacs: { connection: 'Orthanc', aeTitle: 'ORTHANC', host: '10.0.0.5' }, via: 'dimse', level: 'STUDY', query: { patientName: 'DOE^*', modality: 'CT' }, matches: 3, more: false };
    const m = message(entry('pacs.query', { subject: {}, details }));
    expect([m.eventId[0], m.action, m.outcome]).toEqual(['110112', 'E', '0']);
    expect(m.participants.map((p) => [p.userId, p.requestor, p.roles])).toEqual([
      [ADA, 'true', ['110153']],
      ['ORTHANC', 'false', ['110152']],
    ]);
    expect(m.participants[1]!.nap).toEqual(['10.0.0.5', '2']);
    expect(m.objects).toEqual([{ id: '1.2.840.10008.5.1.4.1.2.2.1', type: '2', role: '3', idType: ['110181', 'DCM', 'SOP Class UID'], name: null }]);
    const q = all(m.root, 'ParticipantObjectQuery')[0]!.textContent!;
    expect(JSON.parse(Buffer.from(q, 'base64').toString('utf8'))).toEqual({ patientName: 'DOE^*', modality: 'CT' });
    const failed = message(entry('pacs.query', { subject: {}, details: { ...details, matches: undefined, error: 'The PACS refused the connection.' } }));
    expect(failed.outcome).toBe('4');
    expect(all(failed.root, 'EventOutcomeDescription')[0]!.textContent).toBe('The PACS refused the connection.');
  });

  it('every action in the mapping table builds a schema-valid message; unknown actions build none', () => {
    for (const action of Object.keys(ATNA_MAPPING)) expect(checkA51(parse(buildAuditMessage(atnaEventFor(entry(action), ctx)!)).root), action).toEqual([]);
    expect(atnaEventFor(entry('something.else'), ctx)).toBeNull();
  });

  it('escapes markup in names and IDs (a patient name cannot inject elements)', () => {
    const m = message(entry('view', { details: { patient: { id: 'A&B<1>', name: '</ParticipantObjectName><Evil/>"\'' } } }));
    expect(m.objects[0]).toMatchObject({ id: 'A&B<1>', name: '</ParticipantObjectName><Evil/>"\'' });
  });

  it('the checker itself rejects a message with a missing required attribute or an element out of order', () => {
    const good = buildAuditMessage(atnaEventFor(entry('view'), ctx)!);
    expect(checkA51(parse(good.replace(' UserIsRequestor="true"', '')).root)).toEqual([expect.stringContaining('UserIsRequestor missing')]);
    const swapped = good.replace(/(<ActiveParticipant.*?<\/ActiveParticipant>)(<AuditSourceIdentification.*?<\/AuditSourceIdentification>)/, '$2$1');
    expect(checkA51(parse(swapped).root).length).toBeGreaterThan(0);
  });
});

describe('syslog framing', () => {
  it('RFC 5424: <85>1 TIMESTAMP HOST APP PROCID IHE+RFC-3881 - BOM MSG', () => {
    const msg = syslogMessage({ timestamp: '2026-11-29T10:15:30.123Z', hostname: 'reading room 2', appName: 'MedImgShr', procId: 4242 }, '<AuditMessage/>');
    expect(msg).toBe('<85>1 2026-11-29T10:15:30.123Z reading_room_2 MedImgShr 4242 IHE+RFC-3881 - \uFEFF<AuditMessage/>');
    expect(/^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*\]) /.exec(msg)?.[1]).toBe('85');
  });

  it('RFC 5425 octet counting: the length prefix counts UTF-8 bytes', () => {
    const m = syslogMessage({ timestamp: '2026-11-29T10:15:30Z', hostname: 'h', appName: 'a', procId: 1 }, 'Müller^Anna');
    const framed = octetCounted(m);
    const sp = framed.indexOf(0x20);
    const len = Number(framed.subarray(0, sp).toString('ascii'));
    expect(len).toBe(Buffer.byteLength(m, 'utf8'));
    expect(len).toBe(m.length + 2 + 1); // ü is two bytes, the BOM three (one UTF-16 unit each)
    expect(framed.subarray(sp + 1).toString('utf8')).toBe(m);
  });
});
