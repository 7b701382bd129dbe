import { EventEmitter } from 'node:events';
import type { AppEvent } from '../shared/api';
import { appHome, ensureAppHome, type AppHome } from './app-home';
import { EmbeddedNode } from './chain/embedded-node';
import { LedgerMonitor } from './chain/ledger-monitor';
import { fileLogger, type Logger } from './log';
import { openDatabase, schemaVersion, type Db } from './store/database';
import { TaskRegistry } from './tasks';
import { endpointFromEnv, readSavedEndpoint } from './ledger-endpoint';
import { ResourceRoutes } from './resources';

/** How the app reaches its ledger. */
export type LedgerConfig =
  | { mode: 'embedded' } // start anvil in the app-data folder
  | { mode: 'remote'; rpcUrl: string } // any EVM JSON-RPC endpoint
  | { mode: 'none' } // tests and CLI commands that need no chain
  // What the app and the CLI use: MEDIMG_RPC_URL if set, else the endpoint saved in the settings,
  // else the embedded chain.
  | { mode: 'saved' };

type ResolvedLedgerConfig = Exclude<LedgerConfig, { mode: 'saved' }>; // tests and CLI commands that need no chain

export interface ServicesOptions {
  home: string;
  ledger?: LedgerConfig;
  /** Runtime versions reported by app.info (Electron fills in its own). */
  runtime?: { electron: string | null; chrome: string | null };
  ledgerPollMs?: number;
}

/**
 * Everything the main process runs, created once and shared by the handler table, the
 * Electron glue, the CLI and the tests. `close()` stops what it started.
 */
export class Services {
  readonly home: AppHome;
  readonly db: Db;
  readonly log: Logger;
  readonly events = new EventEmitter<{ event: [AppEvent] }>();
  readonly ledger: LedgerMonitor;
  readonly runtime: { electron: string | null; chrome: string | null };
  /** Cancellable long tasks with progress events. */
  readonly tasks: TaskRegistry;
  /**
   * Native dialogs, provided by the Electron glue (null in the CLI). The e2e rig installs a
   * stand-in that returns the paths a test chose, since no test can drive an OS dialog.
   */
  dialogs: { pickPaths(mode: 'files' | 'folder'): Promise<string[]> } | null = null;
  /** URL-served binary resources (DICOM bytes, thumbnails) under the renderer's origin. */
  readonly resources = new ResourceRoutes();
  private anvil: EmbeddedNode | null = null;
  /** The embedded node (null in remote/none mode or when it failed to start). */
  get embeddedNode(): EmbeddedNode | null {
    return this.anvil;
  }
  private ledgerConfig: ResolvedLedgerConfig;
  /** Where the current ledger choice came from (settings UI shows it). */
  ledgerSource: 'environment' | 'saved' | 'default' | 'explicit' = 'explicit';

  private constructor(opts: ServicesOptions) {
    this.home = ensureAppHome(appHome(opts.home));
    this.log = fileLogger(this.home.logs);
    this.db = openDatabase(this.home.database);
    this.runtime = opts.runtime ?? { electron: null, chrome: null };
    this.ledgerConfig = this.resolveLedgerConfig(opts.ledger ?? { mode: 'none' });
    this.tasks = new TaskRegistry((e) => this.emit(e));
    const cfg = this.ledgerConfig;
    this.ledger = new LedgerMonitor(
      cfg.mode === 'remote' ? 'remote' : 'embedded',
      cfg.mode === 'remote' ? cfg.rpcUrl : null,
      opts.ledgerPollMs,
    );
    this.ledger.on('change', (status) => this.emit({ type: 'ledger-status', status }));
  }

  static async open(opts: ServicesOptions): Promise<Services> {
    const s = new Services(opts);
    await s.startLedger();
    return s;
  }

  /**
   * One shared instance per domain service (library, fingerprints, ledger client, …), created on
   * first use, so the handler table, the CLI and other domains all use the same one:
   * `s.domain('library', () => new Library(s))`. Domains with resources to close register `close`.
   */
  domain<T>(key: string, create: () => T, close?: (value: T) => void | Promise<void>): T {
    if (!this.domains.has(key)) {
      const value = create();
      this.domains.set(key, value);
      if (close) this.closers.push(() => close(value));
    }
    return this.domains.get(key) as T;
  }
  private readonly domains = new Map<string, unknown>();
  private readonly closers: (() => void | Promise<void>)[] = [];

  emit(event: AppEvent): void {
    this.events.emit('event', event);
  }

  schemaVersion(): number {
    return schemaVersion(this.db);
  }

  private async startLedger(): Promise<void> {
    const cfg = this.ledgerConfig;
    if (cfg.mode === 'none') return;
    if (cfg.mode === 'remote') {
      this.ledger.start();
      return;
    }
    try {
      // Crash-safe anvil: validates/recovers its state file, keeps a last-good copy (embedded-node.ts).
      this.anvil = await EmbeddedNode.start({ chainDir: this.home.chain, log: this.log });
      const r = this.anvil.recovery;
      this.ledger.setNote(r.action === 'new-chain' ? null : r.message);
      await this.ledger.setEndpoint(this.anvil.rpcUrl, 'embedded');
      this.ledger.start();
    } catch (err) {
      this.log.error('embedded ledger failed to start', err);
      this.ledger.fail(
        `The local ledger could not start: ${err instanceof Error ? err.message : String(err)}. Images can still be read; verification is unavailable.`,
      );
    }
  }

  private resolveLedgerConfig(cfg: LedgerConfig): ResolvedLedgerConfig {
    if (cfg.mode !== 'saved') return cfg;
    const env = endpointFromEnv();
    if (env) {
      this.ledgerSource = 'environment';
      return { mode: 'remote', rpcUrl: env };
    }
    const saved = readSavedEndpoint(this.db);
    this.ledgerSource = saved ? 'saved' : 'default';
    return saved?.mode === 'remote' ? { mode: 'remote', rpcUrl: saved.rpcUrl } : { mode: 'embedded' };
  }

  /** The ledger the app is set to use now (after resolving 'saved'). */
  get ledgerMode(): ResolvedLedgerConfig {
    return this.ledgerConfig;
  }

  /**
   * Switches to another ledger at run time (the settings screen): stops the embedded node if one
   * runs (gracefully, keeping its state), then starts or connects to the new one.
   */
  async switchLedger(cfg: ResolvedLedgerConfig): Promise<void> {
    this.ledger.stop();
    const node = this.anvil;
    this.anvil = null;
    if (node) await node.stop();
    this.ledgerConfig = cfg;
    this.ledgerSource = 'saved';
    this.ledger.setNote(null);
    if (cfg.mode === 'remote') await this.ledger.setEndpoint(cfg.rpcUrl, 'remote');
    else if (cfg.mode === 'none') await this.ledger.setEndpoint(null);
    await this.startLedger();
  }

  /** Stops the embedded node (gracefully, so it saves its state); the monitor then reports unreachable. */
  async stopEmbeddedLedger(): Promise<void> {
    const node = this.anvil;
    this.anvil = null;
    if (node) await node.stop();
    await this.ledger.check();
  }

  /** Starts the embedded node again after stopEmbeddedLedger (tests: "ledger back"). */
  async restartEmbeddedLedger(): Promise<void> {
    if (this.ledgerConfig.mode !== 'embedded' || this.anvil) return;
    await this.startLedger();
  }

  async close(): Promise<void> {
    for (const c of this.closers.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        this.log.error('closing a domain service failed', err);
      }
    }
    this.ledger.stop();
    if (this.anvil) await this.anvil.stop();
    this.anvil = null;
    if (this.db.open) this.db.close();
  }
}
