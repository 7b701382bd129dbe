import { EventEmitter } from 'node:events';
import type { Provider, Signer } from 'ethers';
import type { LedgerStatus } from '../../shared/api';
import type { IdentityService } from '../identity';
import type { Logger } from '../log';
import type { Db } from '../store/database';
import type { LedgerConnection } from './connection';

/**
 * The outbox: a durable queue of chain writes in SQLite (table `outbox`, migration 006).
 *
 * - Idempotent: (kind, key) is unique — enqueueing the same study root twice is one write.
 * - Delivered when the ledger is connected and the item's signer is unlocked; retried with
 *   exponential backoff; `failed` after maxAttempts or a permanent error (retry() re-queues).
 * - Never duplicated: before every (re-)send the kind's `isOnChain(item)` is asked; an item whose
 *   effect is already on chain is marked confirmed without sending.
 * - Survives crashes: after the ledger comes back (new endpoint or back from unreachable) the
 *   outbox re-checks confirmed items in blocks the chain may have lost (block > head, or a
 *   different block hash in the recent blocks) and re-queues those no longer on chain — this is
 *   how writes lost with the embedded node's newest blocks are re-sent.
 * - Across processes: an item is claimed by pushing its next_attempt_at forward (a lease) in one
 *   UPDATE, so the app and the CLI never send the same item at the same time.
 */

export type OutboxStatus = 'queued' | 'sent' | 'confirmed' | 'failed';

export interface OutboxItem<P = unknown> {
  id: number;
  kind: string;
  key: string;
  payload: P;
  /** Address that must sign, or null = whichever identity is unlocked. */
  signer: string | null;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  txHash: string | null;
  blockNumber: number | null;
  blockHash: string | null;
  /** ms since epoch before which the sender leaves the item alone. */
  nextAttemptAt: number;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  confirmedAt: string | null;
}

export interface OutboxHandler<P = unknown> {
  /** Submits the write and returns its transaction hash (without waiting for it to be mined). */
  send(item: OutboxItem<P>, signer: Signer): Promise<string>;
  /** True when the item's effect is already on chain (e.g. the study root has a record). */
  isOnChain(item: OutboxItem<P>, provider: Provider): Promise<boolean>;
}

/** Thrown by a handler for an error that retrying cannot fix (e.g. not authorised): the item fails at once. */
export class OutboxPermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboxPermanentError';
  }
}

export interface OutboxDeps {
  db: Db;
  log: Logger;
  /** The current ledger provider (null when none is reachable). */
  provider: () => Provider | null;
  /** True when the ledger answered its last check. */
  connected: () => boolean;
  /** The signer for an item (null while its identity is locked: the item waits). */
  signerFor: (item: OutboxItem) => Signer | null;
}

export interface OutboxOptions {
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Sender loop period (ms). */
  pollMs?: number;
  /** A sent item with no receipt after this long is checked and re-sent if it is not on chain. */
  receiptTimeoutMs?: number;
  /** How long one process holds an item while working on it. */
  leaseMs?: number;
  /** Confirmed items in this many newest blocks are re-checked by block hash after a reconnect. */
  reorgDepth?: number;
}

interface Row {
  id: number;
  kind: string;
  idem_key: string;
  payload: string;
  signer: string | null;
  status: OutboxStatus;
  attempts: number;
  last_error: string | null;
  tx_hash: string | null;
  block_number: number | null;
  block_hash: string | null;
  next_attempt_at: number;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
  confirmed_at: string | null;
}

function toItem(r: Row): OutboxItem {
  return {
    id: r.id,
    kind: r.kind,
    key: r.idem_key,
    payload: JSON.parse(r.payload) as unknown,
    signer: r.signer,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    txHash: r.tx_hash,
    blockNumber: r.block_number,
    blockHash: r.block_hash,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    sentAt: r.sent_at,
    confirmedAt: r.confirmed_at,
  };
}

export interface PassResult {
  sent: number;
  confirmed: number;
  failed: number;
  waiting: number;
  requeued: number;
}

