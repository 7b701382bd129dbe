/**
 * An honest record of access, in the app: with the clinic's syslog collector set (a real rsyslogd on a
 * free loopback port, TLS with a throwaway CA), opening a study in the viewer records one audit entry
 * — shown in the audit log with the workstation user, the patient and the study — and the collector
 * receives one DICOM PS3.15 audit message (DICOM Instances Accessed) naming the same patient, study
 * and user. Opening the same series again is the same viewing: still one entry, one message.
 * Screenshots of the audit log at 1920x1080 and 1280x720.
 */
import { userInfo } from 'node:os';
import { test, expect } from './rig';
import { importPaths, invoke, openSeries, sampleSeries, expandAll, viewport } from './support/viewer';
import { component } from '../support/components';
import { startRsyslog, type Rsyslog } from '../support/rsyslog';
import { all, checkA51, codeOf, parse } from '../support/atna-schema';
import type { CollectorStateView, StudySummary } from '../../src/shared/api';

test.use({ servicesOptions: { ledger: { mode: 'none' }, atna: { retryMs: 100 } } });

test.describe('viewing audit', () => {
  test.skip(component('rsyslog') === null, 'rsyslog (with rsyslog-openssl) is not installed');

  test('opening a study → one audit entry in the log and one ATNA message at the collector', async ({ app }) => {
    test.setTimeout(120_000);
    const { page, services } = app;
    let rs: Rsyslog | null = null;
    const sample = await sampleSeries(3, 'mr', 23);
    try {
      rs = await startRsyslog();
      await importPaths(page, [sample.dir]);
      const { studies } = await invoke<{ studies: StudySummary[] }>(page, 'library.studies', {});
      const study = studies[0]!;
      const set = await invoke<CollectorStateView>(page, 'audit.syslog.set', { enabled: true, host: '127.0.0.1', port: rs.tlsPort, transport: 'tls', caPath: rs.caFile });
      expect(set.state).toBe('idle');

      await page.reload();
      await openSeries(page, 0);
      // The same series clicked again: the same viewing.
      const rows = await expandAll(page);
      await rows.first().click();
      await expect(viewport(page)).toHaveAttribute('data-state', 'ready');

      await page.getByRole('button', { name: 'Trust', exact: true }).click();
      await page.getByTestId('trust-drawer').getByRole('button', { name: 'Audit log' }).click();
      const log = page.getByTestId('audit-log');
      const entries = log.getByTestId('audit-row');
      await expect(entries).toHaveCount(1);
      await expect(entries.first()).toHaveAttribute('data-action', 'view');
      const osUser = userInfo().username;
      const actor = entries.first().getByTestId('audit-actor');
      await expect(actor).toHaveText(`${osUser} on ${services.workstation.host} (not signed in)`);
      await expect(actor.locator('span')).toHaveAttribute('title', `workstation:${osUser}@${services.workstation.host}`);
      await expect(entries.first()).toContainText(`patient ${study.patient.patientId}`);
      await expect(entries.first()).toContainText(`workstation ${services.workstation.host}, OS user ${osUser}`);
      const time = entries.first().locator('time');
      const iso = (await invoke<{ entries: { at: string }[] }>(page, 'audit.list', {})).entries[0]!.at;
      await expect(time).toHaveAttribute('title', iso);
      await expect(time).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      await expect(log.getByTestId('audit-chain')).toHaveAttribute('data-ok', 'true');

      // The collector line says it was sent.
      const collector = log.getByTestId('audit-collector');
      await expect(collector).toHaveAttribute('data-state', 'idle');
      await expect(collector).toContainText(`tls://127.0.0.1:${rs.tlsPort}`);
      await expect(collector).toContainText('1 sent');

      const got = await rs.waitFor(1);
      expect(got).toHaveLength(1);
      expect(got[0]!).toMatchObject({ input: 'imtcp', pri: 85, appName: 'MedImgShr', msgId: 'IHE+RFC-3881' });
      const { root } = parse(got[0]!.msg);
      expect(checkA51(root)).toEqual([]);
      expect(codeOf(all(root, 'EventID')[0])).toEqual(['110103', 'DCM', 'DICOM Instances Accessed']);
      const user = all(root, 'ActiveParticipant')[0]!;
      expect([user.getAttribute('UserID'), user.getAttribute('AlternativeUserID'), user.getAttribute('UserIsRequestor'), user.getAttribute('NetworkAccessPointID')]).toEqual([
        `workstation:${osUser}@${services.workstation.host}`,
        osUser,
        'true',
        services.workstation.host,
      ]);
      const objects = all(root, 'ParticipantObjectIdentification').map((o) => [o.getAttribute('ParticipantObjectID'), codeOf(all(o, 'ParticipantObjectIDTypeCode')[0])[0]]);
      expect(objects).toEqual([
        [study.patient.patientId, '2'],
        [study.studyInstanceUid, '110180'],
      ]);

      // The settings form opens with what is stored.
      await log.getByTestId('audit-collector-edit').click();
      await expect(log.getByLabel('Collector host')).toHaveValue('127.0.0.1');
      await expect(log.getByLabel('Collector port')).toHaveValue(String(rs.tlsPort));
      await expect(log.getByLabel('Collector transport')).toHaveValue('tls');
      await expect(log.getByLabel('Collector CA file')).toHaveAttribute('placeholder', /MedImgShr test syslog CA/);
      for (const [w, h] of [
        [1920, 1080],
        [1280, 720],
      ] as const) {
        await page.setViewportSize({ width: w, height: h });
        await app.screenshot(`viewing-audit-${w}x${h}`);
      }
      // Nothing else arrived (the second click was the same viewing).
      expect(rs.messages()).toHaveLength(1);
      expect((await invoke<{ total: number }>(page, 'audit.list', {})).total).toBe(1);
    } finally {
      await rs?.stop();
      sample.cleanup();
    }
  });
});
