import { existsSync, readFileSync, renameSync, rmSync, readdirSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonRpcProvider, Network, Wallet, getAddress, type Signer } from 'ethers';
import type { Logger } from '../log';
import { jsonRpc } from '../net';
import { startAnvil, type AnvilNode } from './anvil';
import { writeFileAtomic, writeFileAtomicSync } from '../atomic';

/**
 * The embedded ledger: anvil in the app-data folder, made to survive crashes.
 *
 * Measured on this machine: anvil rewrites `--state` in place every interval with no atomic
 * swap, so a hard kill can leave the file truncated (and then anvil refuses to start), and a
 * kill inside one interval loses the newest blocks. This wrapper therefore
 *  - keeps `state.last-good.json`, a copy of the newest state file that parsed as a complete
 *    anvil state (validated, written to a temp file, fsynced, then renamed: never half written);
 *  - at start, validates `state.json`; if it is truncated or corrupt it moves it aside
 *    (`state.corrupt-<time>.json`, for forensics) and restores the last-good copy, or starts a
 *    fresh chain when there is none, and says which in `recovery`;
 *  - stops anvil with SIGTERM so it dumps its state, then refreshes the last-good copy;
 *  - writes `node.json` (anvil pid, owner pid, RPC URL) so a second process on the same
 *    app-data folder attaches to the running node instead of starting a second anvil on the
 *    same state file, and a node orphaned by a crashed app is stopped gracefully and replaced.
 *
 * What the chain may lose after a crash is only its newest blocks (those of the last state
 * interval, or since the last-good copy when the state file had to be restored); the outbox
 * (outbox.ts) re-sends whatever the chain no longer has.
 */

export const STATE_FILE = 'state.json';
export const LAST_GOOD_FILE = 'state.last-good.json';
export const NODE_FILE = 'node.json';
export const CONTRACTS_FILE = 'contracts.json';

/** anvil's first dev account (a public test key, funded on every anvil chain; never used on a real network). */
const ANVIL_DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

interface DeployRecord {
  address: string;
  chainId: number;
  block: number;
  deployedAt: string;
}

export type RecoveryAction = 'none' | 'restored-last-good' | 'started-fresh' | 'new-chain';

export interface RecoveryReport {
  /**
   * none: the state file was intact; restored-last-good: it was truncated/corrupt and the
   * last-good copy was used; started-fresh: it was unusable and no good copy existed, so the
   * chain starts empty; new-chain: there was no state yet (first start).
   */
  action: RecoveryAction;
  /** Why recovery was needed (e.g. "state.json is truncated: Unexpected end of JSON input"). */
  reason: string | null;
  /** Where the unusable state file was moved, if any. */
  corruptCopy: string | null;
  /** Newest block in the state the node started from (null = fresh chain). */
  startBlock: number | null;
  /** True when an anvil left running by a crashed app was stopped before starting. */
  orphanStopped: boolean;
  /** One plain sentence for the log and the status bar; null when nothing happened. */
  message: string | null;
}

export interface EmbeddedNodeOptions {
  /** Folder for state.json, the last-good copy and node.json (home.chain). */
  chainDir: string;
  log?: Logger;
  binary?: string;
  chainId?: number;
  /** anvil --state-interval in seconds (default 1). */
  stateInterval?: number;
  /** How often the state file is checked and copied to the last-good copy (default 500 ms). */
  snapshotMs?: number;
  /**
   * When another live process already runs the node for this folder: attach to it (default) or
   * refuse with an error.
   */
  attach?: boolean;
  startTimeoutMs?: number;
}

interface NodeFile {
  anvilPid: number;
  ownerPid: number;
  rpcUrl: string;
  startedAt: string;
}

export interface StateInfo {
  bestBlock: number;
}

/**
 * Checks that `text` is a complete anvil state dump (parses as JSON, has the block, accounts and
 * block list). Throws with a plain reason otherwise.
 */
export function validateStateText(text: string): StateInfo {
  if (text.trim().length === 0) throw new Error('the file is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`it is truncated or not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('it is not a JSON object');
  const o = parsed as Record<string, unknown>;
  if (typeof o.block !== 'object' || o.block === null) throw new Error('it has no "block" section');
  if (typeof o.accounts !== 'object' || o.accounts === null) throw new Error('it has no "accounts" section');
  let best = o.best_block_number;
  if (typeof best === 'string') best = Number.parseInt(best, best.startsWith('0x') ? 16 : 10);
  if (typeof best !== 'number' || !Number.isFinite(best)) {
    const num = (o.block as Record<string, unknown>).number;
    best = typeof num === 'string' ? Number.parseInt(num, 16) : typeof num === 'number' ? num : 0;
  }
  return { bestBlock: best as number };
}

function validateStateFile(path: string): StateInfo {
  return validateStateText(readFileSync(path, 'utf8'));
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers kill(0); on Linux, look at its state.
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    // not Linux or gone; kill(0) said alive
  }
  return true;
}

