/**
 * The chain-event sync against a scripted chain (blocks with hashes and logs encoded with the real
 * ABI): decoding into the family tables, idempotent re-reads, reorgs and rollbacks (head below the
 * last synced block, or the same numbers with other hashes), chunked ranges. Real SQLite in memory.
 */
import { getAddress, id as keccakId, type Log } from 'ethers';
import { beforeEach, describe, expect, it } from 'vitest';
import { medImgShrInterface } from '../../../src/node/ledger/contracts';
import type { ChainAccess, ChainConnection } from '../../../src/node/ledger/client';
import { ChainSync } from '../../../src/node/ledger/sync';
import { STATE_ORDER, worstState } from '../../../src/node/ledger/verify';
import type { Logger } from '../../../src/node/log';
import { openDatabase, type Db } from '../../../src/node/store/database';

const log: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const CONTRACT = getAddress('0x5fbdb2315678afecb367f032d93f642f64180aa3');
const A = (n: number) => getAddress('0x' + n.toString(16).padStart(40, '0'));
const B32 = (n: number) => '0x' + n.toString(16).padStart(64, '0');

interface Block {
  number: number;
  hash: string;
  timestamp: number;
  logs: { name: string; args: unknown[] }[];
}

/** A scripted chain: blocks (with a fork tag in their hashes) and a provider over them. */
class FakeChain {
  blocks: Block[] = [];
  getLogsCalls: [number, number][] = [];
  mine(logs: { name: string; args: unknown[] }[] = [], tag = 'a'): Block {
    const number = this.blocks.length;
    const b = { number, hash: keccakId(`${tag}:${number}`), timestamp: 1_800_000_000 + number, logs };
    this.blocks.push(b);
    return b;
  }
  /** Drops blocks from `n` on (a node restored from an older state). */
  truncate(n: number): void {
    this.blocks.length = n;
  }
  provider = {
    getBlockNumber: async () => this.blocks.length - 1,
    getBlock: async (n: number) => {
      const b = this.blocks[n];
      return b ? { hash: b.hash, timestamp: b.timestamp } : null;
    },
    getLogs: async (f: { fromBlock: number; toBlock: number }) => {
      this.getLogsCalls.push([f.fromBlock, f.toBlock]);
      const out: Log[] = [];
      for (const b of this.blocks.slice(f.fromBlock, f.toBlock + 1)) {
        b.logs.forEach((l, i) => {
          const enc = medImgShrInterface.encodeEventLog(l.name, l.args);
          out.push({
            address: CONTRACT, topics: enc.topics, data: enc.data, blockNumber: b.number, blockHash: b.hash,
            transactionHash: keccakId(`${b.hash}:tx${i}`), index: i, transactionIndex: 0, removed: false,
          } as unknown as Log);
        });
      }
      return out;
    },
  };
}

let db: Db;
let chain: FakeChain;
let sync: ChainSync;

beforeEach(() => {
  db = openDatabase(':memory:');
  chain = new FakeChain();
  const conn = { provider: chain.provider, chainId: 31337, address: CONTRACT, deployBlock: 0 } as unknown as ChainConnection;
  sync = new ChainSync(db, log, { connection: async () => conn } as unknown as ChainAccess, { chunkBlocks: 3, keepRecentBlocks: 4 });
});

const n = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;

const anchored = (root: number, inst = A(0x11), clin = A(0x22), patient = A(0x33)) => ({
  name: 'StudyAnchored',
  args: [B32(root), B32(root), patient, inst, clin, 40, 1, 1, B32(0)],
});

