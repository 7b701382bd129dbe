import type { AppInfo, LedgerStatus } from '../../shared/api';
import { LedgerStatusExtra } from '../ledger/StatusExtra';

const LEDGER_TEXT: Record<LedgerStatus['state'], string> = {
  'not-configured': 'Ledger not configured',
  starting: 'Ledger connecting…',
  connected: 'Ledger connected',
  unreachable: 'Ledger unreachable',
};

export function StatusBar({ ledger, info }: { ledger: LedgerStatus | null; info: AppInfo | null }) {
  const state = ledger?.state ?? 'starting';
  const detail =
    ledger?.state === 'connected'
      ? `${ledger.mode === 'embedded' ? 'local chain' : 'network'} · chain ${ledger.chainId ?? '?'} · block ${ledger.blockNumber ?? '?'}`
      : (ledger?.message ?? '');
  return (
    <footer className="statusbar" role="status" aria-live="polite">
      <span className={`ledger ledger--${state}`} data-testid="ledger-status" data-state={state} title={detail}>
        <span className="ledger__dot" aria-hidden="true" />
        {LEDGER_TEXT[state]}
      </span>
      {detail && <span className="statusbar__detail">{detail}</span>}
      <LedgerStatusExtra />
      <span className="statusbar__spacer" />
      {info && (
        <span className="statusbar__detail" title={info.appHome}>
          {info.productName} {info.version} · schema v{info.schemaVersion}
        </span>
      )}
    </footer>
  );
}
