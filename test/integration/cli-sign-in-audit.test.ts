/**
 * Issue 16: a CLI command that unlocks an identity records the sign-in in the audit log as the
 * app's login screen does (action "login" / "login.failed", marked via "cli"), on a real SQLite
 * app-data folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Services } from '../../src/node/services';
import { cliSignIn } from '../../src/cli/services';
import { tempDir } from '../support/tmp';

const tmp = tempDir('medimg-cli-signin-');
let s: Services;

beforeAll(async () => {
  s = await Services.open({ home: tmp.path, ledger: { mode: 'none' }, storageScp: false });
});
afterAll(async () => {
  await s?.close();
  tmp.cleanup();
});

describe('CLI sign-in audit', () => {
  it('records a successful and a failed CLI sign-in with the account and via "cli"', async () => {
    const id = await s.identity.create({ displayName: 'Dr. CLI Reader', passphrase: 'right-passphrase' });
    await cliSignIn(s, id.address, 'right-passphrase');
    expect(s.identity.current()?.address).toBe(id.address);
    await expect(cliSignIn(s, id.address, 'wrong-passphrase')).rejects.toThrow();

    const okEntries = s.trust.audit.list({ action: 'login', limit: 10, order: 'desc' }) as unknown as { actor: string; details: Record<string, unknown> }[];
    expect(okEntries).toHaveLength(1);
    expect(okEntries[0]!.actor).toBe(id.address);
    expect(okEntries[0]!.details.via).toBe('cli');
    expect((okEntries[0]!.details.account as { name: string }).name).toBe('Dr. CLI Reader');

    const failedEntries = s.trust.audit.list({ action: 'login.failed', limit: 10, order: 'desc' }) as unknown as { actor: string; details: Record<string, unknown> }[];
    expect(failedEntries).toHaveLength(1);
    expect(failedEntries[0]!.actor).toBe(id.address);
    expect(failedEntries[0]!.details.via).toBe('cli');
    expect(String(failedEntries[0]!.details.error)).not.toBe('');
  });
});
