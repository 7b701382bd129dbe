/**
 * Secondary access (MedImgShr's "address first, then file"; docs/pacs.md § Secondary access): from a
 * study record on chain (its Merkle root and storage URI) to the files. The storage URI is resolved
 * to a configured PACS connection, the study is found there, retrieved, and checked against that
 * record: the retrieved instances' Merkle root must be the record's root (and, where this
 * workstation has the anchored manifest, each instance is verified and what differs is named).
 *
 * Storage URIs a study record carries (no patient data, no UIDs: only where the files are):
 *
 *   dicomweb:<DICOMweb root URL>     dicomweb:https://pacs.example.org/dicom-web
 *   dimse:<AE title>@<host>:<port>   dimse:ARCHIVE@10.0.0.5:11112
 *   pacs:<connection name>           pacs:hospital   (a name every workstation of the region uses)
 *   medimg-blob://<institution>      the default: that institution's encrypted blob store; its
 *                                    files reach others only as share packages (the Inbox)
 *
 * The chain keeps no Study Instance UID, so the study is named by this workstation's anchor of that
 * root (ledger_anchors) or by the caller (`--study`, e.g. from the referral).
 */
import { isIP } from 'node:net';
import { buildStudyTree, leafValue, type LeafValue } from '../../core/fingerprint';
import type { RecordEvidence } from '../../shared/api/ledger';
import { AppError, ErrorCode } from '../../shared/errors';
import type { Db } from '../store/database';
import type { Task } from '../tasks';
import type { Pacs } from './index';
import type { PacsConnection } from './connections';
import { PacsError, PacsReason } from './errors';
import type { RetrieveReport } from './retrieve';

export type StoreRef =
  | { kind: 'dicomweb'; url: string }
  | { kind: 'dimse'; aeTitle: string; host: string; port: number }
  | { kind: 'pacs'; name: string }
  | { kind: 'blob'; institution: string }
  | { kind: 'unknown'; uri: string };

/** Parses a record's storage URI (see the module comment). A bare http(s) URL is taken as a DICOMweb root. */
export function parseStorageUri(uri: string): StoreRef {
  const u = uri.trim();
  if (u.startsWith('dicomweb:')) return { kind: 'dicomweb', url: u.slice('dicomweb:'.length) };
  if (/^https?:\/\//i.test(u)) return { kind: 'dicomweb', url: u };
  const d = /^dimse:([^@]{1,16})@(\[[^\]]+\]|[^:]+):(\d{1,5})\/?$/.exec(u);
  if (d) return { kind: 'dimse', aeTitle: d[1]!.trim(), host: d[2]!.replace(/^\[|\]$/g, ''), port: Number(d[3]) };
  if (u.startsWith('pacs:')) return { kind: 'pacs', name: decodeURIComponent(u.slice('pacs:'.length)) };
  const b = /^medimg-blob:\/\/([^/]+)/.exec(u);
  if (b) return { kind: 'blob', institution: b[1]! };
  return { kind: 'unknown', uri: u };
}

/** The storage URI to anchor a study with when its files are kept on this PACS connection. */
export function storageUriOf(c: PacsConnection): string {
  if (c.dicomweb) return `dicomweb:${c.dicomweb.url}`;
  if (c.dimse) return `dimse:${c.dimse.calledAet}@${c.dimse.host.includes(':') ? `[${c.dimse.host}]` : c.dimse.host}:${c.dimse.port}`;
  return `pacs:${encodeURIComponent(c.name)}`;
}

const normUrl = (u: string): string => {
  try {
    const x = new URL(u);
    return `${x.protocol}//${x.host.toLowerCase()}${x.pathname.replace(/\/+$/, '')}`;
  } catch {
    return u.replace(/\/+$/, '');
  }
};
const quote = (v: string) => (/^[A-Za-z0-9._:/@-]+$/.test(v) ? v : `"${v.replace(/"/g, '\\"')}"`);

