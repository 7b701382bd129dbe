import { useSession } from '../identity/session';
import { whenSeconds } from '../format';

/** Sync state (last synced block and time) and the outbox queue, for the status bar. */
export function LedgerStatusExtra() {
  const s = useSession();
  const info = s.info;
  if (!info || info.status.state === 'not-configured') return null;
  const sync = info.sync;
  const queued = info.outbox.queued + info.outbox.sent;
  return (
    <>
      <span className="statusbar__detail" data-testid="sync-status" title={sync.lastError ?? `Chain events stored locally: ${sync.events}`}>
        {sync.lastSyncedBlock !== null ? `synced to block ${sync.lastSyncedBlock} · ${whenSeconds(sync.syncedAt).slice(11)}` : 'not synced yet'}
        {sync.running ? ' · syncing…' : ''}
      </span>
      <span className={`statusbar__detail${queued ? ' statusbar__queued' : ''}`} data-testid="outbox-status" data-queued={queued} title={`outbox: ${info.outbox.queued} queued, ${info.outbox.sent} sent, ${info.outbox.confirmed} confirmed, ${info.outbox.failed} failed`}>
        {queued ? `${queued} anchor${queued === 1 ? '' : 's'} queued` : 'outbox empty'}
        {info.outbox.failed ? ` · ${info.outbox.failed} failed` : ''}
      </span>
    </>
  );
}
