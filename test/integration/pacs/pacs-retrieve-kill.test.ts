/**
 * A C-GET retrieve answers each C-STORE sub-operation before the file is on disk (the PACS sends one
 * image per round trip; waiting for the disk held it back). That is safe only because a retrieve
 * killed at any moment resumes by fetching every instance that has no cached file: killed here
 * (SIGKILL, through the built CLI) while images arrive, then run again, the cache ends with every
 * instance exactly once, each file named by the SHA-256 of its bytes; a third run fetches nothing.
 */
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { readFileMeta } from '../../../src/node/pacs/part10';
import { component } from '../../support/components';
import { dcmtk, storescu } from '../../support/dcmtk';
import { startOrthanc, type OrthancServer } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const BIN = resolve('bin/medimgshr.cjs');
const built = existsSync(resolve('dist/cli/main.cjs'));
if (process.env.CI && (!built || !component('orthanc') || !dcmtk())) throw new Error('needs the built CLI, Orthanc and dcmtk');
const haveAll = built && Boolean(component('orthanc')) && Boolean(dcmtk());
const tmp = tempDir('medimg-pacs-kill-');
const home = join(tmp.path, 'home');
const SLICES = 60;
let orthanc: OrthancServer;
let sample: { files: string[]; studyInstanceUid: string };

const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((res) => {
    execFile(process.execPath, [BIN, '--home', home, ...args], { timeout: 300_000 }, (err, stdout, stderr) => res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });

/** The cache's files (ab/<sha256>.dcm), without the temp files of writes under way. */
function cached(): string[] {
  const dir = join(home, 'cache', 'pacs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(dir, d.name)).filter((f) => f.endsWith('.dcm')).map((f) => join(dir, d.name, f)));
}

describe.skipIf(!haveAll)('a C-GET retrieve killed while images arrive', () => {
  beforeAll(async () => {
    orthanc = await startOrthanc({ config: { DicomModalities: { medimg: ['MEDIMGSHR', '127.0.0.1', 1] } } });
    sample = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: SLICES, kind: 'ct', seed: 61 });
    expect((await storescu(sample.files, { port: orthanc.dicomPort, calledAet: orthanc.aet })).code).toBe(0);
    const add = await cli(['pacs', 'add', 'orthanc', '--host', '127.0.0.1', '--port', String(orthanc.dicomPort), '--called-aet', orthanc.aet]);
    expect(add.code, add.stderr).toBe(0);
  });
  afterAll(async () => {
    await orthanc?.stop();
    tmp.cleanup();
  });

  it('resumes with only what has no cached file: every instance once, each file named by its SHA-256', async () => {
    const child = spawn(process.execPath, [BIN, '--home', home, 'pacs', 'retrieve', 'orthanc', sample.studyInstanceUid, '--via', 'c-get', '--no-verify', '--json'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // killed once some images are in the cache (others are in flight: answered, not yet written)
    let killedAt = -1;
    for (let i = 0; i < 6000 && child.exitCode === null; i++) {
      const n = cached().length;
      if (n >= 5) {
        child.kill('SIGKILL');
        killedAt = n;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await exited;
    expect(killedAt, 'the retrieve was killed while images arrived').toBeGreaterThanOrEqual(5);
    const before = cached().length;
    expect(before).toBeLessThan(SLICES);

    const resumed = await cli(['pacs', 'retrieve', 'orthanc', sample.studyInstanceUid, '--via', 'c-get', '--no-verify', '--json']);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const r = JSON.parse(resumed.stdout) as { listed: number; alreadyCached: number; received: number; failed: number };
    expect(r.listed).toBe(SLICES);
    expect(r.failed).toBe(0);
    expect(r.alreadyCached + r.received).toBe(SLICES);
    expect(r.received).toBeGreaterThan(0);

    const files = cached();
    expect(files).toHaveLength(SLICES);
    for (const f of files) expect(createHash('sha256').update(readFileSync(f)).digest('hex') + '.dcm').toBe(f.split('/').pop());
    // one file per SOP Instance UID, and they are the study's
    const sops = new Set(files.map((f) => readFileMeta(readFileSync(f)).get(0x0003)));
    expect(sops).toEqual(new Set(sample.files.map((f) => readFileMeta(readFileSync(f)).get(0x0003))));

    const again = await cli(['pacs', 'retrieve', 'orthanc', sample.studyInstanceUid, '--via', 'c-get', '--no-verify', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ listed: SLICES, alreadyCached: SLICES, received: 0, failed: 0 });
  });
});