/** The configured connection a storage URI names; throws UNKNOWN_STORE with the exact `pacs add` command, or NOT_A_PACS. */
export function resolveStore(connections: PacsConnection[], uri: string): PacsConnection {
  const ref = parseStorageUri(uri);
  let hit: PacsConnection | undefined;
  let add: string;
  switch (ref.kind) {
    case 'dicomweb': {
      hit = connections.find((c) => c.dicomweb && normUrl(c.dicomweb.url) === normUrl(ref.url));
      let host = 'pacs';
      try {
        const h = new URL(ref.url).hostname;
        host = isIP(h.replace(/^\[|\]$/g, '')) || h === 'localhost' ? 'pacs' : h.split('.')[0] || 'pacs';
      } catch {
        // keep "pacs"
      }
      add = `medimgshr pacs add ${quote(host.replace(/[^A-Za-z0-9-]/g, '-'))} --url ${quote(ref.url)}`;
      break;
    }
    case 'dimse':
      hit = connections.find((c) => c.dimse && c.dimse.calledAet === ref.aeTitle && c.dimse.host.toLowerCase() === ref.host.toLowerCase() && c.dimse.port === ref.port);
      add = `medimgshr pacs add ${quote(ref.aeTitle.toLowerCase().replace(/[^a-z0-9-]/g, '-'))} --host ${quote(ref.host)} --port ${ref.port} --called-aet ${quote(ref.aeTitle)}`;
      break;
    case 'pacs':
      hit = connections.find((c) => c.name === ref.name);
      add = `medimgshr pacs add ${quote(ref.name)} --url <its DICOMweb root>   (or --host … --port … --called-aet …)`;
      break;
    case 'blob':
      throw new PacsError(
        PacsReason.NotAPacs,
        `This record's files are in the encrypted store of institution ${ref.institution} (${uri}), not in a PACS.`,
        'Its images reach another institution only as a share package: ask the institution to share the study; it then appears in the Inbox.',
      );
    default:
      throw new PacsError(PacsReason.UnknownStore, `This record names a store this app cannot open: "${uri}".`, 'Known forms: dicomweb:<URL>, dimse:<AE>@<host>:<port>, pacs:<name>.');
  }
  if (!hit) {
    throw new PacsError(PacsReason.UnknownStore, `The record's images are in ${uri}, and no PACS connection on this workstation points there.`, `Add it (ask its administrator for access), then open the record again: ${add}`);
  }
  return hit;
}

export interface OpenRecordInstance {
  sopInstanceUid: string;
  /** verified / altered / not-registered … (per instance; null when this workstation has no manifest of the record) */
  verification: string | null;
  differs: string[];
  message: string | null;
}

export interface OpenRecordResult {
  root: string;
  record: RecordEvidence;
  store: { uri: string; connection: string };
  studyInstanceUid: string;
  /** Where the Study Instance UID came from. */
  studyFrom: 'caller' | 'local-anchor';
  /** verified: the retrieved images make exactly the record's root; altered: they do not; incomplete: not all arrived. */
  state: 'verified' | 'altered' | 'incomplete';
  /** What differs, when known from the manifest (metadata, pixels); empty otherwise. */
  differs: string[];
  /** The Merkle root of what was retrieved (null when nothing could be fingerprinted). */
  retrievedRoot: string | null;
  retrieved: { listed: number; received: number; failed: number; via: string; seconds: number };
  verification: Record<string, number>;
  instances: OpenRecordInstance[];
  message: string;
}

/** What secondary access needs of the ledger: a record by its root (null when the chain has none; throws when unreachable). */
export interface RecordReader {
  record(root: string): Promise<RecordEvidence | null>;
}

export interface SecondaryDeps {
  db: Db;
  pacs: Pacs;
  ledger: RecordReader;
}

/** The Study Instance UID this workstation anchored under `root`, if any. */
export function localStudyOfRoot(db: Db, root: string): string | null {
  const r = db.prepare('SELECT study_instance_uid AS uid FROM ledger_anchors WHERE lower(root) = lower(?) LIMIT 1').get(root) as { uid: string } | undefined;
  return r?.uid ?? null;
}

