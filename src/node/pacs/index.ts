/**
 * The PACS domain (docs/pacs.md): connections, test, search, retrieve, send, and our Storage SCP.
 * `createPacs({...})` is what the composition root calls; every collaborator comes in as a narrow
 * interface (a Db, a SecretBox, the library's import, the ledger's verification, a logger).
 */
import { join } from 'node:path';
import type { Db } from '../store/database';
import type { Logger } from '../log';
import type { Task } from '../tasks';
import { InstanceCache, type CachedInstance } from './cache';
import { ConnectionStore, type ConnectionInput, type PacsConnection } from './connections';
import { DicomWebClient } from './dicomweb';
import { DimseClient } from './dimse';
import { PacsError, PacsReason, toPacsError, type PacsApiError } from './errors';
import { retrieve, type InstanceFingerprinter, type InstanceVerifier, type LibraryImporter, type RetrieveReport, type RetrieveVia } from './retrieve';
import { warmWadoThread } from './wado-thread';
import { searchSeriesDimse, searchSeriesWeb, searchStudiesDimse, searchStudiesWeb, type PacsSeries, type StudyPage, type StudyQuery } from './search';
import { send, type SendReport, type SendResult, type SendVia } from './send';
import type { SecretBox } from './secret-box';
import { StorageScp, ThreadedStorageScp, type StorageScpOptions, type StoredInstance } from './storage-scp';
import { StorageScpSettingsStore, type StorageScpSettings } from './scp-settings';

export { KeyFileSecretBox, type SecretBox } from './secret-box';
export { PacsError, PacsReason } from './errors';
export type { PacsConnection, ConnectionInput } from './connections';
export type { StudyQuery, StudyPage, PacsStudy, PacsSeries } from './search';
export type { InstanceOutcome, RetrieveReport, RetrieveVia, LibraryImporter, InstanceVerifier, InstanceFingerprinter } from './retrieve';
export { sourceOf } from './retrieve';
export type { SendReport, SendResult, SendVia } from './send';
export { StorageScpSettingsStore, DEFAULT_SCP_SETTINGS, type StorageScpSettings } from './scp-settings';

export interface PacsDeps {
  db: Db;
  secrets: SecretBox;
  /** Folder of the content-addressed cache (e.g. <app data>/cache/pacs). */
  cacheDir: string;
  importer: LibraryImporter;
  /** Verification against the ledger; null: instances are only fingerprinted on import. */
  verifier?: InstanceVerifier | null;
  /** Fingerprints arrivals when there is no verifier (the verifier fingerprints what it checks). */
  fingerprinter?: InstanceFingerprinter | null;
  /** C-FIND study searches read at most this many matches (no paging in C-FIND); default CFIND_CAP. */
  cfindCap?: number;
  /** Told of every PACS search, answered or failed (the audit log's Query event, ATNA 110112); must not throw. */
  onQuery?: ((q: PacsQuery) => void) | null;
  /** Anchors a study that arrived at the Storage SCP (when its settings ask for it); null: no ledger. */
  anchorer?: StudyAnchorer | null;
  log?: Logger;
}

/** One PACS search as the audit log records it (who asked is the audit's to add). */
export interface PacsQuery {
  connection: string;
  via: Source;
  level: 'STUDY' | 'SERIES';
  url: string | null;
  aeTitle: string | null;
  host: string | null;
  query: Record<string, string | number>;
  studyInstanceUid: string | null;
  matches: number;
  more: boolean;
  error: string | null;
}

/** What the ledger offers the Storage SCP for "anchor what arrives". */
export interface StudyAnchorer {
  anchorStudy(studyInstanceUid: string): Promise<{ root: string; delivery: string }>;
}

/** One instance the Storage SCP received, as its status lists it (newest first). */
export interface ScpArrival {
  sopInstanceUid: string;
  studyInstanceUid: string | null;
  callingAet: string | null;
  state: string;
  verification: string | null;
  message: string | null;
  receivedAt: string;
}

/** The Storage SCP as the settings panel and `medimgshr scp status` show it. */
export interface ScpStatus {
  settings: StorageScpSettings;
  listening: boolean;
  /** The port it listens on (the settings' port, or the one the OS gave for port 0). */
  port: number | null;
  /** Why it is not listening although enabled (port in use, address not on this machine). */
  error: string | null;
  stats: { associations: number; rejected: number; stored: number; failed: number };
  /** The last rejected association (who called, why). */
  lastRejected: { callingAet: string; calledAet: string; reason: string; remote: string; at: string } | null;
  /** What "anchor what arrives" did last (per study). */
  anchored: { studyInstanceUid: string; root: string | null; delivery: string | null; error: string | null; at: string }[];
  recent: ScpArrival[];
}