/** True when `pid` is an anvil using this state file (Linux: /proc; elsewhere: trust the pid). */
function isOurAnvil(pid: number, statePath: string): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.some((a) => a.includes('anvil')) && cmd.includes(statePath);
  } catch {
    return process.platform !== 'linux';
  }
}

/**
 * anvils on this state file whose starter is gone (reparented to init): a process killed between
 * spawning anvil and recording it in node.json leaves one, and it would rewrite state.json with its
 * stale chain. Linux only (/proc); elsewhere node.json is the only record.
 */
function abandonedAnvils(statePath: string, except: number | null): number[] {
  if (process.platform !== 'linux') return [];
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const d of entries) {
    if (!/^[0-9]+$/.test(d) || Number(d) === except) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (!cmd[0]?.endsWith('anvil') || !cmd.includes(statePath)) continue;
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === 1 || !pidAlive(ppid)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function stopGracefully(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM'); // anvil dumps its state on SIGTERM
  } catch {
    return;
  }
  if (!(await waitGone(pid, 5000))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    await waitGone(pid, 2000);
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !pidAlive(pid);
}

export class EmbeddedNode {
  /** Set when this process started anvil; null when attached to another process's node. */
  private anvil: AnvilNode | null;
  private timer: NodeJS.Timeout | null = null;
  private snapshotting: Promise<void> | null = null;
  private lastCopied: { mtimeMs: number; size: number } | null = null;
  private nextSnapshotAt = 0;
  private stopped = false;
  /** Number of last-good copies written (for tests and diagnostics). */
  snapshots = 0;
  lastGoodBlock: number | null = null;

  private constructor(
    readonly rpcUrl: string,
    anvil: AnvilNode | null,
    readonly recovery: RecoveryReport,
    private readonly opts: EmbeddedNodeOptions,
  ) {
    this.anvil = anvil;
  }

  get statePath(): string {
    return join(this.opts.chainDir, STATE_FILE);
  }
  get lastGoodPath(): string {
    return join(this.opts.chainDir, LAST_GOOD_FILE);
  }
  /** True when this process did not start the node but uses one another MedImgShr process runs. */
  get attached(): boolean {
    return this.anvil === null;
  }
  /** anvil's process id (null when attached). */
  get pid(): number | null {
    return this.anvil?.process.pid ?? null;
  }
  /** The anvil child process (tests kill it to simulate a crash). */
  get process(): AnvilNode['process'] | null {
    return this.anvil?.process ?? null;
  }

  /**
   * Starts (or attaches to) the embedded node for `chainDir`, recovering a truncated or corrupt
   * state file first. Never deletes chain data: an unusable file is moved aside.
   */
  static async start(opts: EmbeddedNodeOptions): Promise<EmbeddedNode> {
    const dir = opts.chainDir;
    const statePath = join(dir, STATE_FILE);
    const lastGood = join(dir, LAST_GOOD_FILE);
    const log = opts.log;

    // 1. Another process's node, or an orphan left by a crashed app?
    let orphanStopped = false;
    const nf = readNodeFile(dir);
    if (nf && isOurAnvil(nf.anvilPid, statePath)) {
      if (pidAlive(nf.ownerPid)) {
        // Its owner (another process, or another Services in this one) is alive: never take it away.
        if (opts.attach === false) {
          throw new Error(`the embedded ledger in ${dir} is already run by process ${nf.ownerPid}`);
        }
        try {
          await jsonRpc(nf.rpcUrl, 'eth_chainId', [], 2000);
          log?.info('embedded ledger: attached to the node of another MedImgShr process', { ownerPid: nf.ownerPid, rpcUrl: nf.rpcUrl });
          const report: RecoveryReport = {
            action: 'none', reason: null, corruptCopy: null, startBlock: null, orphanStopped: false,
            message: nf.ownerPid === process.pid
              ? 'Using the local ledger already started by this MedImgShr process.'
              : `Using the local ledger run by another MedImgShr process (pid ${nf.ownerPid}).`,
          };
          return new EmbeddedNode(nf.rpcUrl, null, report, opts);
        } catch {
          // it does not answer: treat as an orphan below
        }
      }
      log?.warn('embedded ledger: stopping an anvil left running by a previous run', { pid: nf.anvilPid, ownerPid: nf.ownerPid });
      await waitForDumpAt(nf.rpcUrl, statePath, Math.max(1500, (opts.stateInterval ?? 1) * 2500));
      await stopGracefully(nf.anvilPid);
      orphanStopped = true;
    }
    for (const pid of abandonedAnvils(statePath, null)) {
      log?.warn('embedded ledger: stopping an unrecorded anvil left by a process killed while starting it', { pid });
      await stopGracefully(pid);
      orphanStopped = true;
    }

    // 2. Validate the state file; recover if needed.
    const report = prepareState(dir, log);
    report.orphanStopped = orphanStopped;

    // 3. Start anvil. If it still refuses the state (a file that parses but anvil rejects),
    //    fall back to the last-good copy, then to a fresh chain.
    const start = async (): Promise<AnvilNode> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await startAnvil({
            binary: opts.binary,
            statePath,
            stateInterval: opts.stateInterval ?? 1,
            chainId: opts.chainId,
            startTimeoutMs: opts.startTimeoutMs,
            // Record the pid before anvil answers: if this process dies while anvil starts, the
            // next start finds it through node.json and stops it (it would otherwise run on,
            // unrecorded, and overwrite state.json with its stale chain).
            onSpawn: (pid, rpcUrl) =>
              writeNodeFile(dir, { anvilPid: pid, ownerPid: process.pid, rpcUrl, startedAt: new Date().toISOString() }),
          });
        } catch (err) {
          // ETXTBSY: the binary is being replaced (e.g. by a package install); try again shortly.
          if ((err as NodeJS.ErrnoException).code !== 'ETXTBSY' || attempt >= 10) throw err;
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    };
    let anvil: AnvilNode;
    try {
      anvil = await start();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      // Only a refusal of the state file itself is recovered here; anything else (no binary, no
      // port, a timeout) leaves the chain data alone and is reported as a start failure.
      if (!existsSync(statePath) || !/--state|state\.json|parse json|load state/i.test(why)) throw err;
      log?.warn('embedded ledger: anvil refused its state file', { error: why.slice(0, 300) });
      const moved = moveAside(dir);
      let restored = false;
      if (report.action !== 'restored-last-good' && existsSync(lastGood)) {
        try {
          const info = validateStateFile(lastGood);
          writeFileAtomicSync(statePath, readFileSync(lastGood, 'utf8'));
          report.startBlock = info.bestBlock;
          restored = true;
        } catch {
          // fall through to a fresh chain
        }
      }
      Object.assign(report, {
        action: restored ? 'restored-last-good' : 'started-fresh',
        reason: `anvil refused the state file (${why.split('\n').find((l) => l.includes('error')) ?? why.slice(0, 160)})`,
        corruptCopy: moved,
        startBlock: restored ? report.startBlock : null,
      });
      if (!restored) {
        if (existsSync(lastGood)) renameSync(lastGood, `${lastGood}.refused-${Date.now()}`);
        report.startBlock = null;
      }
      report.message = recoveryMessage(report);
      anvil = await start();
    }

    writeNodeFile(dir, { anvilPid: anvil.process.pid ?? -1, ownerPid: process.pid, rpcUrl: anvil.rpcUrl, startedAt: new Date().toISOString() });
    const node = new EmbeddedNode(anvil.rpcUrl, anvil, report, opts);
    if (report.message) {
      if (report.action === 'none' || report.action === 'new-chain') log?.info(`embedded ledger: ${report.message}`, { ...report });
      else log?.warn(`embedded ledger recovery: ${report.message}`, { ...report });
    }
    log?.info('embedded ledger started', { rpcUrl: anvil.rpcUrl, pid: anvil.process.pid, startBlock: report.startBlock });
    anvil.process.once('exit', (code, signal) => {
      if (!node.stopped) log?.warn('embedded ledger: anvil exited unexpectedly', { code, signal });
    });
    node.startSnapshots();
    void node.snapshot();
    return node;
  }

  private startSnapshots(): void {
    const every = this.opts.snapshotMs ?? 500;
    this.timer = setInterval(() => void this.snapshot(), every);
    this.timer.unref();
  }

  /**
   * Copies state.json to the last-good copy if it changed and is a complete state. Safe to call
   * at any time (concurrent calls share one run).
   */
  snapshot(): Promise<void> {
    if (this.snapshotting) return this.snapshotting;
    this.snapshotting = this.doSnapshot().finally(() => {
      this.snapshotting = null;
    });
    return this.snapshotting;
  }

  private async doSnapshot(force = false): Promise<void> {
    try {
      // The state grows ~4 KB per block (8 MB = 80 ms to read and parse here): keep the copy's
      // cost under ~10 % of the main thread by waiting 10x the last copy's duration between copies.
      if (!force && Date.now() < this.nextSnapshotAt) return;
      const st = await stat(this.statePath);
      if (this.lastCopied && st.mtimeMs === this.lastCopied.mtimeMs && st.size === this.lastCopied.size) return;
      const began = Date.now();
      const text = await readFile(this.statePath, 'utf8');
      let info: StateInfo;
      try {
        info = validateStateText(text);
      } catch {
        return; // caught mid-write; the next tick sees the complete file
      }
      await writeFileAtomic(this.lastGoodPath, text);
      this.nextSnapshotAt = Date.now() + 9 * (Date.now() - began);
      this.lastCopied = { mtimeMs: st.mtimeMs, size: st.size };
      this.lastGoodBlock = info.bestBlock;
      this.snapshots++;
    } catch {
      // no state file yet, or a transient read error
    }
  }

  /**
   * Graceful stop: SIGTERM (anvil writes its state), then refresh the last-good copy. An attached
   * handle only forgets the node (the owning process stops it).
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.snapshotting) await this.snapshotting;
    if (!this.anvil) return;
    await this.waitForDump(Math.max(1500, (this.opts.stateInterval ?? 1) * 2500));
    await this.anvil.stop(graceMs);
    this.lastCopied = null;
    await this.doSnapshot(true);
    const nf = readNodeFile(this.opts.chainDir);
    if (nf && nf.anvilPid === this.anvil.process.pid) await rm(join(this.opts.chainDir, NODE_FILE), { force: true });
  }

  /**
   * Waits (bounded) until the state file holds the newest block. anvil also dumps on SIGTERM, but
   * under load its periodic dump can race the final one (seen here: a graceful stop kept an older
   * state), so a stop first lets a periodic dump catch up.
   */
  private waitForDump(maxMs: number): Promise<void> {
    return waitForDumpAt(this.rpcUrl, this.statePath, maxMs);
  }

  /** The node's chain id, asked again every 200 ms for up to `withinMs` (a node that has just started may refuse at first). */
  private async askChainId(withinMs: number): Promise<number> {
    const until = Date.now() + withinMs;
    for (;;) {
      try {
        return Number(BigInt(await jsonRpc<string>(this.rpcUrl, 'eth_chainId', [], Math.max(1000, until - Date.now()))));
      } catch (err) {
        if (Date.now() >= until) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /**
   * Deploys a contract once per chain and records it in `contracts.json` next to the state file
   * ({ name: { address, chainId, block, deployedAt } }). On every start call it again: if
   * the recorded address has code it returns it (`deployed: false`); if not (first start, or the
   * chain had to start fresh) it deploys with anvil's first dev account — so on a fresh chain the
   * address is the same every time (deployer nonce 0) — waits until the state file holds the
   * deployment block (a crash right after cannot lose it), and records it.
   * `deploy` gets a funded signer and returns the deployed contract's address.
   */
  async deployOnFirstStart(
    name: string,
    deploy: (signer: Signer) => Promise<string>,
  ): Promise<{ address: string; deployed: boolean; block: number | null }> {
    const file = join(this.opts.chainDir, CONTRACTS_FILE);
    let book: Record<string, DeployRecord> = {};
    try {
      book = JSON.parse(readFileSync(file, 'utf8')) as Record<string, DeployRecord>;
    } catch {
      // none yet
    }
    // The chain id asked here, not by ethers: when its own first request fails (a node slow to
    // answer on a loaded machine) ethers prints a retry notice with console.log, on stdout, where
    // the CLI's --json answer goes.
    const chainId = await this.askChainId(15_000);
    const network = Network.from(chainId);
    const provider = new JsonRpcProvider(this.rpcUrl, network, { staticNetwork: network, cacheTimeout: -1 });
    try {
      const rec = book[name];
      if (rec && rec.chainId === chainId && (await provider.getCode(rec.address)) !== '0x') {
        return { address: rec.address, deployed: false, block: rec.block };
      }
      const signer = new Wallet(ANVIL_DEV_KEY, provider);
      const address = getAddress(await deploy(signer));
      if ((await provider.getCode(address)) === '0x') throw new Error(`deploying ${name} left no code at ${address}`);
      const block = await provider.getBlockNumber();
      await this.waitForDump(Math.max(3000, (this.opts.stateInterval ?? 1) * 3000));
      book[name] = { address, chainId, block, deployedAt: new Date().toISOString() };
      await writeFileAtomic(file, JSON.stringify(book, null, 2));
      this.opts.log?.info(`embedded ledger: ${rec ? 're-deployed' : 'deployed'} ${name}`, { address, block, chainId });
      return { address, deployed: true, block };
    } finally {
      provider.destroy();
    }
  }

  /** Hard kill, as a crash would do (tests). */
  kill(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.anvil?.kill();
  }

  /** Resolves when anvil has exited (immediately when attached or already gone). */
  exited(): Promise<void> {
    const p = this.anvil?.process;
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((r) => p.once('exit', () => r()));
  }
}

/** Waits (bounded) until the state file at `statePath` holds the head block of the node at `rpcUrl`. */
async function waitForDumpAt(rpcUrl: string, statePath: string, maxMs: number): Promise<void> {
  let headBlock: number;
  try {
    headBlock = Number.parseInt(await jsonRpc<string>(rpcUrl, 'eth_blockNumber', [], 1000), 16);
  } catch {
    return; // not answering: nothing to wait for
  }
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    try {
      if (validateStateText(await readFile(statePath, 'utf8')).bestBlock >= headBlock) return;
    } catch {
      // mid-write or not written yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readNodeFile(dir: string): NodeFile | null {
  try {
    const o = JSON.parse(readFileSync(join(dir, NODE_FILE), 'utf8')) as NodeFile;
    return typeof o.anvilPid === 'number' && typeof o.ownerPid === 'number' && typeof o.rpcUrl === 'string' ? o : null;
  } catch {
    return null;
  }
}

function writeNodeFile(dir: string, nf: NodeFile): void {
  writeFileAtomicSync(join(dir, NODE_FILE), JSON.stringify(nf, null, 2));
}

/** Moves an unusable state.json aside (keeps the three newest such copies); returns the new path. */
function moveAside(dir: string): string | null {
  const statePath = join(dir, STATE_FILE);
  if (!existsSync(statePath)) return null;
  const target = join(dir, `state.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  renameSync(statePath, target);
  const old = readdirSync(dir)
    .filter((f) => f.startsWith('state.corrupt-'))
    .sort()
    .reverse();
  for (const f of old.slice(3)) rmSync(join(dir, f), { force: true });
  return target;
}

function recoveryMessage(r: RecoveryReport): string | null {
  switch (r.action) {
    case 'none':
      return r.orphanStopped ? 'A local ledger left running by a previous session was stopped and restarted.' : null;
    case 'new-chain':
      return 'A new local ledger was created.';
    case 'restored-last-good':
      return `The local ledger's state file was damaged (${r.reason}); it was restored from the last good copy (block ${r.startBlock}). Pending writes lost with newer blocks are re-sent from the outbox.`;
    case 'started-fresh':
      return `The local ledger's state file was damaged (${r.reason}) and no good copy existed, so the local ledger started empty. Records must be written again.`;
  }
}

/** Validates state.json and, if needed, restores the last-good copy. Synchronous and idempotent. */
function prepareState(dir: string, log?: Logger): RecoveryReport {
  const statePath = join(dir, STATE_FILE);
  const lastGood = join(dir, LAST_GOOD_FILE);
  const report: RecoveryReport = {
    action: 'none', reason: null, corruptCopy: null, startBlock: null, orphanStopped: false, message: null,
  };
  if (existsSync(statePath)) {
    try {
      const info = validateStateFile(statePath);
      report.startBlock = info.bestBlock;
      // Not copied to last-good yet: only once anvil has accepted it (the snapshot loop does).
      report.message = recoveryMessage(report);
      return report;
    } catch (err) {
      report.reason = `${STATE_FILE} is unusable: ${err instanceof Error ? err.message : String(err)}`;
      log?.warn('embedded ledger: state file is damaged', { reason: report.reason });
      report.corruptCopy = moveAside(dir);
    }
  } else if (!existsSync(lastGood)) {
    report.action = 'new-chain';
    report.message = recoveryMessage(report);
    return report;
  } else {
    report.reason = `${STATE_FILE} is missing`;
  }
  if (existsSync(lastGood)) {
    try {
      const info = validateStateFile(lastGood);
      writeFileAtomicSync(statePath, readFileSync(lastGood, 'utf8'));
      report.action = 'restored-last-good';
      report.startBlock = info.bestBlock;
    } catch (err) {
      log?.warn('embedded ledger: the last-good copy is unusable too', { error: String(err) });
      renameSync(lastGood, `${lastGood}.bad-${Date.now()}`);
      report.action = 'started-fresh';
    }
  } else {
    report.action = 'started-fresh';
  }
  report.message = recoveryMessage(report);
  return report;
}
