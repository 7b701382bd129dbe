import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { jsonRpc } from '../net';
import { which } from '../which';

const require = createRequire(import.meta.url);

/**
 * Finds the anvil binary shipped in the npm package for this platform
 * (`@foundry-rs/anvil-<os>-<arch>`), or one given by MEDIMG_ANVIL / on PATH.
 * Returns null when none is installed.
 */
export function findAnvilBinary(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.MEDIMG_ANVIL && existsSync(env.MEDIMG_ANVIL)) return env.MEDIMG_ANVIL;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const os = process.platform === 'win32' ? 'win32' : process.platform;
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  // Packaged app: electron-builder puts the binary under resources/anvil/.
  const resourcesPath = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) {
    const packaged = join(resourcesPath, 'anvil', exe);
    if (existsSync(packaged)) return packaged;
  }
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${os}-${arch}/package.json`);
    for (const candidate of [join(dirname(pkg), 'bin', exe), join(dirname(pkg), exe)]) {
      if (existsSync(candidate)) return candidate;
    }
  } catch {
    // not installed for this platform
  }
  return which('anvil');
}

export function anvilVersion(binary: string): string | null {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] ?? null : null;
}

export interface AnvilOptions {
  binary?: string;
  port?: number;
  /** Persist chain state here (`--state`); omitted = in-memory chain. */
  statePath?: string;
  /** Seconds between state dumps (`--state-interval`). */
  stateInterval?: number;
  chainId?: number;
  /** Seconds per block; omitted = mine on every transaction. */
  blockTime?: number;
  accounts?: number;
  startTimeoutMs?: number;
  /**
   * Called as soon as anvil has bound its port (milliseconds after spawn), before it answers: a caller that must be able to find
   * (and stop) this anvil after its own crash records the pid here.
   */
  onSpawn?: (pid: number, rpcUrl: string) => void;
}

export interface AnvilNode {
  rpcUrl: string;
  port: number;
  process: ChildProcess;
  /** Graceful stop (SIGTERM lets anvil dump its state), then SIGKILL after a grace period. */
  stop(graceMs?: number): Promise<void>;
  /** Hard kill, as a crash would do. */
  kill(): void;
}

/** Starts anvil on 127.0.0.1 (a free port unless one is given) and waits until it answers. */
export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilNode> {
  const binary = opts.binary ?? findAnvilBinary();
  if (!binary) {
    throw new Error('anvil binary not found: install the npm package @foundry-rs/anvil (npm ci does) or set MEDIMG_ANVIL');
  }
  // No port given: anvil binds port 0 itself and prints the port the OS gave it. Picking a "free"
  // port first and passing it on raced with other anvils started at the same moment (two tests could
  // get the same port; the loser then answered health checks with the winner's chain).
  const args = ['--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--chain-id', String(opts.chainId ?? 31337)];
  args.push('--accounts', String(opts.accounts ?? 10));
  if (opts.statePath) args.push('--state', opts.statePath, '--state-interval', String(opts.stateInterval ?? 1));
  if (opts.blockTime) args.push('--block-time', String(opts.blockTime));
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A spawn failure (ENOENT, ETXTBSY while the binary is being replaced) arrives as an event.
  let spawnError: Error | null = null;
  const failed = new Promise<{ exited: string }>((resolve) =>
    child.once('error', (err) => {
      spawnError = err;
      resolve({ exited: `spawn error ${(err as NodeJS.ErrnoException).code ?? err.message}` });
    }),
  );
  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  let ready = false;
  let port = opts.port ?? 0;
  let rpcUrl = '';
  while (Date.now() < deadline) {
    const early = await Promise.race([exited.then((c) => ({ exited: c })), failed, new Promise((r) => setTimeout(r, port ? 100 : 20))]);
    if (spawnError) throw spawnError;
    if (early && typeof early === 'object' && 'exited' in early) {
      throw new Error(`anvil exited (code ${String(early.exited)}) before answering: ${output.trim().slice(-600)}`);
    }
    if (!rpcUrl) {
      // The port anvil actually bound (its "Listening on 127.0.0.1:PORT" line).
      const m = port ? null : /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) port = Number(m[1]);
      if (!port) continue;
      rpcUrl = `http://127.0.0.1:${port}`;
      if (child.pid !== undefined) opts.onSpawn?.(child.pid, rpcUrl);
    }
    try {
      await jsonRpc(rpcUrl, 'eth_chainId', [], 500);
      ready = true;
      break;
    } catch {
      // not up yet
    }
  }
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`anvil did not answer on ${rpcUrl || '127.0.0.1 (no port reported)'} in time: ${output.trim().slice(-600)}`);
  }
  return {
    rpcUrl,
    port,
    process: child,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}