export interface TestResult {
  connection: string;
  dicomweb: { ok: true; studiesSeen: number; ms: number } | { ok: false; error: PacsApiError; ms: number } | null;
  dimse: { ok: true; ms: number } | { ok: false; error: PacsApiError; ms: number } | null;
  ok: boolean;
}

export type Source = 'dicomweb' | 'dimse';

export class Pacs {
  readonly connections: ConnectionStore;
  readonly cache: InstanceCache;
  readonly scpSettings: StorageScpSettingsStore;
  private scp: StorageScp | ThreadedStorageScp | null = null;
  /** Retrieves by C-MOVE under way: each takes the arrivals that are its sub-operations (returns null for the others). */
  private readonly scpListeners = new Set<(i: StoredInstance) => Promise<void> | null>();
  /** Lone C-STORE arrivals: import → fingerprint / verify → (anchor), in batches one after the other. */
  private arrivals: Promise<void> = Promise.resolve();
  /** Arrivals not settled yet: the next settle takes all of them at once. */
  private unsettled: { c: CachedInstance; callingAet: string }[] = [];
  private scpError: string | null = null;
  private lastRejected: ScpStatus['lastRejected'] = null;
  private anchored: ScpStatus['anchored'] = [];
  /** Hears about every lone arrival once it is imported (the composition root tells the UI). */
  readonly arrivalListeners = new Set<(paths: string[], instanceIds: number[]) => void>();

  constructor(private readonly deps: PacsDeps) {
    this.connections = new ConnectionStore(deps.db, deps.secrets);
    this.cache = new InstanceCache(deps.db, deps.cacheDir);
    this.scpSettings = new StorageScpSettingsStore(deps.db);
  }

  private clients(idOrName: number | string): { conn: PacsConnection; web: DicomWebClient | null; dimse: DimseClient | null } {
    const conn = this.connections.get(idOrName);
    const web = conn.dicomweb ? new DicomWebClient({ ...conn.dicomweb, ...this.connections.credentials(conn.id), timeoutMs: conn.timeoutMs }) : null;
    const dimse = conn.dimse ? new DimseClient(conn.dimse, conn.timeoutMs) : null;
    return { conn, web, dimse };
  }

  private async withClients<T>(idOrName: number | string, fn: (c: { conn: PacsConnection; web: DicomWebClient | null; dimse: DimseClient | null }) => Promise<T>): Promise<T> {
    const c = this.clients(idOrName);
    try {
      return await fn(c);
    } finally {
      c.web?.close();
    }
  }

  add(input: ConnectionInput): PacsConnection {
    return this.connections.add(input);
  }
  update(idOrName: number | string, input: ConnectionInput): PacsConnection {
    return this.connections.update(idOrName, input);
  }
  list(): PacsConnection[] {
    return this.connections.list();
  }
  remove(idOrName: number | string): boolean {
    return this.connections.remove(idOrName);
  }

  /** QIDO-RS (limit 1) and / or C-ECHO; says precisely what failed. Never throws for a failed test. */
  test(idOrName: number | string, signal?: AbortSignal): Promise<TestResult> {
    return this.withClients(idOrName, async ({ conn, web, dimse }) => {
      const timed = async <T>(f: () => Promise<T>) => {
        const t = Date.now();
        try {
          return { ok: true as const, value: await f(), ms: Date.now() - t };
        } catch (err) {
          return { ok: false as const, error: toPacsError(err).toJSON(), ms: Date.now() - t };
        }
      };
      const [w, d] = await Promise.all([web ? timed(() => web.test(signal)) : null, dimse ? timed(() => dimse.echo(signal)) : null]);
      const dicomweb = w ? (w.ok ? { ok: true as const, studiesSeen: w.value.studiesSeen, ms: w.ms } : { ok: false as const, error: w.error, ms: w.ms }) : null;
      const dimseR = d ? (d.ok ? { ok: true as const, ms: d.ms } : { ok: false as const, error: d.error, ms: d.ms }) : null;
      return { connection: conn.name, dicomweb, dimse: dimseR, ok: (dicomweb?.ok ?? true) && (dimseR?.ok ?? true) };
    });
  }

