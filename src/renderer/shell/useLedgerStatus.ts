import { useEffect, useState } from 'react';
import type { LedgerStatus } from '../../shared/api';
import { bridge, call } from '../bridge';

/** The ledger connection state as the main process reports it, kept live by pushed events. */
export function useLedgerStatus(): LedgerStatus | null {
  const [status, setStatus] = useState<LedgerStatus | null>(null);
  useEffect(() => {
    let alive = true;
    const off = bridge().on((e) => {
      if (e.type === 'ledger-status' && alive) setStatus(e.status);
    });
    call('ledger.status', {}).then(
      (s) => alive && setStatus((prev) => prev ?? s),
      () => undefined,
    );
    return () => {
      alive = false;
      off();
    };
  }, []);
  return status;
}
