/**
 * A PACS copy next to the local original of the same SOP Instance UID (migration 013), on a real
 * embedded anvil, a real Orthanc and dcmtk's storescu. The demo study is anchored from its original
 * files, which stay in the library, and sent to Orthanc. Through Orthanc's own REST API one
 * instance's PatientName is changed (UIDs kept) and another instance is replaced by a copy whose
 * pixels differ. Retrieved again: the two PACS copies are indexed next to the originals (no longer
 * refused as duplicates), each "altered" with what differs and the evidence of the anchored record,
 * while the library's own images, its counts and what anchoring reads stay one per SOP Instance UID
 * and "verified". When the PACS holds the originals again, the next retrieve drops the copies.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSPHRASE, type LedgerService } from '../../../src/node/ledger';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import type { Pacs } from '../../../src/node/pacs';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { startOrthanc, type OrthancServer, orthancRenamePatient, orthancRest, orthancId } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const haveAll = Boolean(component('anvil')) && Boolean(component('orthanc')) && Boolean(dcmtk());
if (process.env.CI && !haveAll) throw new Error('anvil, Orthanc and dcmtk are required when CI is set');
const tmp = tempDir('medimg-pacs-copies-');
let s: Services;
let l: LedgerService;
let pacs: Pacs;
let orthanc: OrthancServer;
let studyUid: string;
let root: string;
let seriesId: number;
let studyId: number;
let metaVictim: string;
let pixelVictim: string;

const SOURCE = 'pacs:orthanc';
const task = () => new Task('pacs-retrieve', null, () => {});
const api = (path: string, init?: RequestInit) => orthancRest(orthanc, path, init);
const lookup = (uid: string) => orthancId(orthanc, uid);
/** Replaces an instance on Orthanc by these bytes (delete, then store: Orthanc keeps the first copy otherwise). */
const replaceOnOrthanc = async (sop: string, bytes: Uint8Array<ArrayBuffer>) => {
  await api(`/instances/${await lookup(sop)}`, { method: 'DELETE' });
  const stored = (await api('/instances', { method: 'POST', body: bytes })) as { Status: string };
  expect(stored.Status).toBe('Success');
};
const localFile = (sop: string) => (s.db.prepare('SELECT file_path FROM instances WHERE sop_uid = ? AND copy_of IS NULL').get(sop) as { file_path: string }).file_path;
const rowCounts = () => s.db.prepare("SELECT COUNT(*) AS n, SUM(copy_of IS NULL) AS primaries, SUM(source = 'local') AS local FROM instances").get() as { n: number; primaries: number; local: number };

