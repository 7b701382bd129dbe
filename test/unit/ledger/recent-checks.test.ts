/** RecentChecks: which "verified" results a gate may reuse (one dialog verifies once), and when it must ask again. */
import { describe, expect, it } from 'vitest';
import { RecentChecks, REUSE_VERIFIED_MS } from '../../../src/node/ledger/recent-checks';
import type { InstanceVerification, VerificationState } from '../../../src/shared/api/ledger';

const file = { path: '/studies/ct/image-0001.dcm', size: 1024, mtimeMs: 1_700_000_000_000 };
const ledger = '31337:0xabc';

function result(state: VerificationState): InstanceVerification {
  return {
    instanceId: 7, path: file.path, sopInstanceUid: '1.2.3', studyInstanceUid: '1.2', state, message: state, evidence: null,
    differs: [], actual: null, expected: null, provenOnChain: false, cachedDigests: true, checkedAt: new Date(0).toISOString(),
  };
}

describe('RecentChecks', () => {
  it('reuses a verified image on the same ledger while the file is unchanged, for a short time only', () => {
    let now = 0;
    const r = new RecentChecks(REUSE_VERIFIED_MS, () => now);
    r.keep(file, ledger, r.failureEpoch(), result('verified'));
    expect(r.recent(file, ledger)?.state).toBe('verified');
    expect(r.recent({ ...file, mtimeMs: file.mtimeMs + 1 }, ledger)).toBeNull(); // the file changed on disk
    expect(r.recent({ ...file, size: file.size + 1 }, ledger)).toBeNull();
    expect(r.recent(file, '31337:0xdef')).toBeNull(); // another contract
    now = REUSE_VERIFIED_MS + 1;
    expect(r.recent(file, ledger)).toBeNull();
  });

  it('never keeps a state other than verified', () => {
    const r = new RecentChecks();
    for (const s of ['altered', 'not-registered', 'ledger-unreachable', 'unreadable'] as const) {
      r.keep(file, ledger, r.failureEpoch(), result(s));
      expect(r.recent(file, ledger)).toBeNull();
    }
  });

  it('a ledger failure forgets every earlier check, and a check started before the failure is not kept', () => {
    const r = new RecentChecks();
    r.keep(file, ledger, r.failureEpoch(), result('verified'));
    const started = r.failureEpoch();
    r.ledgerFailed();
    expect(r.recent(file, ledger)).toBeNull();
    r.keep(file, ledger, started, result('verified')); // began before the failure: not trusted
    expect(r.recent(file, ledger)).toBeNull();
    r.keep(file, ledger, r.failureEpoch(), result('verified'));
    expect(r.recent(file, ledger)?.state).toBe('verified');
  });
});
