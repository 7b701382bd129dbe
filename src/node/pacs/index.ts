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
import { searchSeriesDimse, searchSeriesWeb, searchStudiesDimse, searchStudiesWeb, type PacsSeries, type StudyPage, type StudyQuery } from './search';
import { send, type SendReport, type SendVia } from './send';
import type { SecretBox } from './secret-box';
import { StorageScp, type StorageScpOptions, type StoredInstance } from './storage-scp';

export { KeyFileSecretBox, type SecretBox } from './secret-box';
export { PacsError, PacsReason } from './errors';
export type { PacsConnection, ConnectionInput } from './connections';
export type { StudyQuery, StudyPage, PacsStudy, PacsSeries } from './search';
export type { InstanceOutcome, RetrieveReport, RetrieveVia, LibraryImporter, InstanceVerifier, InstanceFingerprinter } from './retrieve';
export type { SendReport, SendVia } from './send';

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
  log?: Logger;
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
  private scp: StorageScp | null = null;
  private readonly scpListeners = new Set<(i: StoredInstance, c: CachedInstance) => void>();

  constructor(private readonly deps: PacsDeps) {
    this.connections = new ConnectionStore(deps.db, deps.secrets);
    this.cache = new InstanceCache(deps.db, deps.cacheDir);
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
    return this.withClients(idOrName, ({ conn, web, dimse }) => (this.pick(conn, opts.source) === 'dicomweb' ? searchStudiesWeb(web!, q, opts.signal) : searchStudiesDimse(dimse!, q, opts.signal)));
  }

  searchSeries(idOrName: number | string, study: string, opts: { source?: Source; signal?: AbortSignal } = {}): Promise<PacsSeries[]> {
    return this.withClients(idOrName, ({ conn, web, dimse }) => (this.pick(conn, opts.source) === 'dicomweb' ? searchSeriesWeb(web!, study, opts.signal) : searchSeriesDimse(dimse!, study, opts.signal)));
  }

  /** Retrieves a study or series (resumable); `onInstance` sees each instance as it is cached. */
  retrieve(
    idOrName: number | string,
    target: { study: string; series?: string | null; via?: RetrieveVia; refetch?: boolean },
    task: Task,
    opts: { onInstance?: (i: CachedInstance) => void; concurrency?: number } = {},
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
          moveDestination: scp?.listening ? { aeTitle: scp.aeTitle, subscribe: (l) => (this.scpListeners.add(l), () => this.scpListeners.delete(l)) } : null,
          onInstance: opts.onInstance,
          concurrency: opts.concurrency,
        },
        { study: target.study, series: target.series ?? null, via, refetch: target.refetch },
        task,
      );
    });
  }

  send(idOrName: number | string, paths: string[], task: Task, via?: SendVia): Promise<SendReport> {
    return this.withClients(idOrName, ({ conn, web, dimse }) => send({ connectionName: conn.name, web, dimse }, paths, via ?? (web ? 'stow-rs' : 'c-store'), task));
  }

  /**
   * Starts our Storage SCP (off until this is called). What arrives is cached, imported and
   * verified; `onStored` hears about each instance (the UI, a C-MOVE in progress).
   */
  async startStorageScp(opts: StorageScpOptions, onStored?: (i: StoredInstance, c: CachedInstance) => void): Promise<StorageScp> {
    if (this.scp) await this.scp.stop();
    const scp = new StorageScp(opts, {
      onInstance: async (i) => {
        const c = this.cache.put(i.file, { sopInstanceUid: i.sopInstanceUid, connectionId: null, via: 'c-store', callingAet: i.callingAet });
        const moving = this.scpListeners.size > 0;
        for (const l of this.scpListeners) l(i, c);
        onStored?.(i, c);
        // a C-MOVE retrieve imports and verifies its own arrivals in batches; lone C-STOREs here
        if (!moving) {
          void this.deps.importer.importFiles([c.path]).then(
            (r) => this.cache.setState(c.path, r.rejected.length ? 'import-failed' : 'imported', r.rejected[0]?.reason ?? null),
            (err: unknown) => this.cache.setState(c.path, 'import-failed', String(err)),
          );
        }
      },
      onRejected: (r) => this.deps.log?.warn('storage SCP: association rejected', r),
    });
    await scp.start();
    this.scp = scp;
    return scp;
  }

  async stopStorageScp(): Promise<void> {
    const s = this.scp;
    this.scp = null;
    await s?.stop();
  }

  async close(): Promise<void> {
    await this.stopStorageScp();
  }
}

export function createPacs(deps: PacsDeps): Pacs {
  return new Pacs(deps);
}

export const pacsCacheDir = (cacheRoot: string): string => join(cacheRoot, 'pacs');
