import { useEffect, useState } from 'react';
import type { LedgerEndpointSettings } from '../../shared/api';
import { call } from '../bridge';
import { errorText, type UserError } from '../errors';
import { DialogActions, DialogOutcome, SettingsDialog } from './SettingsDialog';

/**
 * Which ledger this workstation uses: the embedded local chain, or the region's consortium chain
 * (JSON-RPC URL, chain id, MedImgShr contract address). The main process checks the endpoint
 * before saving it, so a typo never disconnects a working setup.
 */
export function LedgerSettingsDialog({ onClose }: { onClose: () => void }) {
  const [current, setCurrent] = useState<LedgerEndpointSettings | null>(null);
  const [mode, setMode] = useState<'embedded' | 'remote'>('embedded');
  const [rpcUrl, setRpcUrl] = useState('');
  const [chainId, setChainId] = useState('');
  const [contract, setContract] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  // Read the saved choice once (not on every re-render of the status bar, which would reset
  // what the user is typing whenever the block number changes).
  useEffect(() => {
    call('settings.ledger.get', {}).then((s) => {
      setCurrent(s);
      setMode(s.mode === 'remote' ? 'remote' : 'embedded');
      if (s.mode === 'remote') {
        setRpcUrl(s.rpcUrl ?? '');
        setChainId(s.chainId !== null ? String(s.chainId) : '');
        setContract(s.contractAddress ?? '');
      }
    }, () => undefined);
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const locked = current?.source === 'environment';
  const apply = async () => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const r =
        mode === 'embedded'
          ? await call('settings.ledger.set', { mode: 'embedded' })
          : await call('settings.ledger.set', { mode: 'remote', rpcUrl: rpcUrl.trim(), chainId: Number(chainId), contractAddress: contract.trim() });
      setCurrent(r.settings);
      setDone(r.settings.mode === 'embedded' ? 'Now using the embedded local ledger.' : `Now using chain ${r.settings.chainId} (${r.status.state}).`);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <SettingsDialog title="Ledger" label="Ledger settings" testId="ledger-settings" onClose={onClose}>
        <p className="modal__note">
          The ledger holds the fingerprints of anchored studies, consents and the sharing history. One workstation can run
          its own local ledger; when your region runs a shared one, connect to it here.
        </p>
        {locked && (
          <p className="settings__warn" role="alert">
            Set by the MEDIMG_RPC_URL environment variable ({current?.rpcUrl}); start MedImgShr without it to choose here.
          </p>
        )}
        <fieldset className="settings__choices" disabled={locked || busy}>
          <label className="settings__choice">
            <input type="radio" name="ledger-mode" checked={mode === 'embedded'} onChange={() => setMode('embedded')} />
            <span>
              <strong>Local ledger on this workstation</strong>
              <small>Zero configuration; kept in the app-data folder.</small>
            </span>
          </label>
          <label className="settings__choice">
            <input type="radio" name="ledger-mode" checked={mode === 'remote'} onChange={() => setMode('remote')} />
            <span>
              <strong>Regional / consortium ledger</strong>
              <small>Any EVM JSON-RPC node, with the MedImgShr contract your regulator deployed.</small>
            </span>
          </label>
          {mode === 'remote' && (
            <div className="settings__grid">
              <label htmlFor="ledger-rpc">JSON-RPC URL</label>
              <input id="ledger-rpc" value={rpcUrl} onChange={(e) => setRpcUrl(e.target.value)} placeholder="https://ledger.region.example:8545" spellCheck={false} />
              <label htmlFor="ledger-chain">Chain id</label>
              <input id="ledger-chain" value={chainId} onChange={(e) => setChainId(e.target.value.replace(/\D/g, ''))} inputMode="numeric" placeholder="e.g. 1337" />
              <label htmlFor="ledger-contract">Contract address</label>
              <input id="ledger-contract" value={contract} onChange={(e) => setContract(e.target.value)} placeholder="0x…" spellCheck={false} className="mono" />
            </div>
          )}
        </fieldset>
        <DialogOutcome error={error} done={done} />
        <DialogActions onClose={onClose}>
          <button
            type="button"
            className="btn btn--primary"
            disabled={locked || busy || (mode === 'remote' && (!rpcUrl || !chainId || !contract))}
            onClick={() => void apply()}
          >
            {busy ? 'Checking…' : mode === 'remote' ? 'Check and connect' : 'Use the local ledger'}
          </button>
        </DialogActions>
    </SettingsDialog>
  );
}
