/**
 * DIMSE through `dcmjs-dimse`: C-ECHO, C-FIND, C-GET, C-MOVE and C-STORE as SCU, one association
 * per call. Failures become PacsErrors: refused / timed out / DNS, association rejected (with its
 * reason), aborted, or a failure status. The library's own logging (every PDU) is silenced.
 */
import dimse from 'dcmjs-dimse';
import { associationRejected, networkError, notAnswered, PacsError, PacsReason } from './errors';
import type { DimseSettings } from './connections';
import { readFileSync } from 'node:fs';
import { dataSetOf, part10File } from './part10';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/anonymise';
import { keepRawStores, rawBytesOf, type StoreStreamHooks } from './raw-store';
import { fastCommandSets, framePdus } from './dimse-wire';
import { findBundledWorker, KeptThread } from '../worker-pool';
import type { FromDimseThread, ToDimseThread } from './dimse.worker';
import type { WrittenFile } from './cache';

const { Client, Implementation } = dimse;
const { CEchoRequest, CFindRequest, CGetRequest, CMoveRequest, CStoreRequest } = dimse.requests;
const { CStoreResponse } = dimse.responses;
const { Status } = dimse.constants;

let quiet = false;
/** dcmjs-dimse logs every PDU at info level by default. */
export function silenceDimseLog(): void {
  if (quiet) return;
  quiet = true;
  dimse.log.setLevel('silent');
  fastCommandSets();
  Implementation.setImplementationClassUid(IMPLEMENTATION_CLASS_UID);
  Implementation.setImplementationVersion(IMPLEMENTATION_VERSION_NAME);
}

type DimseRequest = InstanceType<typeof dimse.requests.Request>;
type DimseResponse = InstanceType<typeof dimse.responses.Response>;
type DimseDataset = InstanceType<typeof dimse.Dataset>;
type StoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;

export interface SubOperations {
  completed: number;
  failed: number;
  warnings: number;
  remaining: number | null;
}

/** What a C-GET / C-MOVE asks for: a study, a series or one image. */
export interface RetrieveTarget {
  study: string;
  series?: string;
  sop?: string;
}
/** One request of a spread retrieve: `sop` may be a list of UIDs (image level, list of UID matching). */
export type SplitTarget = { study: string; series?: string; sop?: string | string[] };

/**
 * How many associations a series-level C-GET / C-MOVE is spread over (`spread`):
 * MEDIMG_DIMSE_ASSOCIATIONS, default 3 (Orthanc serves 4 associations at once by default; the
 * retrieve's own C-FIND listing may take a fourth).
 */
export function dimseAssociations(): number {
  const v = Number(process.env.MEDIMG_DIMSE_ASSOCIATIONS);
  return Number.isInteger(v) && v >= 1 && v <= 16 ? v : 3;
}

/** A received C-STORE on a C-GET association, as a Part-10 file. */
export interface ReceivedInstance {
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  file: Uint8Array;
  /** The file's SHA-256 (hex), when the thread that received it computed it already. */
  sha256?: string;
  /** The C-GET thread wrote the file into the cache already: `file` is then empty. */
  written?: WrittenFile;
}

const isFailure = (s: number) => s !== Status.Success && s !== Status.Pending && s !== 0xff01 && (s & 0xf000) !== 0xb000;

export function statusText(s: number): string {
  const h = `0x${s.toString(16).padStart(4, '0').toUpperCase()}`;
  if (s === Status.Success) return 'success';
  if (s === Status.Cancel) return 'cancelled';
  if ((s & 0xf000) === 0xb000) return `warning ${h}`;
  if (s === 0xa801) return `move destination unknown (${h})`;
  if ((s & 0xff00) === 0xa700) return `out of resources (${h})`;
  if ((s & 0xff00) === 0xa900) return `data set does not match SOP class (${h})`;
  if ((s & 0xf000) === 0xc000) return `cannot understand / processing failure (${h})`;
  if (s === 0x0122) return `SOP class not supported (${h})`;
  if (s === 0x0124) return `not authorised (${h})`;
  if (s === 0x0110) return `processing failure (${h})`;
  if (s === 0x0117) return `invalid SOP instance (${h})`;
  if (s === 0x0111) return `duplicate SOP instance (${h})`;
  return `failure ${h}`;
}

export class DimseClient {
  constructor(
    private readonly s: DimseSettings,
    private readonly timeoutMs = 30_000,
    /** How long an accepted association may wait for the first answer to its operation (a response or, for C-GET, an image). */
    private readonly answerTimeoutMs = Math.min(timeoutMs, 15_000),
  ) {
    silenceDimseLog();
  }

