/**
 * The PACS domain against a real Orthanc (DICOMweb plugin + DICOM port) and dcmtk's storescu as
 * the real DIMSE peer: connection tests that say what failed, search, retrieve by WADO-RS / C-GET /
 * C-MOVE into the cache and library (resumable, no duplicates, one 404 reported and the rest goes
 * on), our Storage SCP with its calling-AE allow-list, and send by STOW-RS and C-STORE.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { freeLoopbackPort } from '../../../src/node/net';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import type { Pacs } from '../../../src/node/pacs';
import { dataSetOf, readFileMeta } from '../../../src/node/pacs/part10';
import { type PacsError, PacsReason } from '../../../src/node/pacs/errors';
import { fingerprintBytes } from '../../../src/node/fingerprint/compute';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { startOrthanc, type OrthancServer } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const haveAll = Boolean(component('orthanc')) && Boolean(dcmtk());
const tmp = tempDir('medimg-pacs-');
const OUR_AET = 'MEDIMGSHR';

let s: Services;
let pacs: Pacs;
let orthanc: OrthancServer;
let scpPort: number;
let ct: { files: string[]; studyInstanceUid: string; seriesInstanceUid: string };
let mr: { files: string[]; studyInstanceUid: string; seriesInstanceUid: string };
const closers: (() => Promise<void> | void)[] = [];

const task = (kind = 'pacs-test') => new Task(kind, null, () => {});
const orthancApi = async (path: string, init?: RequestInit) => {
  const r = await fetch(`${orthanc.url}${path}`, init);
  if (!r.ok) throw new Error(`Orthanc ${path}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<unknown>;
};
const orthancId = async (uid: string) => ((await orthancApi('/tools/lookup', { method: 'POST', body: uid })) as { ID: string }[])[0]!.ID;
const cachedCount = () => (s.db.prepare('SELECT COUNT(*) AS n FROM pacs_instances').get() as { n: number }).n;
/** The library's instances of a study: one per SOP Instance UID (PACS copies that differ are not counted; migration 013). */
const libraryCount = (study: string) =>
  (s.db.prepare('SELECT COUNT(*) AS n FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id WHERE st.study_uid = ? AND i.copy_of IS NULL').get(study) as { n: number }).n;
const forget = (study: string) => s.db.prepare('DELETE FROM pacs_instances WHERE study_instance_uid = ?').run(study);

