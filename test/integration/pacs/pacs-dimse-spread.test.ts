/**
 * A series-level C-GET / C-MOVE spread over several associations (dimse.ts spreadSeries) against a
 * real Orthanc: every image arrives once (C-GET: at most one repeat, the one under way when the
 * first association's C-CANCEL went), the retrieve caches and indexes each, the counts add up; and
 * the same through Pacs.retrieve for a series by C-GET and by C-MOVE to our Storage SCP.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { freeLoopbackPort } from '../../../src/node/net';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import type { Pacs } from '../../../src/node/pacs';
import { DimseClient, type ReceivedInstance } from '../../../src/node/pacs/dimse';
import { readFileMeta } from '../../../src/node/pacs/part10';
import { listInstancesDimse } from '../../../src/node/pacs/search';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { startOrthanc, type OrthancServer } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const haveAll = Boolean(component('orthanc')) && Boolean(dcmtk());
const tmp = tempDir('medimg-pacs-spread-');
const OUR_AET = 'MEDIMGSHR';
const SLICES = 30;

let s: Services;
let pacs: Pacs;
let orthanc: OrthancServer;
let scpPort: number;
let ct: { files: string[]; studyInstanceUid: string; seriesInstanceUid: string };
let sops: Set<string>;

describe.skipIf(!haveAll)('DIMSE retrieve of a series over several associations (real Orthanc)', () => {
  beforeAll(async () => {
    scpPort = await freeLoopbackPort();
    orthanc = await startOrthanc({ config: { DicomModalities: { medimg: [OUR_AET, '127.0.0.1', scpPort] } } });
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' } });
    pacs = s.pacs;
    ct = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: SLICES, kind: 'ct', seed: 31 });
    sops = new Set(ct.files.map((f) => readFileMeta(readFileSync(f)).get(0x0003)!));
    const r = await storescu(ct.files, { port: orthanc.dicomPort, calledAet: orthanc.aet });
    expect(r.code, r.stderr).toBe(0);
    pacs.add({ name: 'o', dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: OUR_AET } });
  });

  afterAll(async () => {
    await s?.close();
    await orthanc?.stop();
    tmp.cleanup();
  });

  const client = () => new DimseClient({ host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: OUR_AET });

  it('C-GET on 3 associations: every image, each once but for at most one repeat; the same bytes as on one association', async () => {
    const spread: ReceivedInstance[] = [];
    const r = await client().get([{ study: ct.studyInstanceUid, series: ct.seriesInstanceUid }], async (i) => void spread.push(i), { associations: 3 });
    const uids = spread.map((i) => i.sopInstanceUid);
    expect(new Set(uids)).toEqual(sops);
    expect(uids.length - SLICES).toBeLessThanOrEqual(1);
    // the PACS's counts: the cancelled association's final answer may leave out the image under way when the C-CANCEL came
    expect(r.completed).toBeGreaterThanOrEqual(SLICES - 1);
    expect(r.completed).toBeLessThanOrEqual(uids.length);
    expect(r.failed).toBe(0);
    const single: ReceivedInstance[] = [];
    await client().get([{ study: ct.studyInstanceUid, series: ct.seriesInstanceUid }], async (i) => void single.push(i), { associations: 1 });
    expect(single).toHaveLength(SLICES);
    const bytes = new Map(single.map((i) => [i.sopInstanceUid, Buffer.from(i.file).toString('base64')]));
    for (const i of spread) expect(Buffer.from(i.file).toString('base64')).toBe(bytes.get(i.sopInstanceUid));
  });

  it("the spread's listing serves the caller's own identical listing once (one C-FIND, not two), on this thread and from the C-GET thread", async () => {
    for (const threaded of [false, true]) {
      const c = client();
      const runs = vi.spyOn(c as unknown as { run: (...a: unknown[]) => Promise<void> }, 'run');
      const target = [{ study: ct.studyInstanceUid, series: ct.seriesInstanceUid }];
      let n = 0;
      if (threaded) await c.getThreaded(target, async () => void n++, { associations: 3 });
      else await c.get(target, async () => void n++, { associations: 3 });
      expect(n).toBeGreaterThanOrEqual(SLICES);
      const before = runs.mock.calls.length;
      const listed = await listInstancesDimse(c, ct.studyInstanceUid, ct.seriesInstanceUid);
      expect(new Set(listed.map((l) => l.sop))).toEqual(sops);
      expect(listed.every((l) => l.series === ct.seriesInstanceUid)).toBe(true);
      expect(runs.mock.calls.length - before, threaded ? 'threaded' : 'this thread').toBe(0); // no association for it
      // taken once: the next listing asks the PACS
      await listInstancesDimse(c, ct.studyInstanceUid, ct.seriesInstanceUid);
      expect(runs.mock.calls.length - before).toBe(1);
    }
  });

  it('Pacs.retrieve of the series by C-GET (its thread) and by C-MOVE to our Storage SCP: all received, cached and in the library', async () => {
    const scp = await pacs.startStorageScp({ aeTitle: OUR_AET, port: scpPort, allowedCallingAets: [orthanc.aet] });
    try {
      for (const via of ['c-get', 'c-move'] as const) {
        s.db.prepare('DELETE FROM pacs_instances').run();
        const associations = scp.stats.associations;
        const r = await pacs.retrieve('o', { study: ct.studyInstanceUid, series: ct.seriesInstanceUid, via }, new Task('t', null, () => {}));
        expect(r, via).toMatchObject({ listed: SLICES, received: SLICES, failed: 0, error: null });
        expect(new Set(r.instances.map((o) => o.sopInstanceUid)), via).toEqual(sops);
        expect(r.instances.every((o) => o.path && readFileMeta(readFileSync(o.path)).get(0x0003) === o.sopInstanceUid), via).toBe(true);
        expect((s.db.prepare('SELECT COUNT(*) AS n FROM pacs_instances').get() as { n: number }).n, via).toBe(SLICES);
        // C-MOVE: the PACS opened one association to our SCP per share (MEDIMG_DIMSE_ASSOCIATIONS, default 3)
        expect(scp.stats.associations - associations, via).toBe(via === 'c-move' ? 3 : 0);
      }
    } finally {
      await pacs.stopStorageScp();
    }
  });
});
