import type { Logger } from '../log';
import type { AppHome } from '../app-home';
import { EmbeddedNode } from './embedded-node';
import { LedgerMonitor } from './monitor';
import { LedgerProvider } from './provider';
import { endpointFromEnv, type LedgerSettings } from './settings';

/** How the app reaches its ledger. */
export type LedgerConfig =
  | { mode: 'embedded' } // start anvil in the app-data folder
  | { mode: 'remote'; rpcUrl: string } // any EVM JSON-RPC endpoint
  | { mode: 'none' } // tests and CLI commands that need no chain
  // What the app and the CLI use: MEDIMG_RPC_URL if set, else the endpoint saved in the settings,
  // else the embedded chain.
  | { mode: 'saved' };

export type ResolvedLedgerConfig = Exclude<LedgerConfig, { mode: 'saved' }>;

/**
 * The ledger the app is connected to, and its lifecycle: resolves the configured endpoint, starts
 * (and stops) the embedded anvil, watches the endpoint (monitor) and hands out the one ethers
 * provider for it. Switching ledgers at run time happens here.
 */
export class LedgerConnection {
  readonly monitor: LedgerMonitor;
  readonly provider: LedgerProvider;
  private node: EmbeddedNode | null = null;
  private config: ResolvedLedgerConfig;
  /** Where the current ledger choice came from (settings UI shows it). */
  source: 'environment' | 'saved' | 'default' | 'explicit' = 'explicit';

  constructor(
    private readonly deps: { home: AppHome; log: Logger; settings: LedgerSettings },
    config: LedgerConfig,
    pollMs?: number,
  ) {
    this.config = this.resolve(config);
    const cfg = this.config;
    this.monitor = new LedgerMonitor(cfg.mode === 'remote' ? 'remote' : 'embedded', cfg.mode === 'remote' ? cfg.rpcUrl : null, pollMs);
    // Any failed chain read through the connection's providers marks it unreachable at once.
    this.provider = new LedgerProvider(() => this.monitor.current(), this.reportFailure);
  }

  /** A chain read on `rpcUrl` failed (transport): the connection is unreachable now (monitor.reportFailure). */
  readonly reportFailure = (rpcUrl: string | null, detail: string): void => this.monitor.reportFailure(rpcUrl, detail);

  /** The embedded node (null in remote/none mode or when it failed to start). */
  get embeddedNode(): EmbeddedNode | null {
    return this.node;
  }

  /** The ledger the app is set to use now (after resolving 'saved'). */
  get mode(): ResolvedLedgerConfig {
    return this.config;
  }

  async start(): Promise<void> {
    const cfg = this.config;
    if (cfg.mode === 'none') return;
    if (cfg.mode === 'remote') {
      this.monitor.start();
      return;
    }
    try {
      // Crash-safe anvil: validates/recovers its state file, keeps a last-good copy (embedded-node.ts).
      const node = await EmbeddedNode.start({ chainDir: this.deps.home.chain, log: this.deps.log });
      this.node = node;
      // anvil exiting unasked (crash, kill -9) is a failed read we learn of at once: say so now,
      // not at the next poll, and forget the node so restartEmbedded() can start a new one.
      node.process?.once('exit', (code, signal) => {
        if (this.node !== node) return; // stopped on purpose
        this.node = null;
        node.kill(); // stops its snapshot timer; the process is already gone
        this.monitor.reportFailure(node.rpcUrl, `the local ledger process stopped (${signal ?? `exit code ${code}`})`);
      });
      const r = node.recovery;
      this.monitor.setNote(r.action === 'new-chain' ? null : r.message);
      await this.monitor.setEndpoint(this.node.rpcUrl, 'embedded');
      this.monitor.start();
    } catch (err) {
      this.deps.log.error('embedded ledger failed to start', err);
      this.monitor.fail(
        `The local ledger could not start: ${err instanceof Error ? err.message : String(err)}. Images can still be read; verification is unavailable.`,
      );
    }
  }

  /**
   * Switches to another ledger at run time (the settings screen): stops the embedded node if one
   * runs (gracefully, keeping its state), then starts or connects to the new one.
   */
  async switchTo(cfg: ResolvedLedgerConfig): Promise<void> {
    this.monitor.stop();
    await this.stopNode();
    this.config = cfg;
    this.source = 'saved';
    this.monitor.setNote(null);
    if (cfg.mode === 'remote') await this.monitor.setEndpoint(cfg.rpcUrl, 'remote');
    else if (cfg.mode === 'none') await this.monitor.setEndpoint(null);
    await this.start();
  }

  /** Stops the embedded node (gracefully, so it saves its state); the monitor then reports unreachable. */
  async stopEmbedded(): Promise<void> {
    await this.stopNode();
    await this.monitor.check();
  }

  /** Starts the embedded node again after stopEmbedded (tests: "ledger back"). */
  async restartEmbedded(): Promise<void> {
    if (this.config.mode !== 'embedded' || this.node) return;
    await this.start();
  }

  async close(): Promise<void> {
    this.provider.destroy();
    this.monitor.stop();
    await this.stopNode();
  }

  private async stopNode(): Promise<void> {
    const node = this.node;
    this.node = null;
    if (node) await node.stop();
  }

  private resolve(cfg: LedgerConfig): ResolvedLedgerConfig {
    if (cfg.mode !== 'saved') return cfg;
    const env = endpointFromEnv();
    if (env) {
      this.source = 'environment';
      return { mode: 'remote', rpcUrl: env };
    }
    const saved = this.deps.settings.endpoint();
    this.source = saved ? 'saved' : 'default';
    return saved?.mode === 'remote' ? { mode: 'remote', rpcUrl: saved.rpcUrl } : { mode: 'embedded' };
  }
}
