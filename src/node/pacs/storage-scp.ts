/**
 * Our Storage SCP (dcmjs-dimse's Scp on our own listening socket, so it binds to loopback unless
 * told otherwise). Off until started; accepts C-ECHO and C-STORE of any storage SOP class, only from
 * calling AE titles on the allow-list (others: association rejected, "calling AE title not
 * recognised"), and only when called by its own AE title ("called AE title not recognised").
 * Each received data set is written, byte for byte as negotiated, into a Part-10 file and handed to
 * `onInstance` (the cache + library + verification); the C-STORE response waits for that (for a
 * push, until the file is durably on disk; for a sub-operation of our own C-MOVE, the retrieve decides).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import { PacsError, PacsReason } from './errors';
import { part10File } from './part10';
import { freshCommandStreams, silenceDimseLog } from './dimse';
import { framePdus } from './dimse-wire';
import { checkAeTitle } from './connections';
import { rawBytesOf, rawDataSet, RawDataSetCollector } from './raw-store';
import { Worker } from 'node:worker_threads';
import { findBundledWorker } from '../worker-pool';
import type { FromScpThread, ToScpThread } from './scp.worker';
import type { WrittenFile } from './cache';

const { Scp, Dataset, Implementation } = dimse;
const { CEchoResponse, CStoreResponse } = dimse.responses;
const { Status, PresentationContextResult, RejectResult, RejectSource, RejectReason, SopClass, TransferSyntax } = dimse.constants;

type ScpAssociation = InstanceType<typeof dimse.association.Association>;
type ScpPresentationContext = InstanceType<typeof dimse.association.PresentationContext>;
type ScpRequest = InstanceType<typeof dimse.requests.CStoreRequest>;
type ScpResponse = InstanceType<typeof dimse.responses.Response>;

export interface StorageScpOptions {
  aeTitle: string;
  port: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Calling AE titles allowed to store; empty = nobody. */
  allowedCallingAets: string[];
}

export interface StoredInstance {
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  callingAet: string;
  /** (0000,1030) of the C-STORE: the AE title whose C-MOVE this is a sub-operation of; null for a plain push. */
  moveOriginatorAet: string | null;
  file: Uint8Array;
  /** The file's SHA-256 (hex), when the SCP's thread computed it already. */
  sha256?: string;
  /** The SCP's thread wrote the file into the cache already (an arrival of our own C-MOVE): `file` is then empty. */
  written?: WrittenFile;
}

export interface ScpEvents {
  /** Stores one instance; throw to answer the C-STORE with a failure status. */
  onInstance(i: StoredInstance): Promise<void>;
  /** An association was requested (counted in the stats). */
  onAssociation?(): void;
  /** An association was rejected (for the log and the UI). */
  onRejected?(r: { callingAet: string; calledAet: string; reason: string; remote: string }): void;
  /** An accepted association ended (released, aborted or cut) after storing these instances. */
  onAssociationEnd?(a: { callingAet: string; sopInstanceUids: string[] }): void;
}

/** Transfer syntaxes we accept, in preference order (we store what arrives; no transcoding). */
const ACCEPTED_TS: string[] = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
  '1.2.840.10008.1.2.4.70', // JPEG Lossless SV1
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.5', // RLE
  '1.2.840.10008.1.2.1.99', // deflated
  '1.2.840.10008.1.2.2', // big endian (retired, still sent by old modalities)
];

export class StorageScp {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  readonly aeTitle: string;
  private readonly allowed: Set<string>;
  /** Counts since start (for status and tests). */
  readonly stats = { associations: 0, rejected: 0, stored: 0, failed: 0 };

  constructor(
    private readonly opts: StorageScpOptions,
    private readonly events: ScpEvents,
  ) {
    silenceDimseLog();
    this.aeTitle = checkAeTitle(opts.aeTitle, 'The Storage SCP AE title');
    this.allowed = new Set(opts.allowedCallingAets.map((a) => checkAeTitle(a, 'An allowed calling AE title')));
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : this.opts.port;
  }

  async start(): Promise<void> {
    if (this.server) return;
    // the Scp subclass below is constructed by us per connection and needs this instance
    const scp = this as StorageScp;
    const rejected = (cls: InstanceType<typeof Scp>, a: ScpAssociation, reason: number, text: string, remote: string) => {
      scp.stats.rejected++;
      scp.events.onRejected?.({ callingAet: a.getCallingAeTitle(), calledAet: a.getCalledAeTitle(), reason: text, remote });
      cls.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, reason);
    };

