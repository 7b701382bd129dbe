import type { ChainRoles } from '../../shared/api';

export function RoleChips({ roles, testId = 'role-chips', stale, brief }: { roles: ChainRoles; testId?: string; stale?: boolean; brief?: boolean }) {
  const list = (['regulator', 'institution', 'clinician', 'patient'] as const).filter((r) => roles[r]);
  return (
    <span className={`rolechips${stale ? ' rolechips--stale' : ''}`} data-testid={testId} data-roles={list.join(',')} title={stale ? 'Last read from the ledger (it is unreachable now)' : 'Read from the ledger'}>
      {list.length === 0 && <span className="rolechip rolechip--none">{brief ? 'no role' : 'no role on chain'}</span>}
      {list.map((r) => (
        <span key={r} className={`rolechip rolechip--${r}`}>
          {r}
        </span>
      ))}
      {roles.suspended && <span className="rolechip rolechip--suspended">suspended</span>}
      {!brief && roles.score !== null && <span className="rolechip rolechip--score">score {roles.score}</span>}
    </span>
  );
}
