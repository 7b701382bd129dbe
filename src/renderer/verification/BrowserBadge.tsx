import { StudyBadge } from './Badge';
import { useSession } from '../identity/session';
import { useStudyCheck } from './verification';

/** A study's verification in the browser (worst instance state), or "no ledger" when none is configured. */
export function BrowserStudyBadge({ uid }: { uid: string }) {
  const s = useSession();
  const state = s.info?.status.state ?? null;
  const enabled = state !== null && state !== 'not-configured';
  const check = useStudyCheck(uid, enabled);
  if (state === 'not-configured') return <NoLedgerBadge testId="study-verification" compact />;
  return <StudyBadge check={check} uid={uid} compact testId="study-verification" align="left" />;
}

/** Nothing can be verified: no ledger is configured in this app. Never "verified". */
export function NoLedgerBadge({ testId, compact }: { testId: string; compact?: boolean }) {
  const title = 'Not verified: no ledger is configured, so nothing is checked.';
  return (
    <span className="vbadge-wrap">
      <span className={`vbadge vbadge--ledger-unreachable${compact ? ' vbadge--compact' : ''}`} data-testid={testId} data-state="no-ledger" title={title} aria-label={title}>
        <span className="vbadge__icon" aria-hidden="true">
          !
        </span>
        {compact ? null : <span className="vbadge__text">no ledger</span>}
      </span>
    </span>
  );
}
