import { useEffect, useRef, useState } from 'react';
import type { InstanceVerification, RecordEvidence, StudyVerification, VerificationState } from '../../shared/api';
import { useSession } from '../identity/session';
import { short, STATE_TEXT, whenSeconds } from '../format';
import { clock, recheckStudy, type Check } from './verification';

const ICON: Record<VerificationState | 'checking' | 'error', string> = {
  verified: '✓',
  altered: '✕',
  'not-registered': '○',
  'ledger-unreachable': '!',
  unreadable: '?',
  checking: '…',
  error: '!',
};

type View =
  | { kind: 'checking' }
  | { kind: 'error'; message: string }
  | { kind: 'done'; state: VerificationState; label: string; message: string; evidence: RecordEvidence | null; extra: string[] };

/** The ledger stopped answering (a failed chain read anywhere): no earlier answer stands. */
function unreachableView(c: { message: string; at: string }): View {
  return { kind: 'done', state: 'ledger-unreachable', label: STATE_TEXT['ledger-unreachable'], message: c.message, evidence: null, extra: [`ledger stopped answering ${whenSeconds(c.at)}`] };
}

/** "verified 13:42:05": a verified badge says when it was checked. */
function labelOf(state: VerificationState, checkedAt: string): string {
  return state === 'verified' ? `${STATE_TEXT.verified} ${clock(checkedAt)}` : STATE_TEXT[state];
}

function instanceView(c: Check<InstanceVerification> | null): View {
  if (!c || c.kind === 'checking') return { kind: 'checking' };
  if (c.kind === 'error') return { kind: 'error', message: c.message };
  if (c.kind === 'unreachable') return unreachableView(c);
  const v = c.value;
  const label = v.state === 'altered' && v.differs.length ? `altered: ${v.differs.join(' + ')}` : labelOf(v.state, v.checkedAt);
  const extra: string[] = [];
  if (v.state === 'altered' && v.expected && v.actual) {
    if (v.differs.includes('pixels')) extra.push(`pixels now ${v.actual.pixel.slice(0, 12)}… anchored ${v.expected.pixel.slice(0, 12)}…`);
    if (v.differs.includes('metadata')) extra.push(`metadata now ${v.actual.meta.slice(0, 12)}… anchored ${v.expected.meta.slice(0, 12)}…`);
  }
  if (v.state === 'verified') extra.push(v.provenOnChain ? 'Merkle proof accepted by the contract in this check' : 'Merkle proof checked against the root read from the chain in this check');
  extra.push(`checked ${whenSeconds(v.checkedAt)}`);
  return { kind: 'done', state: v.state, label, message: v.message, evidence: v.evidence, extra };
}

function studyView(c: Check<StudyVerification> | null): View {
  if (!c || c.kind === 'checking') return { kind: 'checking' };
  if (c.kind === 'error') return { kind: 'error', message: c.message };
  if (c.kind === 'unreachable') return unreachableView(c);
  const v = c.value;
  const differs = new Set(v.instances.flatMap((i) => i.differs));
  const label = v.state === 'altered' && differs.size ? `altered: ${[...differs].join(' + ')}` : labelOf(v.state, v.checkedAt);
  const n = v.counts;
  const extra = [
    `${v.instances.length} image(s): ${n.verified} verified, ${n.altered} altered, ${n['not-registered']} not registered, ${n['ledger-unreachable']} unreachable, ${n.unreadable} unreadable`,
  ];
  if (v.anchor && v.anchor.delivery !== 'confirmed') extra.push(`local anchor ${v.anchor.delivery}${v.anchor.lastError ? ` (${v.anchor.lastError})` : ''}`);
  extra.push(`checked ${whenSeconds(v.checkedAt)} in ${v.seconds.toFixed(2)} s`);
  return { kind: 'done', state: v.state, label, message: v.message, evidence: v.record ?? v.instances.find((i) => i.evidence)?.evidence ?? null, extra };
}

/** An address with the local name of the identity when this workstation knows it. */
function Party({ address }: { address: string }) {
  const s = useSession();
  const name = s.identities.find((i) => i.address.toLowerCase() === address.toLowerCase())?.displayName;
  return (
    <dd title={address}>
      {name ? `${name} · ` : ''}
      <span className="mono">{short(address)}</span>
    </dd>
  );
}

