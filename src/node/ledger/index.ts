/**
 * The ledger domain service (one per app, built by the composition root): the connected MedImgShr contract,
 * the unlocked identity's signer and roles, the chain-event sync, anchoring through the outbox,
 * verification against the chain, and the demo setup. See docs/ledger.md.
 */
import type { Signer } from 'ethers';
import type { AppContext } from '../context';
import type { FingerprintEngine } from '../fingerprint/engine';
import type { IdentityService } from '../identity';
import type { Library } from '../library/library';
import type { LedgerConnection } from './connection';
import type { Outbox } from './outbox';
import type { ChainRoles, LedgerIdentity, LedgerInfo, LocalAnchor, SyncStatus } from '../../shared/api/ledger';
import { ChainAccess, type ChainConnection, type ChainOptions } from './client';
import { LedgerSettings } from './settings';
import { ChainSync, type SyncOptions } from './sync';
import { readRoles } from './roles';
import { Anchoring, ANCHOR_KIND, type AnchorOptions } from './anchor';
import { Verifier } from './verify';
import { DemoSetup } from './demo';

export { ChainAccess, type ChainConnection } from './client';
export { ChainSync } from './sync';
export { LedgerSettings, endpointFromEnv, type SavedLedgerEndpoint } from './settings';
export { LedgerConnection, type LedgerConfig, type ResolvedLedgerConfig } from './connection';
export { ANCHOR_KIND } from './anchor';
export { DEMO_PASSPHRASE } from './demo';

export interface LedgerServiceOptions extends ChainOptions {
  sync?: SyncOptions & { /** Sync on start and on each new block (default true). */ auto?: boolean };
  anchor?: AnchorOptions;
}

/** What the ledger domain works with, passed in by the composition root. */
export interface LedgerDeps {
  ctx: AppContext;
  connection: LedgerConnection;
  identity: IdentityService;
  outbox: Outbox;
  fingerprints: FingerprintEngine;
  /** The library, for the demo study's import (a thunk: the library is built only when needed). */
  library: () => Library;
  /**
   * The pixel store a new anchor of a study names when split storage holds its Pixel Data (its
   * location URI), or null; used when no `storage-uri` ledger setting says otherwise.
   */
  pixelStoreUri?: (studyInstanceUid: string) => string | null;
}

export class LedgerService {
  readonly ctx: AppContext;
  readonly connection: LedgerConnection;
  readonly identity: IdentityService;
  readonly fingerprints: FingerprintEngine;
  readonly library: () => Library;
  readonly pixelStoreUri: (studyInstanceUid: string) => string | null;
  readonly settings: LedgerSettings;
  readonly chain: ChainAccess;
  readonly sync: ChainSync;
  readonly outbox: Outbox;
  readonly anchors: Anchoring;
  readonly verifier: Verifier;
  readonly demo: DemoSetup;
  private readonly detach: (() => void)[] = [];
  private closed = false;

  constructor(deps: LedgerDeps, opts: LedgerServiceOptions = {}) {
    const s = deps.ctx;
    const monitor = deps.connection.monitor;
    this.ctx = s;
    this.connection = deps.connection;
    this.identity = deps.identity;
    this.fingerprints = deps.fingerprints;
    this.library = deps.library;
    this.pixelStoreUri = deps.pixelStoreUri ?? (() => null);
    this.settings = new LedgerSettings(s.db);
    this.chain = new ChainAccess({ connection: deps.connection, identity: deps.identity, log: s.log }, this.settings, opts);
    this.sync = new ChainSync(s.db, s.log, this.chain, opts.sync);
    this.outbox = deps.outbox;
    this.anchors = new Anchoring(this, opts.anchor);
    this.verifier = new Verifier(this);
    this.detach.push(this.verifier.watchLedger());
    this.demo = new DemoSetup(this);
    const onIdentity = () => {
      void this.me().then((me) => {
        if (!this.closed) s.emit({ type: 'ledger-identity', me });
      });
    };

    this.sync.on('synced', (p) => {
      if (p.newEvents > 0 || p.reset) {
        s.emit({ type: 'ledger-sync', status: p.status, newEvents: p.newEvents });
        // The chain lost blocks: anchors confirmed in them are re-checked and re-sent at once.
        if (p.reset) this.outbox.ledgerChanged();
        // Roles may have changed (granted, removed, suspended): tell the UI what the chain says now.
        if (this.identity.current()) onIdentity();
      }
    });
    this.outbox.on('change', (item) => {
      if (item.kind !== ANCHOR_KIND) return;
      const a = this.anchors.local(item.key);
      if (a) s.emit({ type: 'ledger-anchor', anchor: a });
      if (item.status === 'confirmed') void this.sync.sync();
    });
    if (opts.sync?.auto !== false) {
      const onLedger = () => {
        if (!this.closed && monitor.current().state === 'connected') void this.sync.sync();
      };
      monitor.on('change', onLedger);
      this.detach.push(() => monitor.off('change', onLedger));
      onLedger();
    }
    const ids = this.identity;
    ids.on('change', onIdentity);
    this.detach.push(() => ids.off('change', onIdentity));
  }

  /** The connected contract (LEDGER_UNREACHABLE AppError when it cannot be reached). */
  contract(): Promise<ChainConnection> {
    return this.chain.require();
  }

  /** The unlocked identity's signer, connected to the ledger (LOCKED AppError when none is unlocked). */
  signer(): Signer {
    return this.identity.signer();
  }

  async roles(address: string): Promise<ChainRoles> {
    return readRoles(await this.chain.require(), address);
  }

  /** The unlocked identity and its roles read from the chain now. */
  async me(): Promise<LedgerIdentity> {
    const identity = this.identity.current();
    if (!identity) return { identity: null, roles: null, fromChain: false, message: 'No identity is unlocked.' };
    const conn = await this.chain.connection().catch(() => null);
    if (!conn) {
      return { identity, roles: null, fromChain: false, message: 'The ledger cannot be reached, so the roles of this identity are unknown right now.' };
    }
    try {
      return { identity, roles: await readRoles(conn, identity.address), fromChain: true, message: null };
    } catch (err) {
      return { identity, roles: null, fromChain: false, message: `The roles could not be read from the ledger (${err instanceof Error ? err.message : String(err)}).` };
    }
  }

  async syncStatus(): Promise<SyncStatus> {
    return this.sync.status();
  }

  async info(): Promise<LedgerInfo> {
    const conn = await this.chain.connection().catch(() => null);
    return { status: this.connection.monitor.current(), contract: conn?.address ?? null, sync: this.sync.statusFor(conn), outbox: this.outbox.counts() };
  }

  anchorsOf(studyInstanceUid: string): LocalAnchor[] {
    return this.anchors.ofStudy(studyInstanceUid);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const d of this.detach.splice(0)) d();
    await this.sync.stop();
    this.chain.close();
  }
}

/**
 * What the app does at start (the Electron glue and `npm start` call it once after Services.open):
 * on the embedded chain, sets up the DEMO (idempotent) unless `demo: false`. Never throws: a
 * failure is logged and visible through ledger.demoStatus.
 */
export function startDemo(l: LedgerService, opts: { demo?: boolean; anchorDemoStudy?: boolean } = {}): void {
  if (opts.demo !== false && l.connection.embeddedNode) {
    void l.demo.ensure({ anchor: opts.anchorDemoStudy }).catch((err: unknown) => l.ctx.log.error('demo setup failed', err));
  }
}
