import { EventEmitter } from 'node:events';
import type { AppEvent } from '../shared/api';
import { appHome, ensureAppHome, type AppHome } from './app-home';
import { startAnvil, type AnvilNode } from './chain/anvil';
import { LedgerMonitor } from './chain/ledger-monitor';
import { fileLogger, type Logger } from './log';
import { openDatabase, schemaVersion, type Db } from './store/database';
import { join } from 'node:path';
import { TaskRegistry } from './tasks';
import { ResourceRoutes } from './resources';

/** How the app reaches its ledger. */
export type LedgerConfig =
  | { mode: 'embedded' } // start anvil in the app-data folder
  | { mode: 'remote'; rpcUrl: string } // any EVM JSON-RPC endpoint
  | { mode: 'none' }; // tests and CLI commands that need no chain

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
  /** URL-served binary resources (DICOM bytes, thumbnails) under the renderer's origin. */
  readonly resources = new ResourceRoutes();
  private anvil: AnvilNode | null = null;
  private readonly ledgerConfig: LedgerConfig;

  private constructor(opts: ServicesOptions) {
    this.home = ensureAppHome(appHome(opts.home));
    this.log = fileLogger(this.home.logs);
    this.db = openDatabase(this.home.database);
    this.runtime = opts.runtime ?? { electron: null, chrome: null };
    this.ledgerConfig = opts.ledger ?? { mode: 'none' };
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
      this.anvil = await startAnvil({ statePath: join(this.home.chain, 'state.json'), stateInterval: 1 });
      await this.ledger.setEndpoint(this.anvil.rpcUrl, 'embedded');
      this.ledger.start();
      this.log.info('embedded ledger started', { rpcUrl: this.anvil.rpcUrl });
    } catch (err) {
      this.log.error('embedded ledger failed to start', err);
      this.ledger.fail(
        `The local ledger could not start: ${err instanceof Error ? err.message : String(err)}. Images can still be read; verification is unavailable.`,
      );
    }
  }

  /** Stops the embedded node (gracefully, so it saves its state); the monitor then reports unreachable. */
  async stopEmbeddedLedger(): Promise<void> {
    const node = this.anvil;
    this.anvil = null;
    if (node) await node.stop();
    await this.ledger.check();
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