  /**
   * The series listing a spread C-GET / C-MOVE made (spreadSeries), for the caller's own identical
   * C-FIND (the retrieve's listing, search.ts listInstancesDimse): taken once, so the PACS answers
   * one C-FIND per retrieve, not two. `rows` is null when that listing failed (then find asks).
   */
  private shared: { key: string; at: number; rows: Promise<Record<string, unknown>[] | null> } | null = null;

  /** The IMAGE-level keys of a series listing, as listInstancesDimse asks them (same order: the shared listing is matched by them). */
  static seriesListingKeys(study: string, series: string): Record<string, unknown> {
    return { StudyInstanceUID: study, SeriesInstanceUID: series, SOPInstanceUID: '', InstanceNumber: '' };
  }

  /** Our AE title on this connection (the one the PACS must know). */
  get callingAet(): string {
    return this.s.callingAet;
  }

  private get where() {
    return { host: this.s.host, port: this.s.port, what: `the DICOM service "${this.s.calledAet}"`, calledAet: this.s.calledAet, callingAet: this.s.callingAet };
  }

  /**
   * Sends `requests` on one association; resolves when it was released normally. Each request's
   * final response status is checked by the caller (via its 'response' events).
   */
  private run(
    requests: DimseRequest[],
    opts: {
      operation: string;
      /** bound the wait for the first answer (not for C-MOVE / C-STORE, whose first answer may follow a long transfer) */ bounded?: boolean;
      signal?: AbortSignal;
      onStore?: (req: StoreRequest, done: (status: number) => void) => void;
      /** gets a function that sends C-CANCEL for the requests still under way (the association then ends normally) */ stop?: (cancel: () => void) => void;
    },
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      for (const r of requests) client.addRequest(r);
      if (opts.stop) {
        const open = new Set(requests);
        for (const r of requests) r.on('done', () => open.delete(r));
        opts.stop(() => {
          try {
            for (const r of open) client.cancel(r as never);
          } catch {
            // not connected any more
          }
        });
      }
      let failure: PacsError | null = null;
      let accepted = false;
      let released = false;
      let settled = false;
      let answered = false;
      let answerTimer: NodeJS.Timeout | null = null;
      const heard = () => {
        answered = true;
        if (answerTimer) clearTimeout(answerTimer);
        answerTimer = null;
      };
      for (const r of requests) r.on('response', heard);
      // dcmjs-dimse ignores an A-ABORT from the peer and waits for the socket, which the peer may keep
      // open (Orthanc does, for an AE title it does not know): close it ourselves
      const hangUp = () => {
        try {
          (client as unknown as { network?: { socket?: { destroy(): void } } }).network?.socket?.destroy();
        } catch {
          // already closed
        }
        setTimeout(finish, 1000).unref();
      };
      const finish = () => {
        if (settled) return;
        settled = true;
        if (answerTimer) clearTimeout(answerTimer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (failure) reject(failure);
        else if (released) resolve();
        else if (accepted) reject(new PacsError(PacsReason.AssociationAborted, `The association with ${this.s.calledAet} at ${this.s.host}:${this.s.port} ended before the operation completed.`, 'Try again; what arrived is kept.'));
        else reject(networkError(new Error('closed'), this.where));
      };
      const onAbort = () => {
        failure = new PacsError(PacsReason.Cancelled, 'The DICOM operation was cancelled.');
        try {
          for (const r of requests) if (!(r instanceof CStoreRequest) && !(r instanceof CEchoRequest)) client.cancel(r as never);
          client.abort();
        } catch {
          // not connected yet or already closed
        }
        setTimeout(finish, 2000).unref();
      };
      if (opts.signal?.aborted) {
        reject(new PacsError(PacsReason.Cancelled, 'The DICOM operation was cancelled.'));
        return;
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      client.on('associationAccepted', () => {
        accepted = true;
        // a peer that accepts and then never answers: a bounded wait, not the association's long limit
        if (opts.bounded === false) return;
        answerTimer = setTimeout(() => {
          if (answered || settled) return;
          failure ??= notAnswered(opts.operation, this.s.callingAet);
          try {
            client.abort();
          } catch {
            // not connected any more
          }
          hangUp();
        }, this.answerTimeoutMs);
        answerTimer.unref();
      });
      client.on('associationRejected', (e: { result?: number; source?: number; reason?: number }) => (failure ??= associationRejected(e, this.where)));
      client.on('associationReleased', () => (released = true));
      client.on('networkError', (e: unknown) => {
        failure ??= networkError(e, this.where);
        // the library half-closes the socket; a peer that never closes its side would keep us waiting
        setTimeout(finish, 1000).unref();
      });
      client.on('closed', finish);
      if (opts.onStore) {
        const onStore = opts.onStore;
        client.on('cStoreRequest', (req: StoreRequest, callback: (r: DimseResponse) => void) => {
          heard();
          onStore(req, (status) => {
            const res = CStoreResponse.fromRequest(req);
            res.setStatus(status);
            callback(res);
          });
        });
      }
      client.send(this.s.host, this.s.port, this.s.callingAet, this.s.calledAet, {
        connectTimeout: this.timeoutMs,
        associationTimeout: this.timeoutMs,
        pduTimeout: this.timeoutMs,
        associationLingerTimeout: 0,
      });
      // send() made the association's network synchronously: its C-STOREs (C-GET sub-operations) keep the bytes as sent
      const network = (client as unknown as { network?: StoreStreamHooks }).network;
      // no Nagle: a request is written as two PDUs (command, then identifier), and the second would
      // wait for the peer's (delayed) acknowledgement of the first (DCMTK disables it too)
      (network as unknown as { socket?: { setNoDelay(v: boolean): void } } | undefined)?.socket?.setNoDelay(true);
      if (network) {
        freshCommandStreams(network);
        framePdus(network);
      }
      if (opts.onStore) {
        if (!network) throw new Error('dcmjs-dimse: no network after send()');
        keepRawStores(network);
      }
      (client as unknown as { network?: { on(e: 'abort', l: (a: { source?: number; reason?: number }) => void): void } }).network?.on('abort', (a) => {
        failure ??= answered
          ? new PacsError(PacsReason.AssociationAborted, `${this.s.calledAet} at ${this.s.host}:${this.s.port} aborted the association during the ${opts.operation} (source ${a.source ?? '?'}, reason ${a.reason ?? '?'}).`, 'Try again; what arrived is kept. If it stays, show this message to the PACS administrator.')
          : notAnswered(opts.operation, this.s.callingAet);
        hangUp();
      });
    });
  }

