/**
 * An honest record of access, end to end through the real services and a real syslog collector
 * (Debian's rsyslogd on free loopback ports, UDP and TLS with a throwaway CA):
 * - opening a study through the handler table records one audit entry (a second series of the same
 *   study does not add one) and the collector receives one DICOM PS3.15 audit message for it, with
 *   EventID 110103, the patient ID, the Study Instance UID and the user (the workstation's OS user
 *   before sign-in, the identity after it);
 * - a failed and a successful sign-in arrive as User Authentication (110114 / 110122) with outcomes 4 and 0;
 * - a collector that is down never blocks or fails the app: the entry is still recorded, the message
 *   is retried and then dropped with a count the settings screen shows.
 */
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Services } from '../../../src/node/services';
import type { SenderOptions } from '../../../src/node/atna';
import { createHandlerTable, dispatch, type HandlerTable } from '../../../src/node/handlers';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import type { Channel, RequestOf, ResponseOf } from '../../../src/shared/api';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';
import { startRsyslog, type ReceivedSyslog, type Rsyslog } from '../../support/rsyslog';
import { all, checkA51, codeOf, parse } from '../../support/atna-schema';

const haveRsyslog = component('rsyslog') !== null;

function atna(m: ReceivedSyslog) {
  const { root } = parse(m.msg);
  const problems = checkA51(root);
  const ei = all(root, 'EventIdentification')[0]!;
  const user = all(root, 'ActiveParticipant').find((p) => p.getAttribute('UserIsRequestor') === 'true')!;
  const objects = all(root, 'ParticipantObjectIdentification');
  const byIdType = (code: string) => objects.find((o) => codeOf(all(o, 'ParticipantObjectIDTypeCode')[0])[0] === code)?.getAttribute('ParticipantObjectID') ?? null;
  return {
    problems,
    eventId: codeOf(all(ei, 'EventID')[0])[0],
    eventType: codeOf(all(ei, 'EventTypeCode')[0])[0],
    outcome: ei.getAttribute('EventOutcomeIndicator'),
    userId: user.getAttribute('UserID'),
    altUser: user.getAttribute('AlternativeUserID'),
    host: user.getAttribute('NetworkAccessPointID'),
    patientId: byIdType('2'),
    studyUid: byIdType('110180'),
  };
}