export function Evidence({ e }: { e: RecordEvidence }) {
  return (
    <dl className="evidence" data-testid="evidence">
      <dt>Record root</dt>
      <dd title={e.root} className="mono">{short(e.root, 10)}</dd>
      <dt>Block</dt>
      <dd>{e.block ?? 'not synced yet'}</dd>
      <dt>Time</dt>
      <dd>{whenSeconds(e.time)}</dd>
      <dt>Institution</dt>
      <Party address={e.institution} />
      <dt>Clinician</dt>
      <Party address={e.clinician} />
      <dt>Images</dt>
      <dd>{e.leafCount} (version {e.version})</dd>
      <dt>Transaction</dt>
      <dd title={e.txHash ?? ''} className="mono">{e.txHash ? short(e.txHash, 10) : '—'}</dd>
      <dt>Chain</dt>
      <dd className="mono" title={e.contract}>{e.chainId} · {short(e.contract)}</dd>
      {e.supersededBy && (
        <>
          <dt>Superseded by</dt>
          <dd className="mono" title={e.supersededBy}>{short(e.supersededBy, 10)}</dd>
        </>
      )}
    </dl>
  );
}

interface Props {
  view: View;
  scope: 'image' | 'study';
  compact?: boolean;
  testId: string;
  studyUid?: string | null;
  /** Where the popover opens. */
  align?: 'left' | 'right' | 'center';
  /** Text before the state, e.g. "study ". */
  prefix?: string;
}

function BadgeView({ view, scope, compact, testId, studyUid, align = 'left', prefix = '' }: Props) {
  const [open, setOpen] = useState(false);
  const [pos, setPos] = useState<{ top: number; left: number } | null>(null);
  const ref = useRef<HTMLSpanElement>(null);
  const toggle = () => {
    const r = ref.current?.getBoundingClientRect();
    if (r) {
      const width = 340;
      const left = align === 'right' ? r.right - width : align === 'center' ? r.left + r.width / 2 - width / 2 : r.left;
      setPos({ top: Math.min(r.bottom + 6, window.innerHeight - 120), left: Math.max(8, Math.min(left, window.innerWidth - width - 8)) });
    }
    setOpen((o) => !o);
  };
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    return () => window.removeEventListener('mousedown', close);
  }, [open]);
  const state = view.kind === 'done' ? view.state : view.kind;
  const text = view.kind === 'done' ? view.label : view.kind === 'checking' ? 'checking…' : 'not checked';
  const title = view.kind === 'done' ? `${scope === 'study' ? 'Study' : 'Image'} ${view.label}: ${view.message}` : view.kind === 'error' ? view.message : 'Checking against the ledger…';
  return (
    <span className={`vbadge-wrap vbadge-wrap--${align}`} ref={ref}>
      <span
        role="button"
        tabIndex={0}
        className={`vbadge vbadge--${state}${compact ? ' vbadge--compact' : ''}`}
        data-testid={testId}
        data-state={state}
        aria-label={title}
        title={title}
        aria-expanded={open}
        onMouseDown={(e) => e.stopPropagation()}
        onClick={(e) => {
          e.stopPropagation();
          toggle();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            e.stopPropagation();
            toggle();
          }
        }}
      >
        <span className="vbadge__icon" aria-hidden="true">
          {ICON[state]}
        </span>
        {compact ? null : <span className="vbadge__text">{prefix}{text}</span>}
      </span>
      {open && (
        <div className="vpop" style={pos ?? undefined} role="dialog" aria-label={`${scope} verification`} data-testid={`${testId}-detail`} onMouseDown={(e) => e.stopPropagation()} onClick={(e) => e.stopPropagation()}>
          <div className={`vpop__title vpop__title--${state}`}>
            {scope === 'study' ? 'Study' : 'Image'}: {text}
          </div>
          {view.kind === 'done' && <p className="vpop__msg">{view.message}</p>}
          {view.kind === 'error' && <p className="vpop__msg">{view.message}</p>}
          {view.kind === 'done' && view.evidence && (view.state === 'verified' || view.state === 'altered') && <Evidence e={view.evidence} />}
          {view.kind === 'done' && view.extra.map((x) => (
            <p className="vpop__extra" key={x}>
              {x}
            </p>
          ))}
          {studyUid && (
            <button type="button" className="btn btn--small" onClick={() => (setOpen(false), recheckStudy(studyUid))}>
              Check again
            </button>
          )}
        </div>
      )}
    </span>
  );
}

export function InstanceBadge({ check, studyUid, testId = 'image-verification', align }: { check: Check<InstanceVerification> | null; studyUid?: string | null; testId?: string; align?: Props['align'] }) {
  return <BadgeView view={instanceView(check)} scope="image" testId={testId} studyUid={studyUid} align={align} />;
}

export function StudyBadge({ check, uid, compact, testId = 'study-verification', align, prefix }: { check: Check<StudyVerification> | null; uid: string; compact?: boolean; testId?: string; align?: Props['align']; prefix?: string }) {
  return <BadgeView view={studyView(check)} scope="study" compact={compact} testId={testId} studyUid={uid} align={align} prefix={prefix} />;
}