describe.skipIf(!haveAll)('PACS: a real Orthanc and dcmtk', () => {
  beforeAll(async () => {
    scpPort = await freeLoopbackPort();
    orthanc = await startOrthanc({ config: { DicomModalities: { medimg: [OUR_AET, '127.0.0.1', scpPort] }, DicomCheckCalledAet: true } });
    closers.push(() => orthanc.stop());
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' } });
    pacs = s.pacs;
    ct = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 6, kind: 'ct', seed: 11 });
    mr = await writeSampleSeries({ outDir: join(tmp.path, 'mr'), slices: 8, kind: 'mr', seed: 12 });
    const r = await storescu([...ct.files, ...mr.files, join(PYDICOM, 'CT_small.dcm'), join(PYDICOM, 'MR_small.dcm')], { port: orthanc.dicomPort, calledAet: orthanc.aet });
    expect(r.code, r.stderr).toBe(0);
    pacs.add({ name: 'orthanc', dicomweb: { url: orthanc.dicomWebUrl }, dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: OUR_AET } });
  });

  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await s?.close();
    tmp.cleanup();
  });

  describe('test a connection', () => {
    it('answers over DICOMweb (QIDO-RS) and DIMSE (C-ECHO)', async () => {
      const r = await pacs.test('orthanc');
      expect(r.dicomweb).toMatchObject({ ok: true });
      expect(r.dimse).toMatchObject({ ok: true });
      expect(r.ok).toBe(true);
    });

    it('a closed port: connection refused, on both', async () => {
      const port = await freeLoopbackPort();
      pacs.add({ name: 'closed', dicomweb: { url: `http://127.0.0.1:${port}/dicom-web` }, dimse: { host: '127.0.0.1', port, calledAet: 'ANY' } });
      const r = await pacs.test('closed');
      expect(r.ok).toBe(false);
      expect(r.dicomweb).toMatchObject({ ok: false, error: { reason: 'CONNECTION_REFUSED' } });
      expect(r.dimse).toMatchObject({ ok: false, error: { reason: 'CONNECTION_REFUSED' } });
      if (!r.dicomweb!.ok) expect(r.dicomweb!.error.message).toContain(`127.0.0.1:${port}`);
    });

    it('a server that accepts and never answers: timed out', async () => {
      const sockets: Socket[] = [];
      const silent: TcpServer = createTcpServer((sock) => sockets.push(sock));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      closers.push(() => {
        sockets.forEach((x) => x.destroy());
        silent.close();
      });
      const port = (silent.address() as { port: number }).port;
      pacs.add({ name: 'silent', dicomweb: { url: `http://127.0.0.1:${port}/dicom-web` }, dimse: { host: '127.0.0.1', port, calledAet: 'ANY' }, timeoutMs: 700 });
      const r = await pacs.test('silent');
      expect(r.dicomweb).toMatchObject({ ok: false, error: { reason: 'TIMED_OUT' } });
      expect(r.dimse).toMatchObject({ ok: false });
    });

    it('a plain web server: not a DICOMweb endpoint (HTML page, and 404)', async () => {
      const web: HttpServer = createHttpServer((req, res) => {
        if (req.url?.startsWith('/page')) {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<html><body>Welcome</body></html>');
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('not found');
        }
      });
      await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
      closers.push(() => void web.close());
      const port = (web.address() as { port: number }).port;
      pacs.add({ name: 'html', dicomweb: { url: `http://127.0.0.1:${port}/page` } });
      pacs.add({ name: 'nothing', dicomweb: { url: `http://127.0.0.1:${port}/nothing` } });
      // Orthanc's own root, without /dicom-web
      pacs.add({ name: 'orthanc-root', dicomweb: { url: orthanc.url } });
      for (const name of ['html', 'nothing', 'orthanc-root']) {
        const r = await pacs.test(name);
        expect(r.dicomweb, name).toMatchObject({ ok: false, error: { reason: 'NOT_DICOMWEB' } });
        if (!r.dicomweb!.ok) expect(r.dicomweb!.error.hint).toMatch(/dicom-web/);
      }
    });

    it('a wrong called AE title: association rejected, "called AE title not recognised"', async () => {
      pacs.add({ name: 'wrong-aet', dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: 'NOT-ORTHANC' } });
      const r = await pacs.test('wrong-aet');
      expect(r.dimse).toMatchObject({ ok: false, error: { reason: 'ASSOCIATION_REJECTED' } });
      if (!r.dimse!.ok) expect(r.dimse!.error.message).toMatch(/called AE title not recognised/);
    });
  });

  describe('search', () => {
    it('QIDO-RS by patient name with a wildcard, ID, modality; normalised summaries with counts', async () => {
      const all = await pacs.searchStudies('orthanc', {});
      expect(all.studies.length).toBe(4);
      const small = await pacs.searchStudies('orthanc', { patientName: 'CompressedSamples*' });
      expect(small.studies.map((x) => x.patientName).sort()).toEqual(['CompressedSamples^CT1', 'CompressedSamples^MR1']);
      const byCt = await pacs.searchStudies('orthanc', { studyInstanceUid: ct.studyInstanceUid });
      expect(byCt.studies).toHaveLength(1);
      expect(byCt.studies[0]).toMatchObject({ studyInstanceUid: ct.studyInstanceUid, modalities: ['CT'], seriesCount: 1, instanceCount: 6 });
      const mrs = await pacs.searchStudies('orthanc', { modality: 'MR' });
      expect(mrs.studies.map((x) => x.studyInstanceUid)).toContain(mr.studyInstanceUid);
      expect(mrs.studies.every((x) => x.modalities.includes('MR'))).toBe(true);
      const id = byCt.studies[0]!.patientId;
      expect((await pacs.searchStudies('orthanc', { patientId: id })).studies.map((x) => x.studyInstanceUid)).toContain(ct.studyInstanceUid);
    });

    it('pages with limit and offset (and says when there is more)', async () => {
      const p1 = await pacs.searchStudies('orthanc', { limit: 3, offset: 0 });
      const p2 = await pacs.searchStudies('orthanc', { limit: 3, offset: 3 });
      expect(p1.studies).toHaveLength(3);
      expect(p1.more).toBe(true);
      expect(p2.studies).toHaveLength(1);
      expect(p2.more).toBe(false);
      expect(new Set([...p1.studies, ...p2.studies].map((x) => x.studyInstanceUid)).size).toBe(4);
    });

    it('a date range', async () => {
      const date = (await pacs.searchStudies('orthanc', { studyInstanceUid: ct.studyInstanceUid })).studies[0]!.date!;
      expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const hit = await pacs.searchStudies('orthanc', { dateFrom: date, dateTo: date });
      expect(hit.studies.map((x) => x.studyInstanceUid)).toContain(ct.studyInstanceUid);
      const miss = await pacs.searchStudies('orthanc', { dateFrom: '1900-01-01', dateTo: '1900-01-02' });
      expect(miss.studies).toHaveLength(0);
    });

    it('C-FIND gives the same studies, and series lists agree', async () => {
      const web = await pacs.searchStudies('orthanc', { studyInstanceUid: mr.studyInstanceUid });
      const dimse = await pacs.searchStudies('orthanc', { studyInstanceUid: mr.studyInstanceUid }, { source: 'dimse' });
      expect(dimse.studies[0]).toMatchObject({ studyInstanceUid: mr.studyInstanceUid, patientName: web.studies[0]!.patientName, patientId: web.studies[0]!.patientId, instanceCount: 8 });
      const allDimse = await pacs.searchStudies('orthanc', { patientName: 'CompressedSamples*' }, { source: 'dimse' });
      expect(allDimse.studies).toHaveLength(2);
      const se = await pacs.searchSeries('orthanc', mr.studyInstanceUid);
      const seDimse = await pacs.searchSeries('orthanc', mr.studyInstanceUid, { source: 'dimse' });
      expect(se).toEqual([expect.objectContaining({ seriesInstanceUid: mr.seriesInstanceUid, modality: 'MR', instanceCount: 8 })]);
      expect(seDimse.map((x) => x.seriesInstanceUid)).toEqual([mr.seriesInstanceUid]);
    });
  });

  describe('retrieve', () => {
    it('WADO-RS: every instance in its stored encoding (byte-identical to the file Orthanc stored), cached, in the library; again: nothing fetched twice', async () => {
      const seen: string[] = [];
      const r = await pacs.retrieve('orthanc', { study: ct.studyInstanceUid, via: 'wado-rs' }, task(), { onInstance: (i) => seen.push(i.sopInstanceUid) });
      expect(r).toMatchObject({ listed: 6, received: 6, alreadyCached: 0, failed: 0, imported: 6, error: null, cancelled: false });
      expect(seen).toHaveLength(6);
      expect(r.bytes).toBeGreaterThan(6 * 512 * 512 * 2);
      // transfer-syntax=*: what arrives is the file Orthanc stored (storescu chose the encoding), byte for byte
      for (const o of r.instances.slice(0, 3)) {
        const stored = Buffer.from(await (await fetch(`${orthanc.url}/instances/${await orthancId(o.sopInstanceUid)}/file`)).arrayBuffer());
        expect(readFileSync(o.path!).equals(stored)).toBe(true);
      }
      // and its pixel data is the original's
      const pixels = new Set(ct.files.map((f) => readFileSync(f).subarray(-512 * 512 * 2).toString('base64')));
      for (const o of r.instances) expect(pixels.has(readFileSync(o.path!).subarray(-512 * 512 * 2).toString('base64'))).toBe(true);
      expect(libraryCount(ct.studyInstanceUid)).toBe(6);
      const again = await pacs.retrieve('orthanc', { study: ct.studyInstanceUid, via: 'wado-rs' }, task());
      expect(again).toMatchObject({ listed: 6, received: 0, alreadyCached: 6, failed: 0 });
      expect(libraryCount(ct.studyInstanceUid)).toBe(6);
    });

    it('WADO-RS of a series with nothing cached: one streamed reply; the first image is indexed on its own, then the rest in batches; phases reported', async () => {
      forget(ct.studyInstanceUid);
      const batches: string[][] = [];
      const r = await pacs.retrieve('orthanc', { study: ct.studyInstanceUid, series: ct.seriesInstanceUid, via: 'wado-rs' }, task(), { onImported: (b) => batches.push(b.map((c) => c.sopInstanceUid)) });
      expect(r).toMatchObject({ listed: 6, received: 6, alreadyCached: 0, failed: 0, error: null });
      expect(batches[0]).toHaveLength(1);
      expect(batches.flat().sort()).toEqual(r.instances.map((o) => o.sopInstanceUid).sort());
      expect(r.instances.every((o) => o.seriesInstanceUid === ct.seriesInstanceUid && o.path)).toBe(true);
      expect(r.phases.batches).toBe(batches.length);
      expect(r.phases.firstImported).toBeGreaterThanOrEqual(0);
      expect(r.phases.fetch).toBeGreaterThanOrEqual(0);
    });

    it('cancelled half-way, then resumed: only what is missing is fetched, no duplicates', async () => {
      forget(mr.studyInstanceUid);
      const t = task();
      let n = 0;
      const first = await pacs.retrieve('orthanc', { study: mr.studyInstanceUid, via: 'wado-rs' }, t, { concurrency: 1, onInstance: () => ++n === 3 && t.cancel() });
      expect(first.cancelled).toBe(true);
      // parts already read off the wire when the cancel came are written (off this thread) and kept
      const kept = first.instances.filter((o) => o.arrival === 'received').map((o) => o.sopInstanceUid);
      expect(kept.length).toBe(first.received);
      expect(first.received).toBeGreaterThanOrEqual(3);
      // and two of them lost, as by a crash before their records were written: resume fetches just those and the rest
      for (const sop of kept.slice(-2)) s.db.prepare('DELETE FROM pacs_instances WHERE sop_instance_uid = ?').run(sop);
      const second = await pacs.retrieve('orthanc', { study: mr.studyInstanceUid, via: 'wado-rs' }, task());
      expect(second).toMatchObject({ listed: 8, alreadyCached: kept.length - 2, received: 8 - kept.length + 2, failed: 0 });
      expect((s.db.prepare('SELECT COUNT(*) AS n FROM pacs_instances WHERE study_instance_uid = ?').get(mr.studyInstanceUid) as { n: number }).n).toBe(8);
      expect(libraryCount(mr.studyInstanceUid)).toBe(8);
      // where this PACS's bytes differ from the library's in a metadata value, the copy is kept next to
      // the library's instance as this PACS's copy — never in place of it
      const copies = s.db
        .prepare(
          `SELECT fc.pixel_sha256 = fo.pixel_sha256 AS samePixels, fc.meta_sha256 = fo.meta_sha256 AS sameMeta FROM instances c JOIN instances o ON o.id = c.copy_of
           JOIN fingerprint_files fc ON fc.path = c.file_path JOIN fingerprint_files fo ON fo.path = o.file_path WHERE c.source = 'pacs:orthanc'`,
        )
        .all() as { samePixels: number; sameMeta: number }[];
      for (const c of copies) expect(c).toEqual({ samePixels: 1, sameMeta: 0 });
    });

    it('an instance deleted on the PACS after it was listed: that one is reported (404), the rest goes on', async () => {
      forget(ct.studyInstanceUid);
      const victim = ct.files.length - 1;
      const victimSop = (await pacs.retrieve('orthanc', { study: ct.studyInstanceUid, series: ct.seriesInstanceUid, via: 'wado-rs' }, task())).instances[victim]!.sopInstanceUid;
      forget(ct.studyInstanceUid);
      const victimId = await orthancId(victimSop);
      let deleted = false;
      const r = await pacs.retrieve('orthanc', { study: ct.studyInstanceUid, via: 'wado-rs' }, task(), {
        concurrency: 1,
        onInstance: () => {
          if (deleted) return;
          deleted = true;
          // synchronous from the retrieve's point of view: the next requests wait for this delete
          void fetch(`${orthanc.url}/instances/${victimId}`, { method: 'DELETE' });
        },
      });
      // the delete may race the first requests; what matters: a missing one is a 404 with its message, others arrive
      const failedOnes = r.instances.filter((o) => o.arrival === 'failed');
      expect(r.received + failedOnes.length).toBe(6);
      expect(r.error).toBeNull();
      if (failedOnes.length) {
        expect(failedOnes).toEqual([expect.objectContaining({ sopInstanceUid: victimSop, reason: 'NOT_FOUND_ON_PACS' })]);
        expect(failedOnes[0]!.message).toMatch(/404/);
      }
      // put it back for the other tests
      const back = await storescu([ct.files[victim]!], { port: orthanc.dicomPort, calledAet: orthanc.aet });
      expect(back.code).toBe(0);
    });

    it('C-GET: the study arrives on our association', async () => {
      forget(mr.studyInstanceUid);
      const r = await pacs.retrieve('orthanc', { study: mr.studyInstanceUid, via: 'c-get' }, task());
      expect(r).toMatchObject({ listed: 8, received: 8, failed: 0, error: null });
      expect(r.instances.every((o) => o.path && readFileSync(o.path).subarray(128, 132).toString() === 'DICM')).toBe(true);
      expect(libraryCount(mr.studyInstanceUid)).toBe(8);
    });

    it('C-GET / C-MOVE of a study the PACS does not have (asked before the listing): "no instances", nothing cached', async () => {
      await pacs.startStorageScp({ aeTitle: OUR_AET, port: scpPort, allowedCallingAets: [orthanc.aet] });
      try {
        for (const via of ['c-get', 'c-move'] as const) {
          const err = await pacs.retrieve('orthanc', { study: '1.2.826.0.1.3680043.8.498.404', via }, task()).then(
            () => null,
            (e: unknown) => e as PacsError,
          );
          expect(err?.reason, via).toBe(PacsReason.NotFoundOnPacs);
          expect(err?.message, via).toBe('The PACS has no instances of study 1.2.826.0.1.3680043.8.498.404.');
        }
        expect((s.db.prepare("SELECT COUNT(*) AS n FROM pacs_instances WHERE study_instance_uid = '1.2.826.0.1.3680043.8.498.404'").get() as { n: number }).n).toBe(0);
      } finally {
        await pacs.stopStorageScp();
      }
    });

    it('C-MOVE: the PACS sends to our Storage SCP; resumes with image-level moves', async () => {
      await pacs.startStorageScp({ aeTitle: OUR_AET, port: scpPort, allowedCallingAets: [orthanc.aet] });
      try {
        forget(mr.studyInstanceUid);
        const r = await pacs.retrieve('orthanc', { study: mr.studyInstanceUid, via: 'c-move' }, task());
        expect(r).toMatchObject({ listed: 8, received: 8, failed: 0, error: null });
        // drop three from the cache: only those three are moved again
        const three = r.instances.slice(0, 3).map((o) => o.sopInstanceUid);
        for (const sop of three) s.db.prepare('DELETE FROM pacs_instances WHERE sop_instance_uid = ?').run(sop);
        const again = await pacs.retrieve('orthanc', { study: mr.studyInstanceUid, via: 'c-move' }, task());
        expect(again).toMatchObject({ listed: 8, alreadyCached: 5, received: 3, failed: 0 });
      } finally {
        await pacs.stopStorageScp();
      }
    });
  });

  describe('our Storage SCP', () => {
    it('accepts C-STORE from an allowed AE (dcmtk storescu): cached and in the library, stored as negotiated', async () => {
      const port = await freeLoopbackPort();
      const scp = await pacs.startStorageScp({ aeTitle: 'MEDIMGSCP', port, allowedCallingAets: ['MODALITY1'] });
      try {
        const dir = join(tmp.path, 'scp-in');
        const x = await writeSampleSeries({ outDir: dir, slices: 3, kind: 'mr', seed: 99 });
        const r = await storescu(x.files, { port, calledAet: 'MEDIMGSCP', callingAet: 'MODALITY1' });
        expect(r.code, r.stderr).toBe(0);
        expect(scp.stats.stored).toBe(3);
        for (let i = 0; i < 50 && libraryCount(x.studyInstanceUid) < 3; i++) await new Promise((res) => setTimeout(res, 100));
        expect(libraryCount(x.studyInstanceUid)).toBe(3);
        const rows = s.db.prepare("SELECT * FROM pacs_instances WHERE via = 'c-store' AND calling_aet = 'MODALITY1'").all() as { path: string }[];
        expect(rows).toHaveLength(3);
        // stored as negotiated (storescu picks the encoding): a transfer syntax we offered, the original pixel data
        const pixels = new Set(x.files.map((f) => readFileSync(f).subarray(-256 * 256 * 2).toString('base64')));
        for (const row of rows) {
          const f = readFileSync(row.path);
          expect(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']).toContain(readFileMeta(f).get(0x0010));
          expect(pixels.has(f.subarray(-256 * 256 * 2).toString('base64'))).toBe(true);
        }
      } finally {
        await pacs.stopStorageScp();
      }
    });

    it('a series pushed to our Storage SCP is fingerprinted in batches: every image has its digests and the study tree holds all of them', async () => {
      const port = await freeLoopbackPort();
      await pacs.startStorageScp({ aeTitle: 'MEDIMGSCP', port, allowedCallingAets: ['MODALITY1'] });
      // the real engine's tree builds, counted (not replaced)
      const engine = s.fingerprints as unknown as { rebuildStudy(uid: string): unknown };
      const rebuild = engine.rebuildStudy.bind(engine);
      let rebuilds = 0;
      engine.rebuildStudy = (uid: string) => {
        rebuilds++;
        return rebuild(uid);
      };
      try {
        const x = await writeSampleSeries({ outDir: join(tmp.path, 'scp-batch'), slices: 40, kind: 'mr', seed: 98 });
        const r = await storescu(x.files, { port, calledAet: 'MEDIMGSCP', callingAet: 'MODALITY1' });
        expect(r.code, r.stderr).toBe(0);
        const fingerprinted = () =>
          (s.db
            .prepare('SELECT COUNT(DISTINCT sop_instance_uid) AS n FROM fingerprint_files WHERE study_instance_uid = ? AND pixel_sha256 IS NOT NULL AND leaf IS NOT NULL')
            .get(x.studyInstanceUid) as { n: number }).n;
        for (let i = 0; i < 100 && fingerprinted() < 40; i++) await new Promise((res) => setTimeout(res, 100));
        expect(fingerprinted()).toBe(40);
        const tree = s.db.prepare('SELECT leaf_count FROM fingerprint_studies WHERE study_instance_uid = ?').get(x.studyInstanceUid) as { leaf_count: number } | undefined;
        expect(tree?.leaf_count).toBe(40);
        // one build per settled batch, never more than one per image (a log line: the batch sizes depend on timing)
        expect(rebuilds).toBeGreaterThanOrEqual(1);
        expect(rebuilds).toBeLessThanOrEqual(40);
        console.log(`storage SCP: 40 pushed images settled with ${rebuilds} study tree builds`);
      } finally {
        engine.rebuildStudy = rebuild;
        await pacs.stopStorageScp();
      }
    });

    it('rejects an unknown calling AE title (calling AE title not recognised) and a wrong called AE title', async () => {
      const port = await freeLoopbackPort();
      const scp = await pacs.startStorageScp({ aeTitle: 'MEDIMGSCP', port, allowedCallingAets: ['MODALITY1'] });
      try {
        const before = cachedCount();
        const r = await storescu([ct.files[0]!], { port, calledAet: 'MEDIMGSCP', callingAet: 'STRANGER' });
        expect(r.code).not.toBe(0);
        expect(r.stderr + r.stdout).toMatch(/Calling AE Title Not Recognized/i);
        const r2 = await storescu([ct.files[0]!], { port, calledAet: 'SOMEONE', callingAet: 'MODALITY1' });
        expect(r2.stderr + r2.stdout).toMatch(/Called AE Title Not Recognized/i);
        expect(scp.stats.rejected).toBe(2);
        expect(cachedCount()).toBe(before);
      } finally {
        await pacs.stopStorageScp();
      }
    });
  });

  describe('send', () => {
    let other: OrthancServer;
    beforeAll(async () => {
      other = await startOrthanc({ aet: 'OTHERPACS' });
      closers.push(() => other.stop());
      pacs.add({ name: 'other', dicomweb: { url: other.dicomWebUrl }, dimse: { host: '127.0.0.1', port: other.dicomPort, calledAet: 'OTHERPACS', callingAet: OUR_AET } });
    });

    it('STOW-RS: a result per instance; the study is then on the other PACS', async () => {
      const r = await pacs.send('other', ct.files, task(), 'stow-rs');
      expect(r).toMatchObject({ sent: 6, failed: 0, error: null });
      expect(r.results.every((x) => x.ok && x.sopInstanceUid)).toBe(true);
      const found = await pacs.searchStudies('other', { studyInstanceUid: ct.studyInstanceUid });
      expect(found.studies[0]?.instanceCount).toBe(6);
    });

    it('C-STORE: a result per instance', async () => {
      const r = await pacs.send('other', mr.files, task(), 'c-store');
      expect(r).toMatchObject({ sent: 8, failed: 0, error: null });
      const found = await pacs.searchStudies('other', { studyInstanceUid: mr.studyInstanceUid });
      expect(found.studies[0]?.instanceCount).toBe(8);
    });

    it('C-STORE sends each data set as its own bytes in its own transfer syntax (not re-encoded by dcmjs: DS "-48.750" stays): the copy keeps the anchored pixel and metadata digests', async () => {
      const otherApi = async (path: string, init?: RequestInit) => {
        const r = await fetch(`${other.url}${path}`, init);
        if (!r.ok) throw new Error(`Orthanc ${path}: ${r.status}`);
        return r;
      };
      const events: number[] = [];
      const r = await pacs.send('other', ct.files, task(), 'c-store', { onResult: (_x, i) => events.push(i) });
      expect(r).toMatchObject({ sent: 6, failed: 0, error: null });
      expect(events).toEqual([0, 1, 2, 3, 4, 5]);
      for (const f of ct.files) {
        const local = readFileSync(f);
        const sop = readFileMeta(local).get(0x0003)!;
        const id = ((await (await otherApi('/tools/lookup', { method: 'POST', body: sop })).json()) as { ID: string; Type: string }[]).find((h) => h.Type === 'Instance')!.ID;
        const there = new Uint8Array(await (await otherApi(`/instances/${id}/file`)).arrayBuffer());
        const a = dataSetOf(there)!;
        const b = dataSetOf(local)!;
        expect(a.transferSyntaxUid).toBe(b.transferSyntaxUid);
        // (Orthanc re-encodes on receipt: sequence lengths, padding; the digests are over canonical values)
        const [fa, fb] = await Promise.all([fingerprintBytes(there), fingerprintBytes(new Uint8Array(local))]);
        expect([fa.pixel, fa.meta, fa.leaf]).toEqual([fb.pixel, fb.meta, fb.leaf]);
      }
    });
  });
});
