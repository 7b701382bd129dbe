import { FetchRequest, JsonRpcProvider, Network, type JsonRpcApiProviderOptions, type JsonRpcPayload, type JsonRpcResult } from 'ethers';
import type { LedgerStatus } from '../../shared/api';
import { networkReason } from '../net';

/** Told when a read or write on `rpcUrl` failed in transport (no answer, refused, dropped, not JSON-RPC). */
export type ChainFailure = (rpcUrl: string, detail: string) => void;

/**
 * A JSON-RPC provider that reports every transport failure (the node did not answer) at once, so
 * a failed chain read anywhere — verify, sync, the outbox, an anchor status read — marks the
 * connection unreachable without waiting for the monitor's next poll. JSON-RPC errors (a revert,
 * an unknown method) are answers and are not reported.
 */
export class ReportingJsonRpcProvider extends JsonRpcProvider {
  constructor(
    private readonly rpcUrl: string,
    request: string | FetchRequest,
    network: Network,
    options: JsonRpcApiProviderOptions,
    private readonly onFailure: ChainFailure | null,
  ) {
    super(request, network, options);
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    try {
      return await super._send(payload);
    } catch (err) {
      if (!this.destroyed) this.onFailure?.(this.rpcUrl, networkReason((err as { error?: unknown })?.error ?? err));
      throw err;
    }
  }
}

/**
 * One ethers provider for the ledger the app is connected to, re-created when the endpoint or
 * chain changes (the embedded node gets a new port after a restart). It uses the chain id the
 * ledger monitor has already seen (static network), so an unreachable node never makes ethers
 * retry network detection in the background.
 */
export class LedgerProvider {
  private key: string | null = null;
  private provider: JsonRpcProvider | null = null;

  constructor(
    private readonly status: () => LedgerStatus,
    private readonly onFailure: ChainFailure | null = null,
  ) {}

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
      this.provider = new ReportingJsonRpcProvider(
        st.rpcUrl,
        req,
        Network.from(st.chainId),
        {
          staticNetwork: Network.from(st.chainId),
          pollingInterval: 250,
          // ethers caches identical requests for 250 ms by default, so two writes in a row would
          // get the same nonce ("nonce has already been used"): no cache.
          cacheTimeout: -1,
          // ethers waits 10 ms to batch requests by default; an anchor is ~6 requests in a row
          // (record check, nonce/gas/fees, send, receipt), so that was ~60 ms of waiting per write.
          // Requests made together in one tick are still sent as one batch.
          batchStallTime: 0,
        },
        this.onFailure,
      );
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

