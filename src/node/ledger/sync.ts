/**
 * Chain event sync: reads MedImgShr events into SQLite (migration 005) incrementally from the last
 * synced block, so histories (records, consents, accesses, scores, reports, roles) can be drawn
 * fast and offline.
 *
 * - getLogs over block ranges (chunkBlocks), decoded with the generated ABI, upserted by
 *   (chain_id, tx_hash, log_index): reading a range twice never duplicates a row.
 * - A range is accepted only if the hash of its last block is the same before and after the
 *   getLogs call (no reorg in between); that hash is stored with the sync state.
 * - Rollbacks: before each pass the stored hash of the last synced block is compared with the
 *   chain's. When the block is gone (head below it: an embedded node restored from an older state)
 *   or has another hash, the fork point is found by walking back the stored block hashes; every
 *   row above it is deleted and the range is read again.
 */
import { EventEmitter } from 'node:events';
import { id as keccakId, type Log } from 'ethers';
import { decodeEvents, type MedImgShrEvent } from './contracts';
import type { Logger } from '../log';
import type { Db } from '../store/database';
import type { SyncStatus } from '../../shared/api/ledger';
import type { ChainAccess, ChainConnection } from './client';

export interface SyncOptions {
  /** Blocks per getLogs call (default 2000). */
  chunkBlocks?: number;
  /** How many recent block hashes to keep besides those with events (default 128). */
  keepRecentBlocks?: number;
}

export const FAMILY_TABLES = ['chain_records', 'chain_storage', 'chain_consents', 'chain_accesses', 'chain_reports', 'chain_scores', 'chain_roles'] as const;

const ROLE_NAMES: Record<string, string> = {
  ['0x' + '00'.repeat(32)]: 'regulator',
  [keccakId('INSTITUTION_ROLE')]: 'institution',
  [keccakId('CLINICIAN_ROLE')]: 'clinician',
  [keccakId('PATIENT_ROLE')]: 'patient',
};

const FAMILY: Record<string, string> = {
  StudyAnchored: 'record',
  StudySuperseded: 'record',
  StorageRegistered: 'storage',
  ConsentGranted: 'consent',
  ConsentRevoked: 'consent',
  AccessGranted: 'access',
  AccessDenied: 'access',
  IntegrityConfirmed: 'report',
  MismatchReported: 'report',
  ReportRuled: 'report',
  ScoreChanged: 'score',
  InstitutionRegistered: 'role',
  InstitutionSuspended: 'role',
  InstitutionReinstated: 'role',
  ClinicianGranted: 'role',
  ClinicianRemoved: 'role',
  PatientRegistered: 'role',
  RoleGranted: 'role',
  RoleRevoked: 'role',
};

interface StateRow {
  chain_id: number;
  contract: string;
  from_block: number;
  last_block: number;
  last_block_hash: string | null;
  synced_at: string | null;
  resets: number;
  last_reset_at: string | null;
  last_reset_from: number | null;
}

