import { EventEmitter } from 'node:events';
import type { LedgerStatus } from '../../shared/api';
import { jsonRpc, networkReason } from '../net';

/**
 * Watches one JSON-RPC endpoint and reports connected / unreachable. It never reports
 * "connected" without an answer from the node in the last poll.
 */
export class LedgerMonitor extends EventEmitter<{ change: [LedgerStatus] }> {
  private status: LedgerStatus;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    mode: LedgerStatus['mode'],
    private rpcUrl: string | null,
    private intervalMs = 2000,
  ) {
    super();
    this.status = {
      state: rpcUrl ? 'starting' : 'not-configured',
      mode,
      rpcUrl,
      chainId: null,
      blockNumber: null,
      checkedAt: null,
      message: rpcUrl ? null : 'No ledger is configured.',
      failedAt: null,
    };
  }

  /**
   * A standing note shown as the message while connected (e.g. "the local ledger was restored
   * from its last good copy"); null clears it.
   */
  setNote(note: string | null): void {
    this.note = note;
    if (this.status.state === 'connected') this.update({ ...this.status, message: note });
  }
  private note: string | null = null;

  current(): LedgerStatus {
    return this.status;
  }

  /** Point the monitor at another endpoint (or none) and check it at once. */
  async setEndpoint(rpcUrl: string | null, mode: LedgerStatus['mode'] = this.status.mode): Promise<LedgerStatus> {
    this.rpcUrl = rpcUrl;
    this.update({ ...this.status, mode, rpcUrl, state: rpcUrl ? 'starting' : 'not-configured', message: null });
    return this.check();
  }

  /** Mark the ledger as failed to start (e.g. the embedded node could not launch). */
  fail(message: string): void {
    const now = new Date().toISOString();
    this.update({ ...this.status, state: 'unreachable', message, checkedAt: now, failedAt: now });
  }

  /**
   * A chain read on `rpcUrl` failed somewhere else (verify, sync, the outbox, an anchor status read;
   * the embedded node exited): the connection is unreachable now, not at the next poll. One 'change'
   * event, so every badge of this connection flips at once. The poll brings it back when the node
   * answers again. Ignored for an endpoint the monitor no longer watches.
   */
  reportFailure(rpcUrl: string | null, detail: string): void {
    if (!this.rpcUrl || (rpcUrl !== null && rpcUrl !== this.rpcUrl)) return;
    const now = new Date().toISOString();
    if (this.status.state === 'unreachable') {
      this.status = { ...this.status, failedAt: now }; // already said; no new event
      return;
    }
    this.update({ ...this.status, state: 'unreachable', checkedAt: now, failedAt: now, message: `${this.rpcUrl} does not answer (${detail}).` });
  }

  async check(): Promise<LedgerStatus> {
    const url = this.rpcUrl;
    if (!url) return this.status;
    try {
      const [chainIdHex, blockHex] = await Promise.all([
        jsonRpc<string>(url, 'eth_chainId'),
        jsonRpc<string>(url, 'eth_blockNumber'),
      ]);
      if (url !== this.rpcUrl) return this.status;
      this.update({
        ...this.status,
        state: 'connected',
        chainId: Number.parseInt(chainIdHex, 16),
        blockNumber: Number.parseInt(blockHex, 16),
        checkedAt: new Date().toISOString(),
        message: this.note,
      });
    } catch (err) {
      if (url !== this.rpcUrl) return this.status;
      const now = new Date().toISOString();
      this.update({
        ...this.status,
        state: 'unreachable',
        checkedAt: now,
        failedAt: now,
        message: `${url} does not answer (${networkReason(err)}).`,
      });
    }
    return this.status;
  }

  start(): void {
    if (this.timer) return;
    const tick = async () => {
      if (this.polling) return;
      this.polling = true;
      try {
        await this.check();
      } finally {
        this.polling = false;
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private update(next: LedgerStatus): void {
    const prev = this.status;
    this.status = next;
    // Block numbers tick constantly; only state, endpoint, chain or block changes are news.
    if (
      prev.state !== next.state ||
      prev.rpcUrl !== next.rpcUrl ||
      prev.chainId !== next.chainId ||
      prev.blockNumber !== next.blockNumber ||
      prev.message !== next.message
    ) {
      this.emit('change', next);
    }
  }
}