  /** C-ECHO (verification). */
  async echo(signal?: AbortSignal): Promise<void> {
    const req = new CEchoRequest();
    let status: number | null = null;
    req.on('response', (r: DimseResponse) => (status = r.getStatus()));
    await this.run([req], { operation: 'C-ECHO', signal });
    if (status !== Status.Success) throw new PacsError(PacsReason.DimseFailure, `The C-ECHO to ${this.s.calledAet} ended with status ${status === null ? 'none' : statusText(status)}.`, 'Show this message to the PACS administrator.');
  }

  /**
   * C-FIND (Study Root) at STUDY, SERIES or IMAGE level; `keys` are dcmjs keyword → value (empty
   * string = return this attribute). Stops (C-CANCEL) after `max` matches.
   */
  async find(level: 'STUDY' | 'SERIES' | 'IMAGE', keys: Record<string, unknown>, opts: { max?: number; signal?: AbortSignal } = {}): Promise<Record<string, unknown>[]> {
    const shared = this.shared;
    if (level === 'IMAGE' && shared && shared.key === JSON.stringify(keys) && Date.now() - shared.at < 60_000) {
      this.shared = null;
      const rows = await shared.rows;
      if (rows) return opts.max !== undefined ? rows.slice(0, opts.max) : rows;
    }
    const req =
      level === 'STUDY'
        ? CFindRequest.createStudyFindRequest(keys)
        : level === 'SERIES'
          ? CFindRequest.createSeriesFindRequest(keys as never)
          : CFindRequest.createImageFindRequest(keys);
    const out: Record<string, unknown>[] = [];
    let final: number | null = null;
    req.on('response', (r: DimseResponse) => {
      const st = r.getStatus();
      if (st === Status.Pending || st === 0xff01) {
        const ds = r.getDataset() as DimseDataset | undefined;
        if (ds) out.push(ds.getElements());
      } else final = st;
    });
    await this.run([req], { operation: 'C-FIND', signal: opts.signal });
    if (final !== null && isFailure(final) && final !== Status.Cancel) {
      throw new PacsError(PacsReason.DimseFailure, `The C-FIND on ${this.s.calledAet} ended with ${statusText(final)}.`, final === 0x0124 || final === 0xa700 ? 'Ask the PACS administrator to allow queries from this AE title.' : 'Show this message to the PACS administrator.');
    }
    return opts.max !== undefined ? out.slice(0, opts.max) : out;
  }