describe.skipIf(!haveAll)('A PACS copy that differs from the local original', () => {
  beforeAll(async () => {
    orthanc = await startOrthanc({ config: { OverwriteInstances: true } });
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'embedded' }, ledgerPollMs: 200 });
    l = s.ledgerService;
    const demo = await l.demo.ensure();
    expect(demo.ready).toBe(true);
    studyUid = demo.study!.studyInstanceUid;
    await s.identity.unlock(l.demo.addresses().clinician!, DEMO_PASSPHRASE);
    const a = await l.anchors.anchorStudy(studyUid);
    expect(a.anchor.delivery).toBe('confirmed');
    root = a.anchor.root;
    const files = (s.db.prepare('SELECT file_path FROM instances ORDER BY file_path').all() as { file_path: string }[]).map((r) => r.file_path);
    expect(files).toHaveLength(40);
    const r = await storescu(files, { port: orthanc.dicomPort, calledAet: orthanc.aet });
    expect(r.code, r.stderr).toBe(0);
    pacs = s.pacs;
    pacs.add({ name: 'orthanc', dicomweb: { url: orthanc.dicomWebUrl } });
    const study = s.library.studyByUid(studyUid)!;
    studyId = study.id;
    seriesId = s.library.series(studyId).series[0]!.id;
  }, 180_000);

  afterAll(async () => {
    await s?.close();
    await orthanc?.stop();
    tmp.cleanup();
  });

  it('copies of the same image (the PACS rewrote only the file) are not indexed twice: one instance per SOP Instance UID, all verified', async () => {
    const r = await pacs.retrieve('orthanc', { study: studyUid }, task());
    expect(r).toMatchObject({ listed: 40, received: 40, failed: 0, error: null });
    expect(r.verification).toEqual({ verified: 40 });
    expect(rowCounts()).toEqual({ n: 40, primaries: 40, local: 40 });
    expect(s.library.series(studyId).series[0]!.copies).toEqual([]);
    const sops = s.library.instances(seriesId).instances.map((i) => i.sopInstanceUid);
    metaVictim = sops[3]!;
    pixelVictim = sops[20]!;
  });

  it('PatientName changed and pixels replaced on Orthanc: both indexed as PACS copies, "altered" with the evidence; the originals stay verified', async () => {
    // metadata: PatientName of one instance, UIDs kept (Orthanc's /modify, then stored in its place)
    await orthancRenamePatient(orthanc, metaVictim, 'TAMPERED^ON^PACS');
    // pixels: the original file with 16 pixel values changed (Pixel Data is its last element)
    const bytes = new Uint8Array(readFileSync(localFile(pixelVictim)));
    const at = bytes.length - 4096;
    for (let k = 0; k < 32; k++) bytes[at + k] = bytes[at + k]! ^ 0x5a;
    await replaceOnOrthanc(pixelVictim, bytes);

    const r = await pacs.retrieve('orthanc', { study: studyUid, refetch: true }, task());
    expect(r).toMatchObject({ listed: 40, received: 40, failed: 0 });
    expect(r.verification).toEqual({ verified: 38, altered: 2 });
    const altered = r.instances.filter((o) => o.verification === 'altered').map((o) => [o.sopInstanceUid, o.differs]);
    expect(altered.sort()).toEqual([[metaVictim, ['metadata']], [pixelVictim, ['pixels']]].sort());

    // The library: still 40 instances (one per SOP Instance UID), plus two copies from this PACS.
    expect(rowCounts()).toEqual({ n: 42, primaries: 40, local: 40 });
    const se = s.library.series(studyId).series[0]!;
    expect(se.instanceCount).toBe(40);
    expect(se.copies).toEqual([{ source: SOURCE, instanceCount: 2 }]);
    expect(s.library.studyByUid(studyUid)!.instanceCount).toBe(40);
    expect(s.library.patients({}).patients.map((p) => p.instanceCount)).toEqual([40]);

    // The library's own images: the originals, all verified.
    const local = s.library.instances(seriesId).instances;
    expect(local).toHaveLength(40);
    expect(new Set(local.map((i) => i.source))).toEqual(new Set(['local']));
    const vLocal = await l.verifier.verifyInstances({ instanceIds: local.map((i) => i.id) });
    expect(vLocal.instances.map((v) => v.state)).toEqual(Array(40).fill('verified'));

    // The series as the PACS has it: the two copies in place of the originals, each "altered".
    const onPacs = s.library.instances(seriesId, SOURCE).instances;
    expect(onPacs).toHaveLength(40);
    expect(onPacs.map((i) => i.sopInstanceUid)).toEqual(local.map((i) => i.sopInstanceUid));
    const copies = onPacs.filter((i) => i.copyOf !== null);
    expect(copies.map((c) => c.sopInstanceUid).sort()).toEqual([metaVictim, pixelVictim].sort());
    for (const c of copies) {
      expect(c.source).toBe(SOURCE);
      expect(c.copyOf).toBe(local.find((i) => i.sopInstanceUid === c.sopInstanceUid)!.id);
      expect(c.filePath).not.toBe(local.find((i) => i.sopInstanceUid === c.sopInstanceUid)!.filePath);
    }
    // The viewport's lean list of the same: the same ids in the same order, the copies named with their source.
    const lean = s.library.stack(seriesId, SOURCE);
    expect(lean.ids).toEqual(onPacs.map((i) => i.id));
    expect(lean.copies).toEqual(copies.map((c) => ({ id: c.id, source: SOURCE })));
    const v = await l.verifier.verifyInstances({ instanceIds: onPacs.map((i) => i.id) });
    const byId = new Map(v.instances.map((x) => [x.instanceId, x]));
    expect(v.instances.filter((x) => x.state === 'verified')).toHaveLength(38);
    for (const c of copies) {
      const x = byId.get(c.id)!;
      expect(x.state).toBe('altered');
      expect(x.differs).toEqual(c.sopInstanceUid === metaVictim ? ['metadata'] : ['pixels']);
      expect(x.evidence?.root.toLowerCase()).toBe(root.toLowerCase());
      expect(x.expected).not.toBeNull();
      expect(x.actual).not.toEqual(x.expected);
    }
    // Where a retrieve finds a SOP Instance UID for this PACS: its copy; for the library: the original.
    expect(s.library.instanceOfSop(metaVictim, SOURCE)).toMatchObject({ copy: true, seriesId });
    expect(s.library.instanceOfSop(metaVictim)).toMatchObject({ copy: false, seriesId });

    // What anchoring reads: every original, never an altered copy (so the study is never anchored with it).
    const anchorPaths = new Set(l.anchors.studyFiles(studyUid).paths);
    expect(local.every((i) => anchorPaths.has(i.filePath))).toBe(true);
    expect(copies.some((c) => anchorPaths.has(c.filePath))).toBe(false);
  });

  it('the same PACS altered again: its copy is replaced, not doubled', async () => {
    await orthancRenamePatient(orthanc, metaVictim, 'TAMPERED^AGAIN');
    const r = await pacs.retrieve('orthanc', { study: studyUid, series: s.library.oneSeries(seriesId).seriesInstanceUid, refetch: true }, task());
    expect(r.verification).toEqual({ verified: 38, altered: 2 });
    expect(rowCounts()).toEqual({ n: 42, primaries: 40, local: 40 });
    expect(s.library.series(studyId).series[0]!.copies).toEqual([{ source: SOURCE, instanceCount: 2 }]);
  });

  it('a local file with other bytes for an indexed SOP Instance UID is still refused as a duplicate', async () => {
    const other = join(tmp.path, 'other.dcm');
    const bytes = new Uint8Array(readFileSync(localFile(pixelVictim)));
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0xff;
    (await import('node:fs')).writeFileSync(other, bytes);
    const r = await s.library.import([other], new Task('import', null, () => {}));
    expect(r.rejected.map((x) => x.code)).toEqual(['DUPLICATE_SOP_INSTANCE_UID']);
    expect(rowCounts().n).toBe(42);
  });

  it('the PACS holds the originals again: the next retrieve drops the copies, all verified', async () => {
    for (const sop of [metaVictim, pixelVictim]) await replaceOnOrthanc(sop, new Uint8Array(readFileSync(localFile(sop))));
    const r = await pacs.retrieve('orthanc', { study: studyUid, refetch: true }, task());
    expect(r.verification).toEqual({ verified: 40 });
    expect(rowCounts()).toEqual({ n: 40, primaries: 40, local: 40 });
    expect(s.library.series(studyId).series[0]!.copies).toEqual([]);
    expect(s.library.instances(seriesId, SOURCE).instances.every((i) => i.copyOf === null)).toBe(true);
  });
});
