/**
 * Secondary access end to end ("address first, then file"), on the embedded anvil and a real
 * Orthanc: a study is anchored from its original files with a storage URI naming the Orthanc
 * (dicomweb:<root>), sent there with dcmtk's storescu and deleted from the local library. From the
 * record's root alone: the store is resolved to the configured connection, the study retrieved and
 * verified against the record. A second workstation (fresh app-data folder) with no connection gets
 * the store named and the exact `medimgshr pacs add` command; with it and the Study Instance UID it
 * verifies too. PatientName changed on Orthanc through its REST API → altered: metadata.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSPHRASE, type LedgerService } from '../../../src/node/ledger';
import { PacsReason } from '../../../src/node/pacs';
import { checkRecordStore, openRecord, parseStorageUri, resolveStore, storageUriOf } from '../../../src/node/pacs/secondary';
import { secondaryDeps } from '../../../src/node/handlers/secondary';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { startOrthanc, type OrthancServer, orthancRest } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const haveDcmtk = Boolean(dcmtk());
if (!haveDcmtk && process.env.CI) throw new Error('dcmtk (storescu) is required when CI is set');
const haveAll = Boolean(component('anvil')) && Boolean(component('orthanc')) && haveDcmtk;
const tmp = tempDir('medimg-secondary-');
let a: Services;
let l: LedgerService;
let orthanc: OrthancServer;
let studyUid: string;
let root: string;

const task = () => new Task('open-record', null, () => {});
const api = (path: string, init?: RequestInit) => orthancRest(orthanc, path, init);
const libraryCount = (s: Services, study: string) =>
  (s.db.prepare('SELECT COUNT(*) AS n FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id WHERE st.study_uid = ?').get(study) as { n: number }).n;

async function secondWorkstation(home: string): Promise<Services> {
  const conn = await l.contract();
  const b = await Services.open({ home, ledger: { mode: 'remote', rpcUrl: a.ledger.current().rpcUrl! }, ledgerPollMs: 200, ledgerService: { contractAddress: conn.address, sync: { auto: false } } });
  void b.ledgerService;
  await b.ledger.check();
  return b;
}

describe('storage URIs', () => {
  it('parses the forms a record carries and refuses a blob store as a PACS', () => {
    expect(parseStorageUri('dicomweb:https://pacs.example.org/dicom-web')).toEqual({ kind: 'dicomweb', url: 'https://pacs.example.org/dicom-web' });
    expect(parseStorageUri('https://pacs.example.org/dicom-web/')).toEqual({ kind: 'dicomweb', url: 'https://pacs.example.org/dicom-web/' });
    expect(parseStorageUri('dimse:ARCHIVE@10.0.0.5:11112')).toEqual({ kind: 'dimse', aeTitle: 'ARCHIVE', host: '10.0.0.5', port: 11112 });
    expect(parseStorageUri('pacs:hospital')).toEqual({ kind: 'pacs', name: 'hospital' });
    expect(parseStorageUri('medimg-blob://0xabc')).toEqual({ kind: 'blob', institution: '0xabc' });
    expect(() => resolveStore([], 'medimg-blob://0xabc')).toThrow(/not in a PACS/);
    try {
      resolveStore([], 'dimse:ARCHIVE@10.0.0.5:11112');
      expect.unreachable();
    } catch (e) {
      expect((e as { reason: string }).reason).toBe(PacsReason.UnknownStore);
      expect((e as { hint: string }).hint).toContain('medimgshr pacs add archive --host 10.0.0.5 --port 11112 --called-aet ARCHIVE');
    }
  });
});

describe.skipIf(!haveAll)('secondary access: record on chain → Orthanc → verified', () => {
  beforeAll(async () => {
    orthanc = await startOrthanc({ config: { OverwriteInstances: true } });
    a = await Services.open({ home: join(tmp.path, 'A'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    l = a.ledgerService;
    const demo = await l.demo.ensure();
    expect(demo.ready).toBe(true);
    studyUid = demo.study!.studyInstanceUid;
    await a.identity.unlock(l.demo.addresses().clinician!, DEMO_PASSPHRASE);
    const c = a.pacs.add({ name: 'orthanc', dicomweb: { url: orthanc.dicomWebUrl } });
    expect(storageUriOf(c)).toBe(`dicomweb:${orthanc.dicomWebUrl}`);
    l.settings.set('storage-uri', storageUriOf(c));
    const anchored = await l.anchors.anchorStudy(studyUid);
    expect(anchored.anchor.delivery).toBe('confirmed');
    expect(anchored.record!.storageUri).toBe(`dicomweb:${orthanc.dicomWebUrl}`);
    root = anchored.anchor.root.toLowerCase();
    const files = (a.db.prepare('SELECT file_path FROM instances ORDER BY file_path').all() as { file_path: string }[]).map((r) => r.file_path);
    expect(files).toHaveLength(40);
    const r = await storescu(files, { port: orthanc.dicomPort, calledAet: orthanc.aet });
    expect(r.code, r.stderr).toBe(0);
    // the study leaves the local library (the anchor record on this workstation stays)
    const st = a.db.prepare('SELECT id FROM studies WHERE study_uid = ?').get(studyUid) as { id: number };
    a.library.remove({ studyId: st.id });
    expect(libraryCount(a, studyUid)).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await a?.close();
    await orthanc?.stop();
    tmp.cleanup();
  });

  it('from the root alone: store resolved, study retrieved from Orthanc, verified against the record, back in the library', async () => {
    // the trust panel's question: not in the library, and the store is known here → "Open from its store"
    expect(await checkRecordStore(secondaryDeps(a), root)).toEqual({ root, storageUri: `dicomweb:${orthanc.dicomWebUrl}`, inLibrary: false, connection: 'orthanc', problem: null, hint: null });
    const r = await openRecord(secondaryDeps(a), root, { task: task() });
    expect(r).toMatchObject({ root, state: 'verified', studyInstanceUid: studyUid, studyFrom: 'local-anchor', retrievedRoot: root, differs: [] });
    expect((await checkRecordStore(secondaryDeps(a), root)).inLibrary).toBe(true);
    expect(r.store).toEqual({ uri: `dicomweb:${orthanc.dicomWebUrl}`, connection: 'orthanc' });
    expect(r.retrieved).toMatchObject({ listed: 40, received: 40, failed: 0, via: 'wado-rs' });
    expect(r.verification).toEqual({ verified: 40 });
    expect(r.message).toMatch(/^Verified: the 40 image\(s\) retrieved from orthanc/);
    expect(libraryCount(a, studyUid)).toBe(40);
  }, 240_000);

  it('a fresh workstation: the unknown store is named with the add command; with it and --study it verifies', async () => {
    const b = await secondWorkstation(join(tmp.path, 'B'));
    try {
      const err = await openRecord(secondaryDeps(b), root, { task: task() }).then(
        () => null,
        (e: unknown) => e as { reason: string; message: string; hint: string },
      );
      expect(err).toMatchObject({ reason: PacsReason.UnknownStore });
      expect(err!.message).toBe(`The record's images are in dicomweb:${orthanc.dicomWebUrl}, and no PACS connection on this workstation points there.`);
      expect(err!.hint).toContain(`medimgshr pacs add pacs --url ${orthanc.dicomWebUrl}`);
      const check = await checkRecordStore(secondaryDeps(b), root);
      expect(check).toMatchObject({ inLibrary: false, connection: null, problem: err!.message, hint: err!.hint });

      b.pacs.add({ name: 'regional', dicomweb: { url: `${orthanc.dicomWebUrl}/` } });
      await expect(openRecord(secondaryDeps(b), root, { task: task() })).rejects.toThrow(/not the study; this workstation did not anchor it/);
      const r = await openRecord(secondaryDeps(b), root, { study: studyUid, task: task() });
      expect(r).toMatchObject({ state: 'verified', studyFrom: 'caller', retrievedRoot: root, store: { connection: 'regional' } });
      expect(r.retrieved.received).toBe(40);
      expect(libraryCount(b, studyUid)).toBe(40);
    } finally {
      await b.close();
    }
  }, 240_000);

  it('PatientName changed on Orthanc (REST, UIDs kept): altered, metadata differs, pixels do not', async () => {
    const id = ((await api('/tools/lookup', { method: 'POST', body: studyUid })) as { ID: string }[])[0]!.ID;
    await api(`/studies/${id}/modify`, {
      method: 'POST',
      body: JSON.stringify({ Replace: { PatientName: 'RENAMED^ON^PACS' }, Keep: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID'], KeepSource: true, Force: true, Synchronous: true }),
    });
    const r = await openRecord(secondaryDeps(a), root, { task: task() });
    expect(r.state).toBe('altered');
    expect(r.differs).toEqual(['metadata']);
    expect(r.verification).toEqual({ altered: 40 });
    expect(r.retrievedRoot).not.toBe(root);
    expect(r.message).toMatch(/^ALTERED: the images on orthanc .* do not match the record on the ledger \(metadata differ\)/);
  }, 240_000);
});
