import { useEffect, useState } from 'react';
import type { AnchorResult, LocalAnchor, RecordEvidence } from '../../shared/api';
import { bridge, call } from '../bridge';
import { Evidence } from './Badge';
import { anchorPermission, useSession } from '../identity/session';
import { errText } from '../errors';
import { short, whenSeconds } from '../format';
import { invalidateAll, studyOfSeries, useStudyCheck } from './verification';

type Phase =
  | { kind: 'idle' }
  | { kind: 'running'; done: number; total: number | null; label: string | null }
  | { kind: 'done'; result: AnchorResult }
  | { kind: 'error'; message: string };

/** "Anchor on ledger" for the study of the open series (clinicians only), with its dialog. */
export function AnchorControl({ seriesId }: { seriesId: number | null }) {
  const s = useSession();
  const [uid, setUid] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [latest, setLatest] = useState<LocalAnchor | null>(null);
  const [record, setRecord] = useState<RecordEvidence | null>(null);

  useEffect(() => {
    let alive = true;
    setUid(null);
    if (seriesId !== null) void studyOfSeries(String(seriesId)).then((u) => alive && setUid(u));
    return () => {
      alive = false;
    };
  }, [seriesId]);

  // The newest local anchor of the open study, kept live by anchor events (queued → confirmed).
  useEffect(() => {
    if (!uid) return setLatest(null);
    let alive = true;
    const load = () => call('ledger.anchors', { studyInstanceUid: uid }).then((r) => alive && setLatest(r.anchors[0] ?? null), () => undefined);
    void load();
    const off = bridge().on((e) => {
      if (e.type === 'ledger-anchor' && e.anchor.studyInstanceUid === uid) {
        setLatest(e.anchor);
        if (e.anchor.delivery === 'confirmed') {
          invalidateAll();
          // Delivered from the queue: show the record as the chain has it now.
          void call('ledger.verifyStudy', { studyInstanceUid: uid }).then(
            (v) => alive && v.record && v.record.root === e.anchor.root && setRecord(v.record),
            () => undefined,
          );
        }
      }
    });
    return () => {
      alive = false;
      off();
    };
  }, [uid]);

  const perm = anchorPermission(s);
  // The study as it is now already has its record on chain: anchoring again would write nothing.
  const check = useStudyCheck(uid);
  const v = check?.kind === 'done' ? check.value : null;
  const current = v && v.currentRoot && v.record && v.record.root === v.currentRoot && !v.record.supersededBy ? v.record : null;
  const alreadyWhy = current
    ? `Already anchored at this version: record ${short(current.root, 10)} in block ${current.block ?? '?'}${current.time ? `, ${whenSeconds(current.time)}` : ''}. Anchoring again would write nothing; a changed study can be anchored as a new version.`
    : null;
  // Who may anchor first (the more useful reason), then whether a study is open, then whether it is anchored already.
  const why = !perm.ok ? perm.why : !uid ? 'Open a study first, then anchor it.' : (alreadyWhy ?? perm.why);
  const enabled = !!uid && perm.ok && !alreadyWhy;

  async function run() {
    if (!uid) return;
    setPhase({ kind: 'running', done: 0, total: null, label: 'fingerprinting' });
    setRecord(null);
    let taskId: string | null = null;
    const off = bridge().on((e) => {
      if (e.type !== 'progress' || e.kind !== 'anchor') return;
      if (taskId && e.taskId !== taskId) return;
      taskId = e.taskId;
      setPhase((p) => (p.kind === 'running' ? { kind: 'running', done: e.done, total: e.total, label: e.label } : p));
    });
    try {
      const result = await call('ledger.anchor', { studyInstanceUid: uid, waitMs: 30_000 });
      setPhase({ kind: 'done', result });
      setLatest(result.anchor);
      setRecord(result.record);
      invalidateAll();
    } catch (e) {
      setPhase({ kind: 'error', message: errText(e) });
    } finally {
      off();
    }
  }

  const pending = latest && (latest.delivery === 'queued' || latest.delivery === 'sent');
  const delivery = latest?.delivery ?? null;
  return (
    <>
      <button
        type="button"
        className={`tbtn tbtn--text anchor-btn${pending ? ' anchor-btn--queued' : ''}`}
        disabled={!enabled}
        title={why}
        aria-label="Anchor on ledger"
        data-testid="anchor-button"
        data-delivery={delivery ?? ''}
        onClick={() => {
          setOpen(true);
          if (phase.kind !== 'running') setPhase({ kind: 'idle' });
        }}
      >
        ⚓ Anchor{pending ? ` · ${latest!.delivery}` : alreadyWhy ? 'ed' : ''}
      </button>
      {!enabled && <span className="sr-only" data-testid="anchor-why">{why}</span>}
      {open && (
        <div className="modal" role="dialog" aria-modal="true" aria-label="Anchor on ledger" data-testid="anchor-dialog">
          <div className="modal__card">
            <header className="modal__head">
              <h2>Anchor study on the ledger</h2>
              <button type="button" className="btn btn--small" aria-label="Close" onClick={() => setOpen(false)}>
                ✕
              </button>
            </header>
            <p className="modal__note">
              The main process fingerprints every image of this study (pixels + metadata), builds one Merkle root and records it on chain in one transaction,
              signed by <strong>{s.current?.displayName ?? '—'}</strong>. No patient data goes on chain.
            </p>
            <p className="modal__note mono" title={uid ?? ''}>
              Study {uid ? short(uid, 18) : '—'}
            </p>
            {latest && phase.kind === 'idle' && (
              <p className="modal__note">
                Already anchored here: {latest.delivery} · root <span className="mono">{short(latest.root, 10)}</span> · {whenSeconds(latest.createdAt)}. Anchoring again is idempotent; a changed study becomes a new version.
              </p>
            )}
            {phase.kind === 'running' && (
              <div className="progress" data-testid="anchor-progress">
                <div className="progress__bar">
                  <div
                    className={`progress__fill${phase.total ? '' : ' progress__fill--busy'}`}
                    style={phase.total ? { width: `${Math.min(100, (100 * phase.done) / Math.max(1, phase.total))}%` } : undefined}
                  />
                </div>
                <p className="progress__label">
                  {phase.label ?? 'working'} {phase.total ? `· ${phase.done}/${phase.total}` : phase.done ? `· ${phase.done}` : ''}
                </p>
              </div>
            )}
            {phase.kind === 'error' && (
              <p className="form-error" role="alert" data-testid="anchor-error">
                {phase.message}
              </p>
            )}
            {phase.kind === 'done' && (
              <div className="anchor-result" data-testid="anchor-result" data-delivery={latest?.delivery ?? phase.result.anchor.delivery}>
                {(latest?.delivery ?? phase.result.anchor.delivery) === 'confirmed' ? (
                  <p className="form-ok">
                    {phase.result.existing ? 'Already on the ledger' : 'Anchored'}: {phase.result.instances} image(s) in one record
                    {latest?.delivery === 'confirmed' && phase.result.anchor.delivery !== 'confirmed' ? ' (delivered from the queue)' : ''}.
                  </p>
                ) : (latest?.delivery ?? phase.result.anchor.delivery) === 'failed' ? (
                  <p className="form-error">{phase.result.message}</p>
                ) : (
                  <p className="txt-warn" data-testid="anchor-queued">
                    Queued — will be sent when the ledger is reachable. ({phase.result.instances} image(s), root <span className="mono">{short(phase.result.anchor.root, 10)}</span>)
                  </p>
                )}
                {phase.result.failed.length > 0 && <p className="form-error">{phase.result.failed.length} file(s) could not be fingerprinted and are not part of the record.</p>}
                {record ? (
                  <Evidence e={record} />
                ) : latest?.delivery === 'confirmed' ? (
                  <dl className="evidence" data-testid="evidence">
                    <dt>Record root</dt>
                    <dd className="mono" title={latest.root}>{short(latest.root, 10)}</dd>
                    <dt>Block</dt>
                    <dd>{latest.block ?? '—'}</dd>
                    <dt>Clinician</dt>
                    <dd className="mono">{short(latest.clinician)}</dd>
                    <dt>Transaction</dt>
                    <dd className="mono" title={latest.txHash ?? ''}>{latest.txHash ? short(latest.txHash, 10) : '—'}</dd>
                    <dt>Anchored at</dt>
                    <dd>{whenSeconds(latest.createdAt)}</dd>
                  </dl>
                ) : null}
                <p className="modal__note">{phase.result.seconds.toFixed(2)} s</p>
              </div>
            )}
            <footer className="modal__actions">
              <button type="button" className="btn" onClick={() => setOpen(false)}>
                Close
              </button>
              <button type="button" className="btn btn--primary" disabled={!enabled || phase.kind === 'running'} title={why} onClick={() => void run()} data-testid="anchor-start">
                {phase.kind === 'running' ? 'Anchoring…' : 'Anchor on ledger'}
              </button>
            </footer>
          </div>
        </div>
      )}
    </>
  );
}
