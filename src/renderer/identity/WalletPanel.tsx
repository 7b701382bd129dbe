import { useEffect, useState } from 'react';
import type { ChainRoles } from '../../shared/api';
import { call } from '../bridge';
import { RoleChips } from './RoleChips';
import { useSession } from './session';
import { errText } from '../errors';
import { short } from '../format';
import { connectWallet, detectWallet, selector, sendAndWait, type Eip1193 } from './wallet';

/** "Use browser wallet": an injected EIP-1193 provider as the signer (its key stays in the wallet). */
export function WalletPanel() {
  const s = useSession();
  const [provider, setProvider] = useState<Eip1193 | null | undefined>(undefined);
  const [acct, setAcct] = useState<{ account: string; chainId: number } | null>(null);
  const [roles, setRoles] = useState<ChainRoles | null>(null);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    let alive = true;
    void detectWallet().then((p) => alive && setProvider(p));
    return () => {
      alive = false;
    };
  }, []);

  const chainId = s.info?.status.chainId ?? null;
  const contract = s.info?.contract ?? null;
  const wrongChain = !!acct && chainId !== null && acct.chainId !== chainId;

  async function readRoles(account: string) {
    setRoles(await call('ledger.roles', { address: account }).catch(() => null));
  }

  if (provider === undefined) return <p className="wallet__note">Looking for a browser wallet…</p>;
  if (provider === null)
    return (
      <p className="wallet__note" data-testid="wallet-none">
        No browser wallet (EIP-1193 provider) in this window.
      </p>
    );
  return (
    <div className="wallet" data-testid="wallet">
      {!acct ? (
        <button
          type="button"
          className="btn"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setMsg(null);
            try {
              const a = await connectWallet(provider);
              setAcct(a);
              await readRoles(a.account);
            } catch (e) {
              setMsg({ ok: false, text: errText(e) });
            } finally {
              setBusy(false);
            }
          }}
        >
          {provider.isMetaMask ? 'Use MetaMask' : 'Use browser wallet'}
        </button>
      ) : (
        <>
          <div className="wallet__account">
            <span className="wallet__label">Wallet account</span>
            <span className="mono" data-testid="wallet-account" title={acct.account}>
              {short(acct.account)}
            </span>
            <span className="wallet__chain">chain {acct.chainId}</span>
          </div>
          {wrongChain && (
            <p className="form-error" role="alert">
              The wallet is on chain {acct.chainId}, the app's ledger is chain {chainId}. Switch the wallet's network first.
            </p>
          )}
          {roles && <RoleChips roles={roles} testId="wallet-roles" />}
          {roles && !roles.patient && !roles.institution && !roles.clinician && contract && !wrongChain && (
            <button
              type="button"
              className="btn btn--small"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                setMsg(null);
                try {
                  const r = await sendAndWait(provider, { from: acct.account, to: contract, data: selector('registerPatient()') });
                  setMsg(r.ok ? { ok: true, text: `Signed in the wallet and mined: block ${r.block}, tx ${short(r.hash, 10)}.` } : { ok: false, text: `The contract refused the transaction (tx ${short(r.hash, 10)}).` });
                  await readRoles(acct.account);
                } catch (e) {
                  setMsg({ ok: false, text: errText(e) });
                } finally {
                  setBusy(false);
                }
              }}
            >
              {busy ? 'Waiting for the wallet…' : 'Register this account as patient (sign in wallet)'}
            </button>
          )}
        </>
      )}
      {msg && (
        <p className={msg.ok ? 'form-ok' : 'form-error'} role="status" data-testid="wallet-result">
          {msg.text}
        </p>
      )}
    </div>
  );
}