const jsonArgs = (args: Record<string, unknown>): string =>
  JSON.stringify(args, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export interface SyncPass {
  status: SyncStatus;
  newEvents: number;
  reset: boolean;
}

export class ChainSync extends EventEmitter<{ synced: [SyncPass] }> {
  private running: Promise<SyncPass> | null = null;
  /** The pass promised to callers that asked while one was running. */
  private again: Promise<SyncPass> | null = null;
  private head: number | null = null;
  private lastError: string | null = null;
  private readonly chunk: number;
  private readonly keepRecent: number;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly chain: ChainAccess,
    opts: SyncOptions = {},
  ) {
    super();
    this.chunk = Math.max(1, opts.chunkBlocks ?? 2000);
    this.keepRecent = opts.keepRecentBlocks ?? 128;
  }

  /** Stops scheduling passes and waits for the running one, so nothing touches a closed database. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }
  private stopped = false;

  /**
   * Runs a pass now; while one runs, the answer is the pass that starts after it (a caller asks
   * because the chain changed: the running pass may have read the head before that change).
   * Callers asking meanwhile share that one next pass.
   */
  sync(): Promise<SyncPass> {
    if (this.stopped) return Promise.resolve({ status: this.statusFor(null), newEvents: 0, reset: false });
    if (this.running) {
      this.again ??= this.running.then(
        (last) =>
          new Promise<SyncPass>((resolve) => {
            setImmediate(() => {
              this.again = null;
              // stopped meanwhile: the database may be closed, so no pass (and no status read) after stop
              resolve(this.stopped ? last : this.sync());
            });
          }),
      );
      return this.again;
    }
    this.running = this.pass()
      .catch((err: unknown) => {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.log.warn('ledger sync: pass failed', { error: this.lastError });
        return { status: this.statusFor(null), newEvents: 0, reset: false };
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Sync status for the current connection (from the database; `running` if a pass is underway). */
  async status(): Promise<SyncStatus> {
    let conn: ChainConnection | null = null;
    try {
      conn = await this.chain.connection();
    } catch {
      conn = null;
    }
    return this.statusFor(conn);
  }

  /** Status for a connection, or for the most recently synced chain when not connected. */
  statusFor(conn: ChainConnection | null): SyncStatus {
    const row = conn
      ? (this.db.prepare('SELECT * FROM chain_sync_state WHERE chain_id = ? AND contract = ?').get(conn.chainId, conn.address) as StateRow | undefined)
      : (this.db.prepare('SELECT * FROM chain_sync_state ORDER BY synced_at DESC LIMIT 1').get() as StateRow | undefined);
    const chainId = conn?.chainId ?? row?.chain_id ?? null;
    const contract = conn?.address ?? row?.contract ?? null;
    const events =
      chainId !== null && contract !== null
        ? (this.db.prepare('SELECT COUNT(*) AS n FROM chain_events WHERE chain_id = ? AND contract = ?').get(chainId, contract) as { n: number }).n
        : 0;
    return {
      chainId,
      contract,
      lastSyncedBlock: row ? row.last_block : null,
      syncedAt: row?.synced_at ?? null,
      head: this.head,
      running: this.running !== null,
      events,
      resets: row?.resets ?? 0,
      lastResetFrom: row?.last_reset_from ?? null,
      lastError: this.lastError,
    };
  }

  // ---- the pass ----

  private async pass(): Promise<SyncPass> {
    const conn = await this.chain.connection();
    if (!conn) {
      this.lastError = 'the ledger is not connected';
      return { status: this.statusFor(null), newEvents: 0, reset: false };
    }
    const { provider, chainId, address } = conn;
    let state = this.state(conn);
    const head = await provider.getBlockNumber();
    this.head = head;
    let reset = false;

    // 1. Rollback / fork detection.
    if (state.last_block >= state.from_block) {
      let same = false;
      if (state.last_block <= head) {
        const b = await provider.getBlock(state.last_block);
        same = b !== null && b.hash === state.last_block_hash;
      }
      if (!same) {
        const fork = await this.findForkPoint(conn, Math.min(state.last_block, head), state.from_block);
        this.rollback(conn, fork, state);
        reset = true;
        state = this.state(conn);
      }
    }

    // 2. Forward in chunks.
    let newEvents = 0;
    let from = state.last_block + 1;
    while (from <= head) {
      const to = Math.min(head, from + this.chunk - 1);
      const before = await provider.getBlock(to);
      const logs = await provider.getLogs({ address, fromBlock: from, toBlock: to });
      const after = await provider.getBlock(to);
      if (!before || !after || before.hash !== after.hash) {
        this.log.warn('ledger sync: the chain changed during a range read; reading it again', { from, to });
        continue;
      }
      const decoded = decodeEvents(logs as Log[], address);
      const times = new Map<number, { hash: string; time: number }>();
      for (const n of [...new Set(decoded.map((e) => e.log.blockNumber))]) {
        const b = n === to ? after : await provider.getBlock(n);
        if (b?.hash) times.set(n, { hash: b.hash, time: b.timestamp });
      }
      times.set(to, { hash: after.hash!, time: after.timestamp });
      newEvents += this.store(chainId, address, decoded, times, to, after.hash!);
      from = to + 1;
    }
    this.lastError = null;
    if (from > state.last_block + 1 || reset) this.prune(chainId);
    this.db
      .prepare('UPDATE chain_sync_state SET synced_at = ? WHERE chain_id = ? AND contract = ?')
      .run(new Date().toISOString(), chainId, address);
    const result: SyncPass = { status: this.statusFor(conn), newEvents, reset };
    if (newEvents > 0 || reset) this.log.info('ledger sync: stored events', { newEvents, reset, block: result.status.lastSyncedBlock });
    this.emit('synced', result);
    return result;
  }

  private state(conn: ChainConnection): StateRow {
    const get = () =>
      this.db.prepare('SELECT * FROM chain_sync_state WHERE chain_id = ? AND contract = ?').get(conn.chainId, conn.address) as StateRow | undefined;
    const row = get();
    if (row) return row;
    const from = conn.deployBlock ?? 0;
    this.db
      .prepare('INSERT OR IGNORE INTO chain_sync_state (chain_id, contract, from_block, last_block, last_block_hash) VALUES (?, ?, ?, ?, NULL)')
      .run(conn.chainId, conn.address, from, from - 1);
    return get()!;
  }

  /** The newest stored block (≤ upTo) whose hash the chain still has; from_block - 1 when none. */
  private async findForkPoint(conn: ChainConnection, upTo: number, fromBlock: number): Promise<number> {
    const rows = this.db
      .prepare('SELECT number, hash FROM chain_blocks WHERE chain_id = ? AND number <= ? ORDER BY number DESC')
      .all(conn.chainId, upTo) as { number: number; hash: string }[];
    for (let i = 0; i < rows.length; i += 16) {
      const batch = rows.slice(i, i + 16);
      const blocks = await Promise.all(batch.map((r) => conn.provider.getBlock(r.number)));
      for (let j = 0; j < batch.length; j++) {
        if (blocks[j]?.hash === batch[j]!.hash) return batch[j]!.number;
      }
    }
    return Math.min(fromBlock, conn.deployBlock ?? fromBlock) - 1;
  }

  private rollback(conn: ChainConnection, fork: number, state: StateRow): void {
    const { chainId, address } = conn;
    this.db.transaction(() => {
      for (const t of ['chain_events', ...FAMILY_TABLES]) {
        this.db.prepare(`DELETE FROM ${t} WHERE chain_id = ? AND contract = ? AND block_number > ?`).run(chainId, address, fork);
      }
      this.db.prepare('DELETE FROM chain_blocks WHERE chain_id = ? AND number > ?').run(chainId, fork);
      const hash = (this.db.prepare('SELECT hash FROM chain_blocks WHERE chain_id = ? AND number = ?').get(chainId, fork) as { hash: string } | undefined)?.hash ?? null;
      const from = Math.min(state.from_block, fork + 1);
      this.db
        .prepare(
          `UPDATE chain_sync_state SET from_block = ?, last_block = ?, last_block_hash = ?, resets = resets + 1, last_reset_at = ?, last_reset_from = ?
           WHERE chain_id = ? AND contract = ?`,
        )
        .run(from, fork, hash, new Date().toISOString(), fork, chainId, address);
      // Local anchors whose block the chain lost: block info is no longer valid (the outbox re-sends).
      this.db
        .prepare('UPDATE ledger_anchors SET block_number = NULL, block_hash = NULL, tx_hash = NULL, anchored_at = NULL WHERE chain_id = ? AND block_number > ?')
        .run(chainId, fork);
    })();
    this.log.warn('ledger sync: the chain no longer has blocks that were synced; resyncing from the fork point', {
      chainId, contract: address, lastSynced: state.last_block, fork,
    });
  }

  private store(
    chainId: number,
    contract: string,
    events: MedImgShrEvent[],
    blocks: Map<number, { hash: string; time: number }>,
    to: number,
    toHash: string,
  ): number {
    const db = this.db;
    const ins = (table: string, cols: string[]) =>
      db.prepare(
        `INSERT OR REPLACE INTO ${table} (chain_id, contract, block_number, block_hash, block_time, tx_hash, log_index, ${cols.join(', ')})
         VALUES (@chain_id, @contract, @block_number, @block_hash, @block_time, @tx_hash, @log_index, ${cols.map((c) => '@' + c).join(', ')})`,
      );
    const generic = db.prepare(
      `INSERT OR IGNORE INTO chain_events (chain_id, contract, block_number, block_hash, block_time, tx_hash, log_index, name, family, args_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    let added = 0;
    db.transaction(() => {
      for (const e of events) {
        const l = e.log;
        const blk = blocks.get(l.blockNumber);
        const base = {
          chain_id: chainId, contract, block_number: l.blockNumber, block_hash: l.blockHash, block_time: blk?.time ?? null,
          tx_hash: l.transactionHash, log_index: l.index,
        };
        const family = FAMILY[e.name] ?? 'admin';
        const info = generic.run(chainId, contract, l.blockNumber, l.blockHash, blk?.time ?? null, l.transactionHash, l.index, e.name, family, jsonArgs(e.args as Record<string, unknown>));
        added += info.changes;
        this.storeFamily(e, base, ins);
      }
      const blockIns = db.prepare('INSERT OR REPLACE INTO chain_blocks (chain_id, number, hash, time) VALUES (?, ?, ?, ?)');
      for (const [n, b] of blocks) blockIns.run(chainId, n, b.hash, b.time);
      db.prepare('UPDATE chain_sync_state SET last_block = ?, last_block_hash = ? WHERE chain_id = ? AND contract = ?').run(to, toHash, chainId, contract);
    })();
    return added;
  }

  private storeFamily(
    e: MedImgShrEvent,
    base: Record<string, unknown>,
    ins: (table: string, cols: string[]) => { run(o: Record<string, unknown>): unknown },
  ): void {
    const n = (v: bigint) => Number(v);
    switch (e.name) {
      case 'StudyAnchored': {
        const a = e.args;
        ins('chain_records', ['root', 'study', 'patient', 'institution', 'clinician', 'leaf_count', 'version', 'storage_id', 'previous', 'superseded_by']).run({
          ...base, root: a.root, study: a.study, patient: a.patient, institution: a.institution, clinician: a.clinician,
          leaf_count: n(a.leafCount), version: n(a.version), storage_id: n(a.storageId),
          previous: /^0x0+$/.test(a.previous) ? null : a.previous, superseded_by: null,
        });
        // The local anchor (if this workstation made it) learns its block and transaction.
        this.db
          .prepare('UPDATE ledger_anchors SET tx_hash = ?, block_number = ?, block_hash = ?, anchored_at = ?, chain_id = ?, contract = ?, updated_at = ? WHERE root = ?')
          .run(base.tx_hash, base.block_number, base.block_hash, base.block_time, base.chain_id, base.contract, new Date().toISOString(), a.root);
        return;
      }
      case 'StudySuperseded':
        this.db
          .prepare('UPDATE chain_records SET superseded_by = ? WHERE chain_id = ? AND contract = ? AND root = ?')
          .run(e.args.root, base.chain_id, base.contract, e.args.previous);
        return;
      case 'StorageRegistered':
        ins('chain_storage', ['storage_id', 'uri']).run({ ...base, storage_id: n(e.args.storageId), uri: e.args.uri });
        return;
      case 'ConsentGranted':
        ins('chain_consents', ['action', 'patient', 'institution', 'study', 'expiry', 'by_signature']).run({
          ...base, action: 'granted', patient: e.args.patient, institution: e.args.institution, study: e.args.study,
          expiry: n(e.args.expiry), by_signature: e.args.bySignature ? 1 : 0,
        });
        return;
      case 'ConsentRevoked':
        ins('chain_consents', ['action', 'patient', 'institution', 'study', 'expiry', 'by_signature']).run({
          ...base, action: 'revoked', patient: e.args.patient, institution: e.args.institution, study: e.args.study, expiry: null,
          by_signature: e.args.bySignature ? 1 : 0,
        });
        return;
      case 'AccessGranted':
        ins('chain_accesses', ['outcome', 'access_id', 'study', 'root', 'recipient', 'patient', 'accessor', 'basis', 'denial']).run({
          ...base, outcome: 'granted', access_id: n(e.args.accessId), study: e.args.study, root: e.args.root, recipient: e.args.recipient,
          patient: e.args.patient, accessor: e.args.accessor, basis: n(e.args.basis), denial: null,
        });
        return;
      case 'AccessDenied':
        ins('chain_accesses', ['outcome', 'access_id', 'study', 'root', 'recipient', 'patient', 'accessor', 'basis', 'denial']).run({
          ...base, outcome: 'denied', access_id: null, study: e.args.study, root: e.args.root, recipient: e.args.recipient,
          patient: e.args.patient, accessor: e.args.accessor, basis: null, denial: n(e.args.reason),
        });
        return;
      case 'IntegrityConfirmed':
        ins('chain_reports', ['action', 'access_id', 'recipient', 'anchoring_institution', 'reporter', 'upheld', 'regulator']).run({
          ...base, action: 'confirmed', access_id: n(e.args.accessId), recipient: e.args.recipient, anchoring_institution: e.args.anchoringInstitution,
          reporter: null, upheld: null, regulator: null,
        });
        return;
      case 'MismatchReported':
        ins('chain_reports', ['action', 'access_id', 'recipient', 'anchoring_institution', 'reporter', 'upheld', 'regulator']).run({
          ...base, action: 'reported', access_id: n(e.args.accessId), recipient: e.args.recipient, anchoring_institution: e.args.anchoringInstitution,
          reporter: e.args.reporter, upheld: null, regulator: null,
        });
        return;
      case 'ReportRuled':
        ins('chain_reports', ['action', 'access_id', 'recipient', 'anchoring_institution', 'reporter', 'upheld', 'regulator']).run({
          ...base, action: 'ruled', access_id: n(e.args.accessId), recipient: null, anchoring_institution: null, reporter: null,
          upheld: e.args.upheld ? 1 : 0, regulator: e.args.regulator,
        });
        return;
      case 'ScoreChanged':
        ins('chain_scores', ['account', 'by', 'delta', 'reason', 'new_score']).run({
          ...base, account: e.args.account, by: e.args.by, delta: n(e.args.delta), reason: n(e.args.reason), new_score: n(e.args.newScore),
        });
        return;
      case 'InstitutionRegistered':
      case 'InstitutionSuspended':
      case 'InstitutionReinstated':
        ins('chain_roles', ['event', 'role', 'account', 'institution', 'by']).run({
          ...base, event: e.name, role: 'institution', account: e.args.institution, institution: e.args.institution, by: e.args.by,
        });
        return;
      case 'ClinicianGranted':
        ins('chain_roles', ['event', 'role', 'account', 'institution', 'by']).run({
          ...base, event: e.name, role: 'clinician', account: e.args.clinician, institution: e.args.institution, by: e.args.institution,
        });
        return;
      case 'ClinicianRemoved':
        ins('chain_roles', ['event', 'role', 'account', 'institution', 'by']).run({
          ...base, event: e.name, role: 'clinician', account: e.args.clinician, institution: e.args.institution, by: e.args.by,
        });
        return;
      case 'PatientRegistered':
        ins('chain_roles', ['event', 'role', 'account', 'institution', 'by']).run({
          ...base, event: e.name, role: 'patient', account: e.args.patient, institution: null, by: e.args.by,
        });
        return;
      case 'RoleGranted':
      case 'RoleRevoked':
        ins('chain_roles', ['event', 'role', 'account', 'institution', 'by']).run({
          ...base, event: e.name, role: ROLE_NAMES[e.args.role] ?? 'other', account: e.args.account, institution: null, by: e.args.sender,
        });
        return;
      default:
        return;
    }
  }

  /** Keeps the hashes of blocks with events and of the newest `keepRecent` synced blocks. */
  private prune(chainId: number): void {
    this.db
      .prepare(
        `DELETE FROM chain_blocks WHERE chain_id = ? AND number < (SELECT MAX(number) FROM chain_blocks WHERE chain_id = ?) - ?
         AND number NOT IN (SELECT DISTINCT block_number FROM chain_events WHERE chain_id = ?)`,
      )
      .run(chainId, chainId, this.keepRecent, chainId);
  }
}
