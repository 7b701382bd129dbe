/**
 * `medimgshr scp …` and `medimgshr anchor-store` through the built CLI (node bin/medimgshr.cjs,
 * after `node scripts/build.mjs`): the Storage SCP's settings as the app will apply them, and the
 * storage URI new anchors record.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/tmp';

const BIN = resolve('bin/medimgshr.cjs');
const built = existsSync(resolve('dist/cli/main.cjs'));
if (!built && process.env.CI) throw new Error('the CLI is not built (node scripts/build.mjs --node)');
const tmp = tempDir('medimg-scp-cli-');
const home = join(tmp.path, 'home');
afterAll(() => tmp.cleanup());

const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((res) => {
    execFile(process.execPath, [BIN, '--home', home, ...args], { timeout: 120_000 }, (err, stdout, stderr) => res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
const json = async (args: string[]) => {
  const r = await cli([...args, '--json']);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

describe.skipIf(!built)('medimgshr scp / anchor-store (built CLI)', () => {
  it('status shows the safe defaults; enable, allow, set, deny, disable persist; bad input exits 1 with what to do', async () => {
    expect(await json(['scp', 'status'])).toEqual({ enabled: false, aeTitle: 'MEDIMGSHR', port: 11112, bindAddress: '127.0.0.1', allowedCallingAets: [], anchorArrivals: false });
    const en = await cli(['scp', 'enable']);
    expect(en.code).toBe(0);
    expect(en.stdout).toContain('Storage SCP: ENABLED');
    expect(en.stdout).toContain('Nobody may send yet: add a calling AE title with: medimgshr scp allow <AE title>');
    expect((await json(['scp', 'allow', 'CT_SCANNER1'])).allowedCallingAets).toEqual(['CT_SCANNER1']);
    expect((await json(['scp', 'allow', 'MR_1'])).allowedCallingAets).toEqual(['CT_SCANNER1', 'MR_1']);
    expect(await json(['scp', 'set', '--ae-title', 'MEDIMGRX', '--port', '11113', '--anchor-arrivals', 'on'])).toMatchObject({ aeTitle: 'MEDIMGRX', port: 11113, anchorArrivals: true, bindAddress: '127.0.0.1' });
    expect((await json(['scp', 'deny', 'MR_1'])).allowedCallingAets).toEqual(['CT_SCANNER1']);
    const bad = await cli(['scp', 'set', '--bind', 'pacs.example.org']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('The bind address "pacs.example.org" is not an IP address.');
    expect(bad.stderr).toContain('what to do: Use 127.0.0.1 (this workstation only)');
    expect(await json(['scp', 'disable'])).toEqual({ enabled: false, aeTitle: 'MEDIMGRX', port: 11113, bindAddress: '127.0.0.1', allowedCallingAets: ['CT_SCANNER1'], anchorArrivals: true });
  }, 120_000);

  it('anchor-store: a connection\'s storage URI for new anchors, and back to the blob store', async () => {
    expect(await json(['anchor-store'])).toEqual({ storageUri: null });
    await json(['pacs', 'add', 'archive', '--host', '10.0.0.5', '--port', '11112', '--called-aet', 'ARCHIVE']);
    expect(await json(['anchor-store', 'archive'])).toEqual({ storageUri: 'dimse:ARCHIVE@10.0.0.5:11112' });
    await json(['pacs', 'add', 'hospital', '--url', 'https://pacs.example.org/dicom-web']);
    expect(await json(['anchor-store', 'hospital'])).toEqual({ storageUri: 'dicomweb:https://pacs.example.org/dicom-web' });
    expect(await json(['anchor-store', '--clear'])).toEqual({ storageUri: null });
  }, 120_000);
});