    class MedImgScp extends Scp {
      private remote = '';
      private assoc: ScpAssociation | undefined;
      private accepted = false;
      private ended = false;
      private readonly stored: string[] = [];
      constructor(socket: Socket, o: Record<string, unknown>) {
        super(socket, o);
        freshCommandStreams(this); // C-ECHOs (no data set) would otherwise pile up in one command stream
        framePdus(this); // whole PDUs to the library's accumulator (dimse-wire.ts)
        this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
        socket.on('close', () => this.end());
      }
      /** Once per accepted association: what it stored (for anchoring what arrived). */
      end(): void {
        if (!this.accepted || this.ended) return;
        this.ended = true;
        scp.events.onAssociationEnd?.({ callingAet: this.assoc?.getCallingAeTitle().trim() ?? '', sopInstanceUids: [...this.stored] });
      }
      override associationRequested(a: ScpAssociation): void {
        scp.stats.associations++;
        scp.events.onAssociation?.();
        this.assoc = a;
        if (a.getCalledAeTitle().trim() !== scp.aeTitle) return rejected(this, a, RejectReason.CalledAeNotRecognized, 'called AE title not recognised', this.remote);
        if (!scp.allowed.has(a.getCallingAeTitle().trim())) return rejected(this, a, RejectReason.CallingAeNotRecognized, 'calling AE title not on the allow-list', this.remote);
        for (const c of a.getPresentationContexts() as { id: number }[]) {
          const ctx: ScpPresentationContext = a.getPresentationContext(c.id);
          const abs = ctx.getAbstractSyntaxUid();
          const isStorage = abs.startsWith('1.2.840.10008.5.1.4.') && abs !== SopClass.StudyRootQueryRetrieveInformationModelFind;
          if (abs !== SopClass.Verification && !isStorage) {
            ctx.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
            continue;
          }
          const offered = ctx.getTransferSyntaxUids();
          const ts = ACCEPTED_TS.find((t) => offered.includes(t));
          if (ts) ctx.setResult(PresentationContextResult.Accept, ts);
          else ctx.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
        }
        this.accepted = true;
        // the accept names our own maximum PDU length (the library would name the smaller of the two:
        // Orthanc proposes 16 KiB, so every image came in 30-odd PDUs); what we send is a few small responses
        a.setMaxPduLength(Implementation.getMaxPduLength());
        this.sendAssociationAccept();
      }
      override associationReleaseRequested(): void {
        this.sendAssociationReleaseResponse();
        this.end();
      }
      override cEchoRequest(request: InstanceType<typeof dimse.requests.CEchoRequest>, callback: (r: InstanceType<typeof CEchoResponse>) => void): void {
        const r = CEchoResponse.fromRequest(request);
        r.setStatus(Status.Success);
        callback(r);
      }
      override createStoreWritableStream(): Writable {
        return new RawDataSetCollector();
      }
      override createDatasetFromStoreWritableStream(w: Writable, pc: ScpPresentationContext, callback: (d: InstanceType<typeof Dataset>) => void): void {
        // keep the bytes as they came; the library would parse and re-encode them
        callback(rawDataSet(w, pc));
      }
      override cStoreRequest(request: ScpRequest, callback: (r: ScpResponse) => void): void {
        const respond = (status: number, comment?: string) => {
          const r = CStoreResponse.fromRequest(request);
          r.setStatus(status);
          if (comment) r.setErrorComment(comment.slice(0, 64));
          callback(r);
        };
        const ds = request.getDataset() as InstanceType<typeof Dataset> | undefined;
        const bytes = rawBytesOf(ds);
        if (!ds || !bytes?.length) return respond(0xa900, 'no data set');
        const sopInstanceUid = request.getAffectedSopInstanceUid();
        const sopClassUid = request.getAffectedSopClassUid();
        const transferSyntaxUid = ds.getTransferSyntaxUid();
        const callingAet = this.assoc?.getCallingAeTitle().trim() ?? '';
        const file = part10File(bytes, { sopClassUid, sopInstanceUid, transferSyntaxUid, sourceAet: callingAet });
        const command = request.getCommandDataset() as { getElement(name: string): unknown } | undefined;
        const moveOriginatorAet = String(command?.getElement('MoveOriginatorApplicationEntityTitle') ?? '').trim() || null;
        scp.events.onInstance({ sopInstanceUid, sopClassUid, transferSyntaxUid, callingAet, moveOriginatorAet, file }).then(
          () => {
            scp.stats.stored++;
            this.stored.push(sopInstanceUid);
            respond(Status.Success);
          },
          (err: unknown) => {
            scp.stats.failed++;
            respond(0xa700, err instanceof Error ? err.message : 'store failed');
          },
        );
      }
    }

