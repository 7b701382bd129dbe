/**
 * Retrieve a study or a series from a PACS into the cache and the library, verifying what arrives.
 *
 *   wado-rs  per-instance WADO-RS with transfer-syntax=* (the stored encoding is kept), 4 at a time
 *   c-get    one association; the PACS sends the instances back on it
 *   c-move   the PACS sends to our Storage SCP (which must be running, and known to the PACS)
 *
 * The instance list comes first (QIDO-RS / C-FIND at IMAGE level); SOP Instance UIDs already in the
 * cache are skipped, so a retrieve that was cancelled, killed or cut off resumes without
 * duplicates. Arrivals are imported and verified in batches while the rest is still arriving.
 * One instance that fails (404, not DICOM) is reported and the rest goes on; a failure no further
 * request can get past (refused, DNS, 401/403, association rejected) ends the retrieve.
 */
import type { Task } from '../tasks';
import type { InstanceCache, ArrivalVia, CachedInstance } from './cache';
import type { DicomWebClient } from './dicomweb';
import type { DimseClient } from './dimse';
import { isFatalForServer, PacsError, PacsReason, toPacsError, type PacsApiError } from './errors';
import { listInstancesDimse, listInstancesWeb } from './search';
import type { StoredInstance } from './storage-scp';

export type RetrieveVia = 'wado-rs' | 'c-get' | 'c-move';

/** The library `source` of what a connection returned (a PACS copy is labelled with it). */
export const sourceOf = (connectionName: string): string => `pacs:${connectionName}`;

/** What the library domain offers the PACS (today: Library.import). */
export interface LibraryImporter {
  /** `source` names where the files came from ('pacs:<connection>', 'scp:<calling AE title>'): a file whose SOP Instance UID is indexed with other bytes becomes a copy of that instance, shown and verified on its own. */
  importFiles(paths: string[], opts?: { source?: string }): Promise<{ instanceIds: number[]; rejected: { path: string; code: string; reason: string }[] }>;
  /** After fingerprinting: drops the copies among these files whose image equals the library's (only the file meta header or encoding differ). */
  settleCopies?(paths: string[]): Promise<number>;
}

/** What the fingerprint domain offers the PACS (today: FingerprintEngine.fingerprintPaths). */
export interface InstanceFingerprinter {
  fingerprintFiles(paths: string[]): Promise<void>;
}

/** What the ledger domain offers the PACS (today: Verifier.verifyEntries; it fingerprints what it has no digests of). */
export interface InstanceVerifier {
  verifyFiles(paths: string[]): Promise<{ path: string; state: string; message: string; differs: string[] }[]>;
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
  /** For c-move: our Storage SCP's AE title and a way to hear its arrivals (returns an unsubscribe). */
  moveDestination?: { aeTitle: string; subscribe(listener: (i: StoredInstance, cached: CachedInstance) => void): () => void } | null;
  /** Called for each instance once it is cached (before import / verification). */
  onInstance?: (i: CachedInstance) => void;
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

  // 1. What is there
  task.progress({ label: 'listing instances', done: 0 }, true);
  const listed = via === 'wado-rs' ? await listInstancesWeb(ctx.web!, target.study, series, task.signal) : await listInstancesDimse(ctx.dimse!, target.study, series, task.signal);
  if (listed.length === 0) {
    throw new PacsError(PacsReason.NotFoundOnPacs, `The PACS has no instances of ${series ? `series ${series}` : `study ${target.study}`}.`, 'Search again; it may have been deleted or its UID mistyped.');
  }
  const seriesOf = new Map(listed.map((l) => [l.sop, l.series]));
  const cachedBefore = target.refetch ? new Set<string>() : ctx.cache.cachedSet(listed.map((l) => l.sop));
  for (const l of listed) {
    if (cachedBefore.has(l.sop)) {
      const c = ctx.cache.get(l.sop)!;
      outcomes.set(l.sop, { sopInstanceUid: l.sop, seriesInstanceUid: l.series, path: c.path, arrival: 'cached-before', verification: c.verification, differs: [], message: null });
    }
  }
  const todo = listed.filter((l) => !cachedBefore.has(l.sop));
  const total = listed.length;
  const rate = () => {
    const s = Math.max((Date.now() - t0) / 1000, 1e-3);
    return `${(received / s).toFixed(1)} images/s, ${(bytes / 1e6 / s).toFixed(1)} MB/s`;
  };
  const report = (force = false) => task.progress({ done: cachedBefore.size + received, failed, total, label: rate() }, force);
  report(true);

