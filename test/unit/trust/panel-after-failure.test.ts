/** A trust panel checked before the ledger's last failed read shows nothing as verified (issue 16, honest badges). */
import { describe, expect, it } from 'vitest';
import type { InstanceVerification, TrustPanel } from '../../../src/shared/api';
import { panelAfterFailure } from '../../../src/renderer/trust/afterFailure';

const inst = (id: number, state: InstanceVerification['state']): InstanceVerification =>
  ({ instanceId: id, path: `/x/${id}.dcm`, sopInstanceUid: `1.2.${id}`, studyInstanceUid: '1.2', state, message: `${state} ${id}`, evidence: null, differs: [], actual: null }) as unknown as InstanceVerification;

function panel(states: InstanceVerification['state'][]): TrustPanel {
  const instances = states.map((s, i) => inst(i + 1, s));
  const counts = { verified: 0, altered: 0, 'not-registered': 0, 'ledger-unreachable': 0, unreadable: 0 };
  for (const s of states) counts[s]++;
  return {
    studyInstanceUid: '1.2',
    ledger: { reachable: true, message: null, chainId: 31337, contract: null, lastSyncedBlock: 9, lastSyncedAt: '2026-11-29T10:00:00.000Z', head: 9 },
    verification: { state: states.includes('altered') ? 'altered' : 'verified', message: 'ok', counts, instances, record: null },
  } as unknown as TrustPanel;
}

describe('panelAfterFailure', () => {
  const loaded = '2026-11-29T10:00:05.000Z';
  it('keeps a panel checked after the failure (or with no failure) as it is', () => {
    const p = panel(['verified', 'verified']);
    expect(panelAfterFailure(p, loaded, null)).toBe(p);
    expect(panelAfterFailure(p, loaded, '2026-11-29T10:00:04.999Z')).toBe(p);
  });
  it('turns every verified answer of an older check into "ledger unreachable" and says when', () => {
    const out = panelAfterFailure(panel(['verified', 'verified', 'not-registered']), loaded, '2026-11-29T10:00:06.000Z');
    expect(out.ledger.reachable).toBe(false);
    expect(out.verification!.counts).toEqual({ verified: 0, altered: 0, 'not-registered': 1, 'ledger-unreachable': 2, unreadable: 0 });
    expect(out.verification!.state).toBe('ledger-unreachable');
    expect(out.verification!.instances.map((i) => i.state)).toEqual(['ledger-unreachable', 'ledger-unreachable', 'not-registered']);
    expect(out.verification!.message).toMatch(/stopped answering at \d\d:\d\d:\d\d; this panel was checked at \d\d:\d\d:\d\d/);
  });
  it('keeps "altered" the study state: evidence of a change does not expire with the connection', () => {
    const out = panelAfterFailure(panel(['verified', 'altered']), loaded, '2026-11-29T10:00:06.000Z');
    expect(out.verification!.state).toBe('altered');
    expect(out.verification!.instances[1]!.state).toBe('altered');
    expect(out.verification!.instances[1]!.message).toBe('altered 2');
    expect(out.verification!.counts.verified).toBe(0);
  });
});