  private pick(conn: PacsConnection, source?: Source): Source {
    if (source === 'dicomweb' && !conn.dicomweb) throw new PacsError(PacsReason.NotConfigured, `Connection "${conn.name}" has no DICOMweb URL.`);
    if (source === 'dimse' && !conn.dimse) throw new PacsError(PacsReason.NotConfigured, `Connection "${conn.name}" has no DIMSE settings.`);
    return source ?? (conn.dicomweb ? 'dicomweb' : 'dimse');
  }

  searchStudies(idOrName: number | string, q: StudyQuery, opts: { source?: Source; signal?: AbortSignal } = {}): Promise<StudyPage> {
    return this.withClients(idOrName, async ({ conn, web, dimse }) => {
      const via = this.pick(conn, opts.source);
      const keys: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') keys[k] = v as string | number;
      try {
        const page = via === 'dicomweb' ? await searchStudiesWeb(web!, q, opts.signal) : await searchStudiesDimse(dimse!, q, opts.signal, this.deps.cfindCap);
        this.audited(conn, via, 'STUDY', keys, q.studyInstanceUid ?? null, page.studies.length, page.more, null);
        return page;
      } catch (err) {
        this.audited(conn, via, 'STUDY', keys, q.studyInstanceUid ?? null, 0, false, toPacsError(err).message);
        throw err;
      }
    });
  }

  searchSeries(idOrName: number | string, study: string, opts: { source?: Source; signal?: AbortSignal } = {}): Promise<PacsSeries[]> {
    return this.withClients(idOrName, async ({ conn, web, dimse }) => {
      const via = this.pick(conn, opts.source);
      // a series list is what a WADO-RS retrieve follows: its thread starts now, not on the click (on a loaded machine its start delayed the first image)
      if (web) warmWadoThread();
      try {
        const series = via === 'dicomweb' ? await searchSeriesWeb(web!, study, opts.signal) : await searchSeriesDimse(dimse!, study, opts.signal);
        this.audited(conn, via, 'SERIES', { studyInstanceUid: study }, study, series.length, false, null);
        return series;
      } catch (err) {
        this.audited(conn, via, 'SERIES', { studyInstanceUid: study }, study, 0, false, toPacsError(err).message);
        throw err;
      }
    });
  }