  /**
   * C-GET: the PACS sends the instances back on the same association; each arrives in `onInstance`
   * as a Part-10 file around the data set bytes exactly as received (raw-store.ts). One request per
   * target (study, series or image level), all on one association.
   */
  async get(
    targets: RetrieveTarget[],
    onInstance: (i: ReceivedInstance) => Promise<void>,
    opts: { signal?: AbortSignal; onProgress?: (p: SubOperations) => void; /** associations for a series (spread); default dimseAssociations() */ associations?: number; /** the spread's series listing (its C-FIND rows; null: it failed) */ onListed?: (rows: Record<string, unknown>[] | null) => void } = {},
  ): Promise<SubOperations> {
    const got = new Arrivals();
    const take = (i: ReceivedInstance) => {
      got.add(i.sopInstanceUid);
      return onInstance(i);
    };
    return this.spread(targets, opts, (ts, onProgress, stop) => this.getOne(ts, take, { ...opts, onProgress, ...(stop ? { stop } : {}) }), got);
  }

  /** C-GET on one association (each target one request, one after the other). */
  private async getOne(
    targets: SplitTarget[],
    onInstance: (i: ReceivedInstance) => Promise<void>,
    opts: { signal?: AbortSignal; onProgress?: (p: SubOperations) => void; stop?: (cancel: () => void) => void },
  ): Promise<SubOperations> {
    const reqs = targets.map((t) =>
      t.sop ? CGetRequest.createImageGetRequest(t.study, t.series!, t.sop as string) : t.series ? CGetRequest.createSeriesGetRequest(t.study, t.series) : CGetRequest.createStudyGetRequest(t.study),
    );
    const { total, finals } = tallySubOperations(reqs, opts.onProgress);
    await this.run(reqs, {
      operation: 'C-GET',
      signal: opts.signal,
      ...(opts.stop ? { stop: opts.stop } : {}),
      onStore: (req, done) => {
        const ds = req.getDataset() as DimseDataset | undefined;
        // the data set bytes as the PACS sent them (never a re-encoding: that would change the metadata digest)
        const bytes = rawBytesOf(ds);
        if (!ds || !bytes?.length) return done(0xa900);
        const ts = ds.getTransferSyntaxUid();
        const sopInstanceUid = req.getAffectedSopInstanceUid();
        const sopClassUid = req.getAffectedSopClassUid();
        onInstance({ sopInstanceUid, sopClassUid, transferSyntaxUid: ts, file: part10File(bytes, { sopClassUid, sopInstanceUid, transferSyntaxUid: ts, sourceAet: this.s.calledAet }) }).then(
          () => done(Status.Success),
          () => done(0xa700),
        );
      },
    });
    const bad = finals.find((s) => isFailure(s) && s !== Status.Cancel && s !== 0xa702 && s !== 0xb000);
    if (bad !== undefined && total.completed === 0) throw new PacsError(PacsReason.DimseFailure, `The C-GET from ${this.s.calledAet} ended with ${statusText(bad)}.`, 'Ask the PACS administrator to allow C-GET from this AE title, or use C-MOVE.');
    return { ...total, remaining: 0 };
  }

