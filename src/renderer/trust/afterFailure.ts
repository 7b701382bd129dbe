/**
 * The trust panel of a study loaded before the ledger's last failed read says so at once, without
 * waiting for its reload (debounced, then a chain call that may take its time-out): its "verified"
 * answers become "ledger unreachable", like every badge in the same render (verification.ts).
 */
import type { TrustPanel, VerificationState } from '../../shared/api';
import { clock, SEVERITY } from '../verification/verification';

export function panelAfterFailure(panel: TrustPanel, loadedAt: string | null, failedAt: string | null): TrustPanel {
  if (!failedAt || !loadedAt || Date.parse(loadedAt) >= Date.parse(failedAt)) return panel;
  const message = `The ledger stopped answering at ${clock(failedAt)}; this panel was checked at ${clock(loadedAt)}, before that, so nothing in it is shown as verified until the ledger answers again.`;
  const v = panel.verification;
  let verification = v;
  if (v) {
    const counts: typeof v.counts = { ...v.counts, verified: 0, 'ledger-unreachable': v.counts['ledger-unreachable'] + v.counts.verified };
    const present = (Object.keys(counts) as VerificationState[]).filter((k) => counts[k] > 0);
    const state = present.reduce<VerificationState>((w, k) => (SEVERITY[k] > SEVERITY[w] ? k : w), present[0] ?? 'ledger-unreachable');
    verification = {
      ...v,
      counts,
      state,
      message,
      instances: v.instances.map((i) => (i.state === 'verified' ? { ...i, state: 'ledger-unreachable' as const, message } : i)),
    };
  }
  return { ...panel, ledger: { ...panel.ledger, reachable: false, message }, verification };
}