    const server = createServer((socket) => {
      socket.setNoDelay(true); // our answers go at once, not after the peer's delayed acknowledgement
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const s = new MedImgScp(socket, { associationTimeout: 30_000, pduTimeout: 60_000 }) as unknown as { connected: boolean; on(e: string, f: (e: unknown) => void): void };
      s.connected = true;
      s.on('networkError', () => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new PacsError(
            PacsReason.Invalid,
            err.code === 'EADDRINUSE' ? `Port ${this.opts.port} is already in use, so the Storage SCP cannot start.` : `The Storage SCP cannot listen on ${this.opts.host ?? '127.0.0.1'}:${this.opts.port}: ${err.message}.`,
            'Choose another port in the Storage SCP settings (and tell the PACS administrator).',
          ),
        ),
      );
      server.listen(this.opts.port, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/**
 * The Storage SCP with its associations in a worker thread (scp.worker.ts): same settings, events
 * and stats as StorageScp, which runs inside that thread. `expectMove` says which arrivals are
 * sub-operations of our own C-MOVE: those are answered by the thread without waiting for this one.
 */
export class ThreadedStorageScp {
  private worker: Worker | null = null;
  private portNo: number;
  private isListening = false;
  private stopped: (() => void) | null = null;
  private expectSeq = 0;
  private readonly unexpected = new Map<number, () => void>();
  readonly aeTitle: string;
  readonly stats = { associations: 0, rejected: 0, stored: 0, failed: 0 };

  /** The worker bundle, or null (sources not built; MEDIMG_DIMSE_THREAD=0): then use StorageScp. */
  static bundle(): string | null {
    return process.env.MEDIMG_DIMSE_THREAD === '0' ? null : findBundledWorker('scp.worker', process.env.MEDIMG_SCP_WORKER);
  }

  constructor(
    private readonly opts: StorageScpOptions,
    private readonly events: ScpEvents,
    private readonly file: string,
  ) {
    // the same checks as StorageScp's, here, so a bad setting fails before any thread starts
    this.aeTitle = checkAeTitle(opts.aeTitle, 'The Storage SCP AE title');
    opts.allowedCallingAets.forEach((a) => checkAeTitle(a, 'An allowed calling AE title'));
    this.portNo = opts.port;
  }

  get listening(): boolean {
    return this.isListening;
  }

  get port(): number {
    return this.portNo;
  }

  private post(m: ToScpThread): void {
    this.worker?.postMessage(m);
  }

  async start(): Promise<void> {
    if (this.worker) return;
    const w = new Worker(this.file);
    this.worker = w;
    await new Promise<void>((resolve, reject) => {
      w.on('message', (m: FromScpThread) => {
        switch (m.type) {
          case 'listening':
            this.portNo = m.port;
            this.isListening = true;
            return resolve();
          case 'start-failed':
            this.worker = null;
            void w.terminate();
            return reject(new PacsError(m.error.reason as PacsReason, m.error.message, m.error.hint));
          case 'stopped':
            return this.stopped?.();
          case 'unexpected':
            this.unexpected.get(m.id)?.();
            this.unexpected.delete(m.id);
            return;
          case 'association':
            this.stats.associations++;
            return;
          case 'rejected':
            this.stats.rejected++;
            return this.events.onRejected?.(m.r);
          case 'association-end':
            return this.events.onAssociationEnd?.(m.a);
          case 'instance': {
            const i = m.instance;
            const file = new Uint8Array(i.file.buffer, i.file.byteOffset, i.file.byteLength);
            this.events.onInstance({ ...i, file }).then(
              () => {
                this.stats.stored++;
                this.post({ type: 'ack', seq: m.seq, ok: true });
              },
              (err: unknown) => {
                this.stats.failed++;
                this.post({ type: 'ack', seq: m.seq, ok: false, message: err instanceof Error ? err.message : 'store failed' });
              },
            );
            return;
          }
        }
      });
      w.on('error', (err) => {
        this.isListening = false;
        reject(err);
      });
      w.on('exit', () => {
        for (const r of this.unexpected.values()) r();
        this.unexpected.clear();
        this.isListening = false;
        if (this.worker === w) this.worker = null;
        this.stopped?.();
      });
      w.postMessage({ type: 'start', opts: this.opts } satisfies ToScpThread);
    });
  }

  /**
   * Arrivals from `originatorAet`'s C-MOVE of these SOP Instance UIDs are answered at once (at most
   * `window` ahead) and, given `cacheDir`, written into that cache by the thread; returns the end of
   * it, which settles once every arrival of it was passed to `onInstance` (each written before it is passed on).
   */
  expectMove(originatorAet: string, /** null: any SOP Instance UID */ sops: string[] | null, window = 32, cacheDir?: string): () => Promise<void> {
    const id = ++this.expectSeq;
    this.post({ type: 'expect', id, originatorAet, sops, window, ...(cacheDir ? { cacheDir } : {}) });
    return () =>
      new Promise<void>((resolve) => {
        if (!this.worker) return resolve();
        this.unexpected.set(id, resolve);
        this.post({ type: 'unexpect', id });
      });
  }

  async stop(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.isListening = false;
    await new Promise<void>((r) => {
      this.stopped = r;
      w.postMessage({ type: 'stop' } satisfies ToScpThread);
    });
    this.stopped = null;
    this.worker = null;
    await w.terminate();
  }
}