  // 2. Import + verify in batches, in the background, in arrival order
  const batchSize = ctx.batchSize ?? 16;
  let batch: CachedInstance[] = [];
  let chain: Promise<void> = Promise.resolve();
  const flush = () => {
    if (batch.length === 0) return;
    const b = batch;
    batch = [];
    chain = chain.then(async () => {
      const paths = b.map((c) => c.path);
      try {
        const r = await ctx.importer.importFiles(paths, { source: sourceOf(ctx.connectionName) });
        const bad = new Map(r.rejected.map((x) => [x.path, x]));
        for (const c of b) {
          const rej = bad.get(c.path);
          // "unchanged" (an identical file already indexed) is fine
          ctx.cache.setState(c.path, rej ? 'import-failed' : 'imported', rej ? `${rej.code}: ${rej.reason}` : null);
          if (!rej) imported++;
        }
      } catch (err) {
        for (const c of b) ctx.cache.setState(c.path, 'import-failed', err instanceof Error ? err.message : String(err));
      }
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
        try {
          const v = await ctx.verifier.verifyFiles(paths);
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
      // a PACS copy is kept only where the image differs (the digests are known now)
      try {
        await ctx.importer.settleCopies?.(paths);
      } catch {
        // kept as copies: shown as the PACS's version, verified on their own
      }
    });
  };

  const arrived = (file: Uint8Array, sop: string, seriesUid: string | null, arrival: ArrivalVia, callingAet?: string) => {
    const c = ctx.cache.put(file, { sopInstanceUid: sop, studyInstanceUid: target.study, seriesInstanceUid: seriesUid, connectionId: ctx.connectionId, via: arrival, callingAet });
    bytes += file.byteLength;
    received++;
    outcomes.set(sop, { sopInstanceUid: sop, seriesInstanceUid: seriesUid, path: c.path, arrival: 'received', verification: null, differs: [], message: null });
    ctx.onInstance?.(c);
    batch.push(c);
    if (batch.length >= batchSize) flush();
    report();
    return c;
  };
  const failOne = (sop: string, e: PacsError) => {
    failed++;
    outcomes.set(sop, { sopInstanceUid: sop, seriesInstanceUid: seriesOf.get(sop) ?? null, path: null, arrival: 'failed', verification: null, differs: [], message: e.message, reason: e.reason });
    report();
  };

  // 3. Fetch what is missing
  try {
    if (todo.length > 0) {
      if (via === 'wado-rs') {
        let next = 0;
        const worker = async () => {
          while (!fatal && !task.cancelled) {
            const l = todo[next++];
            if (!l) return;
            try {
              const file = await ctx.web!.retrieveInstance(l.study, l.series, l.sop, { signal: task.signal });
              arrived(file, l.sop, l.series, 'wado-rs');
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
        // A whole study / series in one request when nothing is cached; else only the missing images.
        const targets = cachedBefore.size === 0 ? [{ study: target.study, ...(series ? { series } : {}) }] : todo.map((l) => ({ study: l.study, series: l.series, sop: l.sop }));
        const wanted = new Set(todo.map((l) => l.sop));
        if (via === 'c-get') {
          await ctx.dimse!.get(
            targets,
            async (i) => {
              if (!wanted.has(i.sopInstanceUid)) return; // not asked for (the PACS sent more)
              arrived(i.file, i.sopInstanceUid, seriesOf.get(i.sopInstanceUid) ?? null, 'c-get');
            },
            { signal: task.signal },
          );
        } else {
          const dest = ctx.moveDestination!;
          const unsubscribe = dest.subscribe((i, c) => {
            if (!wanted.has(i.sopInstanceUid) || outcomes.get(i.sopInstanceUid)?.arrival === 'received') return;
            ctx.cache.setUids(i.sopInstanceUid, target.study, seriesOf.get(i.sopInstanceUid) ?? null);
            bytes += c.size;
            received++;
            outcomes.set(i.sopInstanceUid, { sopInstanceUid: i.sopInstanceUid, seriesInstanceUid: seriesOf.get(i.sopInstanceUid) ?? null, path: c.path, arrival: 'received', verification: null, differs: [], message: null });
            ctx.onInstance?.(c);
            batch.push(c);
            if (batch.length >= batchSize) flush();
            report();
          });
          try {
            await ctx.dimse!.move(dest.aeTitle, targets, { signal: task.signal });
          } finally {
            unsubscribe();
          }
        }
        for (const l of todo) {
          if (!outcomes.has(l.sop)) failOne(l.sop, new PacsError(PacsReason.DimseFailure, `The PACS did not send instance ${l.sop}.`, 'Retrieve again; only what is missing will be asked for.'));
        }
      }
    }
  } catch (err) {
    const e = toPacsError(err);
    if (e.reason !== PacsReason.Cancelled) fatal ??= e;
  }
  flush();
  await chain;
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
  const instances = listed.map((l) => outcomes.get(l.sop)!).filter(Boolean);
  const verification: Record<string, number> = {};
  for (const o of instances) if (o.verification) verification[o.verification] = (verification[o.verification] ?? 0) + 1;
  report(true);
  return {
    connection: ctx.connectionName,
    via,
    studyInstanceUid: target.study,
    seriesInstanceUid: series,
    listed: listed.length,
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
    error: fatal ? fatal.toJSON() : null,
  };
}
