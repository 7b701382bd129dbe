/**
 * `medimgshr pacs …` through the built CLI (node bin/medimgshr.cjs, after `node scripts/build.mjs
 * --node`): add, list (no secret in the output), test (a refused port says so, exit 1), search
 * (prints the Study Instance UID), retrieve, send, remove — against a real Orthanc.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { freeLoopbackPort } from '../../../src/node/net';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { startOrthanc, type OrthancServer } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const BIN = resolve('bin/medimgshr.cjs');
const built = existsSync(resolve('dist/cli/main.cjs'));
if (!built && process.env.CI) throw new Error('the CLI is not built (node scripts/build.mjs --node)');
const haveAll = built && Boolean(component('orthanc')) && Boolean(dcmtk());
const tmp = tempDir('medimg-pacs-cli-');
const home = join(tmp.path, 'home');
let orthanc: OrthancServer;
let sample: { files: string[]; studyInstanceUid: string };

const cli = (args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((res) => {
    execFile(process.execPath, [BIN, '--home', home, ...args], { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe.skipIf(!haveAll)('medimgshr pacs (built CLI)', () => {
  beforeAll(async () => {
    // Orthanc answers C-FIND only from AE titles it knows
    orthanc = await startOrthanc({ config: { DicomModalities: { medimg: ['MEDIMGSHR', '127.0.0.1', 1] } } });
    sample = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 4, kind: 'ct', seed: 5 });
    expect((await storescu(sample.files, { port: orthanc.dicomPort, calledAet: orthanc.aet })).code).toBe(0);
  });
  afterAll(async () => {
    await orthanc?.stop();
    tmp.cleanup();
  });

  it('add with a secret from the environment; list never shows it', async () => {
    const add = await cli(['pacs', 'add', 'orthanc', '--url', orthanc.dicomWebUrl, '--host', '127.0.0.1', '--port', String(orthanc.dicomPort), '--called-aet', orthanc.aet, '--json']);
    expect(add.code, add.stderr).toBe(0);
    const withSecret = await cli(['pacs', 'add', 'secured', '--url', 'https://pacs.example.org/dicom-web', '--auth', 'bearer', '--password-env', 'TOKEN_FOR_TEST', '--json'], { TOKEN_FOR_TEST: 'tok-very-secret' });
    expect(withSecret.code, withSecret.stderr).toBe(0);
    const list = await cli(['pacs', 'list', '--json']);
    expect(list.stdout).not.toContain('tok-very-secret');
    const parsed = JSON.parse(list.stdout) as { name: string; dicomweb: { hasSecret: boolean } | null }[];
    expect(parsed.find((c) => c.name === 'secured')?.dicomweb?.hasSecret).toBe(true);
  });

  it('test: OK, and a refused port says so (exit 1) in words and in JSON', async () => {
    const ok = await cli(['pacs', 'test', 'orthanc']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/DICOMweb: answered/);
    expect(ok.stdout).toMatch(/C-ECHO answered/);
    const port = await freeLoopbackPort();
    await cli(['pacs', 'add', 'down', '--url', `http://127.0.0.1:${port}/dicom-web`]);
    const down = await cli(['pacs', 'test', 'down']);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/refused the connection/);
    expect(down.stdout).toMatch(/what to do:/);
    const json = JSON.parse((await cli(['pacs', 'test', 'down', '--json'])).stdout) as { dicomweb: { error: { reason: string } } };
    expect(json.dicomweb.error.reason).toBe('CONNECTION_REFUSED');
  });

  it('search prints the Study Instance UID; retrieve brings the study into the library; send; remove', async () => {
    const s = await cli(['pacs', 'search', 'orthanc', '--modality', 'CT']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain(sample.studyInstanceUid);
    const sj = JSON.parse((await cli(['pacs', 'search', 'orthanc', '--json', '--via', 'dimse'])).stdout) as { studies: { studyInstanceUid: string }[] };
    expect(sj.studies.map((x) => x.studyInstanceUid)).toContain(sample.studyInstanceUid);
    const r = await cli(['pacs', 'retrieve', 'orthanc', sample.studyInstanceUid, '--no-verify', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ listed: 4, received: 4, failed: 0 });
    const studies = await cli(['studies', '--json']);
    expect(studies.stdout).toContain(sample.studyInstanceUid);
    const again = await cli(['pacs', 'retrieve', 'orthanc', sample.studyInstanceUid, '--no-verify']);
    expect(again.stdout).toMatch(/0 received, 4 already here/);
    const sent = await cli(['pacs', 'send', 'orthanc', '--study', sample.studyInstanceUid, '--via', 'c-store', '--json']);
    expect(JSON.parse(sent.stdout)).toMatchObject({ sent: 4, failed: 0 });
    expect((await cli(['pacs', 'remove', 'down'])).code).toBe(0);
  });
});
