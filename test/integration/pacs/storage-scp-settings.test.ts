/**
 * The Storage SCP as the app runs it (issue 12, receive side): settings in SQLite (off by default,
 * loopback), started by Services.open when enabled, the allow-list honoured, settings kept across a
 * restart; dcmtk's storescu is the sending modality. With the embedded chain: "anchor what
 * arrives" anchors the delivered study when the association ends, and a second delivery of the
 * same study verifies against that record.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { DEMO_PASSPHRASE } from '../../../src/node/ledger';
import { freeLoopbackPort } from '../../../src/node/net';
import { DEFAULT_SCP_SETTINGS } from '../../../src/node/pacs';
import { Services } from '../../../src/node/services';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { tempDir } from '../../support/tmp';

const haveDcmtk = Boolean(dcmtk());
if (!haveDcmtk && process.env.CI) throw new Error('dcmtk (storescu) is required when CI is set');
const haveAnvil = Boolean(component('anvil'));
const tmp = tempDir('medimg-scp-settings-');

const libraryCount = (s: Services, study: string) =>
  (s.db.prepare('SELECT COUNT(*) AS n FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id WHERE st.study_uid = ?').get(study) as { n: number }).n;

afterAll(() => tmp.cleanup());

describe.skipIf(!haveDcmtk)('Storage SCP settings and lifecycle (dcmtk storescu as the modality)', () => {
  const home = join(tmp.path, 'home');
  let port: number;
  let series: { files: string[]; studyInstanceUid: string };

  beforeAll(async () => {
    port = await freeLoopbackPort();
    series = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 4, kind: 'ct', seed: 41 });
  });

  it('is off by default: nothing listens, loopback, nobody allowed, no anchoring', async () => {
    const s = await Services.open({ home, ledger: { mode: 'none' } });
    try {
      const st = s.pacs.scpStatus();
      expect(st.settings).toEqual(DEFAULT_SCP_SETTINGS);
      expect(st.settings).toMatchObject({ enabled: false, bindAddress: '127.0.0.1', allowedCallingAets: [], anchorArrivals: false });
      expect(st.listening).toBe(false);
      expect(st.port).toBeNull();
    } finally {
      await s.close();
    }
  });

  it('refuses bad settings with what to do, and keeps the old ones', async () => {
    const s = await Services.open({ home, ledger: { mode: 'none' } });
    try {
      expect(() => s.pacs.scpSettings.update({ port: 70000 })).toThrow(/not a TCP port/);
      expect(() => s.pacs.scpSettings.update({ bindAddress: 'pacs.example.org' })).toThrow(/not an IP address/);
      expect(() => s.pacs.scpSettings.update({ allowedCallingAets: ['A\\B'] })).toThrow(/not a valid AE title/);
      expect(s.pacs.scpSettings.get()).toEqual(DEFAULT_SCP_SETTINGS);
    } finally {
      await s.close();
    }
  });

  it('enabled: listens at once; an allowed caller stores (imported, fingerprinted); an unknown caller is refused', async () => {
    const s = await Services.open({ home, ledger: { mode: 'none' } });
    try {
      s.pacs.scpSettings.update({ enabled: true, aeTitle: 'MEDIMGRX', port, allowedCallingAets: ['CT_SCANNER1'] });
      const st = await s.pacs.applyScpSettings();
      expect(st).toMatchObject({ listening: true, port, error: null });

      const refused = await storescu(series.files, { port, calledAet: 'MEDIMGRX', callingAet: 'INTRUDER' });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr + refused.stdout).toMatch(/Association Rejected/i);
      expect(s.pacs.scpStatus().lastRejected).toMatchObject({ callingAet: 'INTRUDER', reason: 'calling AE title not on the allow-list' });

      const r = await storescu(series.files, { port, calledAet: 'MEDIMGRX', callingAet: 'CT_SCANNER1' });
      expect(r.code, r.stderr).toBe(0);
      await s.pacs.whenArrivalsSettled();
      expect(libraryCount(s, series.studyInstanceUid)).toBe(4);
      const after = s.pacs.scpStatus();
      expect(after.stats).toEqual({ associations: 2, rejected: 1, stored: 4, failed: 0 });
      expect(after.recent).toHaveLength(4);
      expect(after.recent.every((x) => x.callingAet === 'CT_SCANNER1' && x.state === 'imported' && x.studyInstanceUid === series.studyInstanceUid)).toBe(true);
      const fps = (s.db.prepare('SELECT COUNT(*) AS n FROM fingerprint_files WHERE study_instance_uid = ? AND leaf IS NOT NULL').get(series.studyInstanceUid) as { n: number }).n;
      expect(fps).toBe(4);
    } finally {
      await s.close();
    }
  });

  it('settings persist across a restart and the enabled SCP starts on open; close stops it', async () => {
    const s = await Services.open({ home, ledger: { mode: 'none' } });
    try {
      const st = s.pacs.scpStatus();
      expect(st.settings).toMatchObject({ enabled: true, aeTitle: 'MEDIMGRX', port, allowedCallingAets: ['CT_SCANNER1'], bindAddress: '127.0.0.1' });
      expect(st.listening).toBe(true);
      const more = await writeSampleSeries({ outDir: join(tmp.path, 'mr'), slices: 2, kind: 'mr', seed: 42 });
      const r = await storescu(more.files, { port, calledAet: 'MEDIMGRX', callingAet: 'CT_SCANNER1' });
      expect(r.code, r.stderr).toBe(0);
      await s.pacs.whenArrivalsSettled();
      expect(libraryCount(s, more.studyInstanceUid)).toBe(2);
    } finally {
      await s.close();
    }
    // closed: nothing listens any more
    const r = await storescu([series.files[0]!], { port, calledAet: 'MEDIMGRX', callingAet: 'CT_SCANNER1' });
    expect(r.code).not.toBe(0);
    // a short CLI-style open (storageScp: false) does not start it
    const c = await Services.open({ home, ledger: { mode: 'none' }, storageScp: false });
    try {
      expect(c.pacs.scpStatus().listening).toBe(false);
    } finally {
      await c.close();
    }
  });

  it('a port already in use: not listening, the status says why (no crash on open)', async () => {
    const blocker = await Services.open({ home, ledger: { mode: 'none' } });
    try {
      expect(blocker.pacs.scpStatus().listening).toBe(true);
      const other = await Services.open({ home: join(tmp.path, 'home2'), ledger: { mode: 'none' } });
      try {
        other.pacs.scpSettings.update({ enabled: true, port, allowedCallingAets: ['X'] });
        const st = await other.pacs.applyScpSettings();
        expect(st.listening).toBe(false);
        expect(st.error).toBe(`Port ${port} is already in use, so the Storage SCP cannot start.`);
      } finally {
        await other.close();
      }
    } finally {
      await blocker.close();
    }
  });
});

describe.skipIf(!haveDcmtk || !haveAnvil)('Storage SCP: anchor what arrives (embedded chain)', () => {
  it('the delivered study is anchored when the association ends; the same study delivered again verifies', async () => {
    const port = await freeLoopbackPort();
    const s = await Services.open({ home: join(tmp.path, 'anchoring'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    try {
      const l = s.ledgerService;
      expect((await l.demo.ensure()).ready).toBe(true);
      await s.identity.unlock(l.demo.addresses().clinician!, DEMO_PASSPHRASE);
      s.pacs.scpSettings.update({ enabled: true, aeTitle: 'MEDIMGRX', port, allowedCallingAets: ['MODALITY1'], anchorArrivals: true });
      expect((await s.pacs.applyScpSettings()).listening).toBe(true);
      const x = await writeSampleSeries({ outDir: join(tmp.path, 'anchor-ct'), slices: 3, kind: 'ct', seed: 43 });
      const r = await storescu(x.files, { port, calledAet: 'MEDIMGRX', callingAet: 'MODALITY1' });
      expect(r.code, r.stderr).toBe(0);
      await s.pacs.whenArrivalsSettled();
      const st = s.pacs.scpStatus();
      expect(st.anchored).toHaveLength(1);
      expect(st.anchored[0]).toMatchObject({ studyInstanceUid: x.studyInstanceUid, delivery: 'confirmed', error: null });
      const conn = await l.contract();
      expect(await conn.contract.hasRecord(st.anchored[0]!.root!)).toBe(true);
      // The modality sends the study again: each arrival is checked against the record just made.
      const again = await storescu(x.files, { port, calledAet: 'MEDIMGRX', callingAet: 'MODALITY1' });
      expect(again.code, again.stderr).toBe(0);
      await s.pacs.whenArrivalsSettled();
      const recent = s.pacs.scpStatus().recent.slice(0, 3);
      expect(recent.map((a) => a.verification)).toEqual(['verified', 'verified', 'verified']);
    } finally {
      await s.close();
    }
  });
});
