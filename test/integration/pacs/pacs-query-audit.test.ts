/**
 * Every PACS search is recorded (audit log action "pacs.query") and sent to the ATNA collector as a
 * DICOM PS3.15 Query event (EventID 110112): real Orthanc (QIDO-RS and C-FIND), real rsyslogd (UDP),
 * the handler table as the renderer calls it. The message names who asked (Source role), the PACS
 * that answered (Destination role: its AE title for C-FIND, its DICOMweb root for QIDO-RS), and the
 * query itself (ParticipantObjectQuery, base64 of the keys asked, on the Study Root FIND SOP Class);
 * a search that fails (the PACS down) is recorded too, with outcome 4 and the reason.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Services } from '../../../src/node/services';
import { createHandlerTable, dispatch, type HandlerTable } from '../../../src/node/handlers';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import type { Channel, RequestOf, ResponseOf } from '../../../src/shared/api';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';
import { startRsyslog, type ReceivedSyslog, type Rsyslog } from '../../support/rsyslog';
import { all, checkA51, codeOf, parse } from '../../support/atna-schema';
import { startOrthanc, stowRs, type OrthancServer } from '../../support/orthanc';
import { readFileSync } from 'node:fs';

const have = component('rsyslog') !== null && component('orthanc') !== null;
if (process.env.CI && !have) throw new Error('rsyslogd and Orthanc are required when CI is set');

function query(m: ReceivedSyslog) {
  const { root } = parse(m.msg);
  const ei = all(root, 'EventIdentification')[0]!;
  const parts = all(root, 'ActiveParticipant');
  const requestor = parts.find((p) => p.getAttribute('UserIsRequestor') === 'true')!;
  const pacs = parts.find((p) => p.getAttribute('UserIsRequestor') === 'false') ?? null;
  const obj = all(root, 'ParticipantObjectIdentification').find((o) => codeOf(all(o, 'ParticipantObjectIDTypeCode')[0])[0] === '110181')!;
  const q = all(obj, 'ParticipantObjectQuery')[0]?.textContent ?? '';
  return {
    problems: checkA51(root),
    eventId: codeOf(all(ei, 'EventID')[0])[0],
    action: ei.getAttribute('EventActionCode'),
    outcome: ei.getAttribute('EventOutcomeIndicator'),
    outcomeText: all(ei, 'EventOutcomeDescription')[0]?.textContent ?? null,
    requestorRole: codeOf(all(requestor, 'RoleIDCode')[0])[0],
    pacs: pacs ? { id: pacs.getAttribute('UserID'), role: codeOf(all(pacs, 'RoleIDCode')[0])[0] } : null,
    sopClass: obj.getAttribute('ParticipantObjectID'),
    role: obj.getAttribute('ParticipantObjectTypeCodeRole'),
    query: JSON.parse(Buffer.from(q, 'base64').toString('utf8')) as Record<string, unknown>,
  };
}

describe.skipIf(!have)('ATNA Query (110112) for every PACS search', () => {
  let rs: Rsyslog;
  let orthanc: OrthancServer;
  let s: Services;
  let table: HandlerTable;
  const tmp = tempDir('medimg-pacs-query-audit-');
  const call = async <C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
    const r = await dispatch(table, channel, request, { url: 'app://test', trusted: true }, s.log);
    if (!r.ok) throw Object.assign(new Error(r.error.message), r.error);
    return r.value as ResponseOf<C>;
  };

  beforeAll(async () => {
    // Orthanc answers C-FIND only for a calling AE title it knows (it lets an unknown one time out)
    [rs, orthanc] = await Promise.all([startRsyslog(), startOrthanc({ config: { DicomModalities: { medimg: ['MEDIMGSHR', '127.0.0.1', 11112] } } })]);
    const a = await writeSampleSeries({ outDir: join(tmp.path, 'a'), slices: 2, kind: 'mr', seed: 23, matrix: 64 });
    const files = a.files.map((f) => new Uint8Array(readFileSync(f)));
    expect(await stowRs(orthanc, files)).toBe(200);
    expect(a.studyInstanceUid).toMatch(/^[0-9.]+$/);
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' }, atna: { retryMs: 50 } });
    table = createHandlerTable(s);
    await call('audit.syslog.set', { enabled: true, host: '127.0.0.1', port: rs.udpPort, transport: 'udp', caPath: null });
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    await Promise.all([rs?.stop(), orthanc?.stop()]);
    tmp.cleanup();
  });

  it('QIDO-RS and C-FIND searches, a series expansion and a failed search: one audit entry and one Query message each', async () => {
    const web = await call('pacs.connections.add', { name: 'Orthanc web', dicomweb: { url: orthanc.dicomWebUrl, auth: 'none' } });
    const dimse = await call('pacs.connections.add', { name: 'Orthanc dimse', dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'MEDIMGSHR' } });
    const before = rs.messages().filter((m) => m.input === 'imudp').length;

    const w = await call('pacs.search', { connectionId: web.id, patientName: 'SYNTHETIC*', limit: 10, offset: 0 });
    expect(w.studies.map((x) => x.patientName)).toEqual(['SYNTHETIC^PHANTOM']);
    const d = await call('pacs.search', { connectionId: dimse.id, patientName: 'SYNTHETIC*', limit: 10, offset: 0 });
    expect(d.studies).toHaveLength(1);
    const se = await call('pacs.series', { connectionId: web.id, studyInstanceUid: w.studies[0]!.studyInstanceUid });
    expect(se.series).toHaveLength(1);
    await orthanc.stop();
    await expect(call('pacs.search', { connectionId: dimse.id, patientName: 'NOBODY', limit: 10, offset: 0 })).rejects.toMatchObject({ message: expect.any(String) });

    const entries = (await call('audit.list', { action: 'pacs.query', order: 'asc' })).entries;
    expect(entries.map((e) => [e.details.via, e.details.level, (e.details.pacs as { connection: string }).connection, e.details.matches ?? null, e.details.error ? 'error' : null])).toEqual([
      ['dicomweb', 'STUDY', 'Orthanc web', 1, null],
      ['dimse', 'STUDY', 'Orthanc dimse', 1, null],
      ['dicomweb', 'SERIES', 'Orthanc web', 1, null],
      ['dimse', 'STUDY', 'Orthanc dimse', null, 'error'],
    ]);
    expect((await call('audit.verify', {})).ok).toBe(true);

    await s.atna.settled();
    const got = (await rs.waitFor(before + 4, (m) => m.input === 'imudp')).slice(before).map(query);
    expect(got).toHaveLength(4);
    for (const m of got) {
      expect(m.problems).toEqual([]);
      expect([m.eventId, m.action, m.requestorRole, m.sopClass, m.role]).toEqual(['110112', 'E', '110153', '1.2.840.10008.5.1.4.1.2.2.1', '3']);
    }
    expect(got.map((m) => [m.outcome, m.pacs])).toEqual([
      ['0', { id: orthanc.dicomWebUrl, role: '110152' }],
      ['0', { id: orthanc.aet, role: '110152' }],
      ['0', { id: orthanc.dicomWebUrl, role: '110152' }],
      ['4', { id: orthanc.aet, role: '110152' }],
    ]);
    expect(got[0]!.query).toMatchObject({ patientName: 'SYNTHETIC*', limit: 10, offset: 0 });
    expect(got[1]!.query).toMatchObject({ patientName: 'SYNTHETIC*', limit: 10 });
    expect(got[2]!.query).toEqual({ studyInstanceUid: w.studies[0]!.studyInstanceUid });
    expect(got[3]!.outcomeText).toMatch(/\S/);
  });
});
