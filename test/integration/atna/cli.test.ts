/** The built CLI: `medimgshr audit syslog [set|off]`, `audit list`, `audit verify` on a real app-data folder. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempDir } from '../../support/tmp';
import { makeCertificates } from '../../support/rsyslog';
import { ROOT } from '../library/support';
import type { CollectorStateView } from '../../../src/shared/api';

function cli(args: string[], home: string) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/medimgshr.cjs'), '--home', home, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('medimgshr audit', () => {
  const tmp = tempDir('medimg-cli-audit-');
  const home = join(tmp.path, 'home');
  afterAll(() => tmp.cleanup());

  it('syslog: off by default; set tls with a CA file; a file that is not a certificate is refused; off again', () => {
    const show = cli(['audit', 'syslog', '--json'], home);
    expect(show.status, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ state: 'off', settings: { enabled: false } });

    const certs = makeCertificates(tmp.path);
    const set = cli(['audit', 'syslog', 'set', '--host', 'syslog.clinic.example', '--transport', 'tls', '--ca', certs.ca, '--json'], home);
    expect(set.status, set.stderr).toBe(0);
    const v = JSON.parse(set.stdout) as CollectorStateView;
    expect(v.settings).toMatchObject({ enabled: true, host: 'syslog.clinic.example', port: 6514, transport: 'tls', hasCa: true });
    expect(v.settings.caSubject).toContain('MedImgShr test syslog CA');
    // Kept across runs (stored with the other settings), shown in words.
    const again = cli(['audit', 'syslog'], home);
    expect(again.stdout).toContain('syslog collector : tls://syslog.clinic.example:6514');
    expect(again.stdout).toContain('CA certificate   : CN=MedImgShr test syslog CA');

    const notPem = join(tmp.path, 'not-a-cert.pem');
    writeFileSync(notPem, 'hello');
    const bad = cli(['audit', 'syslog', 'set', '--host', '10.0.0.5', '--transport', 'tls', '--ca', notPem], home);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('is not a PEM certificate');
    expect(JSON.parse(cli(['audit', 'syslog', '--json'], home).stdout)).toMatchObject({ settings: { host: 'syslog.clinic.example' } });

    const udp = JSON.parse(cli(['audit', 'syslog', 'set', '--host', '10.0.0.5', '--transport', 'udp', '--no-ca', '--json'], home).stdout) as CollectorStateView;
    expect(udp.settings).toMatchObject({ host: '10.0.0.5', port: 514, transport: 'udp', hasCa: false });
    const off = JSON.parse(cli(['audit', 'syslog', 'off', '--json'], home).stdout) as CollectorStateView;
    expect(off.state).toBe('off');
  });

  it('list and verify on an empty log', () => {
    const list = cli(['audit', 'list', '--json'], home);
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ entries: [] });
    const verify = cli(['audit', 'verify'], home);
    expect(verify.status).toBe(0);
    expect(verify.stdout).toContain('Hash chain intact: 0 entries re-hashed.');
  });
});