  /** Tells the audit of one search; a failure to record is logged, never the search's failure. */
  private audited(conn: PacsConnection, via: Source, level: 'STUDY' | 'SERIES', query: Record<string, string | number>, study: string | null, matches: number, more: boolean, error: string | null): void {
    if (!this.deps.onQuery) return;
    try {
      this.deps.onQuery({
        connection: conn.name,
        via,
        level,
        url: via === 'dicomweb' ? (conn.dicomweb?.url ?? null) : null,
        aeTitle: via === 'dimse' ? (conn.dimse?.calledAet ?? null) : null,
        host: via === 'dimse' ? (conn.dimse?.host ?? null) : conn.dicomweb ? safeHost(conn.dicomweb.url) : null,
        query,
        studyInstanceUid: study,
        matches,
        more,
        error,
      });
    } catch (err) {
      this.deps.log?.warn('PACS search: the audit entry could not be written', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Retrieves a study or series (resumable); `onInstance` sees each instance as it is cached. */
  retrieve(
    idOrName: number | string,
    target: { study: string; series?: string | null; via?: RetrieveVia; refetch?: boolean },
    task: Task,
    opts: { onInstance?: (i: CachedInstance) => void; onImported?: (i: CachedInstance[]) => void; concurrency?: number } = {},
  ): Promise<RetrieveReport> {
    return this.withClients(idOrName, async ({ conn, web, dimse }) => {
      const via = target.via ?? (web ? 'wado-rs' : 'c-get');
      const scp = this.scp;
      return retrieve(
        {
          connectionId: conn.id,
          connectionName: conn.name,
          web,
          dimse,
          cache: this.cache,
          importer: this.deps.importer,
          verifier: this.deps.verifier ?? null,
          fingerprinter: this.deps.fingerprinter ?? null,
          moveDestination: scp?.listening
            ? {
                aeTitle: scp.aeTitle,
                subscribe: (l) => (this.scpListeners.add(l), () => this.scpListeners.delete(l)),
                ...(scp instanceof ThreadedStorageScp ? { expect: (originatorAet: string, sops: string[] | null, cacheDir?: string) => scp.expectMove(originatorAet, sops, 32, cacheDir) } : {}),
              }
            : null,
          onInstance: opts.onInstance,
          onImported: opts.onImported,
          concurrency: opts.concurrency,
        },
        { study: target.study, series: target.series ?? null, via, refetch: target.refetch },
        task,
      );
    });
  }

  send(idOrName: number | string, paths: string[], task: Task, via?: SendVia, opts: { onResult?: (r: SendResult, index: number) => void } = {}): Promise<SendReport> {
    return this.withClients(idOrName, ({ conn, web, dimse }) => send({ connectionName: conn.name, web, dimse }, paths, via ?? (web ? 'stow-rs' : 'c-store'), task, opts));
  }

  /**
   * Starts our Storage SCP (off until this is called). What arrives is cached, imported,
   * fingerprinted and verified (when there is a ledger); with `anchorArrivals`, each study an
   * association brought is anchored when the association ends. `onStored` hears about each instance the SCP stores itself (not the arrivals a C-MOVE retrieve takes).
   */
  async startStorageScp(opts: StorageScpOptions & { anchorArrivals?: boolean }, onStored?: (i: StoredInstance, c: CachedInstance) => void): Promise<StorageScp | ThreadedStorageScp> {
    if (this.scp) await this.scp.stop();
    // the associations in their own thread when the bundle is there (see scp.worker.ts)
    const bundle = ThreadedStorageScp.bundle();
    const events: ConstructorParameters<typeof StorageScp>[1] = {
      onInstance: async (i) => {
        // a sub-operation of one of our C-MOVEs: that retrieve caches, imports and verifies it (and says what the answer waits for)
        for (const l of this.scpListeners) {
          const taken = l(i);
          if (taken) return taken;
        }
        // a push from another AE (or a C-MOVE someone else asked for): on disk (fsync) before the C-STORE is answered
        // (written by the SCP's thread only when a retrieve expected it, and then taken by that retrieve)
        const c = await this.cache.put(i.written ?? i.file, { sopInstanceUid: i.sopInstanceUid, ...(i.sha256 ? { sha256: i.sha256 } : {}), connectionId: null, via: 'c-store', callingAet: i.callingAet, durable: true });
        onStored?.(i, c);
        this.unsettled.push({ c, callingAet: i.callingAet });
        this.arrivals = this.arrivals.then(() => this.settleArrivals());
      },
      onRejected: (r) => {
        this.lastRejected = { ...r, at: new Date().toISOString() };
        this.deps.log?.warn('storage SCP: association rejected', r);
      },
      onAssociationEnd: (a) => {
        if (!opts.anchorArrivals || !this.deps.anchorer || a.sopInstanceUids.length === 0) return;
        this.arrivals = this.arrivals.then(() => this.anchorArrivals(a.sopInstanceUids));
      },
    };
    const scp = bundle ? new ThreadedStorageScp(opts, events, bundle) : new StorageScp(opts, events);
    await scp.start();
    this.scp = scp;
    return scp;
  }

  /**
   * Import, then fingerprint / verify the lone arrivals not settled yet, as one batch (the images a
   * sender pushed while the previous batch was settled); never throws (each file's state says what
   * failed). One batch fingerprints its files with the study trees rebuilt once at its end: one by
   * one, every image rebuilt its study's tree and rewrote all its proofs (quadratic in the study).
   */
  private async settleArrivals(): Promise<void> {
    const batch = this.unsettled.splice(0);
    if (batch.length === 0) return;
    const instanceIds: number[] = [];
    // one import per calling AE title (the import's source names it)
    const byAet = new Map<string, CachedInstance[]>();
    for (const { c, callingAet } of batch) byAet.set(callingAet, [...(byAet.get(callingAet) ?? []), c]);
    for (const [callingAet, cs] of byAet) {
      const paths = cs.map((c) => c.path);
      try {
        const r = await this.deps.importer.importFiles(paths, { source: `scp:${callingAet}` });
        instanceIds.push(...r.instanceIds);
        const why = new Map(r.rejected.map((x) => [x.path, x]));
        for (const c of cs) {
          const x = why.get(c.path);
          this.cache.setState(c.path, x ? 'import-failed' : 'imported', x ? `${x.code}: ${x.reason}` : null);
        }
      } catch (err) {
        for (const c of cs) this.cache.setState(c.path, 'import-failed', err instanceof Error ? err.message : String(err));
      }
    }
    for (const { c } of batch) {
      const study = this.studyOfSop(c.sopInstanceUid);
      if (study) this.cache.setUids(c.sopInstanceUid, study, null);
    }
    const paths = batch.map(({ c }) => c.path);
    try {
      const fp = this.deps.fingerprinter;
      // fingerprinted first with the trees rebuilt once (the verifier then finds the digests)
      if (fp?.rebuildStudyTrees) {
        const studyTrees = new Set<string>();
        await fp.fingerprintFiles(paths, { studyTrees });
        fp.rebuildStudyTrees(studyTrees);
      } else if (fp && !this.deps.verifier) await fp.fingerprintFiles(paths);
      if (this.deps.verifier) {
        for (const v of await this.deps.verifier.verifyFiles(paths)) this.cache.setVerification(v.path, v.state, v.message);
      }
    } catch (err) {
      for (const p of paths) this.cache.setVerification(p, 'unchecked', `Not verified: ${err instanceof Error ? err.message : String(err)}`);
    }
    await this.deps.importer.settleCopies?.(paths).catch(() => 0);
    for (const l of this.arrivalListeners) l(paths, instanceIds);
  }

  private studyOfSop(sop: string): string | null {
    const r = this.deps.db
      .prepare('SELECT st.study_uid AS uid FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id WHERE i.sop_uid = ? LIMIT 1')
      .get(sop) as { uid: string } | undefined;
    return r?.uid ?? null;
  }

  /** "Anchor what arrives": each study an association brought, once all of it is imported. */
  private async anchorArrivals(sops: string[]): Promise<void> {
    const studies = [...new Set(sops.map((s) => this.studyOfSop(s)).filter((s): s is string => s !== null))];
    for (const study of studies) {
      const at = new Date().toISOString();
      try {
        const a = await this.deps.anchorer!.anchorStudy(study);
        this.anchored.unshift({ studyInstanceUid: study, root: a.root, delivery: a.delivery, error: null, at });
      } catch (err) {
        this.deps.log?.warn('storage SCP: anchoring an arrived study failed', { error: String(err) });
        this.anchored.unshift({ studyInstanceUid: study, root: null, delivery: null, error: err instanceof Error ? err.message : String(err), at });
      }
      this.anchored.splice(20);
    }
  }

  /** Resolves once every arrival so far is imported, verified and (if asked) anchored. */
  whenArrivalsSettled(): Promise<void> {
    return this.arrivals;
  }

  /** Starts or stops the Storage SCP as its saved settings say; a failure to listen is kept in the status, not thrown. */
  async applyScpSettings(): Promise<ScpStatus> {
    const s = this.scpSettings.get();
    await this.stopStorageScp();
    this.scpError = null;
    if (s.enabled) {
      try {
        await this.startStorageScp({ aeTitle: s.aeTitle, port: s.port, host: s.bindAddress, allowedCallingAets: s.allowedCallingAets, anchorArrivals: s.anchorArrivals });
      } catch (err) {
        this.scpError = err instanceof Error ? err.message : String(err);
        this.deps.log?.warn('storage SCP: cannot start', { error: this.scpError });
      }
    }
    return this.scpStatus();
  }

  scpStatus(): ScpStatus {
    const scp = this.scp;
    const rows = this.deps.db
      .prepare(
        `SELECT sop_instance_uid, study_instance_uid, calling_aet, state, verification, message, received_at FROM pacs_instances WHERE via = 'c-store' ORDER BY received_at DESC, rowid DESC LIMIT 20`,
      )
      .all() as { sop_instance_uid: string; study_instance_uid: string | null; calling_aet: string | null; state: string; verification: string | null; message: string | null; received_at: string }[];
    return {
      settings: this.scpSettings.get(),
      listening: scp?.listening ?? false,
      port: scp?.listening ? scp.port : null,
      error: this.scpError,
      stats: scp ? { ...scp.stats } : { associations: 0, rejected: 0, stored: 0, failed: 0 },
      lastRejected: this.lastRejected,
      anchored: [...this.anchored],
      recent: rows.map((r) => ({
        sopInstanceUid: r.sop_instance_uid,
        studyInstanceUid: r.study_instance_uid,
        callingAet: r.calling_aet,
        state: r.state,
        verification: r.verification,
        message: r.message,
        receivedAt: r.received_at,
      })),
    };
  }

  async stopStorageScp(): Promise<void> {
    const s = this.scp;
    this.scp = null;
    await s?.stop();
  }

  async close(): Promise<void> {
    await this.stopStorageScp();
    await this.arrivals;
  }
}

export function createPacs(deps: PacsDeps): Pacs {
  return new Pacs(deps);
}

export const pacsCacheDir = (cacheRoot: string): string => join(cacheRoot, 'pacs');

function safeHost(url: string): string | null {
  try {
    return new URL(url).hostname || null;
  } catch {
    return null;
  }
}