const now = () => Date.now();
const iso = () => new Date().toISOString();
const errText = (err: unknown) => {
  const e = err as { shortMessage?: string; message?: string };
  return (e?.shortMessage ?? e?.message ?? String(err)).slice(0, 500);
};

/** Connection-level failures (node down or restarting) as opposed to the node refusing the write. */
function isTransportError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; error?: { code?: string } };
  const code = e?.code ?? '';
  if (['NETWORK_ERROR', 'TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(code)) return true;
  return /ECONNREFUSED|ECONNRESET|socket hang up|fetch failed|EPIPE/.test(e?.message ?? '');
}

export class Outbox extends EventEmitter<{ change: [OutboxItem] }> {
  private readonly handlers = new Map<string, OutboxHandler<never>>();
  private readonly opts: Required<OutboxOptions>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PassResult> | null = null;
  private again = false;
  private needsReconcile = true;

  constructor(
    private readonly deps: OutboxDeps,
    opts: OutboxOptions = {},
  ) {
    super();
    this.opts = {
      maxAttempts: opts.maxAttempts ?? 8,
      baseDelayMs: opts.baseDelayMs ?? 1000,
      maxDelayMs: opts.maxDelayMs ?? 60_000,
      pollMs: opts.pollMs ?? 1000,
      receiptTimeoutMs: opts.receiptTimeoutMs ?? 60_000,
      leaseMs: opts.leaseMs ?? 30_000,
      reorgDepth: opts.reorgDepth ?? 256,
    };
  }

  /** Registers how one kind of write is sent and checked. */
  register<P>(kind: string, handler: OutboxHandler<P>): void {
    this.handlers.set(kind, handler as OutboxHandler<never>);
    this.kick();
  }

  /**
   * Queues a write. Idempotent: if (kind, key) is already in the outbox the existing item is
   * returned unchanged (`created: false`), whatever its status.
   */
  enqueue<P>(kind: string, key: string, payload: P, opts: { signer?: string | null } = {}): { item: OutboxItem<P>; created: boolean } {
    const t = iso();
    const info = this.deps.db
      .prepare(
        `INSERT INTO outbox (kind, idem_key, payload, signer, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'queued', ?, ?) ON CONFLICT (kind, idem_key) DO NOTHING`,
      )
      .run(kind, key, JSON.stringify(payload), opts.signer ?? null, t, t);
    const item = this.get<P>(kind, key)!;
    if (info.changes > 0) {
      this.deps.log.info('outbox: queued', { id: item.id, kind, key });
      this.emit('change', item);
      this.kick();
    }
    return { item, created: info.changes > 0 };
  }

  get<P = unknown>(kind: string, key: string): OutboxItem<P> | null {
    const r = this.deps.db.prepare('SELECT * FROM outbox WHERE kind = ? AND idem_key = ?').get(kind, key) as Row | undefined;
    return r ? (toItem(r) as OutboxItem<P>) : null;
  }

  byId(id: number): OutboxItem | null {
    const r = this.deps.db.prepare('SELECT * FROM outbox WHERE id = ?').get(id) as Row | undefined;
    return r ? toItem(r) : null;
  }

  list(filter: { kind?: string; status?: OutboxStatus } = {}): OutboxItem[] {
    const rows = this.deps.db
      .prepare(
        `SELECT * FROM outbox WHERE (@kind IS NULL OR kind = @kind) AND (@status IS NULL OR status = @status) ORDER BY id`,
      )
      .all({ kind: filter.kind ?? null, status: filter.status ?? null }) as Row[];
    return rows.map(toItem);
  }

  counts(): Record<OutboxStatus, number> {
    const c: Record<OutboxStatus, number> = { queued: 0, sent: 0, confirmed: 0, failed: 0 };
    for (const r of this.deps.db.prepare('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all() as { status: OutboxStatus; n: number }[]) {
      c[r.status] = r.n;
    }
    return c;
  }

  /**
   * Makes a sent item's receipt due for checking now, for a caller that waits for it and polls
   * on its own (the anchor): otherwise the receipt is next looked for 250 ms after the send, then
   * every pollMs — a quarter of a second added to an anchor whose transaction was not mined the
   * instant it was sent. Not while a pass holds the item (its lease reaches further ahead).
   */
  hurry(id: number): void {
    const t = now();
    this.deps.db.prepare(`UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = 'sent' AND next_attempt_at > ? AND next_attempt_at <= ?`).run(t, id, t, t + this.opts.pollMs);
  }

  /** Puts a failed item back in the queue (attempts reset). */
  retry(id: number): OutboxItem | null {
    this.deps.db
      .prepare(`UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = 0, updated_at = ? WHERE id = ? AND status = 'failed'`)
      .run(iso(), id);
    this.kick();
    return this.byId(id);
  }

  /** Starts the sender loop. */
  start(): void {
    this.stopped = false;
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), this.opts.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Stops the loop and waits (at most `waitMs`) for a running pass; an item it held is released by its lease. */
  stop(waitMs = 5000): Promise<unknown> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopped = true;
    if (!this.running) return Promise.resolve();
    return Promise.race([this.running.catch(() => undefined), new Promise((r) => setTimeout(r, waitMs).unref())]);
  }
  private stopped = false;

  /** Runs a pass soon (after the current one, if one is running). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.runOnce().catch((err) => this.deps.log.error('outbox: pass failed', err));
  }

  /** Tell the outbox the ledger endpoint or state changed: it re-checks recent confirmations before sending. */
  ledgerChanged(): void {
    this.needsReconcile = true;
    this.kick();
  }

  /** Processes every due item once. Concurrent calls share one pass. */
  async runOnce(): Promise<PassResult> {
    // A pass already running may have read the queue before the latest enqueue: wait for it,
    // then run a fresh one (or join the one another caller started meanwhile).
    if (this.running) await this.running.catch(() => undefined);
    if (this.running) return this.running;
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        setImmediate(() => this.kick());
      }
    });
    return this.running;
  }

  /** Waits until nothing is queued or sent (or the timeout passes); returns the counts. */
  async drain(timeoutMs = 30_000): Promise<Record<OutboxStatus, number>> {
    const deadline = now() + timeoutMs;
    for (;;) {
      await this.runOnce();
      const c = this.counts();
      if ((c.queued === 0 && c.sent === 0) || now() > deadline) return c;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Re-checks confirmed items the chain may have lost (after a crash of the embedded node or a
   * reorg): block above the head, or a different hash at a recent block, or no block recorded.
   * Those no longer on chain go back to the queue. Returns how many were re-queued.
   */
  async reconcile(): Promise<number> {
    const provider = this.deps.provider();
    if (!provider) return 0;
    const head = await provider.getBlockNumber();
    const rows = this.deps.db
      .prepare(
        `SELECT * FROM outbox WHERE status = 'confirmed' AND (block_number IS NULL OR block_number > ? - ?) ORDER BY id`,
      )
      .all(head, this.opts.reorgDepth) as Row[];
    let requeued = 0;
    const hashes = new Map<number, string | null>();
    for (const r of rows) {
      const item = toItem(r);
      let suspect = r.block_number === null || r.block_number > head || r.block_hash === null;
      if (!suspect && r.block_number !== null) {
        if (!hashes.has(r.block_number)) hashes.set(r.block_number, (await provider.getBlock(r.block_number))?.hash ?? null);
        suspect = hashes.get(r.block_number) !== r.block_hash;
      }
      if (!suspect) continue;
      const handler = this.handlers.get(r.kind);
      if (!handler) continue;
      if (await handler.isOnChain(item as OutboxItem<never>, provider)) {
        if (r.block_number === null || r.block_number > head) this.update(r.id, { block_number: head, block_hash: null });
        continue;
      }
      this.update(r.id, {
        status: 'queued', tx_hash: null, block_number: null, block_hash: null, confirmed_at: null, next_attempt_at: 0,
        last_error: 'no longer on chain (the ledger lost its newest blocks); re-sending',
      });
      this.deps.log.warn('outbox: a confirmed write is no longer on chain; re-queued', { id: r.id, kind: r.kind, key: r.idem_key, block: r.block_number, head });
      requeued++;
    }
    return requeued;
  }

  // ---- the pass ----

  private async pass(): Promise<PassResult> {
    const res: PassResult = { sent: 0, confirmed: 0, failed: 0, waiting: 0, requeued: 0 };
    const provider = this.deps.provider();
    if (!provider || !this.deps.connected()) return res;
    try {
      if (this.needsReconcile) {
        this.needsReconcile = false;
        res.requeued = await this.reconcile();
      }
    } catch (err) {
      this.needsReconcile = true;
      this.deps.log.warn('outbox: could not re-check confirmations (ledger unreachable?)', { error: errText(err) });
      return res;
    }
    const due = this.deps.db
      .prepare(`SELECT * FROM outbox WHERE status IN ('queued', 'sent') AND next_attempt_at <= ? ORDER BY id LIMIT 200`)
      .all(now()) as Row[];
    for (const r of due) {
      const handler = this.handlers.get(r.kind);
      if (!handler) continue; // its domain has not registered yet
      if (!this.claim(r)) continue; // another process has it
      try {
        const outcome = await this.process(toItem(r) as OutboxItem<never>, handler, provider);
        res[outcome]++;
      } catch (err) {
        // Ledger gone mid-pass: release the item and stop this pass.
        this.update(r.id, { next_attempt_at: now() + this.opts.pollMs, last_error: errText(err) });
        this.deps.log.warn('outbox: ledger error, will retry', { id: r.id, error: errText(err) });
        break;
      }
    }
    return res;
  }

  private claim(r: Row): boolean {
    const info = this.deps.db
      .prepare(`UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND next_attempt_at = ? AND status = ?`)
      .run(now() + this.opts.leaseMs, r.id, r.next_attempt_at, r.status);
    return info.changes === 1;
  }

  private async process(
    item: OutboxItem<never>,
    handler: OutboxHandler<never>,
    provider: Provider,
  ): Promise<'sent' | 'confirmed' | 'failed' | 'waiting'> {
    if (item.status === 'sent' && item.txHash) {
      const rc = await provider.getTransactionReceipt(item.txHash);
      if (rc && rc.status === 1) {
        this.confirm(item, rc.blockNumber, rc.blockHash);
        return 'confirmed';
      }
      if (!rc) {
        const age = now() - Date.parse(item.sentAt ?? item.updatedAt);
        const known = await provider.getTransaction(item.txHash);
        if (known && age < this.opts.receiptTimeoutMs) {
          this.update(item.id, { next_attempt_at: now() + this.opts.pollMs });
          return 'waiting';
        }
        // Unknown to the node (lost with a crash) or stuck: fall through to check-then-resend.
      }
      // Reverted (or lost): maybe someone else's write made it; else retry below.
      if (rc && rc.status !== 1 && !(await handler.isOnChain(item, provider))) {
        return this.failOrRetry(item, new Error(`the transaction ${item.txHash} was reverted`));
      }
    }

    if (await handler.isOnChain(item, provider)) {
      this.confirm(item, await provider.getBlockNumber(), null);
      return 'confirmed';
    }
    const signer = this.deps.signerFor(item as OutboxItem);
    if (!signer) {
      this.update(item.id, {
        status: 'queued',
        next_attempt_at: now() + this.opts.pollMs,
        last_error: item.signer ? `waiting for identity ${item.signer} to be unlocked` : 'waiting for an identity to be unlocked',
      });
      return 'waiting';
    }
    let txHash: string;
    try {
      txHash = await handler.send(item, signer);
    } catch (err) {
      // The ledger went away mid-send: not the item's fault, no attempt counted.
      if (!this.deps.connected() || isTransportError(err)) throw err;
      return this.failOrRetry(item, err);
    }
    const t = iso();
    this.update(item.id, {
      status: 'sent', tx_hash: txHash, attempts: item.attempts + 1, sent_at: t, last_error: null,
      next_attempt_at: now() + Math.min(this.opts.pollMs, 250),
    });
    this.deps.log.info('outbox: sent', { id: item.id, kind: item.kind, key: item.key, txHash });
    this.emit('change', this.byId(item.id)!);
    // Dev chains mine at once: confirm in the same pass when the receipt is already there.
    const rc = await provider.getTransactionReceipt(txHash);
    if (rc && rc.status === 1) {
      this.confirm({ ...item, txHash }, rc.blockNumber, rc.blockHash);
      return 'confirmed';
    }
    return 'sent';
  }

  private failOrRetry(item: OutboxItem<never>, err: unknown): 'failed' | 'waiting' {
    const attempts = item.attempts + 1;
    const permanent = err instanceof OutboxPermanentError;
    if (permanent || attempts >= this.opts.maxAttempts) {
      this.update(item.id, { status: 'failed', attempts, last_error: errText(err), tx_hash: null });
      this.deps.log.warn('outbox: failed', { id: item.id, kind: item.kind, key: item.key, attempts, error: errText(err) });
      this.emit('change', this.byId(item.id)!);
      return 'failed';
    }
    const delay = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (attempts - 1)) * (0.8 + Math.random() * 0.4);
    this.update(item.id, { status: 'queued', attempts, last_error: errText(err), tx_hash: null, next_attempt_at: now() + Math.round(delay) });
    this.deps.log.warn('outbox: send failed, will retry', { id: item.id, kind: item.kind, attempts, retryInMs: Math.round(delay), error: errText(err) });
    return 'waiting';
  }

  private confirm(item: OutboxItem<never>, blockNumber: number, blockHash: string | null): void {
    this.update(item.id, {
      status: 'confirmed', block_number: blockNumber, block_hash: blockHash, confirmed_at: iso(), last_error: null,
      tx_hash: item.txHash, next_attempt_at: 0,
    });
    this.deps.log.info('outbox: confirmed', { id: item.id, kind: item.kind, key: item.key, txHash: item.txHash, block: blockNumber });
    this.emit('change', this.byId(item.id)!);
  }

  private update(id: number, fields: Partial<Omit<Row, 'id'>>): void {
    const cols = Object.keys(fields);
    const set = [...cols.map((c) => `${c} = @${c}`), 'updated_at = @updated_at'].join(', ');
    this.deps.db.prepare(`UPDATE outbox SET ${set} WHERE id = @id`).run({ ...fields, updated_at: iso(), id });
  }
}