describe.skipIf(!haveRsyslog)('ATNA audit messages to a real syslog collector', () => {
  let rs: Rsyslog;
  const tmp = tempDir('medimg-atna-');
  beforeAll(async () => {
    rs = await startRsyslog();
  });
  afterAll(async () => {
    await rs?.stop();
    tmp.cleanup();
  });

  async function open(name: string, atnaOpts: SenderOptions = { retryMs: 50 }) {
    const s = await Services.open({ home: join(tmp.path, name), ledger: { mode: 'none' }, identity: { scryptN: 1024 }, atna: atnaOpts });
    const table: HandlerTable = createHandlerTable(s);
    const call = async <C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
      const r = await dispatch(table, channel, request, { url: 'app://test', trusted: true }, s.log);
      if (!r.ok) throw Object.assign(new Error(r.error.message), r.error);
      return r.value as ResponseOf<C>;
    };
    return { s, call };
  }

  for (const transport of ['udp', 'tls'] as const) {
    it(`${transport}: one study opening → one audit entry and one ATNA message with EventID, patient, study and user; sign-ins too`, async () => {
      const { s, call } = await open(`home-${transport}`);
      try {
        const input = transport === 'udp' ? 'imudp' : 'imtcp';
        const before = rs.messages().filter((m) => m.input === input).length;
        const set = await call('audit.syslog.set', { enabled: true, host: '127.0.0.1', port: transport === 'udp' ? rs.udpPort : rs.tlsPort, transport, caPath: transport === 'tls' ? rs.caFile : null });
        expect(set.state).toBe('idle');
        expect(set.settings).toMatchObject({ enabled: true, transport, hasCa: transport === 'tls' });
        if (transport === 'tls') expect(set.settings.caSubject).toContain('MedImgShr test syslog CA');

        const a = await writeSampleSeries({ outDir: join(tmp.path, `${transport}-a`), slices: 2, kind: 'mr', seed: 17 });
        await call('library.import', { paths: [join(tmp.path, `${transport}-a`)] });
        const { studies } = await call('library.studies', {});
        expect(studies).toHaveLength(1);
        const study = studies[0]!;
        expect(study.studyInstanceUid).toBe(a.studyInstanceUid);
        const { series } = await call('library.series', { studyId: study.id });

        // Open the study (as the viewport does), then again (another series / the same series): one entry.
        const first = await call('audit.studyOpened', { seriesId: series[0]!.id });
        expect(first.recorded).toBe(true);
        expect(await call('audit.studyOpened', { seriesId: series[0]!.id })).toEqual({ seq: first.seq, recorded: false });
        const views = (await call('audit.list', { action: 'view' })).entries;
        expect(views).toHaveLength(1);
        const osUser = userInfo().username;
        expect(views[0]).toMatchObject({
          seq: first.seq,
          actor: `workstation:${osUser}@${s.workstation.host}`,
          subject: { study: a.studyInstanceUid, series: a.seriesInstanceUid },
          details: { patient: { id: study.patient.patientId }, workstation: { host: s.workstation.host, osUser }, identity: null, signedIn: false },
        });

        // Sign-in: a wrong passphrase, then the right one; then the same study opened again is a new viewing, by the identity.
        const id = await call('identity.create', { displayName: 'Dr. Ada Lovelace', passphrase: 'correct horse battery' });
        await expect(call('identity.unlock', { address: id.address, passphrase: 'wrong passphrase' })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
        await call('identity.unlock', { address: id.address, passphrase: 'correct horse battery' });
        const second = await call('audit.studyOpened', { seriesId: series[0]!.id });
        expect(second.recorded).toBe(true);
        const entries = (await call('audit.list', { order: 'asc' })).entries;
        expect(entries.map((e) => [e.action, e.actor])).toEqual([
          ['view', `workstation:${osUser}@${s.workstation.host}`],
          ['login.failed', id.address],
          ['login', id.address],
          ['view', id.address],
        ]);
        expect((await call('audit.verify', {})).ok).toBe(true);

        await s.atna.settled();
        const got = (await rs.waitFor(before + 4, (m) => m.input === input)).slice(before);
        expect(got).toHaveLength(4);
        for (const m of got) {
          expect([m.pri, m.version, m.appName, m.msgId, m.hostname]).toEqual([85, 1, 'MedImgShr', 'IHE+RFC-3881', s.workstation.host]);
        }
        const msgs = got.map(atna);
        for (const m of msgs) expect(m.problems).toEqual([]);
        expect(msgs.map((m) => [m.eventId, m.eventType, m.outcome, m.userId])).toEqual([
          ['110103', null, '0', `workstation:${osUser}@${s.workstation.host}`],
          ['110114', '110122', '4', id.address],
          ['110114', '110122', '0', id.address],
          ['110103', null, '0', id.address],
        ]);
        for (const v of [msgs[0]!, msgs[3]!]) {
          expect(v).toMatchObject({ patientId: study.patient.patientId, studyUid: a.studyInstanceUid, altUser: osUser, host: s.workstation.host });
        }
        expect((await call('audit.syslog.get', {})).sent).toBe(4);
      } finally {
        await s.close();
      }
    });
  }

  it('a collector that is down: the entry is recorded at once, the message retried, then dropped and counted', async () => {
    const { s, call } = await open('home-down', { retryMs: 20, maxAttempts: 3 });
    try {
      // A TLS collector on a port where nobody listens (the CA is the real one).
      const { createServer } = await import('node:net');
      const port = await new Promise<number>((resolve) => {
        const srv = createServer().listen(0, '127.0.0.1', () => {
          const p = (srv.address() as { port: number }).port;
          srv.close(() => resolve(p));
        });
      });
      await call('audit.syslog.set', { enabled: true, host: '127.0.0.1', port, transport: 'tls', caPath: rs.caFile });
      await writeSampleSeries({ outDir: join(tmp.path, 'down'), slices: 1, kind: 'mr', seed: 5 });
      await call('library.import', { paths: [join(tmp.path, 'down')] });
      const { studies } = await call('library.studies', {});
      const { series } = await call('library.series', { studyId: studies[0]!.id });
      expect((await call('audit.studyOpened', { seriesId: series[0]!.id })).recorded).toBe(true);
      expect((await call('audit.list', { action: 'view' })).entries).toHaveLength(1);
      let st = await call('audit.syslog.get', {});
      for (let i = 0; i < 200 && st.dropped === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
        st = await call('audit.syslog.get', {});
      }
      expect(st).toMatchObject({ state: 'failing', sent: 0, dropped: 1, queued: 0 });
      expect(st.lastError).toMatch(/ECONNREFUSED/);
      // Turning it off: state off, nothing more is queued.
      expect((await call('audit.syslog.set', { enabled: false, host: '', port: 6514, transport: 'tls' })).state).toBe('off');
    } finally {
      await s.close();
    }
  });

  it('image bytes served for a study whose opening was not recorded (a renderer that skipped the call): the viewing is recorded then, once', async () => {
    const { s, call } = await open('home-route');
    try {
      const a = await writeSampleSeries({ outDir: join(tmp.path, 'route'), slices: 3, kind: 'mr', seed: 9 });
      await call('library.import', { paths: [join(tmp.path, 'route')] });
      const { studies } = await call('library.studies', {});
      const { series } = await call('library.series', { studyId: studies[0]!.id });
      const { instances } = await call('library.instances', { seriesId: series[0]!.id });
      expect(instances).toHaveLength(3);
      for (const i of instances) {
        const r = await s.resources.resolve(new URL(`app://medimgshr/dicom/${i.id}`));
        expect(r?.status).toBe(200);
      }
      const views = (await call('audit.list', { action: 'view' })).entries;
      expect(views).toHaveLength(1);
      expect(views[0]).toMatchObject({ subject: { study: a.studyInstanceUid }, details: { via: 'image request', patient: { id: studies[0]!.patient.patientId } } });
      // The viewer's own call for the same study is the same viewing.
      expect(await call('audit.studyOpened', { seriesId: series[0]!.id })).toEqual({ seq: views[0]!.seq, recorded: false });
      expect((await call('audit.list', {})).total).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('refuses unusable settings with a plain reason and keeps the old ones', async () => {
    const { s, call } = await open('home-bad');
    try {
      await expect(call('audit.syslog.set', { enabled: true, host: '', port: 514, transport: 'udp' })).rejects.toThrow(/a collector host is needed/);
      await expect(call('audit.syslog.set', { enabled: true, host: '127.0.0.1', port: 6514, transport: 'tls', caPath: join(tmp.path, 'nope.pem') })).rejects.toThrow(/cannot be read/);
      expect((await call('audit.syslog.get', {})).state).toBe('off');
    } finally {
      await s.close();
    }
  });
});
