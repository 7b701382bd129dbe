/**
 * The built CLI, embedded chain: `ledger demo`, import a CR study, `anchor` it, `model add|run`,
 * `model anchor` (findings root beside the study record), `model sidecar`, `model verify` with the
 * files → verified; an edited probability in the sidecar → not verified, exit code 1.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { component } from '../../support/components';
import { blockImage, writeCrImage, writeModelFolder } from '../../support/ai';
import { tempDir } from '../../support/tmp';

const anvil = component('anvil');
const root = fileURLToPath(new URL('../../..', import.meta.url));
const bin = join(root, 'bin/medimgshr.cjs');
const tmp = tempDir('medimg-ai-cli-anchor-');
const home = join(tmp.path, 'home');
afterAll(() => tmp.cleanup());

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, '--home', home, '--json', ...args], { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, json: JSON.parse(r.stdout || 'null') as Record<string, unknown> & { error?: { message: string } }, stderr: r.stderr };
}

describe.skipIf(!anvil)('medimgshr model anchor / verify (built CLI, embedded chain)', () => {

  it('anchors a study\'s findings beside its record and verifies the sidecar with the files; an edit is caught', () => {
    expect(cli('ledger', 'demo').status).toBe(0);
    const dir = join(tmp.path, 'cr');
    mkdirSync(dir);
    const files = ['a', 'b'].map((k, i) => {
      const f = join(dir, `${k}.dcm`);
      writeCrImage(f, { rows: 256, columns: 256, pixels: blockImage(1024, 2048 + 1024 * i), study: 'cli-anchor', instance: k });
      return f;
    });
    const uid = writeCrImage(join(tmp.path, 'probe.dcm'), { rows: 256, columns: 256, pixels: blockImage(1024, 2048), study: 'cli-anchor', instance: 'a' }).studyInstanceUid;
    expect(cli('import', dir).status).toBe(0);
    // findings cannot be anchored before the study itself
    expect(cli('model', 'add', writeModelFolder(join(tmp.path, 'model'))).status).toBe(0);
    expect(cli('model', 'run', '--study', uid).status).toBe(0);
    const early = cli('model', 'anchor', uid);
    expect(early.status).not.toBe(0);
    expect(early.json.error?.message).toMatch(/has no confirmed record on the ledger/);

    const a = cli('anchor', uid);
    expect(a.status, a.stderr).toBe(0);
    const fa = cli('model', 'anchor', uid);
    expect(fa.status, fa.stderr).toBe(0);
    expect(fa.json).toMatchObject({ delivery: 'confirmed', count: 2, alreadyAnchored: false });
    const sidecarPath = join(tmp.path, 'findings.json');
    expect(cli('model', 'sidecar', '--study', uid, '--out', sidecarPath).status).toBe(0);
    const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as { merkleRoot: string; results: { record: { findings: { probability: number }[] } }[] };
    expect(sidecar.merkleRoot).toBe(fa.json.findingsRoot);

    const v = cli('model', 'verify', sidecarPath, ...files);
    expect(v.status, JSON.stringify(v.json)).toBe(0);
    expect(v.json).toMatchObject({ ok: true, anchored: { count: 2 } });
    expect((v.json.results as { pixelsMatch: boolean; proofValidOnChain: boolean }[]).map((r) => [r.pixelsMatch, r.proofValidOnChain])).toEqual([
      [true, true],
      [true, true],
    ]);

    sidecar.results[0]!.record.findings[0]!.probability = 0.999;
    writeFileSync(sidecarPath, JSON.stringify(sidecar));
    const bad = cli('model', 'verify', sidecarPath, ...files);
    expect(bad.status).toBe(1);
    expect(bad.json).toMatchObject({ ok: false });
    expect((bad.json.results as { recordMatches: boolean }[]).map((r) => r.recordMatches)).toEqual([false, true]);
  }, 600_000);
});