  /**
   * C-GET with the association in a worker thread (dimse.worker.ts): the PDU parsing and the C-STORE
   * responses no longer wait for this thread's indexing and verification. `onInstance` gets each
   * image on this thread; only the first image's response waits for it (the rest are answered at
   * once, at most `window` ahead of `onInstance`'s settling). Without the worker bundle (sources not
   * built) it is `get` on this thread.
   */
  async getThreaded(
    targets: RetrieveTarget[],
    onInstance: (i: ReceivedInstance) => Promise<void>,
    opts: { signal?: AbortSignal; onProgress?: (p: SubOperations) => void; window?: number; /** the thread writes each image into this cache folder (writeCacheFileSync) */ cacheDir?: string; /** associations for a series (spread); default dimseAssociations() */ associations?: number } = {},
  ): Promise<SubOperations> {
    const w = kept.get();
    if (!w) return this.get(targets, onInstance, opts);
    if (opts.signal?.aborted) throw new PacsError(PacsReason.Cancelled, 'The DICOM operation was cancelled.');
    const job = kept.nextJob();
    const post = (m: ToDimseThread) => w.postMessage(m);
    return new Promise<SubOperations>((resolve, reject) => {
      const onAbort = () => post({ type: 'cancel', job });
      const end = () => {
        threadJobs.delete(job);
        opts.signal?.removeEventListener('abort', onAbort);
        if (threadJobs.size === 0) w.unref();
      };
      // the thread lists the series for its spread: the same rows serve this client's own listing (find)
      let listed: ((rows: Record<string, unknown>[] | null) => void) | null = null;
      const t = targets.length === 1 ? targets[0]! : null;
      if ((opts.associations ?? dimseAssociations()) >= 2 && t?.series && !t.sop) {
        const keys = DimseClient.seriesListingKeys(t.study, t.series);
        this.shared = { key: JSON.stringify(keys), at: Date.now(), rows: new Promise((r) => (listed = r)) };
      }
      const settleListed = (rows: Record<string, unknown>[] | null) => {
        listed?.(rows);
        listed = null;
      };
      threadJobs.set(job, (m) => {
        if (m.type !== 'instance' && m.type !== 'progress' && m.type !== 'listed') settleListed(null);
        if (m.type === 'listed') settleListed(m.rows);
        else if (m.type === 'instance') {
          const i = m.instance;
          const file = new Uint8Array(i.file.buffer, i.file.byteOffset, i.file.byteLength);
          onInstance({ ...i, file }).then(
            () => post({ type: 'ack', job, seq: m.seq, ok: true }),
            () => post({ type: 'ack', job, seq: m.seq, ok: false }),
          );
        } else if (m.type === 'progress') opts.onProgress?.(m.p);
        else if (m.type === 'done') {
          end();
          resolve(m.result);
        } else if (m.type === 'error') {
          end();
          reject(new PacsError(m.error.reason as PacsReason, m.error.message, m.error.hint, m.error.detail));
        } else if (m.type === 'exit') {
          end();
          reject(new PacsError(PacsReason.AssociationAborted, `The C-GET from ${this.s.calledAet} stopped: its thread ended (${m.why}).`, 'Try again; what arrived is kept.'));
        }
      });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      w.ref();
      post({ type: 'get', job, settings: this.s, timeoutMs: this.timeoutMs, answerTimeoutMs: this.answerTimeoutMs, targets, window: opts.window ?? 32, associations: opts.associations ?? dimseAssociations(), progress: !!opts.onProgress, ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}) });
    });
  }

  /** C-MOVE to `destinationAet` (our Storage SCP); the PACS opens its own association to it. */
  async move(destinationAet: string, targets: RetrieveTarget[], opts: { signal?: AbortSignal; onProgress?: (p: SubOperations) => void; /** associations for a series (spread); default dimseAssociations() */ associations?: number } = {}): Promise<SubOperations> {
    return this.spread(targets, opts, (ts, onProgress) => this.moveOne(destinationAet, ts, { ...opts, onProgress }));
  }

  /** C-MOVE on one association. */
  private async moveOne(destinationAet: string, targets: SplitTarget[], opts: { signal?: AbortSignal; onProgress?: (p: SubOperations) => void }): Promise<SubOperations> {
    const reqs = targets.map((t) =>
      t.sop
        ? CMoveRequest.createImageMoveRequest(destinationAet, t.study, t.series!, t.sop as string)
        : t.series
          ? CMoveRequest.createSeriesMoveRequest(destinationAet, t.study, t.series)
          : CMoveRequest.createStudyMoveRequest(destinationAet, t.study),
    );
    const { total, finals } = tallySubOperations(reqs, opts.onProgress);
    await this.run(reqs, { operation: 'C-MOVE', bounded: false, signal: opts.signal });
    const bad = finals.find((s) => isFailure(s) && s !== Status.Cancel && s !== 0xa702 && s !== 0xb000);
    if (bad === 0xa801) {
      throw new PacsError(PacsReason.DimseFailure, `The PACS does not know where to send to: move destination "${destinationAet}" is unknown to it.`, `Ask the PACS administrator to add AE title "${destinationAet}" with this workstation's address and Storage SCP port, or use C-GET / WADO-RS.`);
    }
    if (bad !== undefined && total.completed === 0) throw new PacsError(PacsReason.DimseFailure, `The C-MOVE on ${this.s.calledAet} ended with ${statusText(bad)}.`, 'Check that the Storage SCP is running and reachable from the PACS.');
    return { ...total, remaining: 0 };
  }

  /** spreadSeries with this connection's listing (C-FIND at IMAGE level). */
  private spread(
    targets: RetrieveTarget[],
    opts: { signal?: AbortSignal; onProgress?: (p: SubOperations) => void; associations?: number; onListed?: (rows: Record<string, unknown>[] | null) => void },
    one: SpreadOne,
    got?: Arrivals,
  ): Promise<SubOperations> {
    return spreadSeries(targets, { ...opts, associations: opts.associations ?? dimseAssociations(), list: (study, series) => this.listSops(study, series, opts.signal, opts.onListed) }, one, got);
  }

  /** The SOP Instance UIDs of a series (C-FIND at IMAGE level), in the PACS's order. */
  private async listSops(study: string, series: string, signal?: AbortSignal, onRows?: (rows: Record<string, unknown>[] | null) => void): Promise<string[]> {
    const keys = DimseClient.seriesListingKeys(study, series);
    const asked = this.find('IMAGE', keys, signal ? { signal } : {});
    const rowsOrNull = asked.then(
      (r) => r,
      () => null,
    );
    this.shared = { key: JSON.stringify(keys), at: Date.now(), rows: rowsOrNull };
    void rowsOrNull.then((r) => onRows?.(r));
    const rows = await asked;
    const seen = new Set<string>();
    for (const r of rows) {
      let v = r['SOPInstanceUID'];
      if (Array.isArray(v)) v = v[0];
      if (typeof v === 'string' && v) seen.add(v);
    }
    return [...seen];
  }

  /** C-STORE of Part-10 files (one association); a result per file. */
  async store(files: string[], opts: { signal?: AbortSignal; onResult?: (r: { path: string; ok: boolean; status: string }) => void } = {}): Promise<{ path: string; ok: boolean; status: string }[]> {
    const results: { path: string; ok: boolean; status: string }[] = files.map((path) => ({ path, ok: false, status: 'not sent' }));
    const reqs = files.map((path, i) => {
      const r = new CStoreRequest(path);
      sendOriginalBytes(r, path);
      r.on('response', (res: DimseResponse) => {
        const st = res.getStatus();
        results[i] = { path, ok: !isFailure(st), status: statusText(st) };
        opts.onResult?.(results[i]!);
      });
      return r;
    });
    await this.run(reqs, { operation: 'C-STORE', bounded: false, signal: opts.signal });
    return results;
  }
}

