/**
 * Shared set-up of the contract tests: a real anvil on loopback, MedImgShr deployed by the regulator,
 * funded wallets for every role, snapshots, revert assertions and the personal-data scan.
 */
import { createHash, createHmac } from 'node:crypto';
import { HDNodeWallet, JsonRpcProvider, Network, Wallet, keccak256, toUtf8Bytes, type ContractTransactionResponse, type Log, type TransactionReceipt, type TransactionResponse } from 'ethers';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { expect } from 'vitest';
import { startAnvil, type AnvilNode } from '../../../src/node/ledger/anvil';
import { confirmed, connect, decodeContractError, decodeEvents, deployMedImgShr, type MedImgShr } from '../../../src/node/ledger/contracts';

export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export const sha256 = (s: string | Uint8Array) => '0x' + createHash('sha256').update(s).digest('hex');

/**
 * Test patients with identifiers that must never reach the chain. Their accounts are derived from a
 * keyed hash (HMAC with the institution's secret), never from a plain hash of an identifier.
 */
export const TEST_PATIENTS = [
  { name: 'Ada Lovelace-Byron', patientId: 'PAT-4711-0815', birthDate: '18151210', accession: 'ACC-99887766',
    studyUid: '1.2.826.0.1.3680043.8.498.11111111111111111111', sopUids: ['1.2.826.0.1.3680043.8.498.11111111111111111111.1', '1.2.826.0.1.3680043.8.498.11111111111111111111.2', '1.2.826.0.1.3680043.8.498.11111111111111111111.3'] },
  { name: 'Grace Brewster Hopper', patientId: 'PAT-1906-1209', birthDate: '19061209', accession: 'ACC-12345678',
    studyUid: '1.2.826.0.1.3680043.8.498.22222222222222222222', sopUids: ['1.2.826.0.1.3680043.8.498.22222222222222222222.1', '1.2.826.0.1.3680043.8.498.22222222222222222222.2'] },
  { name: 'Alan Mathison Turing', patientId: 'PAT-1912-0623', birthDate: '19120623', accession: 'ACC-55554444',
    studyUid: '1.2.826.0.1.3680043.8.498.33333333333333333333', sopUids: ['1.2.826.0.1.3680043.8.498.33333333333333333333.1'] },
] as const;

export type TestPatient = (typeof TEST_PATIENTS)[number];
const INSTITUTION_SECRET = 'institution-A pseudonym key (kept off chain)';

/** The patient's pseudonymous wallet: a key from HMAC(institution secret, patient id). */
export function patientWallet(p: TestPatient, provider: JsonRpcProvider): Wallet {
  return new Wallet(createHmac('sha256', INSTITUTION_SECRET).update(p.patientId).digest('hex'), provider);
}

/** Leaves [pixelDigest, metaDigest, sopInstanceUidDigest] of a test patient's study (version tag varies the pixels). */
export function studyLeaves(p: TestPatient, version = 1): [string, string, string][] {
  return p.sopUids.map((uid) => [sha256(`pixels of ${uid} v${version}`), sha256(`meta of ${uid} v${version}`), sha256(uid)]);
}

export function studyTree(p: TestPatient, version = 1) {
  return StandardMerkleTree.of(studyLeaves(p, version), ['bytes32', 'bytes32', 'bytes32']);
}

export const STORAGE_URI = 'blob://store-7f3a/';