/** Address first, then file: record → store → study → retrieve → verify against that record. */
export async function openRecord(deps: SecondaryDeps, rootIn: string, opts: { study?: string | null; task: Task }): Promise<OpenRecordResult> {
  const root = rootIn.trim().toLowerCase();
  if (!/^0x[0-9a-f]{64}$/.test(root)) throw new AppError(ErrorCode.InvalidArgument, `"${rootIn}" is not a study root (0x followed by 64 hex digits).`, 'Copy the root from the trust panel or `medimgshr verify`.');
  const record = await deps.ledger.record(root);
  if (!record) {
    throw new AppError(ErrorCode.NotFound, `The ledger has no record with root ${root}.`, 'Check the root, and that this workstation uses the same ledger as the institution that anchored it.');
  }
  const connection = resolveStore(deps.pacs.list(), record.storageUri);
  const local = localStudyOfRoot(deps.db, root);
  const studyInstanceUid = opts.study?.trim() || local;
  if (!studyInstanceUid) {
    throw new AppError(
      ErrorCode.NotFound,
      `The record names the store (${connection.name}) but, as the ledger keeps no identifiers, not the study; this workstation did not anchor it.`,
      `Give the Study Instance UID (from the referral or the sender): medimgshr open-record ${root} --study <Study Instance UID>`,
    );
  }
  const found = await deps.pacs.searchStudies(connection.id, { studyInstanceUid });
  if (found.studies.length === 0) {
    throw new PacsError(PacsReason.NotFoundOnPacs, `${connection.name} does not have the study ${studyInstanceUid} any more.`, 'Ask the institution that anchored it where the images are now.');
  }
  opts.task.progress({ label: `retrieving from ${connection.name}` }, true);
  const report: RetrieveReport = await deps.pacs.retrieve(connection.id, { study: studyInstanceUid, refetch: true }, opts.task);
  if (report.error && report.received === 0) throw new PacsError(report.error.reason, report.error.message, report.error.hint);

  // The root of what arrived, from each retrieved file's digests (computed on import / verification).
  const paths = report.instances.filter((i) => i.path && i.arrival !== 'failed').map((i) => i.path!);
  const fp = deps.db.prepare('SELECT pixel_sha256 AS pixel, meta_sha256 AS meta, uid_hash AS uid FROM fingerprint_files WHERE path = ?');
  const values: LeafValue[] = [];
  for (const p of paths) {
    const r = fp.get(p) as { pixel: string | null; meta: string | null; uid: string | null } | undefined;
    if (r?.pixel && r.meta && r.uid) values.push(leafValue(r.pixel, r.meta, r.uid));
  }
  const retrievedRoot = values.length ? buildStudyTree(values).root.toLowerCase() : null;
  const instances: OpenRecordInstance[] = report.instances.map((i) => ({ sopInstanceUid: i.sopInstanceUid, verification: i.verification, differs: i.differs, message: i.message }));
  const differs = [...new Set(instances.flatMap((i) => i.differs))].sort();
  const complete = report.failed === 0 && values.length === report.listed;
  const state: OpenRecordResult['state'] = retrievedRoot === root && values.length === record.leafCount ? 'verified' : !complete ? 'incomplete' : 'altered';
  const where = `${connection.name} (${record.storageUri})`;
  const message =
    state === 'verified'
      ? `Verified: the ${values.length} image(s) retrieved from ${where} are exactly the ones recorded on the ledger (root ${root.slice(0, 10)}…).`
      : state === 'incomplete'
        ? `Incomplete: ${report.received} of ${report.listed} image(s) arrived from ${where} (${report.failed} failed); the record holds ${record.leafCount}.`
        : `ALTERED: the images on ${where} do not match the record on the ledger${differs.length ? ` (${differs.join(' and ')} differ)` : ''}: ${values.length} image(s) give root ${retrievedRoot?.slice(0, 10)}…, the record is ${root.slice(0, 10)}… with ${record.leafCount}.`;
  return {
    root,
    record,
    store: { uri: record.storageUri, connection: connection.name },
    studyInstanceUid,
    studyFrom: opts.study?.trim() ? 'caller' : 'local-anchor',
    state,
    differs,
    retrievedRoot,
    retrieved: { listed: report.listed, received: report.received, failed: report.failed, via: report.via, seconds: report.seconds },
    verification: report.verification,
    instances,
    message,
  };
}

export interface RecordStoreCheck {
  root: string;
  storageUri: string;
  /** This workstation's library holds every image of the record (by the local anchor's manifest). */
  inLibrary: boolean;
  /** The connection the storage URI resolves to, or null (then `problem` and `hint` say why and what to do). */
  connection: string | null;
  problem: string | null;
  hint: string | null;
}

/** Can the record be opened from its store here, and is it needed (are its images already in the library)? */
export async function checkRecordStore(deps: SecondaryDeps, rootIn: string): Promise<RecordStoreCheck> {
  const root = rootIn.trim().toLowerCase();
  const record = await deps.ledger.record(root);
  if (!record) throw new AppError(ErrorCode.NotFound, `The ledger has no record with root ${root}.`);
  const have = deps.db
    .prepare('SELECT COUNT(DISTINCT ai.sop_instance_uid) AS n FROM ledger_anchor_instances ai JOIN instances i ON i.sop_uid = ai.sop_instance_uid WHERE lower(ai.root) = ?')
    .get(root) as { n: number };
  const inLibrary = have.n >= record.leafCount && record.leafCount > 0;
  try {
    const c = resolveStore(deps.pacs.list(), record.storageUri);
    return { root, storageUri: record.storageUri, inLibrary, connection: c.name, problem: null, hint: null };
  } catch (err) {
    if (!(err instanceof PacsError)) throw err;
    return { root, storageUri: record.storageUri, inLibrary, connection: null, problem: err.message, hint: err.hint ?? null };
  }
}