/** One association of a spread retrieve: its requests, its progress, and (C-GET) a way to stop it with C-CANCEL. */
export type SpreadOne = (targets: SplitTarget[], onProgress?: (p: SubOperations) => void, stop?: (cancel: () => void) => void) => Promise<SubOperations>;

/** The SOP Instance UIDs that arrived on a C-GET's associations, with a listener per arrival. */
export class Arrivals {
  private readonly seen = new Set<string>();
  private readonly listeners = new Set<(uid: string) => void>();
  add(uid: string): void {
    if (this.seen.has(uid)) return;
    this.seen.add(uid);
    for (const l of this.listeners) l(uid);
  }
  has(uid: string): boolean {
    return this.seen.has(uid);
  }
  get size(): number {
    return this.seen.size;
  }
  listen(l: (uid: string) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/**
 * A series-level C-GET / C-MOVE spread over `associations` associations. A PACS sends one image
 * per association at a time and the next only after our C-STORE response, so on one association
 * the PACS waits while we take an image in and we wait while it reads and sends the next one (a
 * WADO-RS series request streams without such turns). Here the series is listed (C-FIND at IMAGE
 * level, SOP Instance UIDs only) and the list shared out to the associations, each asking for its
 * share by UID list (image level, at most 256 UIDs a request), so the PACS prepares one image while
 * we take in another.
 *
 * C-GET (`got` given): the series-level request starts at once, beside the listing, so the first
 * image does not wait for the listing. Once the listing is in, that association keeps the block of
 * what has not arrived next to where its arrivals lie in the listing (a PACS sends in its index
 * order: Orthanc 1.10 the listing's reverse), the other associations are dealt the rest
 * round-robin, and once its block has arrived it is stopped with C-CANCEL. Whatever order the PACS
 * really sends in, every listed image is asked for by someone and a repeat is ignored by the
 * caller; at worst the first association brings the whole series, as before.
 * C-MOVE (no arrivals seen here): the listing first, then the shares.
 *
 * What an association that failed (a PACS allowing fewer associations per AE title) did not bring
 * is asked for again on one association once the others are done; when all fail, the first
 * failure is thrown. Anything else (a study, single images, several targets, a listing that fails
 * or names fewer than two images per association) is one association, as before.
 */
export async function spreadSeries(
  targets: RetrieveTarget[],
  opts: { signal?: AbortSignal; onProgress?: (p: SubOperations) => void; associations: number; /** the series' SOP Instance UIDs */ list: (study: string, series: string) => Promise<string[]> },
  one: SpreadOne,
  /** C-GET: what arrived (on any of its associations) */
  got?: Arrivals,
): Promise<SubOperations> {
  const k = Math.max(1, Math.floor(opts.associations));
  const t = targets.length === 1 ? targets[0]! : null;
  if (k < 2 || !t || !t.series || t.sop) return one(targets, opts.onProgress);
  const series = t.series;
  const asTargets = (uids: string[]): SplitTarget[] => {
    const out: SplitTarget[] = [];
    for (let i = 0; i < uids.length; i += 256) out.push({ study: t.study, series, sop: uids.slice(i, i + 256) });
    return out;
  };
  const progress: SubOperations[] = [];
  const progressOf = (slot: number) => (p: SubOperations) => {
    progress[slot] = p;
    if (!opts.onProgress) return;
    const sum: SubOperations = { completed: 0, failed: 0, warnings: 0, remaining: 0 };
    for (const q of progress) {
      if (!q) continue;
      sum.completed += q.completed;
      sum.failed += q.failed;
      sum.warnings += q.warnings;
      sum.remaining = sum.remaining === null || q.remaining === null ? null : sum.remaining + q.remaining;
    }
    opts.onProgress(sum);
  };
  const total: SubOperations = { completed: 0, failed: 0, warnings: 0, remaining: 0 };
  const add = (r: SubOperations) => {
    total.completed += r.completed;
    total.failed += r.failed;
    total.warnings += r.warnings;
  };

  // C-GET: the whole series on the first association at once, the listing beside it
  let first: Promise<SubOperations> | null = null;
  let firstSettled: PromiseSettledResult<SubOperations> | null = null;
  const firstCtl: { cancel?: () => void } = {};
  if (got) {
    first = one([t], progressOf(0), (c) => (firstCtl.cancel = c));
    first.then(
      (value) => (firstSettled = { status: 'fulfilled', value }),
      (reason: unknown) => (firstSettled = { status: 'rejected', reason }),
    );
  }
  const listing = opts.list(t.study, series);
  listing.catch(() => undefined);
  let sops: string[] | null;
  try {
    sops = await (first ? Promise.race([listing, first.then(() => null, () => null)]) : listing);
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    sops = null; // the listing failed: the series-level request, as before
  }
  if (first) {
    // done before the listing, no listing, or little left: that association alone
    const left = sops?.filter((u) => !got!.has(u)) ?? [];
    if (!sops || firstSettled || left.length < 2 * k) return first;
    // its block: what has not arrived, from where its arrivals lie in the listing, in its direction
    const at = new Map(sops.map((u, i) => [u, i]));
    let sum = 0;
    let n = 0;
    for (const u of sops) {
      if (!got!.has(u)) continue;
      sum += at.get(u)!;
      n++;
    }
    const backwards = n > 0 && sum / n >= (sops.length - 1) / 2;
    const order = backwards ? [...left].reverse() : left;
    const block = order.slice(0, Math.ceil(order.length / k));
    const rest = order.slice(block.length);
    const mine = new Set(block.filter((u) => !got!.has(u)));
    const stop = got!.listen((u) => {
      if (mine.delete(u) && mine.size === 0) firstCtl.cancel?.();
    });
    if (mine.size === 0) firstCtl.cancel?.();
    const others = Array.from({ length: k - 1 }, (_, i) => rest.filter((_, j) => j % (k - 1) === i));
    const settled = await Promise.allSettled([first, ...others.map((share, i) => one(asTargets(share), progressOf(i + 1)))]);
    stop();
    return finish(settled, [block, ...others]);
  }
  if (!sops || sops.length < 2 * k) return one(targets, opts.onProgress);
  const shares = Array.from({ length: k }, (_, i) => sops!.filter((_, j) => j % k === i));
  const settled = await Promise.allSettled(shares.map((share, i) => one(asTargets(share), progressOf(i))));
  return finish(settled, shares);

  async function finish(settled: PromiseSettledResult<SubOperations>[], shares: string[][]): Promise<SubOperations> {
    const failures: unknown[] = [];
    const again: string[] = [];
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') return add(r.value);
      failures.push(r.reason);
      again.push(...shares[i]!.filter((u) => !got?.has(u)));
    });
    if (failures.length === 0) return total;
    // cancelled, or nothing worked (a PACS that does not know us): as with one association
    if (opts.signal?.aborted || failures.length === settled.length || failures.some((f) => f instanceof PacsError && f.reason === PacsReason.Cancelled)) throw failures[0];
    if (again.length) add(await one(asTargets(again)));
    return total;
  }
}

