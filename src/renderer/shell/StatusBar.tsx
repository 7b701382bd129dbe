import type { AppInfo, LedgerStatus } from '../../shared/api';
import { useState } from 'react';
import { LedgerStatusExtra } from './LedgerStatusExtra';
import { LedgerSettingsDialog } from '../settings/LedgerSettingsDialog';
import { PacsStatusButton } from '../pacs/PacsStatusButton';
import { StorageScpStatusButton } from '../settings/StorageScpSettings';
import { AiModelsStatusButton } from '../ai/AiModelsSettings';
import { SplitStorageStatusButton } from '../settings/SplitStorageSettings';
import { HangingProtocolsStatusButton } from '../hanging/HangingProtocolsSettings';

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
  const [settings, setSettings] = useState(false);
  return (
    <>
    <footer className="statusbar" role="status" aria-live="polite">
      <button
        type="button"
        className={`ledger ledger--button ledger--${state}`}
        data-testid="ledger-status"
        data-state={state}
        title={`${detail ? `${detail} — ` : ''}click to choose the ledger`}
        onClick={() => setSettings(true)}
      >
        <span className="ledger__dot" aria-hidden="true" />
        {LEDGER_TEXT[state]}
      </button>
      {detail && <span className="statusbar__detail">{detail}</span>}
      <LedgerStatusExtra />
      <PacsStatusButton />
      <StorageScpStatusButton />
      <AiModelsStatusButton />
      <SplitStorageStatusButton />
      <HangingProtocolsStatusButton />
      <span className="statusbar__spacer" />
      {info && (
        <span className="statusbar__detail" title={info.appHome}>
          {info.productName} {info.version} · schema v{info.schemaVersion}
        </span>
      )}
    </footer>
    {settings && <LedgerSettingsDialog onClose={() => setSettings(false)} />}
    </>
  );
}
