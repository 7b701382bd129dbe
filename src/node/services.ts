/**
 * The composition root: builds every main-process domain with its collaborators passed in, in
 * dependency order, and closes them in reverse. The handler table, the Electron glue, the CLI, the
 * e2e rig, the benches and the tests all start here (`Services.open`).
 *
 *   identity ─┐
 *   ledger connection ─┬─ outbox ─┬─ ledger service ── trust ─┬─ export
 *   fingerprints ──────┴──────────┘                           └─ share (+ library)
 *
 * Domains are built on first use (a CLI command that only reads the library starts no ledger
 * client), each exactly once.
 */
import { statSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import type { AppEvent } from '../shared/api';
import { appHome, ensureAppHome, type AppHome } from './app-home';
import type { AppContext } from './context';
import { ExportService } from './export/service';
import { FingerprintEngine, type EngineOptions } from './fingerprint/engine';
import { IdentityService, scryptNFromEnv, type IdentityOptions } from './identity';
import { LedgerConnection, LedgerService, LedgerSettings, type LedgerConfig, type LedgerServiceOptions, type ResolvedLedgerConfig } from './ledger';
import type { EmbeddedNode } from './ledger/embedded-node';
import type { LedgerMonitor } from './ledger/monitor';
import { startAppOutbox, type Outbox, type OutboxOptions } from './ledger/outbox';
import { Library } from './library/library';
import { registerLibraryResources } from './library';
import { Thumbnails } from './library/thumbnails';
import { fileLogger, type Logger } from './log';
import { ResourceRoutes } from './resources';
import { ShareService } from './share/service';
import { SplitService } from './split/service';
import { Inbox } from './share/inbox';
import { openDatabase, schemaVersion, type Db } from './store/database';
import { TaskRegistry } from './tasks';
import { TrustService } from './trust';
import { createPacs, KeyFileSecretBox, pacsCacheDir, StorageScpSettingsStore, type Pacs, type SecretBox } from './pacs';
import { Task } from './tasks';
import { AtnaService, type SenderOptions } from './atna';
import { AccessRecorder, thisWorkstation, type OpenedStudy, type Workstation } from './audit';
import { join } from 'node:path';
import { computePixelDigest, createAi, FindingsAnchoring, inspectModel, type AiService, type AiSidecar } from './ai';
import { AppError, ErrorCode } from '../shared/errors';
import { decodeFrames } from './dicom/decode';
import { KeyImages } from './keyimages';
import { Viewing } from './viewing';
import { MeasurementsSr } from './measurements-sr';

export type { LedgerConfig } from './ledger';

export interface ServicesOptions {
  home: string;
  ledger?: LedgerConfig;
  /** Runtime versions reported by app.info (Electron fills in its own). */
  runtime?: { electron: string | null; chrome: string | null };
  ledgerPollMs?: number;
  /** Per-domain options (tests and the CLI tune these; the app uses the defaults). */
  identity?: IdentityOptions;
  outbox?: OutboxOptions;
  fingerprint?: EngineOptions;
  ledgerService?: LedgerServiceOptions;
  /** Seals PACS passwords and tokens (the app: Electron safeStorage); default: a key file in the keystores folder. */
  pacsSecrets?: SecretBox;
  /** The ATNA syslog sender's queue and retry settings (tests shorten the retry). */
  atna?: SenderOptions;
  /** Start the Storage SCP when its saved settings enable it (default true; short CLI commands pass false). */
  storageScp?: boolean;
}

export class Services implements AppContext {
  readonly home: AppHome;
  readonly db: Db;
  readonly log: Logger;
  readonly events = new EventEmitter<{ event: [AppEvent] }>();
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
  /** The ledger endpoint, the embedded node's lifecycle and the one provider (src/node/ledger/connection.ts). */
  readonly connection: LedgerConnection;

  private readonly closers: (() => void | Promise<void>)[] = [];
  private built: {
    identity?: IdentityService;
    fingerprints?: FingerprintEngine;
    library?: Library;
    thumbnails?: Thumbnails;
    outbox?: Outbox;
    ledgerService?: LedgerService;
    trust?: TrustService;
    export?: ExportService;
    share?: ShareService;
    pacs?: Pacs;
    atna?: AtnaService;
    access?: AccessRecorder;
    inbox?: Inbox;
    ai?: AiService;
    aiAnchors?: FindingsAnchoring;
    split?: SplitService;
    keyImages?: KeyImages;
    measurementsSr?: MeasurementsSr;
    viewing?: Viewing;
  } = {};
  /** This machine's host name and OS user (who acts when no identity is signed in). */
  readonly workstation: Workstation = thisWorkstation();

  private constructor(private readonly opts: ServicesOptions) {
    this.home = ensureAppHome(appHome(opts.home));
    this.log = fileLogger(this.home.logs);
    this.db = openDatabase(this.home.database);
    this.runtime = opts.runtime ?? { electron: null, chrome: null };
    this.tasks = new TaskRegistry((e) => this.emit(e));
    this.connection = new LedgerConnection({ home: this.home, log: this.log, settings: new LedgerSettings(this.db) }, opts.ledger ?? { mode: 'none' }, opts.ledgerPollMs);
    this.connection.monitor.on('change', (status) => this.emit({ type: 'ledger-status', status }));
    registerLibraryResources(this.resources, this);
    // Every audit-log entry is also sent to the clinic's syslog collector when one is set (docs/audit.md).
    this.events.on('event', (e) => {
      if (e.type === 'audit-appended') this.atna.record(e.entry);
    });
  }

  static async open(opts: ServicesOptions): Promise<Services> {
    const s = new Services(opts);
    await s.connection.start();
    // The Storage SCP listens from the start when its saved settings say so (docs/pacs.md).
    if (opts.storageScp !== false && new StorageScpSettingsStore(s.db).get().enabled) await s.pacs.applyScpSettings();
    return s;
  }

  // ---- domains, each built once on first use with its collaborators ----

  get identity(): IdentityService {
    return (this.built.identity ??= this.track(
      new IdentityService(
        { db: this.db, keystoresDir: this.home.keystores, log: this.log, provider: () => this.connection.provider.current() },
        this.opts.identity ?? { scryptN: scryptNFromEnv() },
      ),
      (ids) => {
        ids.lock();
      },
    ));
  }

  get fingerprints(): FingerprintEngine {
    return (this.built.fingerprints ??= this.track(new FingerprintEngine(this.db, this.opts.fingerprint), (e) => e.close()));
  }

  /**
   * Start, while the user looks at the first screen, what the first import or anchor would otherwise
   * wait for: the fingerprint worker threads (loading their bundle took 1.9–2.8 s on a loaded 2-core
   * machine, against milliseconds for a warm pool), each compiling its code on a synthetic slice, and
   * the study tree code on this thread. The app calls it once its window is up.
   */
  warmUp(): void {
    this.fingerprints.warmUp();
  }

  get library(): Library {
    // A split instance whose source file was deleted: the tag inspector and thumbnails read its rebuilt copy.
    return (this.built.library ??= this.track(new Library(this.db, this.log, { sourceOf: (id, file) => this.split.rebuiltPathOfInstance(id, file) }), (l) => l.close()));
  }

  get thumbnails(): Thumbnails {
    return (this.built.thumbnails ??= this.track(new Thumbnails(this.library, join(this.home.cache, 'thumbnails')), (t) => t.close()));
  }

  get outbox(): Outbox {
    if (!this.built.outbox) {
      const app = startAppOutbox({ db: this.db, log: this.log, connection: this.connection, identity: this.identity }, this.opts.outbox);
      this.built.outbox = this.track(app.outbox, () => app.close());
    }
    return this.built.outbox;
  }

  /** The ledger domain: contract client, event sync, anchoring, verification, demo. */
  get ledgerService(): LedgerService {
    return (this.built.ledgerService ??= this.track(
      new LedgerService(
        { ctx: this, connection: this.connection, identity: this.identity, outbox: this.outbox, fingerprints: this.fingerprints, library: () => this.library, pixelStoreUri: (uid) => this.split.storeForAnchor(uid) },
        this.opts.ledgerService,
      ),
      (l) => l.close(),
    ));
  }

  get trust(): TrustService {
    return (this.built.trust ??= new TrustService({ ctx: this, identity: this.identity, ledger: () => this.ledgerService }));
  }

  get export(): ExportService {
    return (this.built.export ??= new ExportService({ ctx: this, trust: this.trust, aiSidecar: (uid) => this.aiSidecarOf(uid) }));
  }

  get share(): ShareService {
    return (this.built.share ??= new ShareService({ ctx: this, trust: this.trust, identity: this.identity, fingerprints: this.fingerprints, library: () => this.library, aiSidecar: (uid) => this.aiSidecarOf(uid), split: () => this.split }));
  }

  /** Split storage (src/node/split, docs/split-storage.md): settings, pixel stores, rebuild on demand for the viewer. */
  get split(): SplitService {
    return (this.built.split ??= this.track(new SplitService({ db: this.db, home: this.home.root, cacheDir: join(this.home.cache, 'split-rebuilt'), logger: this.log }), (s) => s.close()));
  }

  /** Key images per study and their Key Object Selection documents (src/node/keyimages, docs/key-images.md). */
  get keyImages(): KeyImages {
    return (this.built.keyImages ??= new KeyImages({
      db: this.db,
      dir: join(this.home.root, 'key-objects'),
      importFiles: async (paths, task) => {
        const r = await this.library.import(paths, task);
        if (r.added + r.updated > 0) this.emit({ type: 'library-changed', reason: 'import', studyIds: r.studyIds });
        return r;
      },
      audit: (input) => void this.trust.appendAudit(input),
      actor: () => this.trust.actor(),
    }));
  }

  /** Saved measurements as a DICOM TID 1500 Measurement Report, and back (src/node/measurements-sr, docs/measurements-sr.md). */
  get measurementsSr(): MeasurementsSr {
    return (this.built.measurementsSr ??= new MeasurementsSr({
      db: this.db,
      dir: join(this.home.root, 'measurement-reports'),
      importFiles: async (paths, task) => {
        const r = await this.library.import(paths, task);
        if (r.added + r.updated > 0) this.emit({ type: 'library-changed', reason: 'import', studyIds: r.studyIds });
        return r;
      },
      measurements: (q) => this.library.measurements(q),
      saveMeasurement: (m) => this.library.saveMeasurement(m),
      audit: (input) => void this.trust.appendAudit(input),
      actor: () => this.trust.actor(),
    }));
  }

  /** Hanging protocols, frames of reference, priors (src/node/viewing, docs/linked-viewing.md). */
  get viewing(): Viewing {
    return (this.built.viewing ??= new Viewing(this.db, () => this.trust.actor()));
  }

  /** IHE ATNA: the audit messages sent to the syslog collector (src/node/atna). */
  get atna(): AtnaService {
    return (this.built.atna ??= this.track(
      new AtnaService({
        db: this.db,
        log: this.log,
        sender: this.opts.atna,
        mapping: {
          workstation: this.workstation,
          patientOf: (uid) => {
            const st = this.library.studyByUid(uid);
            return st ? { id: st.patient.patientId, name: st.patient.name || null } : null;
          },
          nameOf: (actor) => this.identity.list().find((i) => i.address === actor)?.displayName ?? null,
        },
      }),
      (a) => a.close(),
    ));
  }

  /** Records viewings, logins and failed logins in the audit log; the session identity is the main process's. */
  get access(): AccessRecorder {
    return (this.built.access ??= new AccessRecorder({
      append: (input) => this.trust.appendAudit(input),
      who: () => {
        const id = this.identity.current();
        return { identity: id ? { address: id.address, displayName: id.displayName } : null };
      },
      workstation: this.workstation,
    }));
  }

  /** The study of a series, as the audit log records its viewing. */
  openedStudy(seriesId: number): OpenedStudy {
    const series = this.library.oneSeries(seriesId);
    const study = this.library.study(series.studyId);
    return {
      studyInstanceUid: study.studyInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
      patientId: study.patient.patientId,
      patientName: study.patient.name || null,
      studyDescription: study.description,
      studyDate: study.date,
    };
  }

  /** The bytes of an instance are about to be served to the renderer: a viewing nobody recorded is recorded now. */
  instanceServed(instanceId: number): void {
    try {
      this.access.imageServed(() => this.openedStudy(this.library.instance(instanceId).seriesId));
    } catch (err) {
      this.log.warn('the viewing of an image could not be checked against the audit log', { instanceId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * AI findings (issue 15, docs/ai.md): models the clinic installs, inference in a worker thread,
   * results bound to the image's pixel digest and the model's SHA-256.
   */
  get ai(): AiService {
    return (this.built.ai ??= this.track(
      createAi({ db: this.db, appDataDir: this.home.root, log: this.log, decode: decodeFrames, inspect: inspectModel, computePixelDigest }),
      (a) => a.close(),
    ));
  }

  /** A study's current AI findings as the JSON sidecar for an export or share; null when it has none (or they cannot be read). */
  private async aiSidecarOf(studyInstanceUid: string): Promise<AiSidecar | null> {
    if (this.ai.results.forStudy(studyInstanceUid).length === 0) return null;
    try {
      return await this.ai.sidecar(studyInstanceUid);
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.NotFound) return null; // every result stale
      throw err;
    }
  }

  /** Anchoring a study's AI findings beside its record, and verifying a findings sidecar (needs the ledger). */
  get aiAnchors(): FindingsAnchoring {
    return (this.built.aiAnchors ??= new FindingsAnchoring(this.ai, this.ledgerService));
  }

  /** The bytes of a split instance for /dicom/ (rebuilt on demand, cached); null when the instance is kept whole. */
  async splitBytes(instanceId: number, file: { path: string; sha256: string | null }): Promise<Uint8Array | null> {
    // One indexed lookup per request (library id → split row); an instance kept whole costs nothing more.
    const b = await this.split.servedBytesOfInstance(instanceId, file);
    return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null;
  }

  /** Received share packages (docs/pacs.md § Inbox). */
  get inbox(): Inbox {
    return (this.built.inbox ??= new Inbox({ ctx: this, share: this.share, identity: this.identity }));
  }

  /**
   * A PACS copy is kept only when the image differs: copies indexed from these files whose pixel and
   * metadata digests equal those of the library's instance (the PACS only rewrote the file meta
   * header or the encoding, as C-STORE and C-GET do) are dropped from the index. The files of both
   * are fingerprinted first when they have no fresh digests. Returns how many copies were dropped.
   */
  async settlePacsCopies(paths: string[]): Promise<number> {
    if (paths.length === 0) return 0;
    const db = this.db;
    const pairs = paths
      .map((p) => db.prepare('SELECT c.id, c.file_path AS copy, o.file_path AS orig FROM instances c JOIN instances o ON o.id = c.copy_of WHERE c.file_path = ?').get(p) as { id: number; copy: string; orig: string } | undefined)
      .filter((x): x is { id: number; copy: string; orig: string } => x !== undefined);
    if (pairs.length === 0) return 0;
    const digest = db.prepare('SELECT size, mtime_ms, pixel_sha256, meta_sha256, error_code FROM fingerprint_files WHERE path = ?');
    const fresh = (path: string) => {
      const r = digest.get(path) as { size: number | null; mtime_ms: number | null; pixel_sha256: string | null; meta_sha256: string | null; error_code: string | null } | undefined;
      try {
        const st = statSync(path);
        return r && !r.error_code && r.pixel_sha256 && r.meta_sha256 && r.size === st.size && r.mtime_ms === st.mtimeMs ? `${r.pixel_sha256}:${r.meta_sha256}` : null;
      } catch {
        return null;
      }
    };
    const stale = [...new Set(pairs.flatMap((x) => [x.copy, x.orig]))].filter((p) => fresh(p) === null);
    if (stale.length) await this.fingerprints.fingerprintPaths(stale);
    let dropped = 0;
    for (const x of pairs) {
      const a = fresh(x.copy);
      if (a !== null && a === fresh(x.orig)) dropped += db.prepare('DELETE FROM instances WHERE id = ?').run(x.id).changes;
    }
    return dropped;
  }

  /**
   * The PACS domain: connections, search, retrieve, send, the Storage SCP. Retrieved instances go into the library and
   * are fingerprinted; with a ledger configured they are verified against it as they arrive.
   */
  get pacs(): Pacs {
    if (!this.built.pacs) {
      const verify = this.connection.mode.mode !== 'none';
      // built first so they close after the PACS (close runs in reverse): the Storage SCP's last arrivals still use them
      void this.library;
      void this.fingerprints;
      if (verify) void this.ledgerService;
      this.built.pacs = this.track(
        createPacs({
          db: this.db,
          log: this.log,
          secrets: this.opts.pacsSecrets ?? new KeyFileSecretBox(join(this.home.keystores, 'pacs-secret.key')),
          cacheDir: pacsCacheDir(this.home.cache),
          importer: {
            importFiles: async (paths, o) => {
              const r = await this.library.import(paths, new Task('pacs-import', null, () => {}), o);
              // open lists refresh while a retrieve (or the Storage SCP) fills the library
              if (r.added + r.updated > 0) this.emit({ type: 'library-changed', reason: 'import', studyIds: r.studyIds });
              return r;
            },
            settleCopies: (paths) => this.settlePacsCopies(paths),
          },
          fingerprinter: {
            fingerprintFiles: async (paths, o) => {
              await this.fingerprints.fingerprintPaths(paths, o?.studyTrees ? { studyTrees: o.studyTrees } : {});
            },
            rebuildStudyTrees: (uids) => {
              for (const uid of uids) this.fingerprints.rebuildStudy(uid);
            },
          },
          verifier: verify
            ? {
                verifyFiles: async (paths, o) =>
                  (await this.ledgerService.verifier.verifyImages(paths.map((path) => ({ path, instanceId: null })), o?.onChainProofs === undefined ? {} : { onChainProofs: o.onChainProofs })).instances.map((v) => ({ path: v.path, state: v.state, message: v.message, differs: v.differs })),
              }
            : null,
          // every PACS search in the audit log (and so to the ATNA collector as a Query event)
          onQuery: (q) => void this.access.queried(q),
          // "anchor what arrives" (Storage SCP settings): the unlocked clinician anchors each arrived study
          anchorer: verify ? { anchorStudy: async (uid) => (await this.ledgerService.anchors.anchorStudy(uid)).anchor } : null,
        }),
        (p) => p.close(),
      );
      this.built.pacs.arrivalListeners.add(() => this.emit({ type: 'library-changed', reason: 'import', studyIds: [] }));
    }
    return this.built.pacs;
  }

  private track<T>(value: T, close: (value: T) => void | Promise<void>): T {
    this.closers.push(() => close(value));
    return value;
  }

  // ---- the ledger connection, as the settings screen and the tests see it ----

  /** The ledger endpoint's status (connected / unreachable, chain id, block). */
  get ledger(): LedgerMonitor {
    return this.connection.monitor;
  }
  /** The embedded node (null in remote/none mode or when it failed to start). */
  get embeddedNode(): EmbeddedNode | null {
    return this.connection.embeddedNode;
  }
  /** The ledger the app is set to use now (after resolving 'saved'). */
  get ledgerMode(): ResolvedLedgerConfig {
    return this.connection.mode;
  }
  /** Where the current ledger choice came from (settings UI shows it). */
  get ledgerSource(): LedgerConnection['source'] {
    return this.connection.source;
  }
  switchLedger(cfg: ResolvedLedgerConfig): Promise<void> {
    return this.connection.switchTo(cfg);
  }
  stopEmbeddedLedger(): Promise<void> {
    return this.connection.stopEmbedded();
  }
  restartEmbeddedLedger(): Promise<void> {
    return this.connection.restartEmbedded();
  }

  emit(event: AppEvent): void {
    this.events.emit('event', event);
  }

  schemaVersion(): number {
    return schemaVersion(this.db);
  }

  async close(): Promise<void> {
    for (const c of this.closers.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        this.log.error('closing a domain service failed', err);
      }
    }
    this.built = {};
    await this.connection.close();
    if (this.db.open) this.db.close();
  }
}
