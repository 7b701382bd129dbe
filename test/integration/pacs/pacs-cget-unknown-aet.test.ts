/**
 * C-GET from an Orthanc that does not know our calling AE title (not in its DicomModalities):
 * Orthanc accepts the association, then sends an A-ABORT for the C-GET (and the C-FIND) and keeps
 * the socket open; dcmjs-dimse ignored the abort, so the retrieve waited for the 30 s PDU limit and
 * said "did not answer in time". Now it ends at once with a message naming the likely cause and what
 * to do; a peer that stays silent ends after a bounded wait with the same message. A real Orthanc.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { Services } from '../../../src/node/services';
import { Task } from '../../../src/node/tasks';
import type { Pacs } from '../../../src/node/pacs';
import { DimseClient } from '../../../src/node/pacs/dimse';
import { PacsError, PacsReason } from '../../../src/node/pacs/errors';
import { silentAcceptor } from '../../support/silent-dicom';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { startOrthanc, type OrthancServer } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const haveAll = Boolean(component('orthanc')) && Boolean(dcmtk());
const tmp = tempDir('medimg-pacs-cget-');
let s: Services;
let pacs: Pacs;
let orthanc: OrthancServer;
let study: { files: string[]; studyInstanceUid: string; seriesInstanceUid: string };

describe.skipIf(!haveAll)('C-GET from a PACS that does not know our AE title', () => {
  beforeAll(async () => {
    // no DicomModalities: MEDIMGSHR is unknown to this Orthanc
    orthanc = await startOrthanc();
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' } });
    pacs = s.pacs;
    study = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 3, kind: 'ct', seed: 31 });
    const r = await storescu(study.files, { port: orthanc.dicomPort, calledAet: orthanc.aet });
    expect(r.code, r.stderr).toBe(0);
    pacs.add({ name: 'stranger', dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'MEDIMGSHR' } });
  });

  afterAll(async () => {
    await s?.close();
    await orthanc?.stop();
    tmp.cleanup();
  });

  const message = "The PACS did not answer the C-GET; it may not know this workstation's AE title MEDIMGSHR: ask its administrator to add it.";

  it('the C-GET itself: Orthanc aborts it, the wait ends at once with the message that says what to do', async () => {
    const client = new DimseClient({ host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'MEDIMGSHR' });
    const got: string[] = [];
    const err = await client.get([{ study: study.studyInstanceUid }], async (i) => void got.push(i.sopInstanceUid)).then(
      () => null,
      (e: unknown) => e as PacsError,
    );
    expect(err).toBeInstanceOf(PacsError);
    expect(err!.reason).toBe(PacsReason.NotAnswered);
    expect(err!.message).toBe(message);
    expect(err!.hint).toMatch(/adds AE title MEDIMGSHR/);
    expect(got).toEqual([]);
    expect(orthanc.log()).toMatch(/Rejected Get request from remote DICOM modality with AET "MEDIMGSHR"/);
  });

  it('a retrieve by C-GET (its C-GET, asked before the listing when nothing is cached, is where Orthanc stops): the same message, the retrieve ends', async () => {
    const err = await pacs.retrieve('stranger', { study: study.studyInstanceUid, via: 'c-get' }, new Task('pacs-test', null, () => {})).then(
      () => null,
      (e: unknown) => e as PacsError,
    );
    expect(err?.reason).toBe(PacsReason.NotAnswered);
    expect(err?.message).toBe(message);
    expect((s.db.prepare('SELECT COUNT(*) AS n FROM pacs_instances').get() as { n: number }).n).toBe(0);
  });

  it('a peer that accepts the association and never answers: the same message after the bounded wait', async () => {
    // a bare DICOM upper layer that accepts any association (A-ASSOCIATE-AC for the first proposed
    // context) and then stays silent: the case the bound is for, when a PACS neither aborts nor answers
    const silent = await silentAcceptor();
    try {
      const client = new DimseClient({ host: '127.0.0.1', port: silent.port, calledAet: 'SILENT', callingAet: 'MEDIMGSHR' }, 30_000, 1500);
      const err = await client.get([{ study: study.studyInstanceUid }], async () => {}).then(
        () => null,
        (e: unknown) => e as PacsError,
      );
      expect(err?.reason).toBe(PacsReason.NotAnswered);
      expect(err?.message).toBe(message);
      expect(silent.associations()).toBe(1);
    } finally {
      await silent.close();
    }
  });
});
