/**
 * Issue 12's "must show", on a real embedded anvil, a real Orthanc and dcmtk's storescu: a study
 * anchored from its original files is sent to Orthanc with storescu, found by the PACS search,
 * retrieved through our code and verified → all "verified". Then PatientName is changed on Orthanc
 * through its REST API (one instance, keeping its UIDs): retrieving again shows "altered: metadata"
 * for exactly that instance; then the whole study's PatientName (/studies/{id}/modify, Force,
 * UIDs kept): every instance "altered: metadata", pixels never reported as differing.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSPHRASE, type LedgerService } from '../../../src/node/ledger';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import type { Pacs, RetrieveReport } from '../../../src/node/pacs';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { startOrthanc, type OrthancServer, orthancRenamePatient, orthancRest, orthancId } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const haveAll = Boolean(component('anvil')) && Boolean(component('orthanc')) && Boolean(dcmtk());
const tmp = tempDir('medimg-pacs-verify-');
let s: Services;
let l: LedgerService;
let pacs: Pacs;
let orthanc: OrthancServer;
let studyUid: string;

const task = () => new Task('pacs-retrieve', null, () => {});
const api = (path: string, init?: RequestInit) => orthancRest(orthanc, path, init);
const lookup = (uid: string) => orthancId(orthanc, uid);
const states = (r: RetrieveReport) => r.verification;

describe.skipIf(!haveAll)('PACS retrieve verified against the chain', () => {
  beforeAll(async () => {
    // a modification that keeps the UIDs replaces the stored instance (Orthanc keeps the first copy otherwise)
    orthanc = await startOrthanc({ config: { OverwriteInstances: true } });
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    l = s.ledgerService;
    const demo = await l.demo.ensure();
    expect(demo.ready).toBe(true);
    studyUid = demo.study!.studyInstanceUid;
    await s.identity.unlock(l.demo.addresses().clinician!, DEMO_PASSPHRASE);
    const a = await l.anchors.anchorStudy(studyUid);
    expect(a.anchor.delivery).toBe('confirmed');
    const files = (s.db.prepare('SELECT file_path FROM instances ORDER BY file_path').all() as { file_path: string }[]).map((r) => r.file_path);
    expect(files).toHaveLength(40);
    const r = await storescu(files, { port: orthanc.dicomPort, calledAet: orthanc.aet });
    expect(r.code, r.stderr).toBe(0);
    pacs = s.pacs;
    pacs.add({ name: 'orthanc', dicomweb: { url: orthanc.dicomWebUrl } });
  });

  afterAll(async () => {
    await s?.close();
    await orthanc?.stop();
    tmp.cleanup();
  });

  it('found by search, retrieved (WADO-RS, original encoding), every instance verified', async () => {
    const found = await pacs.searchStudies('orthanc', { studyInstanceUid: studyUid });
    expect(found.studies).toHaveLength(1);
    expect(found.studies[0]!.instanceCount).toBe(40);
    const r = await pacs.retrieve('orthanc', { study: studyUid }, task());
    expect(r).toMatchObject({ listed: 40, received: 40, failed: 0, error: null });
    expect(states(r)).toEqual({ verified: 40 });
  });

  it('PatientName of one instance changed on Orthanc (UIDs kept): exactly that one "altered: metadata"', async () => {
    const listed = (await pacs.retrieve('orthanc', { study: studyUid }, task())).instances;
    const victim = listed[7]!.sopInstanceUid;
    await orthancRenamePatient(orthanc, victim, 'TAMPERED^ON^PACS');
    const r = await pacs.retrieve('orthanc', { study: studyUid, refetch: true }, task());
    expect(r).toMatchObject({ listed: 40, received: 40, failed: 0 });
    expect(states(r)).toEqual({ verified: 39, altered: 1 });
    const altered = r.instances.filter((o) => o.verification === 'altered');
    expect(altered).toEqual([expect.objectContaining({ sopInstanceUid: victim, differs: ['metadata'] })]);
  });

  it('the whole study modified through /studies/{id}/modify (Force, UIDs kept): all "altered: metadata", pixels intact', async () => {
    // Orthanc 1.10: with the UIDs kept, the modified copies replace the originals in place
    // (OverwriteInstances); KeepSource false would then delete the study itself (measured), and
    // without OverwriteInstances the store fails ("Cannot store an instance").
    const id = await lookup(studyUid);
    await api(`/studies/${id}/modify`, {
      method: 'POST',
      body: JSON.stringify({ Replace: { PatientName: 'RENAMED^STUDY' }, Keep: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID'], KeepSource: true, Force: true, Synchronous: true }),
    });
    const found = await pacs.searchStudies('orthanc', { studyInstanceUid: studyUid });
    expect(found.studies[0]!.patientName).toBe('RENAMED^STUDY');
    const r = await pacs.retrieve('orthanc', { study: studyUid, refetch: true }, task());
    expect(r).toMatchObject({ listed: 40, received: 40, failed: 0 });
    expect(states(r)).toEqual({ altered: 40 });
    expect(r.instances.every((o) => o.differs.length === 1 && o.differs[0] === 'metadata')).toBe(true);
  });
});
