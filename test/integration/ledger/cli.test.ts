/**
 * The built CLI on a generated study: `medimgshr ledger demo`, `anchor`, `verify` → all verified;
 * one byte of one file's pixel data flipped → exactly that instance "altered: pixels"; a ledger
 * that does not answer → every image "ledger-unreachable", never verified.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnchorResult, DemoStatus, InstanceVerification, StudyVerification } from '../../../src/shared/api/ledger';
import { component } from '../../support/components';
import { tempDir } from '../../support/tmp';

const anvil = component('anvil');
const root = join(__dirname, '../../..');
const bin = join(root, 'bin/medimgshr.cjs');
const tmp = tempDir('medimg-ledger-cli-');
const home = join(tmp.path, 'home');
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [bin, '--home', home, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });

describe.skipIf(!anvil)('medimgshr anchor / verify (built CLI, embedded chain)', () => {
  let demo: DemoStatus;
  beforeAll(() => {
    const r = run(['ledger', 'demo', '--json']);
    expect(r.status, r.stderr).toBe(0);
    demo = JSON.parse(r.stdout) as DemoStatus;
  });
  afterAll(() => tmp.cleanup());

  it('demo, anchor, verify: all 40 verified; then one flipped pixel byte → exactly that file "altered: pixels"', () => {
    expect(demo.ready).toBe(true);
    const uid = demo.study!.studyInstanceUid;
    const a = run(['anchor', uid, '--json']);
    expect(a.status, a.stdout + a.stderr).toBe(0);
    const res = (JSON.parse(a.stdout) as { results: AnchorResult[] }).results;
    expect(res).toHaveLength(1);
    expect(res[0]!.anchor.delivery).toBe('confirmed');
    expect(res[0]!.record).toMatchObject({ leafCount: 40, clinician: demo.identities.find((i) => i.role === 'clinician')!.address });

    const v = run(['verify', demo.study!.folder, '--json']);
    expect(v.status, v.stdout).toBe(0);
    const inst = (JSON.parse(v.stdout) as { instances: InstanceVerification[] }).instances;
    expect(inst).toHaveLength(40);
    expect(inst.every((i) => i.state === 'verified' && i.evidence?.root === res[0]!.anchor.root)).toBe(true);

    const target = join(demo.study!.folder, 'IM00013.dcm');
    const orig = readFileSync(target);
    const bad = Buffer.from(orig);
    bad[bad.length - 2000]! ^= 0x01;
    writeFileSync(target, bad);
    try {
      const w = run(['verify', uid, '--json']);
      expect(w.status).toBe(1);
      const st = (JSON.parse(w.stdout) as { studies: StudyVerification[] }).studies[0]!;
      expect(st.state).toBe('altered');
      expect(st.counts).toMatchObject({ verified: 39, altered: 1 });
      const altered = st.instances.filter((i) => i.state !== 'verified');
      expect(altered).toHaveLength(1);
      expect(altered[0]).toMatchObject({ path: target, state: 'altered', differs: ['pixels'] });
      const text = run(['verify', uid]);
      expect(text.stdout).toMatch(/altered: pixels\s+\S*IM00013\.dcm\s+Pixels differ from the anchored record\./);
      expect(text.stdout).toContain('39 of 40 image(s) verified.');
    } finally {
      writeFileSync(target, orig);
    }
  });

  it('a ledger that does not answer: every image "ledger-unreachable" (never verified), exit code 1', () => {
    const r = run(['verify', demo.study!.studyInstanceUid, '--json'], { MEDIMG_RPC_URL: 'http://127.0.0.1:9' });
    expect(r.status).toBe(1);
    const st = (JSON.parse(r.stdout) as { studies: StudyVerification[] }).studies[0]!;
    expect(st.state).toBe('ledger-unreachable');
    expect(st.counts['ledger-unreachable']).toBe(40);
    expect(st.instances.every((i) => i.evidence === null && i.message.includes('this workstation anchored it'))).toBe(true);
  });

  it('anchoring without a clinician identity says what to do', () => {
    const other = tempDir('medimg-ledger-cli-empty-');
    try {
      const r = spawnSync(process.execPath, [bin, '--home', other.path, 'anchor', '1.2.3.4', '--json'], { encoding: 'utf8', env: { ...process.env, MEDIMG_RPC_URL: 'http://127.0.0.1:9' } });
      expect(r.status).toBe(1);
      const e = (JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } }).error;
      expect(e.code).toBe('LOCKED');
      expect(e.hint).toMatch(/--identity|ledger demo/);
    } finally {
      other.cleanup();
    }
  });
});
