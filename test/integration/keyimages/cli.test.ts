/**
 * `medimgshr key-images mark|unmark|list|save <study>` through the built CLI (--json), on a real app-data folder:
 * images by SOP Instance UID or by file path, errors in clinical words with what to do, save idempotent.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import type { KeyImageList, KosSaveResult } from '../../../src/shared/api';
import { runCli } from '../../support/cli-homes';
import { tempDir } from '../../support/tmp';

const tmp = tempDir('medimg-kos-cli-');
const home = join(tmp.path, 'home');
const env = { ...process.env };
let study = '';
let files: string[] = [];
let sops: string[] = [];

beforeAll(async () => {
  const s = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 5, kind: 'ct', seed: 43 });
  study = s.studyInstanceUid;
  files = s.files;
  const imp = await runCli(home, ['import', join(tmp.path, 'ct')], env);
  expect(imp.code, imp.stderr).toBe(0);
  const listed = await runCli(home, ['key-images', 'list', study], env);
  expect((listed.out as KeyImageList).images).toEqual([]);
}, 240_000);
afterAll(() => tmp.cleanup());

describe('medimgshr key-images', () => {
  it('marks by file path, re-marking changes nothing, unmarks, lists', async () => {
    const m = await runCli(home, ['key-images', 'mark', study, files[0]!, files[2]!, files[4]!], env);
    expect(m.code, m.stderr).toBe(0);
    const r = m.out as KeyImageList & { changed: number };
    expect(r.changed).toBe(3);
    expect(r.images).toHaveLength(3);
    sops = r.images.map((i) => i.sopInstanceUid);
    const again = await runCli(home, ['key-images', 'mark', study, sops[0]!], env);
    expect((again.out as { changed: number }).changed).toBe(0);
    const un = await runCli(home, ['key-images', 'unmark', study, sops[1]!], env);
    expect((un.out as KeyImageList).images.map((i) => i.sopInstanceUid)).toEqual([sops[0], sops[2]]);
    const list = await runCli(home, ['key-images', 'list', study], env);
    expect((list.out as KeyImageList).images.map((i) => i.sopInstanceUid)).toEqual([sops[0], sops[2]]);
  });

  it('saves a KOS with a title in words, and saving again writes nothing new', async () => {
    const a = await runCli(home, ['key-images', 'save', study, '--title', 'for conference'], env);
    expect(a.code, a.stderr).toBe(0);
    const r = a.out as KosSaveResult;
    expect(r).toMatchObject({ unchanged: false, document: { referenced: 2, title: { code: '113005', meaning: 'For Conference' }, origin: 'saved' } });
    const b = await runCli(home, ['key-images', 'save', study, '--title', '113005'], env);
    expect(b.out as KosSaveResult).toMatchObject({ unchanged: true, document: { sopInstanceUid: r.document.sopInstanceUid } });
  });

  it('says what is wrong and what to do', async () => {
    const unknown = await runCli(home, ['key-images', 'list', '1.2.3.999'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.out).toEqual({ error: { code: 'NOT_FOUND', message: 'The study 1.2.3.999 is not in the library.', hint: expect.stringContaining('medimgshr studies') } });
    const title = await runCli(home, ['key-images', 'save', study, '--title', 'Rejected for Quality Reasons'], env);
    expect(title.out).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: '"Rejected for Quality Reasons" is not a key object document title this app writes.', hint: expect.stringContaining('113000 Of Interest') } });
    const img = await runCli(home, ['key-images', 'mark', study, '1.2.3.4.5'], env);
    expect(img.out).toMatchObject({ error: { code: 'NOT_FOUND', message: 'The study has no image 1.2.3.4.5 in the library.' } });
  });
});
