import { FetchRequest, JsonRpcProvider, Network } from 'ethers';
import type { LedgerStatus } from '../../shared/api';

/**
 * One ethers provider for the ledger the app is connected to, re-created when the endpoint or
 * chain changes (the embedded node gets a new port after a restart). It uses the chain id the
 * ledger monitor has already seen (static network), so an unreachable node never makes ethers
 * retry network detection in the background.
 */
export class LedgerProvider {
  private key: string | null = null;
  private provider: JsonRpcProvider | null = null;

  constructor(private readonly status: () => LedgerStatus) {}

  /** The provider for the current endpoint, or null when no endpoint has answered yet. */
  current(): JsonRpcProvider | null {
    const st = this.status();
    if (!st.rpcUrl || st.chainId === null) return null;
    const key = `${st.rpcUrl}#${st.chainId}`;
    if (key !== this.key) {
      this.provider?.destroy();
      this.key = key;
      // ethers waits up to 5 minutes for an answer by default; a node that stops answering must
      // not hold the outbox (or the app's quit) that long.
      const req = new FetchRequest(st.rpcUrl);
      req.timeout = 15_000;
      this.provider = new JsonRpcProvider(req, Network.from(st.chainId), {
        staticNetwork: Network.from(st.chainId),
        pollingInterval: 250,
        // ethers caches identical requests for 250 ms by default, so two writes in a row would
        // get the same nonce ("nonce has already been used"): no cache.
        cacheTimeout: -1,
      });
    }
    return this.provider;
  }

  /** True when the monitor's last poll got an answer. */
  connected(): boolean {
    return this.status().state === 'connected';
  }

  destroy(): void {
    this.provider?.destroy();
    this.provider = null;
    this.key = null;
  }
}

