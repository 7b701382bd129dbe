/**
 * Handlers of the PACS domain (src/shared/api/pacs.ts): connections (secrets go in, never out),
 * test, search, series, retrieve and send as tasks. The work is in src/node/pacs; this file only
 * translates requests and answers.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PacsConnectionForm, PacsConnectionInfo, PacsFailure, PacsRetrieveReport, PacsSendAnchor, pacsChannels } from '../../shared/api/pacs';
import { LedgerSettings } from '../ledger/settings';
import { PacsError, PacsReason, type ConnectionInput, type PacsConnection } from '../pacs';
import { resolveStore, storageUriOf } from '../pacs/secondary';
import { sourceOf } from '../pacs/retrieve';
import type { Services } from '../services';
import { Task } from '../tasks';
import type { HandlerTable } from './dispatch';

function caSubject(pem: string | null): string | null {
  if (!pem) return null;
  try {
    const subject = new X509Certificate(pem).subject;
    const cn = /CN=([^\n,]+)/.exec(subject)?.[1];
    return cn ?? subject.replace(/\n/g, ', ');
  } catch {
    return 'unreadable certificate';
  }
}

export function connectionInfo(c: PacsConnection): PacsConnectionInfo {
  return {
    id: c.id,
    name: c.name,
    dicomweb: c.dicomweb
      ? {
          url: c.dicomweb.url,
          auth: c.dicomweb.auth,
          username: c.dicomweb.username,
          hasPassword: c.dicomweb.auth === 'basic' && c.dicomweb.hasSecret,
          hasToken: c.dicomweb.auth === 'bearer' && c.dicomweb.hasSecret,
          caSubject: caSubject(c.dicomweb.caPem),
        }
      : null,
    dimse: c.dimse,
    timeoutMs: c.timeoutMs,
    updatedAt: c.updatedAt,
  };
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new PacsError(PacsReason.Invalid, `The CA certificate file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}).`, 'Choose the PEM file the PACS administrator gave you (it starts with -----BEGIN CERTIFICATE-----).');
  }
}

/** The settings form as the domain's input; `old` (update) supplies the CA kept when no new file is given. */
function toInput(f: PacsConnectionForm, old: PacsConnection | null): ConnectionInput {
  const w = f.dicomweb ?? null;
  let caPem: string | null = null;
  if (w?.caPath) caPem = readCa(w.caPath);
  else if (w && old?.dicomweb?.caPem && w.keepCa !== false) caPem = old.dicomweb.caPem;
  return {
    name: f.name,
    dicomweb: w ? { url: w.url, auth: w.auth, username: w.username ?? null, secret: w.secret, caPem } : null,
    dimse: f.dimse ? { host: f.dimse.host, port: f.dimse.port, calledAet: f.dimse.calledAet, callingAet: f.dimse.callingAet } : null,
    timeoutMs: f.timeoutMs,
  };
}

