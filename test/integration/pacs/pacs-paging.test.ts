/**
 * A PACS search with more than a thousand matches, on a real Orthanc holding 1,000 studies (one
 * small generated image each, stored with STOW-RS in bulk): QIDO-RS pages through all of them on
 * the server (limit / offset, "more" until the last page, no study twice, none missing); C-FIND,
 * which has no paging, reads the first 500 matches (the default cap), pages within them and says
 * the search had more; a page past the cap is refused with what to do (narrow the search).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { Services } from '../../../src/node/services';
import { CFIND_CAP } from '../../../src/node/pacs/search';
import type { Pacs } from '../../../src/node/pacs';
import { component } from '../../support/components';
import { startOrthanc, stowRs, type OrthancServer } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const have = component('orthanc') !== null;
if (process.env.CI && !have) throw new Error('Orthanc is required when CI is set');
const STUDIES = 1000;
const tmp = tempDir('medimg-pacs-paging-');
let orthanc: OrthancServer;
let s: Services;
let pacs: Pacs;
const uids = new Set<string>();

describe.skipIf(!have)(`PACS search paging with ${STUDIES} studies`, () => {
  beforeAll(async () => {
    // Orthanc answers C-FIND only for a calling AE title it knows (it lets an unknown one time out)
    orthanc = await startOrthanc({ config: { DicomModalities: { medimg: ['MEDIMGSHR', '127.0.0.1', 11112] } } });
    let batch: Uint8Array[] = [];
    for (let i = 0; i < STUDIES; i++) {
      const r = await writeSampleSeries({ outDir: join(tmp.path, 'studies', String(i)), slices: 1, kind: 'mr', seed: 90_000 + i, matrix: 8 });
      uids.add(r.studyInstanceUid);
      batch.push(new Uint8Array(readFileSync(r.files[0]!)));
      if (batch.length === 100 || i === STUDIES - 1) {
        expect(await stowRs(orthanc, batch)).toBe(200);
        batch = [];
      }
    }
    expect(uids.size).toBe(STUDIES);
    s = await Services.open({ home: join(tmp.path, 'home'), ledger: { mode: 'none' } });
    pacs = s.pacs;
    pacs.add({ name: 'orthanc', dicomweb: { url: orthanc.dicomWebUrl }, dimse: { host: '127.0.0.1', port: orthanc.dicomPort, calledAet: orthanc.aet, callingAet: 'MEDIMGSHR' } });
  }, 600_000);

  afterAll(async () => {
    await s?.close();
    await orthanc?.stop();
    tmp.cleanup();
  });

  it('QIDO-RS: pages of 100 reach every study once; "more" until the last page', async () => {
    const seen: string[] = [];
    const mores: boolean[] = [];
    for (let offset = 0; ; offset += 100) {
      const p = await pacs.searchStudies('orthanc', { limit: 100, offset });
      expect(p.capped).toBeNull();
      seen.push(...p.studies.map((x) => x.studyInstanceUid));
      mores.push(p.more);
      if (!p.more) break;
    }
    expect(seen).toHaveLength(STUDIES);
    expect(new Set(seen)).toEqual(uids);
    expect(mores).toEqual([...Array(9).fill(true), false]);
  });

  it(`C-FIND: the first ${CFIND_CAP} matches, paged; says the search had more; a page past them is refused with what to do`, async () => {
    const first = await pacs.searchStudies('orthanc', { limit: 100, offset: 0 }, { source: 'dimse' });
    expect(first).toMatchObject({ offset: 0, limit: 100, more: true, capped: CFIND_CAP });
    expect(first.studies).toHaveLength(100);
    const last = await pacs.searchStudies('orthanc', { limit: 100, offset: CFIND_CAP - 100 }, { source: 'dimse' });
    expect(last).toMatchObject({ more: false, capped: CFIND_CAP });
    expect(last.studies).toHaveLength(100);
    for (const x of [...first.studies, ...last.studies]) expect(uids.has(x.studyInstanceUid)).toBe(true);
    await expect(pacs.searchStudies('orthanc', { limit: 100, offset: CFIND_CAP }, { source: 'dimse' })).rejects.toMatchObject({
      reason: 'INVALID',
      message: `A C-FIND search has no pages: only its first ${CFIND_CAP} matches can be shown.`,
      hint: expect.stringMatching(/Narrow the search/),
    });
    // a narrower search is not capped
    const one = [...uids][0]!;
    const narrow = await pacs.searchStudies('orthanc', { studyInstanceUid: one, limit: 10, offset: 0 }, { source: 'dimse' });
    expect(narrow).toMatchObject({ more: false, capped: null });
    expect(narrow.studies.map((x) => x.studyInstanceUid)).toEqual([one]);
  });
});