/** The DIMSE thread: started once, on first use, and kept (its start costs more than a C-GET of a few images). */
const kept = new KeptThread<FromDimseThread>(() => (process.env.MEDIMG_DIMSE_THREAD === '0' ? null : findBundledWorker('dimse.worker', process.env.MEDIMG_DIMSE_WORKER)));
const threadJobs = kept.jobs;

/** Starts the DIMSE thread ahead of a C-GET (its start overlaps the C-FIND listing). */
export function warmDimseThread(): void {
  kept.get();
}

/**
 * dcmjs-dimse re-encodes a C-STORE's data set from its parsed elements, which rewrites values (DS
 * "-48.750" goes as "-48.75", sequences get explicit lengths): the PACS would then hold other
 * metadata bytes than the anchored file and the copy would verify as "altered: metadata". When the
 * association accepted the file's own transfer syntax, the file's data set bytes go unchanged (read
 * again at send time, so nothing extra is held in memory); otherwise the library transcodes.
 */
function sendOriginalBytes(req: InstanceType<typeof CStoreRequest>, path: string): void {
  type Ds = { getTransferSyntaxUid(): string; getDenaturalizedDataset(...a: unknown[]): Buffer };
  const first = req.getDataset() as Ds | undefined;
  if (!first) return;
  // propose the file's own transfer syntax too (the library proposes Implicit VR Little Endian only for uncompressed files)
  req.setAdditionalTransferSyntaxes([first.getTransferSyntaxUid()]);
  // The library reads the file up to the SOP Instance UID first and the whole data set just before
  // sending (loadFullDatasetIfNeeded, which replaces the data set): patch the one that is sent.
  const r = req as unknown as { loadFullDatasetIfNeeded?: () => void };
  const load = r.loadFullDatasetIfNeeded?.bind(req);
  if (!load) return;
  r.loadFullDatasetIfNeeded = () => {
    load();
    const ds = req.getDataset() as Ds | undefined;
    if (!ds) return;
    const encode = ds.getDenaturalizedDataset.bind(ds);
    ds.getDenaturalizedDataset = (...a: unknown[]) => {
      const own = dataSetOf(readFileSync(path));
      return own && own.transferSyntaxUid === ds.getTransferSyntaxUid() ? own.bytes : encode(...a);
    };
  };
}