function failure(e: { code: string; message: string; hint?: string; reason?: string } | null): PacsFailure | null {
  if (!e) return null;
  return { code: e.code, reason: (e.reason ?? PacsReason.ConnectionLost) as PacsFailure['reason'], message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
}

/** The study's newest anchor on this workstation and the connection its storage URI resolves to (a DB read: no ledger started). */
function anchorOf(s: Services, studyInstanceUid: string): PacsSendAnchor | null {
  const r = s.db
    .prepare('SELECT root, storage_uri, block_number FROM ledger_anchors WHERE study_instance_uid = ? ORDER BY created_at DESC, rowid DESC LIMIT 1')
    .get(studyInstanceUid) as { root: string; storage_uri: string; block_number: number | null } | undefined;
  if (!r) return null;
  let connectionId: number | null = null;
  let storeProblem: string | null = null;
  try {
    connectionId = resolveStore(s.pacs.list(), r.storage_uri).id;
  } catch (err) {
    storeProblem = err instanceof Error ? err.message : String(err);
  }
  return { root: r.root, storageUri: r.storage_uri, connectionId, storeProblem, delivery: r.block_number !== null ? 'confirmed' : 'pending' };
}

/** The study's (or one series') files in reading order: series number, then instance number. */
function studyFiles(s: Services, studyId: number, seriesId?: number): { studyInstanceUid: string; paths: string[] } {
  const { study, series } = s.library.series(studyId);
  const chosen = seriesId === undefined ? series : series.filter((se) => se.id === seriesId);
  if (seriesId !== undefined && chosen.length === 0) throw new PacsError(PacsReason.Invalid, `Series ${seriesId} is not part of this study in the library.`, 'Open the study again and choose one of its series.');
  return { studyInstanceUid: study.studyInstanceUid, paths: chosen.flatMap((se) => s.library.instances(se.id).instances.map((i) => i.filePath)) };
}

export function pacsHandlers(s: Services): Pick<HandlerTable, keyof typeof pacsChannels> {
  const pacs = () => s.pacs;
  return {
    'pacs.connections.list': () => ({ connections: pacs().list().map(connectionInfo) }),
    'pacs.connections.add': (f) => connectionInfo(pacs().add(toInput(f, null))),
    'pacs.connections.update': ({ id, ...f }) => connectionInfo(pacs().update(id, toInput(f, pacs().connections.get(id)))),
    'pacs.connections.remove': ({ id }) => ({ removed: pacs().remove(id) }),
    'pacs.connections.test': async ({ id }) => {
      const r = await pacs().test(id);
      return {
        connection: r.connection,
        dicomweb: r.dicomweb ? (r.dicomweb.ok ? { ok: true as const, ms: r.dicomweb.ms, studiesSeen: r.dicomweb.studiesSeen } : { ok: false as const, ms: r.dicomweb.ms, error: failure(r.dicomweb.error)! }) : null,
        dimse: r.dimse ? (r.dimse.ok ? { ok: true as const, ms: r.dimse.ms } : { ok: false as const, ms: r.dimse.ms, error: failure(r.dimse.error)! }) : null,
        ok: r.ok,
      };
    },
    'pacs.search': ({ connectionId, source, ...q }) => pacs().searchStudies(connectionId, q, { source }),
    'pacs.series': async ({ connectionId, studyInstanceUid, source }) => ({ series: await pacs().searchSeries(connectionId, studyInstanceUid, { source }) }),

    'pacs.retrieve': async ({ connectionId, studyInstanceUid, seriesInstanceUid, via, refetch }) => {
      let taskId = '';
      // The first image of the asked series goes into the library at once (the batch import of
      // the retrieve finds it indexed), so the viewer can show it while the rest arrives.
      let first: Promise<void> | null = null;
      const source = sourceOf(pacs().connections.get(connectionId).name);
      const report = await s.tasks.run(
        'pacs-retrieve',
        null,
        (task) =>
          pacs().retrieve(
            connectionId,
            { study: studyInstanceUid, series: seriesInstanceUid ?? null, via, refetch },
            task,
            {
              onInstance: (c) => {
                if (first || (seriesInstanceUid && c.seriesInstanceUid !== seriesInstanceUid)) return;
                first = s.library.import([c.path], new Task('pacs-first-image', 1, () => {}), { source }).then(
                  async () => {
                    // the same image as the library's (only the file differs): no copy, the library's is shown
                    await s.settlePacsCopies([c.path]).catch(() => 0);
                    // indexed from this file, or (byte-identical) the library's instance of it
                    const at = s.library.instanceAtPath(c.path) ?? s.library.instanceOfSop(c.sopInstanceUid, source);
                    if (!at) return;
                    s.emit({ type: 'library-changed', reason: 'import', studyIds: [at.studyId] });
                    s.emit({ type: 'pacs-retrieve', taskId: task.id, studyInstanceUid, seriesInstanceUid: seriesInstanceUid ?? null, studyId: at.studyId, seriesId: at.seriesId, source });
                  },
                  (err: unknown) => s.log.warn('PACS retrieve: indexing the first image failed', { error: err instanceof Error ? err.message : String(err) }),
                );
              },
            },
          ),
        (task) => (taskId = task.id),
      );
      if (first) await first;
      // Where it is in the library now: the first instance of the asked series indexed from the cache.
      let studyId: number | null = null;
      let seriesId: number | null = null;
      const notIndexed: PacsRetrieveReport['notIndexed'] = [];
      let copies = 0;
      for (const o of report.instances) {
        if (!o.path) continue;
        // indexed from this file (new, or a PACS copy with other bytes), else the identical library instance
        const atPath = s.library.instanceAtPath(o.path);
        const at = atPath ?? s.library.instanceOfSop(o.sopInstanceUid, source);
        if (atPath && s.library.instance(atPath.instanceId).copyOf !== null) copies++;
        if (at && seriesId === null && (!seriesInstanceUid || o.seriesInstanceUid === seriesInstanceUid)) {
          studyId = at.studyId;
          seriesId = at.seriesId;
        }
        if (!at && notIndexed.length < 50) {
          const c = pacs().cache.get(o.sopInstanceUid);
          notIndexed.push({ sopInstanceUid: o.sopInstanceUid, message: c?.message ?? 'not indexed' });
        }
      }
      if (studyId !== null) s.emit({ type: 'library-changed', reason: 'import', studyIds: [studyId] });
      const problems = report.instances
        .filter((o) => o.arrival === 'failed' || (o.verification !== null && o.verification !== 'verified'))
        .slice(0, 50)
        .map((o) => ({ sopInstanceUid: o.sopInstanceUid, arrival: o.arrival, verification: o.verification, differs: o.differs, message: o.message, ...(o.reason ? { reason: o.reason } : {}) }));
      return {
        taskId,
        connection: report.connection,
        via: report.via,
        studyInstanceUid: report.studyInstanceUid,
        seriesInstanceUid: report.seriesInstanceUid,
        listed: report.listed,
        alreadyCached: report.alreadyCached,
        received: report.received,
        failed: report.failed,
        imported: report.imported,
        verification: report.verification,
        problems,
        notIndexed,
        bytes: report.bytes,
        seconds: report.seconds,
        imagesPerSecond: report.imagesPerSecond,
        mbPerSecond: report.mbPerSecond,
        cancelled: report.cancelled,
        error: failure(report.error),
        studyId,
        seriesId,
        source,
        copies,
      };
    },

    'pacs.send': async ({ connectionId, studyId, seriesId, via }) => {
      const { studyInstanceUid, paths } = studyFiles(s, studyId, seriesId);
      if (paths.length === 0) throw new PacsError(PacsReason.Invalid, 'This study has no images in the library to send.', 'Import the study again, then send it.');
      let taskId = '';
      const r = await s.tasks.run(
        'pacs-send',
        paths.length,
        (task) =>
          pacs().send(connectionId, paths, task, via, {
            onResult: (x, index) => s.emit({ type: 'pacs-send', taskId: task.id, index, total: paths.length, sopInstanceUid: x.sopInstanceUid, ok: x.ok, message: x.message }),
          }),
        (task) => (taskId = task.id),
      );
      const anchor = anchorOf(s, studyInstanceUid);
      return {
        taskId,
        connection: r.connection,
        via: r.via,
        sent: r.sent,
        failed: r.failed,
        results: r.results.map((x) => ({ sopInstanceUid: x.sopInstanceUid, ok: x.ok, message: x.message })),
        bytes: r.bytes,
        seconds: r.seconds,
        cancelled: r.cancelled,
        error: failure(r.error),
        anchor,
        anchorNamesThisPacs: anchor?.connectionId === connectionId,
      };
    },

    'pacs.sendPlan': ({ studyId, seriesId }) => {
      const { studyInstanceUid, paths } = studyFiles(s, studyId, seriesId);
      const storeOf: Record<string, string> = {};
      for (const c of pacs().list()) storeOf[String(c.id)] = storageUriOf(c);
      return { studyId, studyInstanceUid, instances: paths.length, anchor: anchorOf(s, studyInstanceUid), newAnchorStore: new LedgerSettings(s.db).get('storage-uri'), storeOf };
    },

    'pacs.anchorStore.set': ({ connectionId }) => {
      const settings = new LedgerSettings(s.db);
      settings.set('storage-uri', connectionId === null ? null : storageUriOf(pacs().connections.get(connectionId)));
      return { storageUri: settings.get('storage-uri') };
    },
  };
}
