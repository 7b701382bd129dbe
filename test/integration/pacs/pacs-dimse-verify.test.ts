/**
 * Retrieved over DIMSE, verified against the chain (issue 12's "must show" for C-GET and C-MOVE,
 * beside WADO-RS): a study anchored from its original files, sent into a real Orthanc with dcmtk's
 * storescu, comes back by C-GET (on our association), C-MOVE (to our Storage SCP) and WADO-RS with
 * every instance "verified" — the data set bytes as the PACS sent them, never a re-encoding (which
 * rewrote values such as DS and made every C-GET image "altered: metadata"). Then PatientName of two
 * instances is changed on Orthanc through its REST API (UIDs kept): each way shows exactly those two
 * "altered: metadata", the pixels never reported as differing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSPHRASE } from '../../../src/node/ledger';
import { freeLoopbackPort } from '../../../src/node/net';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import type { Pacs, RetrieveReport, RetrieveVia } from '../../../src/node/pacs';
import { dataSetOf } from '../../../src/node/pacs/part10';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { startOrthanc, type OrthancServer, orthancRenamePatient, orthancRest, orthancId } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const haveAll = Boolean(component('anvil')) && Boolean(component('orthanc')) && Boolean(dcmtk());
const tmp = tempDir('medimg-pacs-dimse-verify-');
const OUR_AET = 'MEDIMGSHR';
const VIAS: RetrieveVia[] = ['c-get', 'c-move', 'wado-rs'];
let s: Services;
let pacs: Pacs;
let orthanc: OrthancServer;
let studyUid: string;
/** SOP Instance UID → the anchored original file. */
const originals = new Map<string, string>();

const task = () => new Task('pacs-retrieve', null, () => {});
const api = (path: string, init?: RequestInit) => orthancRest(orthanc, path, init);
const lookup = (uid: string) => orthancId(orthanc, uid);
const retrieveVia = (via: RetrieveVia): Promise<RetrieveReport> => pacs.retrieve('orthanc', { study: studyUid, via, refetch: true }, task());

describe.skipIf(!haveAll)('PACS retrieve over C-GET, C-MOVE and WADO-RS, verified against the chain', () => {
  beforeAll(async () => {
    const scpPort = await freeLoopbackPort();
    // OverwriteInstances: a modification that keeps the UIDs replaces the stored instance
    orthanc = await startOrthanc({ config: { OverwriteInstances: true, DicomModalities: { medimg: [OUR_AET, '127.0.0.1', scpPort] } } });
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    const l = s.ledgerService;
    const demo = await l.demo.ensure();
    expect(demo.ready).toBe(true);
    studyUid = demo.study!.studyInstanceUid;
    await s.identity.unlock(l.demo.addresses().clinician!, DEMO_PASSPHRASE);
    const a = await l.anchors.anchorStudy(studyUid);
    expect(a.anchor.delivery).toBe('confirmed');
    const rows = s.db.prepare('SELECT sop_uid, file_path FROM instances ORDER BY file_path').all() as { sop_uid: string; file_path: string }[];
    expect(rows).toHaveLength(40);
    for (const r of rows) originals.set(r.sop_uid, r.file_path);
    const r = await storescu([...originals.values()], { port: orthanc.dicomPort, calledAet: orthanc.aet });
    expect(r.code, r.stderr).toBe(0);
    pacs = s.pacs;
    pacs.add({ name: 'orthanc', dicomweb: { url: orthanc.dicomWebUrl }, dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: OUR_AET } });
    await pacs.startStorageScp({ aeTitle: OUR_AET, port: scpPort, allowedCallingAets: [orthanc.aet] });
  });

  afterAll(async () => {
    await s?.close();
    await orthanc?.stop();
    tmp.cleanup();
  });

  it.each(VIAS)('%s: every instance "verified", its data set stored as the PACS sent it', async (via) => {
    const r = await retrieveVia(via);
    expect(r).toMatchObject({ via, listed: 40, received: 40, failed: 0, error: null });
    expect(r.verification).toEqual({ verified: 40 });
    // the data set as Orthanc holds it (its file from the REST API; Orthanc itself rewrote the sequences of the
    // original with explicit lengths, which changes no value), byte for byte, in the same transfer syntax
    for (const o of r.instances) {
      const got = dataSetOf(readFileSync(o.path!))!;
      const held = dataSetOf((await api(`/instances/${await lookup(o.sopInstanceUid)}/file`)) as Buffer)!;
      expect(got.transferSyntaxUid).toBe(held.transferSyntaxUid);
      expect(got.bytes.equals(held.bytes), `${via} ${o.sopInstanceUid}`).toBe(true);
    }
  });

  it('PatientName of two instances changed on Orthanc (UIDs kept): exactly those two "altered: metadata" by C-GET, C-MOVE and WADO-RS', async () => {
    const sops = [...originals.keys()].sort();
    const victims = [sops[3]!, sops[28]!];
    for (const victim of victims) {
      await orthancRenamePatient(orthanc, victim, 'TAMPERED^ON^PACS');
    }
    for (const via of VIAS) {
      const r = await retrieveVia(via);
      expect(r, via).toMatchObject({ listed: 40, received: 40, failed: 0, error: null });
      expect(r.verification, via).toEqual({ verified: 38, altered: 2 });
      const altered = r.instances.filter((o) => o.verification === 'altered').map((o) => [o.sopInstanceUid, o.differs]);
      expect(altered.sort(), via).toEqual(victims.map((v) => [v, ['metadata']]).sort());
    }
  });
});