/**
 * The app's outbox, bound to the ledger connection (re-checks after every reconnect) and the
 * identities (items wait until their signer is unlocked, and go as soon as it is). Domains
 * register their kinds on it (`outbox.register('anchor', …)`). `close` unbinds and stops it.
 */
export function startAppOutbox(
  deps: { db: Db; log: Logger; connection: LedgerConnection; identity: IdentityService },
  opts?: OutboxOptions,
): { outbox: Outbox; close(): Promise<void> } {
  const { connection, identity } = deps;
  const ob = new Outbox(
    {
      db: deps.db,
      log: deps.log,
      provider: () => connection.provider.current(),
      connected: () => connection.provider.connected(),
      signerFor: (item) => identity.signerFor(item.signer),
    },
    opts,
  );
  let last = connection.monitor.current();
  const onLedger = (st: LedgerStatus) => {
    if (st.state === 'connected' && (last.state !== 'connected' || last.rpcUrl !== st.rpcUrl || last.chainId !== st.chainId)) {
      ob.ledgerChanged();
    }
    last = st;
  };
  const onIdentity = () => ob.kick();
  connection.monitor.on('change', onLedger);
  identity.on('change', onIdentity);
  ob.start();
  return {
    outbox: ob,
    async close() {
      connection.monitor.off('change', onLedger);
      identity.off('change', onIdentity);
      await ob.stop();
    },
  };
}
