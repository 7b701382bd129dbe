/**
 * The ledger domain service (one per Services: `ledgerService(s)`): the connected MedImgShr contract,
 * the unlocked identity's signer and roles, the chain-event sync, anchoring through the outbox,
 * verification against the chain, and the demo setup. See docs/ledger.md.
 */
import type { Signer } from 'ethers';
import { outboxService, type Outbox } from '../chain/outbox';
import { identityService } from '../identity';
import type { Services } from '../services';
import type { ChainRoles, LedgerIdentity, LedgerInfo, LocalAnchor, SyncStatus } from '../../shared/api/ledger';
import { ChainAccess, type ChainConnection, type ChainOptions } from './chain';
import { LedgerSettings } from './settings';
import { ChainSync, type SyncOptions } from './sync';
import { readRoles } from './roles';
import { Anchoring, ANCHOR_KIND, type AnchorOptions } from './anchor';
import { Verifier } from './verify';
import { DemoSetup } from './demo';

export { ChainAccess, type ChainConnection } from './chain';
export { ChainSync } from './sync';
export { LedgerSettings } from './settings';
export { ANCHOR_KIND } from './anchor';
export { DEMO_PASSPHRASE } from './demo';

export interface LedgerServiceOptions extends ChainOptions {
  sync?: SyncOptions & { /** Sync on start and on each new block (default true). */ auto?: boolean };
  anchor?: AnchorOptions;
}

export class LedgerService {
  readonly settings: LedgerSettings;
  readonly chain: ChainAccess;
  readonly sync: ChainSync;
  readonly outbox: Outbox;
  readonly anchors: Anchoring;
  readonly verifier: Verifier;
  readonly demo: DemoSetup;
  private readonly detach: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly s: Services,
    opts: LedgerServiceOptions = {},
  ) {
    this.settings = new LedgerSettings(s.db);
    this.chain = new ChainAccess(s, this.settings, opts);
    this.sync = new ChainSync(s.db, s.log, this.chain, opts.sync);
    this.outbox = outboxService(s);
    this.anchors = new Anchoring(this, opts.anchor);
    this.verifier = new Verifier(this);
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
        if (identityService(s).current()) onIdentity();
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
        if (!this.closed && s.ledger.current().state === 'connected') void this.sync.sync();
      };
      s.ledger.on('change', onLedger);
      this.detach.push(() => s.ledger.off('change', onLedger));
      onLedger();
    }
    const ids = identityService(s);
    ids.on('change', onIdentity);
    this.detach.push(() => ids.off('change', onIdentity));
  }

  /** The connected contract (LEDGER_UNREACHABLE AppError when it cannot be reached). */
  contract(): Promise<ChainConnection> {
    return this.chain.require();
  }

  /** The unlocked identity's signer, connected to the ledger (LOCKED AppError when none is unlocked). */
  signer(): Signer {
    return identityService(this.s).signer();
  }

  async roles(address: string): Promise<ChainRoles> {
    return readRoles(await this.chain.require(), address);
  }

  /** The unlocked identity and its roles read from the chain now. */
  async me(): Promise<LedgerIdentity> {
    const identity = identityService(this.s).current();
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
    return { status: this.s.ledger.current(), contract: conn?.address ?? null, sync: this.sync.statusFor(conn), outbox: this.outbox.counts() };
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
 * creates the ledger service — which registers the outbox's 'anchor' kind, so anchors queued
 * before a crash or while the ledger was down are sent — starts the event sync, and on the
 * embedded chain sets up the DEMO (idempotent) unless `demo: false`. Never throws: a failure is
 * logged and visible through ledger.demoStatus.
 */
export function startLedger(s: Services, opts: { demo?: boolean; anchorDemoStudy?: boolean } & LedgerServiceOptions = {}): LedgerService {
  const l = ledgerService(s, opts);
  if (opts.demo !== false && s.embeddedNode) {
    void l.demo.ensure({ anchor: opts.anchorDemoStudy }).catch((err: unknown) => s.log.error('demo setup failed', err));
  }
  return l;
}

/** The one ledger service of these Services (first caller's options win). */
export function ledgerService(s: Services, opts?: LedgerServiceOptions): LedgerService {
  return s.domain('ledger', () => new LedgerService(s, opts), (l) => l.close());
}