/**
 * dcmjs-dimse 0.3.3 keeps writing the next command into the stream of the last one when that one
 * had no data set (it resets the stream only after a data set): each C-MOVE pending response (or
 * C-STORE response of a send) then parses every command before it again, which took most of this
 * thread during a 200-image C-MOVE. A fresh stream after each handled message fixes that.
 */
export function freshCommandStreams(network: object): void {
  const n = network as { _performDimse?: (...a: unknown[]) => unknown; dimseStream?: unknown };
  const perform = n._performDimse;
  if (typeof perform !== 'function') return;
  n._performDimse = function (this: typeof n, ...a: unknown[]) {
    try {
      return perform.apply(this, a);
    } finally {
      this.dimseStream = undefined;
    }
  };
}

/**
 * Adds up the sub-operation counts of C-GET / C-MOVE responses across requests: pending responses report progress,
 * final ones are kept (their statuses say whether the whole operation failed).
 */
function tallySubOperations(
  reqs: { on(event: 'response', cb: (res: DimseResponse) => void): unknown }[],
  onProgress?: (p: SubOperations) => void,
): { total: SubOperations; finals: number[] } {
  const total: SubOperations = { completed: 0, failed: 0, warnings: 0, remaining: null };
  const finals: number[] = [];
  for (const r of reqs) {
    r.on('response', (res: DimseResponse) => {
      const g = res as InstanceType<typeof dimse.responses.CGetResponse>; // C-MOVE responses carry the same counts
      const st = g.getStatus();
      if (st === Status.Pending) {
        onProgress?.({ completed: total.completed + (g.getCompleted() ?? 0), failed: total.failed + (g.getFailures() ?? 0), warnings: total.warnings + (g.getWarnings() ?? 0), remaining: g.getRemaining() ?? null });
        return;
      }
      finals.push(st);
      total.completed += g.getCompleted() ?? 0;
      total.failed += g.getFailures() ?? 0;
      total.warnings += g.getWarnings() ?? 0;
    });
  }
  return { total, finals };
}