describe('chain sync', () => {
  it('decodes every family into its table, with block times; a second pass and a full re-read add nothing', async () => {
    chain.mine(); // genesis
    chain.mine([{ name: 'InstitutionRegistered', args: [A(0x11), 1, A(0x99)] }, { name: 'ScoreChanged', args: [A(0x11), A(0x99), 0, 0, 500] }]);
    chain.mine([{ name: 'ClinicianGranted', args: [A(0x22), A(0x11)] }]);
    chain.mine([{ name: 'StorageRegistered', args: [1, 'medimg-blob://x'] }, anchored(7)]);
    chain.mine([{ name: 'ConsentGranted', args: [A(0x33), A(0x44), B32(7), 1_900_000_000, true] }]);
    chain.mine([
      { name: 'AccessGranted', args: [1, B32(7), A(0x44), B32(7), A(0x33), A(0x45), 1] },
      { name: 'AccessDenied', args: [B32(7), A(0x46), A(0x33), B32(7), A(0x46), 1] },
    ]);
    chain.mine([{ name: 'ConsentRevoked', args: [A(0x33), A(0x44), B32(7), false] }, { name: 'IntegrityConfirmed', args: [1, A(0x44), A(0x11)] }]);
    chain.mine([{ name: 'ScoreChanged', args: [A(0x11), A(0x44), -200, 9, 300] }]);

    const p = await sync.sync();
    expect(p.newEvents).toBe(11);
    expect(p.status).toMatchObject({ lastSyncedBlock: 7, head: 7, events: 11, resets: 0, lastError: null });
    expect(chain.getLogsCalls).toEqual([[0, 2], [3, 5], [6, 7]]);
    expect(db.prepare('SELECT root, institution, clinician, leaf_count, version, previous, block_number, block_time FROM chain_records').all()).toEqual([
      { root: B32(7), institution: A(0x11), clinician: A(0x22), leaf_count: 40, version: 1, previous: null, block_number: 3, block_time: 1_800_000_003 },
    ]);
    expect(db.prepare('SELECT action, patient, institution, expiry, by_signature FROM chain_consents ORDER BY block_number').all()).toEqual([
      { action: 'granted', patient: A(0x33), institution: A(0x44), expiry: 1_900_000_000, by_signature: 1 },
      { action: 'revoked', patient: A(0x33), institution: A(0x44), expiry: null, by_signature: 0 },
    ]);
    expect(db.prepare('SELECT outcome, access_id, basis, denial FROM chain_accesses ORDER BY log_index').all()).toEqual([
      { outcome: 'granted', access_id: 1, basis: 1, denial: null },
      { outcome: 'denied', access_id: null, basis: null, denial: 1 },
    ]);
    expect(db.prepare('SELECT account, by, delta, reason, new_score FROM chain_scores ORDER BY block_number').all()).toEqual([
      { account: A(0x11), by: A(0x99), delta: 0, reason: 0, new_score: 500 },
      { account: A(0x11), by: A(0x44), delta: -200, reason: 9, new_score: 300 },
    ]);
    expect(db.prepare('SELECT event, role, account, institution FROM chain_roles ORDER BY block_number').all()).toEqual([
      { event: 'InstitutionRegistered', role: 'institution', account: A(0x11), institution: A(0x11) },
      { event: 'ClinicianGranted', role: 'clinician', account: A(0x22), institution: A(0x11) },
    ]);
    expect(n('SELECT COUNT(*) AS n FROM chain_reports WHERE action = ?', 'confirmed')).toBe(1);
    expect(n('SELECT COUNT(*) AS n FROM chain_storage')).toBe(1);

    const again = await sync.sync();
    expect(again.newEvents).toBe(0);
    db.prepare('UPDATE chain_sync_state SET last_block = -1, last_block_hash = NULL').run();
    await sync.sync();
    expect(n('SELECT COUNT(*) AS n FROM chain_events')).toBe(11);
    expect(n('SELECT COUNT(*) AS n FROM chain_scores')).toBe(2);
  });

  it('rollback: the node restarts from an older state (head below the last synced block) → rows above the fork removed, then resynced', async () => {
    chain.mine();
    chain.mine([anchored(1)]);
    chain.mine([anchored(2)]);
    chain.mine([anchored(3)]);
    await sync.sync();
    expect(n('SELECT COUNT(*) AS n FROM chain_records')).toBe(3);
    chain.truncate(2); // blocks 2 and 3 are gone
    const p = await sync.sync();
    expect(p.reset).toBe(true);
    expect(p.status).toMatchObject({ resets: 1, lastResetFrom: 1, lastSyncedBlock: 1 });
    expect(db.prepare('SELECT root FROM chain_records').all()).toEqual([{ root: B32(1) }]);
    // New blocks with the same numbers and other content are read.
    chain.mine([anchored(9)], 'b');
    chain.mine([], 'b');
    const q = await sync.sync();
    expect(q.reset).toBe(false);
    expect((db.prepare('SELECT root FROM chain_records ORDER BY block_number').all() as { root: string }[]).map((r) => r.root)).toEqual([B32(1), B32(9)]);
    expect(q.status.lastSyncedBlock).toBe(3);
  });

  it('reorg: same height, other hashes from block 3 → detected by the stored hash; events resynced from the fork point', async () => {
    for (let i = 0; i < 8; i++) chain.mine(i > 0 ? [anchored(i)] : []);
    await sync.sync();
    expect(n('SELECT COUNT(*) AS n FROM chain_records')).toBe(7);
    chain.truncate(3);
    for (let i = 3; i < 8; i++) chain.mine(i === 5 ? [anchored(50)] : [], 'fork');
    const p = await sync.sync();
    expect(p.reset).toBe(true);
    expect(p.status.lastResetFrom).toBe(2);
    expect((db.prepare('SELECT root FROM chain_records ORDER BY block_number').all() as { root: string }[]).map((r) => r.root)).toEqual([B32(1), B32(2), B32(50)]);
    expect(n('SELECT COUNT(*) AS n FROM chain_events WHERE block_number >= 3 AND block_hash NOT IN (' + chain.blocks.map(() => '?').join(',') + ')', ...chain.blocks.map((b) => b.hash))).toBe(0);
  });

  it('a chain that shares no stored block (fresh chain, same contract address) is resynced from scratch', async () => {
    for (let i = 0; i < 4; i++) chain.mine(i > 0 ? [anchored(i)] : []);
    await sync.sync();
    chain.truncate(0);
    for (let i = 0; i < 6; i++) chain.mine(i === 4 ? [anchored(77)] : [], 'fresh');
    const p = await sync.sync();
    expect(p.reset).toBe(true);
    expect(db.prepare('SELECT root FROM chain_records').all()).toEqual([{ root: B32(77) }]);
    expect(p.status.lastSyncedBlock).toBe(5);
  });
});

describe('study state', () => {
  it('the worst instance state wins: altered > unreadable > ledger-unreachable > not-registered > verified', () => {
    expect(worstState(['verified', 'verified'])).toBe('verified');
    expect(worstState(['verified', 'not-registered'])).toBe('not-registered');
    expect(worstState(['not-registered', 'ledger-unreachable', 'verified'])).toBe('ledger-unreachable');
    expect(worstState(['ledger-unreachable', 'unreadable'])).toBe('unreadable');
    expect(worstState(['unreadable', 'altered', 'verified'])).toBe('altered');
    expect(STATE_ORDER).toHaveLength(5);
  });
});
