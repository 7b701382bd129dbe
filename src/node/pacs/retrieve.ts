/**
 * Retrieve a study or a series from a PACS into the cache and the library, verifying what arrives.
 *
 *   wado-rs  WADO-RS with transfer-syntax=* (the stored encoding is kept): nothing cached yet → one
 *            study / series request, each part taken as it streams in (read, hashed and written into
 *            the cache in the WADO thread: wado-thread.ts; the QIDO-RS listing runs
 *            beside it; what did not come is then asked for per instance); else per instance, 4 at a time
 *   c-get    one association; the PACS sends the instances back on it
 *   c-move   the PACS sends to our Storage SCP (which must be running, and known to the PACS)
 *   Nothing of it cached: one study / series request, the C-FIND listing beside it once the first
 *   image is here; what the listing names and did not come is then asked for image by image.
 *
 * Otherwise the instance list comes first (QIDO-RS / C-FIND at IMAGE level); SOP Instance UIDs
 * already in the cache are skipped, so a retrieve that was cancelled, killed or cut off resumes
 * without duplicates. Arrivals are imported and verified in batches while the rest is still arriving.
 * A PACS that does not know our AE title is named as the likely cause (errors.ts notAnswered).
 * One instance that fails (404, not DICOM) is reported and the rest goes on; a failure no further
 * request can get past (refused, DNS, 401/403, association rejected) ends the retrieve.
 */
import type { Task } from '../tasks';
import type { InstanceCache, ArrivalVia, CachedInstance, WrittenFile } from './cache';
import type { DicomWebClient } from './dicomweb';
import { warmDimseThread, type DimseClient } from './dimse';
import { isFatalForServer, notAnswered, PacsError, PacsReason, toPacsError, type PacsApiError } from './errors';
import { listInstancesDimse, listInstancesWeb } from './search';
import type { StoredInstance } from './storage-scp';
import { readFileMeta } from './part10';
import { warmWadoThread } from './wado-thread';

export type RetrieveVia = 'wado-rs' | 'c-get' | 'c-move';

const cacheWriteFailed = (sop: string, message: string) =>
  new PacsError(PacsReason.Invalid, `Instance ${sop} arrived but could not be written to the cache: ${message}.`, 'Check the free space of the app-data folder, then retrieve again; only what is missing is fetched.');

/** The library `source` of what a connection returned (a PACS copy is labelled with it). */
export const sourceOf = (connectionName: string): string => `pacs:${connectionName}`;

/** What the library domain offers the PACS (today: Library.import). */
export interface LibraryImporter {
  /** `source` names where the files came from ('pacs:<connection>', 'scp:<calling AE title>'): a file whose SOP Instance UID is indexed with other bytes becomes a copy of that instance, shown and verified on its own. */
  importFiles(paths: string[], opts?: { source?: string; /** the SHA-256 of each file, known from the cache (by path): not read and hashed again */ sha256?: ReadonlyMap<string, string> }): Promise<{ instanceIds: number[]; rejected: { path: string; code: string; reason: string }[] }>;
  /** After fingerprinting: drops the copies among these files whose image equals the library's (only the file meta header or encoding differ). */
  settleCopies?(paths: string[]): Promise<number>;
}

/** What the fingerprint domain offers the PACS (today: FingerprintEngine.fingerprintPaths). */
export interface InstanceFingerprinter {
  /** `studyTrees`: the study trees are not rebuilt; the UIDs of the studies touched are added to it (then rebuildStudyTrees, once). */
  fingerprintFiles(paths: string[], opts?: { studyTrees?: Set<string> }): Promise<void>;
  rebuildStudyTrees?(studyInstanceUids: Iterable<string>): void;
}

/** What the ledger domain offers the PACS (today: Verifier.verifyEntries; it fingerprints what it has no digests of). */
export interface InstanceVerifier {
  /** `onChainProofs: false`: the records are read from the chain, the Merkle proofs checked locally (as for a whole study). */
  verifyFiles(paths: string[], opts?: { onChainProofs?: boolean }): Promise<{ path: string; state: string; message: string; differs: string[] }[]>;
}