export interface Chain {
  node: AnvilNode;
  provider: JsonRpcProvider;
  contract: MedImgShr;
  address: string;
  /** anvil's funded default accounts 0..9 */
  accounts: Wallet[];
  regulator: Wallet;
  as(w: Wallet): MedImgShr;
  snapshot(): Promise<string>;
  revert(id: string): Promise<void>;
  /** A new funded wallet. */
  fresh(): Promise<Wallet>;
  fund(address: string): Promise<void>;
  /** Unix time of the latest block. */
  now(): Promise<number>;
  increaseTime(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startChain(): Promise<Chain> {
  const node = await startAnvil();
  const provider = new JsonRpcProvider(node.rpcUrl, Network.from(31337), { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
  provider.pollingInterval = 20;
  const accounts = Array.from({ length: 10 }, (_, i) => {
    const hd = HDNodeWallet.fromPhrase(ANVIL_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`);
    return new Wallet(hd.privateKey, provider);
  });
  const regulator = accounts[0]!;
  const contract = await deployMedImgShr(regulator);
  const address = await contract.getAddress();
  const fund = async (a: string) => {
    await provider.send('anvil_setBalance', [a, '0x56BC75E2D63100000']);
  };
  return {
    node,
    provider,
    contract,
    address,
    accounts,
    regulator,
    as: (w) => connect(address, w),
    snapshot: () => provider.send('evm_snapshot', []),
    revert: async (id) => {
      const ok = await provider.send('evm_revert', [id]);
      if (!ok) throw new Error(`evm_revert ${id} failed`);
    },
    fresh: async () => {
      const w = Wallet.createRandom().connect(provider);
      await fund(w.address);
      return w as unknown as Wallet;
    },
    fund,
    now: async () => Number((await provider.getBlock('latest'))!.timestamp),
    increaseTime: async (s) => {
      await provider.send('evm_increaseTime', [s]);
      await provider.send('evm_mine', []);
    },
    stop: async () => {
      provider.destroy();
      await node.stop();
    },
  };
}

/** Sends a transaction and returns its receipt (throws if it reverted). */
export async function mined(p: Promise<ContractTransactionResponse | TransactionResponse>): Promise<TransactionReceipt> {
  return confirmed(p as Promise<ContractTransactionResponse>);
}

/** The decoded MedImgShr events of a receipt. */
export function eventsOf(r: TransactionReceipt, address?: string) {
  return decodeEvents(r.logs as unknown as Log[], address);
}

/** Asserts the call reverts with the named custom error; returns its decoded arguments. */
export async function expectRevert(p: Promise<unknown>, errorName: string): Promise<Record<string, unknown>> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected a revert with ${errorName}`).toBeDefined();
  const decoded = decodeContractError(err);
  expect(decoded?.name, `revert reason of: ${String((err as Error)?.message).slice(0, 300)}`).toBe(errorName);
  return decoded!.args;
}

/** Needles that must never appear on chain: each identifier as UTF-8, and its plain SHA-256 / keccak256. */
export function personalDataNeedles(): { label: string; hex: string }[] {
  const out: { label: string; hex: string }[] = [];
  for (const p of TEST_PATIENTS) {
    const ids: [string, string][] = [
      ['name', p.name],
      ['patientId', p.patientId],
      ['birthDate', p.birthDate],
      ['accession', p.accession],
      ['studyUid', p.studyUid],
      ...p.sopUids.map((u, i) => [`sopUid${i}`, u] as [string, string]),
    ];
    for (const [label, value] of ids) {
      out.push({ label: `${label} as text`, hex: Buffer.from(value, 'utf8').toString('hex') });
      out.push({ label: `${label} as text (upper case)`, hex: Buffer.from(value.toUpperCase(), 'utf8').toString('hex') });
      out.push({ label: `sha256(${label})`, hex: sha256(value).slice(2) });
      out.push({ label: `keccak256(${label})`, hex: keccak256(toUtf8Bytes(value)).slice(2) });
    }
  }
  return out;
}

/**
 * Reads every block of the chain, every transaction's calldata and every log, decodes the MedImgShr
 * events (to prove they are decodable) and searches all of it for the test patients' identifiers.
 * Returns what it scanned and what it found.
 */
export async function scanChainForPersonalData(chain: Chain): Promise<{ txs: number; logs: number; events: number; found: string[] }> {
  const latest = await chain.provider.getBlockNumber();
  const needles = personalDataNeedles();
  let txs = 0;
  let logs = 0;
  let events = 0;
  const found: string[] = [];
  const check = (where: string, hex: string) => {
    const h = hex.toLowerCase();
    for (const n of needles) if (h.includes(n.hex.toLowerCase())) found.push(`${n.label} in ${where}`);
  };
  for (let b = 0; b <= latest; b++) {
    const block = await chain.provider.send('eth_getBlockByNumber', ['0x' + b.toString(16), true]);
    for (const tx of block.transactions as { hash: string; input: string }[]) {
      txs++;
      check(`calldata of ${tx.hash}`, tx.input);
      const receipt = await chain.provider.getTransactionReceipt(tx.hash);
      for (const log of receipt?.logs ?? []) {
        logs++;
        check(`log ${log.index} of ${tx.hash}`, log.data + log.topics.map((t) => t.slice(2)).join(''));
      }
      events += decodeEvents((receipt?.logs ?? []) as unknown as Log[], chain.address).length;
    }
  }
  return { txs, logs, events, found };
}