export interface InstanceOutcome {
  sopInstanceUid: string;
  seriesInstanceUid: string | null;
  path: string | null;
  /** cached-before (skipped), received, failed */
  arrival: 'cached-before' | 'received' | 'failed';
  verification: string | null;
  differs: string[];
  message: string | null;
  reason?: string;
}

export interface RetrieveReport {
  connection: string;
  via: RetrieveVia;
  studyInstanceUid: string;
  seriesInstanceUid: string | null;
  listed: number;
  alreadyCached: number;
  received: number;
  failed: number;
  imported: number;
  verification: Record<string, number>;
  instances: InstanceOutcome[];
  bytes: number;
  seconds: number;
  imagesPerSecond: number;
  mbPerSecond: number;
  cancelled: boolean;
  /** Where the time went (ms; import / verify / settle add up over batches, which run while images arrive). */
  phases: { fetch: number; import: number; verify: number; settle: number; afterLastArrival: number; batches: number; firstImported: number | null };
  /** The failure that ended the retrieve early, if any. */
  error: PacsApiError | null;
}

export interface RetrieveContext {
  connectionId: number;
  connectionName: string;
  web: DicomWebClient | null;
  dimse: DimseClient | null;
  cache: InstanceCache;
  importer: LibraryImporter;
  verifier: InstanceVerifier | null;
  /** Used when there is no verifier, so every arrival is still fingerprinted. */
  fingerprinter?: InstanceFingerprinter | null;
  /**
   * For c-move: our Storage SCP's AE title and a way to hear its arrivals (returns an unsubscribe).
   * The listener takes an arrival that is a sub-operation of this retrieve's C-MOVE (it writes it
   * into the cache itself) and returns what the C-STORE response waits for; null: not ours (the SCP
   * stores it as a lone arrival, durably before answering).
   */
  moveDestination?: {
    aeTitle: string;
    subscribe(listener: (i: StoredInstance) => Promise<void> | null): () => void;
    /** A threaded SCP: these arrivals (our AE title as move originator) are answered without waiting for this thread, except the first; returns the end of it. */
    expect?(originatorAet: string, /** null: any (the listing is not in yet) */ sops: string[] | null, /** the thread writes these arrivals into this cache folder */ cacheDir?: string): () => Promise<void> | void;
  } | null;
  /** Called for each instance once it is cached (before import / verification). */
  onInstance?: (i: CachedInstance) => void;
  /** Called with each batch once it is in the library (before verification): the viewer can show it. */
  onImported?: (i: CachedInstance[]) => void;
  concurrency?: number;
  batchSize?: number;
}

export async function retrieve(ctx: RetrieveContext, target: { study: string; series?: string | null; via: RetrieveVia; /** fetch again what is cached (the PACS copy may have changed) */ refetch?: boolean }, task: Task): Promise<RetrieveReport> {
  const t0 = Date.now();
  const series = target.series ?? null;
  const via = target.via;
  const outcomes = new Map<string, InstanceOutcome>();
  let bytes = 0;
  let received = 0;
  let failed = 0;
  let imported = 0;
  let fatal: PacsError | null = null;

  if (via === 'wado-rs' && !ctx.web) throw new PacsError(PacsReason.NotConfigured, `Connection "${ctx.connectionName}" has no DICOMweb URL, so WADO-RS cannot be used.`, 'Use --via c-get or c-move, or add the DICOMweb URL.');
  if (via !== 'wado-rs' && !ctx.dimse) throw new PacsError(PacsReason.NotConfigured, `Connection "${ctx.connectionName}" has no DIMSE settings, so ${via.toUpperCase()} cannot be used.`, 'Use --via wado-rs, or add host, port and AE titles.');
  if (via === 'c-move' && !ctx.moveDestination) throw new PacsError(PacsReason.NotConfigured, 'C-MOVE needs our Storage SCP running to receive the images.', 'Start the Storage SCP (Settings → PACS) or use C-GET / WADO-RS.');

  // 1. What is there. WADO-RS with nothing of this study / series cached: one request brings all of it,
  // each instance taken as its part streams in, and the QIDO listing runs beside it (it only tells
  // what did not come), asked once the first part is here: the PACS answers the image request first
  // (asked together, the two shared its time and the first image came later). Otherwise the listing
  // comes first and only what is not cached is asked for.
  type Listed = { study: string; series: string; sop: string };
  if (via === 'c-get') warmDimseThread(); // its start overlaps the C-FIND listing
  if (via === 'wado-rs') warmWadoThread();
  const stream = target.refetch === true || !ctx.cache.hasAnyOf(target.study, series);
  task.progress({ label: 'listing instances', done: 0 }, true);
  const list = (): Promise<Listed[]> => (via === 'wado-rs' ? listInstancesWeb(ctx.web!, target.study, series, task.signal) : listInstancesDimse(ctx.dimse!, target.study, series, task.signal));
  let startListing: () => void = () => undefined;
  const listing: Promise<Listed[]> = stream ? new Promise<void>((r) => (startListing = r)).then(list) : list();
  let listed: Listed[] = [];
  let listingError: PacsError | null = null;
  let total: number | null = null;
  const seriesOf = new Map<string, string>();
  const learn = (l: Listed[]) => {
    listed = l;
    total = l.length;
    for (const x of l) seriesOf.set(x.sop, x.series);
  };
  const noInstances = () => new PacsError(PacsReason.NotFoundOnPacs, `The PACS has no instances of ${series ? `series ${series}` : `study ${target.study}`}.`, 'Search again; it may have been deleted or its UID mistyped.');
  const listingDone = stream
    ? listing.then(learn, (err: unknown) => {
        listingError = toPacsError(err);
      })
    : Promise.resolve();
  if (!stream) {
    learn(
      await listing.catch((err: unknown) => {
        const e = toPacsError(err);
        // the C-FIND before a C-GET / C-MOVE is where a PACS that does not know us stops: name what was asked for
        throw e.reason === PacsReason.NotAnswered && via !== 'wado-rs' && ctx.dimse ? notAnswered(via.toUpperCase(), ctx.dimse.callingAet) : e;
      }),
    );
    if (listed.length === 0) throw noInstances();
  }
  const cachedBefore = stream ? new Set<string>() : target.refetch ? new Set<string>() : ctx.cache.cachedSet(listed.map((l) => l.sop));
  for (const l of listed) {
    if (cachedBefore.has(l.sop)) {
      const c = ctx.cache.get(l.sop)!;
      outcomes.set(l.sop, { sopInstanceUid: l.sop, seriesInstanceUid: l.series, path: c.path, arrival: 'cached-before', verification: c.verification, differs: [], message: null });
    }
  }
  let todo = listed.filter((l) => !cachedBefore.has(l.sop));
  const rate = () => {
    const s = Math.max((Date.now() - t0) / 1000, 1e-3);
    return `${(received / s).toFixed(1)} images/s, ${(bytes / 1e6 / s).toFixed(1)} MB/s`;
  };
  const report = (force = false) => task.progress({ done: cachedBefore.size + received, failed, total, label: rate() }, force);
  report(true);

  // 2. Import, then verify, in the background, in arrival order, as two stages that overlap: while a
  // batch is verified (fingerprints in worker threads, chain reads) the next one is indexed (this
  // thread). Each stage takes what waits for it when it is free (the import at most batchSize, see
  // below for the least): the first image goes alone (on screen at once), and after the last arrival
  // only what came during the last batches is left to do.
  const batchSize = ctx.batchSize ?? 16;
  const phases: RetrieveReport['phases'] = { fetch: 0, import: 0, verify: 0, settle: 0, afterLastArrival: 0, batches: 0, firstImported: null };
  // While images are still arriving, a stage waits for `min` of them (or `holdMs` after the oldest
  // came): each batch has fixed costs on this thread (an index transaction, the study's Merkle tree
  // rebuilt, chain reads), and batches of one (C-GET / C-MOVE deliver one image per round trip) took
  // the thread from the network for most of the retrieve. The first image still goes alone, at once.
  let arriving = true;
  const stage = (max: number, min: number, holdMs: number, work: (b: CachedInstance[]) => Promise<void>) => {
    const waiting: CachedInstance[] = [];
    let running: Promise<void> | null = null;
    let hold: NodeJS.Timeout | null = null;
    let started = false;
    const pump = (force = false) => {
      if (running || waiting.length === 0) return;
      if (started && arriving && !force && waiting.length < min) {
        hold ??= setTimeout(() => {
          hold = null;
          pump(true);
        }, holdMs);
        return;
      }
      if (hold) clearTimeout(hold);
      hold = null;
      started = true;
      const b = waiting.splice(0, max);
      running = work(b).finally(() => {
        running = null;
        pump();
      });
    };
    return {
      add: (cs: CachedInstance[]) => {
        waiting.push(...cs);
        pump();
      },
      /** Nothing more is arriving: take what waits now. */
      flush: () => pump(true),
      idle: () => running === null && waiting.length === 0,
      current: () => running,
    };
  };
  // The first instance is indexed (and announced to the viewer) before the rest is read: the
  // stream pauses and the C-GET / C-MOVE C-STORE response waits until then.
  let firstIn: () => void = () => undefined;
  const firstImported = new Promise<void>((r) => (firstIn = r));
  const importBatch = async (b: CachedInstance[]) => {
    const t = Date.now();
    const paths = b.map((c) => c.path);
    phases.batches++;
    let ok = b;
    try {
      const r = await ctx.importer.importFiles(paths, { source: sourceOf(ctx.connectionName), sha256: new Map(b.map((c) => [c.path, c.sha256])) });
      phases.firstImported ??= Date.now() - t0;
      const bad = new Map(r.rejected.map((x) => [x.path, x]));
      for (const c of b) {
        const rej = bad.get(c.path);
        // "unchanged" (an identical file already indexed) is fine
        ctx.cache.setState(c.path, rej ? 'import-failed' : 'imported', rej ? `${rej.code}: ${rej.reason}` : null);
        if (!rej) imported++;
      }
      ok = b.filter((c) => !bad.has(c.path));
      ctx.onImported?.(ok);
    } catch (err) {
      for (const c of b) ctx.cache.setState(c.path, 'import-failed', err instanceof Error ? err.message : String(err));
    }
    phases.import += Date.now() - t;
    firstIn();
    // Fingerprinted at once, in the workers, while this thread goes on (the verify stage waits for
    // it, then only reads the chain and checks the proofs): before, each verify batch fingerprinted
    // its files first, so after the last arrival the fingerprints of the last batches were still to do.
    if (ctx.verifier && ctx.fingerprinter) {
      const fp = ctx.fingerprinter.fingerprintFiles(paths, ctx.fingerprinter.rebuildStudyTrees ? { studyTrees } : {}).catch(() => undefined); // a failure is the verifier's to report (it fingerprints again what has no digests)
      for (const p of paths) fingerprinting.set(p, fp);
    }
    // what could not be indexed is still fingerprinted and verified (the report says what it is)
    verifying.add(b);
  };
  const fingerprinting = new Map<string, Promise<unknown>>();
  /** The studies whose trees the batches' fingerprints left to rebuild (once, after the last batch). */
  const studyTrees = new Set<string>();
  let firstVerified = true;
  const verifyBatch = async (b: CachedInstance[]) => {
    let t = Date.now();
    const paths = b.map((c) => c.path);
    // the first image is the one on screen: its proof is checked on chain too; the rest against the records read from it
    const onChainProofs = firstVerified ? undefined : false;
    firstVerified = false;
    if (!ctx.verifier && ctx.fingerprinter) {
      try {
        await ctx.fingerprinter.fingerprintFiles(paths);
      } catch (err) {
        for (const c of b) {
          const o = outcomes.get(c.sopInstanceUid);
          if (o) o.message = `Not fingerprinted: ${err instanceof Error ? err.message : String(err)}`;
        }
      }
    }
    if (ctx.verifier) {
      // the verifier fingerprints what it has no digests of: once per file
      try {
        await Promise.all(paths.map((p) => fingerprinting.get(p)));
        for (const p of paths) fingerprinting.delete(p);
        const v = await ctx.verifier.verifyFiles(paths, onChainProofs === undefined ? undefined : { onChainProofs });
        const byPath = new Map(v.map((x) => [x.path, x]));
        for (const c of b) {
          const x = byPath.get(c.path);
          const o = outcomes.get(c.sopInstanceUid);
          if (!x || !o) continue;
          o.verification = x.state;
          o.differs = x.differs;
          o.message = x.message;
          ctx.cache.setVerification(c.path, x.state, x.message);
        }
      } catch (err) {
        for (const c of b) {
          const o = outcomes.get(c.sopInstanceUid);
          if (o) o.message = `Not verified: ${err instanceof Error ? err.message : String(err)}`;
        }
      }
    }
    phases.verify += Date.now() - t;
    t = Date.now();
    // a PACS copy is kept only where the image differs (the digests are known now)
    try {
      await ctx.importer.settleCopies?.(paths);
    } catch {
      // kept as copies: shown as the PACS's version, verified on their own
    }
    phases.settle += Date.now() - t;
  };
  const verifying = stage(64, 32, 400, verifyBatch);
  // WADO-RS reads the network in its own thread, and a batch's fixed costs here are small now (its
  // fingerprints are taken in the workers, the study tree rebuilt once at the end): half batches, so
  // that less is left to import, fingerprint and verify after the last arrival.
  const importing = stage(batchSize, via === 'wado-rs' && ctx.batchSize === undefined ? batchSize / 2 : batchSize, 250, importBatch);
  const enqueue = (c: CachedInstance) => importing.add([c]);
  const drained = async () => {
    arriving = false;
    importing.flush();
    verifying.flush();
    while (!importing.idle() || !verifying.idle()) await (importing.current() ?? verifying.current());
  };

  // Cache writes under way (the file goes to disk off this thread; the retrieve ends after the last one).
  const writes = new Set<Promise<unknown>>();
  const arrived = (file: Uint8Array | WrittenFile, sop: string, seriesUid: string | null, arrival: ArrivalVia, callingAet?: string, sha256?: string): { first: boolean; done: Promise<void> } => {
    // known at once, so a part sent twice is not taken twice
    const o: InstanceOutcome = { sopInstanceUid: sop, seriesInstanceUid: seriesUid, path: null, arrival: 'received', verification: null, differs: [], message: null };
    outcomes.set(sop, o);
    startListing(); // the first image is here: the listing (when it waits) goes now
    const w = ctx.cache.put(file, { sopInstanceUid: sop, ...(sha256 ? { sha256 } : {}), studyInstanceUid: target.study, seriesInstanceUid: seriesUid, connectionId: ctx.connectionId, via: arrival, callingAet }).then(
      (c) => {
        o.path = c.path;
        bytes += file instanceof Uint8Array ? file.byteLength : file.size;
        received++;
        ctx.onInstance?.(c);
        enqueue(c);
        report();
      },
      (err: unknown) => {
        outcomes.delete(sop);
        failOne(sop, cacheWriteFailed(sop, err instanceof Error ? err.message : String(err)));
      },
    );
    writes.add(w);
    void w.finally(() => writes.delete(w));
    // the first arrival: settled once it is in the library (or failed), so the caller can hold the rest back
    const first = firstArrival-- === 1;
    return { first, done: first ? w.then(() => (o.path ? firstImported : undefined)) : w };
  };
  /**
   * What the C-STORE response of a C-MOVE sub-operation waits for when our SCP runs on this thread
   * (the C-GET thread and the threaded SCP answer by themselves: only the first image's response,
   * and any beyond 32 unsettled, wait for this thread; dimse.worker.ts, scp.worker.ts). The PACS sends the next
   * image only after it (one operation at a time: Orthanc, like most, negotiates no asynchronous
   * window), so it is not held back for the disk: the file goes to the cache in the background.
   * Safe because this retrieve asked for it: an instance is "cached" only once its file is renamed
   * into place and its row written, and a retrieve killed before that lists the instances again and
   * fetches what has no cached file (the test "killed during a C-GET" shows it). The first waits until
   * it is in the library (on screen before the rest comes); more than 32 writes under way hold the
   * answer back until one ends (bounded memory).
   */
  const answerAfter = (a: { first: boolean; done: Promise<void> }): Promise<void> =>
    a.first ? a.done : writes.size > 32 ? Promise.race(writes).then(() => undefined) : Promise.resolve();
  let firstArrival = 1;
  const failOne = (sop: string, e: PacsError) => {
    failed++;
    outcomes.set(sop, { sopInstanceUid: sop, seriesInstanceUid: seriesOf.get(sop) ?? null, path: null, arrival: 'failed', verification: null, differs: [], message: e.message, reason: e.reason });
    report();
  };

  // 3. Fetch what is missing
  /** Ends the retrieve with this error (thrown, not reported): nothing came at all. */
  let stopWith: PacsError | null = null;
  try {
    if (stream || todo.length > 0) {
      if (via === 'wado-rs') {
        if (stream) {
          try {
            // a part with no SOP Instance UID, or sent twice: asked for again on its own below
            const take = (file: Uint8Array | WrittenFile, sop: string | null | undefined) => {
              startListing();
              if (!sop || outcomes.has(sop) || task.cancelled) return;
              const a = arrived(file, sop, series ?? seriesOf.get(sop) ?? null, 'wado-rs');
              return a.first ? a.done : undefined;
            };
            // The reply is read, and each part hashed and written into the cache, in the WADO thread
            // (wado-thread.ts): this thread records the files, indexes and verifies them. Without
            // that thread, the same here.
            await (ctx.web!.retrieveStreamToCache?.(
              target.study,
              series,
              ctx.cache.dir,
              {
                onInstance: take,
                onWriteFailed: (sop, message) => {
                  if (sop && !outcomes.has(sop)) failOne(sop, cacheWriteFailed(sop, message));
                },
              },
              { signal: task.signal },
            ) ?? ctx.web!.retrieveStream(target.study, series, { onInstance: (file) => take(file, readFileMeta(file).get(0x0003)) }, { signal: task.signal }));
          } catch (err) {
            const e = toPacsError(err);
            // anything else (cut off, malformed, timed out, 404): what did not come is asked for one by one
            if (e.reason !== PacsReason.Cancelled && isFatalForServer(e)) fatal ??= e;
          }
          startListing();
          await listingDone;
          if (listingError && !fatal && !task.cancelled) {
            // the listing failed: the reply alone says what the series holds (when it came whole)
            if (received === 0) fatal = listingError;
          }
          if (!fatal && !task.cancelled && listed.length === 0 && received === 0) throw noInstances();
          todo = listed.filter((l) => !outcomes.has(l.sop));
        }
        let next = 0;
        const worker = async () => {
          while (!fatal && !task.cancelled) {
            const l = todo[next++];
            if (!l) return;
            try {
              const file = await ctx.web!.retrieveInstance(l.study, l.series, l.sop, { signal: task.signal });
              await arrived(file, l.sop, l.series, 'wado-rs').done;
            } catch (err) {
              const e = toPacsError(err);
              if (e.reason === PacsReason.Cancelled) return;
              if (isFatalForServer(e)) fatal ??= e;
              else failOne(l.sop, e);
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(ctx.concurrency ?? 4, todo.length) }, worker));
      } else {
        // `wanted` null: the whole study / series, with nothing cached and the listing not in yet (any
        // image on our C-GET association, any sub-operation of our C-MOVE naming us as its originator)
        const fetchDimse = async (targets: { study: string; series?: string; sop?: string }[], wanted: Set<string> | null) => {
          if (via === 'c-get') {
            // the association runs in its own thread, which answers each C-STORE without waiting for
            // this one (except the first image's, and when 32 writes are under way: the promise below)
            await ctx.dimse!.getThreaded(
              targets,
              async (i) => {
                if (wanted ? !wanted.has(i.sopInstanceUid) : outcomes.has(i.sopInstanceUid)) return; // not asked for (the PACS sent more), or sent twice
                const a = arrived(i.written ?? i.file, i.sopInstanceUid, seriesOf.get(i.sopInstanceUid) ?? null, 'c-get', undefined, i.sha256);
                await (a.first ? a.done : a.done.catch(() => undefined));
              },
              // the thread writes each image into the cache too: this thread only records it
              { signal: task.signal, window: 32, cacheDir: ctx.cache.dir },
            );
          } else {
            const dest = ctx.moveDestination!;
            const us = ctx.dimse!.callingAet;
            const unsubscribe = dest.subscribe((i) => {
              // a sub-operation of our C-MOVE names us as its move originator (a PACS that leaves it out: any wanted image;
              // before the listing, only what names us: the rest is asked for again once the listing says what is missing)
              if (wanted ? (i.moveOriginatorAet && i.moveOriginatorAet !== us) || !wanted.has(i.sopInstanceUid) : i.moveOriginatorAet !== us) return null;
              if (outcomes.get(i.sopInstanceUid)?.arrival === 'received') return Promise.resolve(); // sent twice: taken once
              return answerAfter(arrived(i.written ?? i.file, i.sopInstanceUid, seriesOf.get(i.sopInstanceUid) ?? null, 'c-move', i.callingAet, i.sha256));
            });
            const unexpect = dest.expect?.(us, wanted ? [...wanted] : null, ctx.cache.dir);
            try {
              await ctx.dimse!.move(dest.aeTitle, targets, { signal: task.signal });
            } finally {
              // the thread's arrivals still being written come through before the listener goes
              await unexpect?.();
              unsubscribe();
            }
          }
        };
        const images = (ls: Listed[]) => ls.map((l) => ({ study: l.study, series: l.series, sop: l.sop }));
        if (stream) {
          // Nothing cached: the whole study / series at once, the C-FIND listing beside it (asked once the
          // first image is here, on its own association): before, the listing came first and the PACS
          // sent nothing while it ran. What the listing names and did not come is asked for image by image.
          let failure: PacsError | null = null;
          try {
            await fetchDimse([{ study: target.study, ...(series ? { series } : {}) }], null);
          } catch (err) {
            failure = toPacsError(err);
          }
          // nothing came: the retrieve ends with what stopped it (a PACS that does not know us stops here)
          if (failure && received === 0 && outcomes.size === 0 && failure.reason !== PacsReason.Cancelled) {
            if (failure.reason === PacsReason.NotAnswered) throw (stopWith = failure);
            // as when the listing came first: its failure, or "no instances", else the request's
            startListing();
            await listingDone;
            throw (stopWith = listingError ?? (listed.length === 0 ? noInstances() : failure));
          }
          if (failure && failure.reason !== PacsReason.Cancelled) fatal ??= failure;
          startListing();
          await listingDone;
          if (listingError && !fatal && !task.cancelled && received === 0) fatal = listingError;
          if (!fatal && !task.cancelled && listed.length === 0 && received === 0) throw (stopWith = noInstances());
          todo = listed.filter((l) => !outcomes.has(l.sop));
          if (todo.length > 0 && !fatal && !task.cancelled) await fetchDimse(images(todo), new Set(todo.map((l) => l.sop)));
        } else {
          // only the missing images (or, to fetch again, the whole study / series)
          await fetchDimse(cachedBefore.size === 0 ? [{ study: target.study, ...(series ? { series } : {}) }] : images(todo), new Set(todo.map((l) => l.sop)));
        }
        for (const l of todo) {
          if (!outcomes.has(l.sop)) failOne(l.sop, new PacsError(PacsReason.DimseFailure, `The PACS did not send instance ${l.sop}.`, 'Retrieve again; only what is missing will be asked for.'));
        }
      }
    }
  } catch (err) {
    if (stopWith) throw stopWith;
    const e = toPacsError(err);
    if (e.reason !== PacsReason.Cancelled) fatal ??= e;
  }
  while (writes.size) await Promise.all(writes);
  const fetched = Date.now();
  phases.fetch = fetched - t0;
  await drained();
  if (studyTrees.size) {
    try {
      ctx.fingerprinter?.rebuildStudyTrees?.(studyTrees);
    } catch {
      // rebuilt by the next fingerprint run of the study (an anchor, a study verification)
    }
  }
  phases.afterLastArrival = Date.now() - fetched;
  const cancelled = task.cancelled;
  // instances never reached (fatal error or cancel): reported as failed with the reason
  if (fatal || cancelled) {
    for (const l of todo) {
      if (!outcomes.has(l.sop)) {
        outcomes.set(l.sop, { sopInstanceUid: l.sop, seriesInstanceUid: l.series, path: null, arrival: 'failed', verification: null, differs: [], message: fatal ? fatal.message : 'Cancelled before it arrived.', reason: fatal?.reason ?? PacsReason.Cancelled });
      }
    }
  }
  if (ctx.verifier) {
    // instances cached before: verify them too, so the report covers the whole study / series
    const again = [...outcomes.values()].filter((o) => o.arrival === 'cached-before' && o.path);
    if (again.length) {
      try {
        const v = await ctx.verifier.verifyFiles(again.map((o) => o.path!));
        const byPath = new Map(v.map((x) => [x.path, x]));
        for (const o of again) {
          const x = byPath.get(o.path!);
          if (x) Object.assign(o, { verification: x.state, differs: x.differs, message: x.message });
        }
      } catch {
        // reported as not verified (verification null)
      }
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  // series learnt from the listing after the instance arrived (a study streamed before its listing came)
  for (const o of outcomes.values()) {
    if (o.seriesInstanceUid === null && seriesOf.has(o.sopInstanceUid)) {
      o.seriesInstanceUid = seriesOf.get(o.sopInstanceUid)!;
      ctx.cache.setUids(o.sopInstanceUid, target.study, o.seriesInstanceUid);
    }
  }
  const named = new Set(listed.map((l) => l.sop));
  const instances = [...listed.map((l) => outcomes.get(l.sop)!).filter(Boolean), ...[...outcomes.values()].filter((o) => !named.has(o.sopInstanceUid))];
  const verification: Record<string, number> = {};
  for (const o of instances) if (o.verification) verification[o.verification] = (verification[o.verification] ?? 0) + 1;
  report(true);
  return {
    connection: ctx.connectionName,
    via,
    studyInstanceUid: target.study,
    seriesInstanceUid: series,
    listed: Math.max(listed.length, instances.length),
    alreadyCached: cachedBefore.size,
    received,
    failed: instances.filter((o) => o.arrival === 'failed').length,
    imported,
    verification,
    instances,
    bytes,
    seconds,
    imagesPerSecond: seconds > 0 ? received / seconds : 0,
    mbPerSecond: seconds > 0 ? bytes / 1e6 / seconds : 0,
    cancelled,
    phases,
    error: fatal ? fatal.toJSON() : null,
  };
}
