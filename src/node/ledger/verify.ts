/**
 * Verification of displayed images against the chain (docs/ledger.md).
 *
 * Per instance: its digests (reused from the fingerprint store while the file's size and
 * modification time are unchanged, recomputed otherwise) are looked up in the manifests of the
 * anchors made on this workstation by SOP Instance UID. Then, in this call, the chain is asked for
 * the record of each candidate root (getRecord, batched) and, for a matching leaf, the contract's
 * `verifyInstance` view checks the Merkle proof (the proof is also checked locally).
 *
 *   verified          the leaf is in a root that has a record on chain now, proof accepted on chain
 *   altered           a root on chain has this SOP Instance UID with other digests (pixels/metadata)
 *   not-registered    no record on chain covers this instance
 *   ledger-unreachable the chain could not be asked (even if a local anchor exists)
 *   unreadable        the file could not be read or fingerprinted
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildStudyTree, FINGERPRINT_SPEC_VERSION, leafValue, verifyLeafProof, type Bytes32, type LeafValue } from '../../core/fingerprint';
import { decodeContractError } from './contracts';
import type { InstanceVerification, RecordEvidence, StudyVerification, VerificationState } from '../../shared/api/ledger';
import { AppError, ErrorCode } from '../../shared/errors';
import type { ChainConnection } from './client';
import type { LedgerService } from './index';
import { RecentChecks, type FileState } from './recent-checks';

/** How many images are in each state. */
export type VerificationCounts = StudyVerification['counts'];

/** What every gate and the trust panel decide on: each image's result, the counts and the worst state. */
export interface ImagesVerification {
  instances: InstanceVerification[];
  counts: VerificationCounts;
  state: VerificationState;
}

export function countStates(instances: InstanceVerification[]): VerificationCounts {
  const counts: VerificationCounts = { verified: 0, altered: 0, 'not-registered': 0, 'ledger-unreachable': 0, unreadable: 0 };
  for (const i of instances) counts[i.state]++;
  return counts;
}

/** Up to this many instances per call, every Merkle proof is also checked by the contract's verifyInstance view. */
export const ON_CHAIN_PROOF_LIMIT = 64;

export const STATE_ORDER: VerificationState[] = ['verified', 'not-registered', 'ledger-unreachable', 'unreadable', 'altered'];

/** The worst of several states (altered > unreadable > ledger-unreachable > not-registered > verified). */
export function worstState(states: VerificationState[]): VerificationState {
  let w = 0;
  for (const s of states) w = Math.max(w, STATE_ORDER.indexOf(s));
  return STATE_ORDER[w]!;
}

interface FpRow {
  path: string;
  size: number | null;
  mtime_ms: number | null;
  spec_version: number;
  pixel_sha256: string | null;
  meta_sha256: string | null;
  sop_instance_uid: string | null;
  study_instance_uid: string | null;
  uid_hash: string | null;
  leaf: string | null;
  error_code: string | null;
  error_message: string | null;
}

type RecordView = Awaited<ReturnType<ChainConnection['contract']['getRecord']>>;

/** The record of a root, or null when the contract has none (UnknownRecord); transport errors throw. */
async function readRecord(conn: ChainConnection, root: string): Promise<RecordView | null> {
  try {
    return await conn.contract.getRecord(root);
  } catch (err) {
    if (decodeContractError(err)?.name === 'UnknownRecord') return null;
    throw err;
  }
}

interface Candidate {
  root: string;
  pixel: string;
  meta: string;
  uidHash: string;
  leaf: string;
  proof: string[];
  createdAt: string;
}

interface Digest {
  entry: { path: string; instanceId: number | null };
  row: FpRow | null;
  error: string | null;
  cached: boolean;
}

const differsOf = (c: { pixel: string; meta: string }, pixel: string, meta: string): ('pixels' | 'metadata')[] => {
  const d: ('pixels' | 'metadata')[] = [];
  if (c.pixel !== pixel) d.push('pixels');
  if (c.meta !== meta) d.push('metadata');
  return d;
};

/** Whether the chain answers a block-number read within a few seconds. */
async function answers(conn: ChainConnection, ms = 5000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((res) => {
    timer = setTimeout(() => res(false), ms);
  });
  try {
    return await Promise.race([conn.provider.getBlockNumber().then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

export class Verifier {
  /** Recent "verified" results (one dialog verifies once); forgotten at every ledger failure. */
  readonly recent = new RecentChecks();
  private asked = 0;

  constructor(private readonly l: LedgerService) {}

  /** How many images have been checked against the chain so far (reused results are not counted). */
  get imagesCheckedOnChain(): number {
    return this.asked;
  }

  /** Forget every recent result when the ledger stops answering or the chain is reset; returns the unsubscribe. */
  watchLedger(): () => void {
    const monitor = this.l.connection.monitor;
    const onStatus = () => {
      if (monitor.current().state !== 'connected') this.recent.ledgerFailed();
    };
    const onSync = (p: { reset?: boolean }) => {
      if (p.reset) this.recent.ledgerFailed();
    };
    monitor.on('change', onStatus);
    this.l.sync.on('synced', onSync);
    return () => {
      monitor.off('change', onStatus);
      this.l.sync.off('synced', onSync);
    };
  }

  /**
   * The one verification entry point (the export gate, the share gate, the trust panel, the viewer's
   * badges, the PACS): verifies files (with their library ids when known) against the ledger now.
   * With `reuseRecent`, an image verified in the last moments on this ledger (file unchanged, no
   * ledger failure since) is not asked again: the Export or Share dialog's check, then the export or
   * send itself, verify once. Never throws for one bad file.
   */
  async verifyImages(entries: { path: string; instanceId: number | null }[], opts: { onChainProofs?: boolean; reuseRecent?: boolean } = {}): Promise<ImagesVerification> {
    const epoch = this.recent.failureEpoch();
    const conn = await this.l.chain.connection().catch(() => null);
    const ledger = conn ? `${conn.chainId}:${conn.address.toLowerCase()}` : null;
    const files: (FileState | null)[] = entries.map((e) => {
      try {
        const path = resolve(e.path);
        const st = statSync(path);
        return { path, size: st.size, mtimeMs: st.mtimeMs };
      } catch {
        return null;
      }
    });
    let out: (InstanceVerification | null)[] = entries.map((e, i) => {
      const f = files[i];
      const r = opts.reuseRecent && ledger && f ? this.recent.recent(f, ledger) : null;
      return r ? { ...r, instanceId: e.instanceId } : null;
    });
    // Reuse only while the ledger answers now: one block-number read (not a verification). If it
    // fails, that is a ledger failure: nothing earlier is reused and every image is checked again.
    if (conn && out.some((r) => r !== null) && !(await answers(conn))) {
      this.recent.ledgerFailed();
      out = out.map(() => null);
    }
    const todo = entries.map((_, i) => i).filter((i) => out[i] === null);
    if (todo.length) {
      this.asked += todo.length;
      const fresh = await this.checkNow(todo.map((i) => entries[i]!), opts.onChainProofs === undefined ? {} : { onChainProofs: opts.onChainProofs });
      todo.forEach((i, k) => {
        out[i] = fresh[k]!;
        const f = files[i];
        if (ledger && f) this.recent.keep(f, ledger, epoch, fresh[k]!);
      });
    }
    const instances = out as InstanceVerification[];
    return { instances, counts: countStates(instances), state: worstState(instances.map((i) => i.state)) };
  }

  /** Digests of the files: from the store when size and mtime are unchanged, else recomputed (one engine run). */
  private async digests(entries: { path: string; instanceId: number | null }[]): Promise<Digest[]> {
    const db = this.l.ctx.db;
    const byPath = db.prepare('SELECT * FROM fingerprint_files WHERE path = ?');
    const out: Digest[] = [];
    const stale: number[] = [];
    for (const e of entries) {
      const path = resolve(e.path);
      let st;
      try {
        st = statSync(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        out.push({ entry: { ...e, path }, row: null, error: code === 'ENOENT' ? 'The file is no longer there.' : `The file cannot be read (${code ?? String(err)}).`, cached: false });
        continue;
      }
      const r = byPath.get(path) as FpRow | undefined;
      if (r && r.spec_version === FINGERPRINT_SPEC_VERSION && !r.error_code && r.size === st.size && r.mtime_ms === st.mtimeMs && r.leaf) {
        out.push({ entry: { ...e, path }, row: r, error: null, cached: true });
      } else {
        stale.push(out.length);
        out.push({ entry: { ...e, path }, row: null, error: null, cached: false });
      }
    }
    if (stale.length) {
      const run = await this.l.fingerprints.fingerprintPaths(stale.map((i) => out[i]!.entry.path));
      const errs = new Map(run.errors.map((x) => [resolve(x.path), x.message]));
      for (const i of stale) {
        const d = out[i]!;
        const r = byPath.get(d.entry.path) as FpRow | undefined;
        if (errs.has(d.entry.path) || !r || r.error_code || !r.leaf) d.error = errs.get(d.entry.path) ?? r?.error_message ?? 'The file could not be fingerprinted.';
        else d.row = r;
      }
    }
    return out;
  }

  /** Manifest entries of local anchors for these SOP Instance UIDs (newest anchor first). */
  private candidates(sops: string[]): Map<string, Candidate[]> {
    const map = new Map<string, Candidate[]>();
    if (sops.length === 0) return map;
    const q = this.l.ctx.db.prepare(
      `SELECT ai.root, ai.sop_instance_uid, ai.pixel_sha256, ai.meta_sha256, ai.uid_hash, ai.leaf, mp.proof_json, a.created_at
       FROM ledger_anchor_instances ai JOIN ledger_anchors a ON a.root = ai.root JOIN merkle_proofs mp ON mp.root = ai.root AND mp.leaf = ai.leaf
       WHERE ai.sop_instance_uid = ? ORDER BY a.created_at DESC, a.rowid DESC`,
    );
    for (const sop of new Set(sops)) {
      const rows = q.all(sop) as { root: string; pixel_sha256: string; meta_sha256: string; uid_hash: string; leaf: string; proof_json: string; created_at: string }[];
      map.set(
        sop,
        rows.map((r) => ({ root: r.root, pixel: r.pixel_sha256, meta: r.meta_sha256, uidHash: r.uid_hash, leaf: r.leaf, proof: JSON.parse(r.proof_json) as string[], createdAt: r.created_at })),
      );
    }
    return map;
  }

  /** Verifies files against the chain now (one round of reads). Never throws for one bad file. */
  private async checkNow(entries: { path: string; instanceId: number | null }[], opts: { onChainProofs?: boolean } = {}): Promise<InstanceVerification[]> {
    // verifyInstance is a pure function of (root, proof, leaf): the chain computes exactly what the
    // local check computes. What must come from the chain is the record of the root (read in this
    // call). Small batches (the displayed images) are also proven on chain; a whole large study is
    // proven locally against the roots just read, to spare a thousand eth_calls.
    const onChainProofs = opts.onChainProofs ?? entries.length <= ON_CHAIN_PROOF_LIMIT;
    const checkedAt = new Date().toISOString();
    const digests = await this.digests(entries);
    const cands = this.candidates(digests.filter((d) => d.row?.sop_instance_uid).map((d) => d.row!.sop_instance_uid!));

    let conn: ChainConnection | null = null;
    let unreachable: string | null = null;
    try {
      conn = await this.l.chain.connection();
      const st = this.l.connection.monitor.current();
      if (!conn) unreachable = (st.state === 'connected' ? this.l.chain.problem : null) ?? st.message ?? 'the ledger is not connected';
    } catch (err) {
      unreachable = err instanceof Error ? err.message : String(err);
    }

    // One round of chain reads (one JSON-RPC batch): the record of every candidate root, and the
    // on-chain proof check of every instance whose leaf is in a local manifest.
    const planned = new Map<number, Candidate>();
    digests.forEach((d, i) => {
      const m = d.row ? (cands.get(d.row.sop_instance_uid ?? '') ?? []).find((c) => c.leaf === d.row!.leaf) : undefined;
      if (m) planned.set(i, m);
    });
    const views = new Map<string, RecordView | null>();
    const proven = new Map<number, boolean>();
    if (conn) {
      const c = conn.contract;
      const roots = [...new Set([...cands.values()].flat().map((x) => x.root))];
      const proofOf = (i: number, m: Candidate) => {
        const r = digests[i]!.row!;
        return c.verifyInstance(m.root, m.proof, `0x${r.pixel_sha256}`, `0x${r.meta_sha256}`, `0x${r.uid_hash}`);
      };
      try {
        const [recs, proofs] = await Promise.all([
          Promise.all(roots.map((r) => readRecord(conn!, r))),
          Promise.all([...planned].map(([i, m]) => (onChainProofs ? proofOf(i, m) : Promise.resolve(true)))),
        ]);
        roots.forEach((r, i) => views.set(r, recs[i]!));
        [...planned.keys()].forEach((i, k) => proven.set(i, proofs[k] === true));
        // An instance whose newest matching anchor is not on chain but an older one is: prove against that one.
        const again: [number, Candidate][] = [];
        for (const [i, m] of planned) {
          if (views.get(m.root)) continue;
          const older = (cands.get(digests[i]!.row!.sop_instance_uid!) ?? []).find((x) => x.leaf === digests[i]!.row!.leaf && views.get(x.root));
          if (older) again.push([i, older]);
        }
        if (again.length) {
          const more = await Promise.all(again.map(([i, m]) => (onChainProofs ? proofOf(i, m) : Promise.resolve(true))));
          again.forEach(([i, m], k) => {
            planned.set(i, m);
            proven.set(i, more[k] === true);
          });
        }
      } catch (err) {
        unreachable = err instanceof Error ? (err as { shortMessage?: string }).shortMessage ?? err.message : String(err);
        conn = null;
        this.recent.ledgerFailed();
      }
    }
    const evidence = new Map<string, RecordEvidence>();
    if (conn) {
      for (const [root, v] of views) if (v) evidence.set(root, await this.l.anchors.evidence(conn, root, v));
    }

    return digests.map((d, idx): InstanceVerification => {
      const base = {
        instanceId: d.entry.instanceId,
        path: d.entry.path,
        sopInstanceUid: d.row?.sop_instance_uid ?? null,
        studyInstanceUid: d.row?.study_instance_uid ?? null,
        evidence: null,
        differs: [] as ('pixels' | 'metadata')[],
        actual: d.row ? { pixel: d.row.pixel_sha256!, meta: d.row.meta_sha256! } : null,
        expected: null,
        provenOnChain: false,
        cachedDigests: d.cached,
        checkedAt,
      };
      if (!d.row) return { ...base, state: 'unreadable', message: d.error ?? 'The file could not be read.' };
      const r = d.row;
      const list = cands.get(r.sop_instance_uid!) ?? [];
      const match = list.find((c) => c.leaf === r.leaf);
      const other = list.find((c) => c.leaf !== r.leaf);
      if (!conn) {
        const local = match
          ? ' (this workstation anchored it; that cannot be confirmed now)'
          : other
            ? ` (locally, its ${differsOf(other, r.pixel_sha256!, r.meta_sha256!).join(' and ')} differ from what was anchored)`
            : '';
        return {
          ...base,
          state: 'ledger-unreachable',
          message: `The ledger cannot be reached, so this image is not verified${local}.${unreachable ? ` Detail: ${unreachable}` : ''}`,
          differs: !match && other ? differsOf(other, r.pixel_sha256!, r.meta_sha256!) : [],
          expected: (match ?? other) ? { pixel: (match ?? other)!.pixel, meta: (match ?? other)!.meta } : null,
        };
      }
      const m = planned.get(idx);
      if (m && evidence.has(m.root)) {
        // The record is on chain (read now); the proof must verify on chain and locally.
        const ok = proven.get(idx) === true && verifyLeafProof(m.root, leafValue(r.pixel_sha256!, r.meta_sha256!, r.uid_hash!), m.proof);
        if (ok) {
          return { ...base, state: 'verified', message: 'Verified against the ledger record.', evidence: evidence.get(m.root)!, expected: { pixel: m.pixel, meta: m.meta }, provenOnChain: onChainProofs };
        }
        return { ...base, state: 'not-registered', message: 'The stored proof for this image does not verify against the ledger record.', expected: { pixel: m.pixel, meta: m.meta } };
      }
      const otherOnChain = list.find((c) => c.leaf !== r.leaf && evidence.has(c.root));
      if (otherOnChain) {
        const differs = differsOf(otherOnChain, r.pixel_sha256!, r.meta_sha256!);
        const what = differs.length === 2 ? 'Pixels and metadata differ' : differs[0] === 'pixels' ? 'Pixels differ' : 'Metadata differs';
        return {
          ...base,
          state: 'altered',
          message: `${what} from the anchored record.`,
          evidence: evidence.get(otherOnChain.root)!,
          differs,
          expected: { pixel: otherOnChain.pixel, meta: otherOnChain.meta },
        };
      }
      return {
        ...base,
        state: 'not-registered',
        message:
          list.length > 0
            ? 'This image was anchored on this workstation, but the ledger has no record of it yet (the anchor is queued or was lost and is being re-sent).'
            : 'No ledger record covers this image (it has not been anchored).',
        expected: (match ?? other) ? { pixel: (match ?? other)!.pixel, meta: (match ?? other)!.meta } : null,
      };
    });
  }

  async verifyInstances(req: { instanceIds?: number[]; paths?: string[] }): Promise<{ instances: InstanceVerification[]; checkedAt: string }> {
    const db = this.l.ctx.db;
    const entries: { path: string; instanceId: number | null }[] = [];
    const byId = db.prepare('SELECT file_path FROM instances WHERE id = ?');
    for (const id of req.instanceIds ?? []) {
      const r = byId.get(id) as { file_path: string } | undefined;
      if (!r) throw new AppError(ErrorCode.NotFound, `Instance ${id} is not in the library.`, 'Reload the study; it may have been removed.');
      entries.push({ path: r.file_path, instanceId: id });
    }
    const byPath = db.prepare('SELECT id FROM instances WHERE file_path = ?');
    for (const p of req.paths ?? []) {
      const abs = resolve(p);
      const r = byPath.get(abs) as { id: number } | undefined;
      entries.push({ path: abs, instanceId: r?.id ?? null });
    }
    return { instances: (await this.verifyImages(entries)).instances, checkedAt: new Date().toISOString() };
  }

  /** Verifies every file of a study (library instances, else files fingerprinted under its UID); `reuseRecent` as in verifyImages. */
  async verifyStudy(studyInstanceUid: string, opts: { reuseRecent?: boolean } = {}): Promise<StudyVerification> {
    const t0 = Date.now();
    const db = this.l.ctx.db;
    let entries: { path: string; instanceId: number | null; sopClass?: string | null }[] = (
      db
        .prepare(
          `SELECT i.id, i.file_path, i.sop_class FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id
           WHERE st.study_uid = ? ORDER BY se.number, i.number, i.id`,
        )
        .all(studyInstanceUid) as { id: number; file_path: string; sop_class: string | null }[]
    ).map((r) => ({ path: r.file_path, instanceId: r.id as number | null, sopClass: r.sop_class }));
    if (entries.length === 0) {
      entries = (db.prepare('SELECT path FROM fingerprint_files WHERE study_instance_uid = ? ORDER BY path').all(studyInstanceUid) as { path: string }[]).map((r) => ({
        path: r.path,
        instanceId: null,
      }));
    }
    if (entries.length === 0) {
      throw new AppError(ErrorCode.NotFound, `Study ${studyInstanceUid} is not on this workstation.`, 'Import it first.');
    }
    const { instances, counts, state } = await this.verifyImages(entries, { reuseRecent: opts.reuseRecent === true });
    const anchor = this.l.anchors.ofStudy(studyInstanceUid)[0] ?? null;
    let record: RecordEvidence | null = instances.find((i) => i.evidence && i.evidence.root === anchor?.root)?.evidence ?? instances.find((i) => i.evidence)?.evidence ?? null;
    if (!record && anchor && state !== 'ledger-unreachable') {
      const conn = await this.l.chain.connection().catch(() => null);
      if (conn && (await conn.contract.hasRecord(anchor.root).catch(() => false))) record = await this.l.anchors.evidence(conn, anchor.root).catch(() => null);
    }
    // One statement for all instances; the leaf hashes the engine stored are reused (keyed by the
    // stored digests, so only a leaf of exactly these values is taken).
    const stored = db.prepare('SELECT pixel_sha256, meta_sha256, uid_hash, leaf FROM fingerprint_files WHERE path = ?');
    const known = new Map<string, Bytes32>();
    const values = instances
      .filter((i) => i.actual && i.sopInstanceUid)
      .map((i) => {
        const r = stored.get(i.path) as { pixel_sha256: string | null; meta_sha256: string | null; uid_hash: string | null; leaf: string | null } | undefined;
        if (!r?.uid_hash) return null;
        if (r.leaf && r.pixel_sha256 && r.meta_sha256) known.set(leafValue(r.pixel_sha256, r.meta_sha256, r.uid_hash).join(), r.leaf as Bytes32);
        return leafValue(i.actual!.pixel, i.actual!.meta, r.uid_hash);
      })
      .filter((v): v is LeafValue => v !== null);
    const currentRoot = values.length ? buildStudyTree(values, known).root : null;
    const n = instances.length;
    const message =
      state === 'verified'
        ? `All ${n} image(s) verified against the ledger.`
        : state === 'altered'
          ? `${counts.altered} of ${n} image(s) differ from the anchored record.`
          : state === 'unreadable'
            ? `${counts.unreadable} of ${n} image(s) could not be read.`
            : state === 'ledger-unreachable'
              ? 'The ledger cannot be reached: the images are not verified.'
              : counts.verified > 0
                ? notCoveredMessage(instances, entries, n)
                : anchor
                  ? 'The study was anchored here but the ledger has no record of it yet (queued).'
                  : 'This study has not been anchored.';
    return {
      studyInstanceUid,
      state,
      message,
      counts,
      record,
      anchor,
      currentRoot,
      instances,
      checkedAt: new Date().toISOString(),
      seconds: (Date.now() - t0) / 1000,
    };
  }
}

/** Key Object Selection and Structured Report documents: instances a reader adds to a study after reading it. */
const DOCUMENT_SOP_CLASS = /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.88\./;

/**
 * "Not covered", said so a reader can act: a key-image document (KOS) or report saved after the study was anchored
 * is not in its record until the study is anchored again — the images themselves may all be verified.
 */
function notCoveredMessage(instances: InstanceVerification[], entries: { instanceId: number | null; sopClass?: string | null }[], n: number): string {
  const classOf = new Map(entries.map((e) => [e.instanceId, e.sopClass ?? null]));
  const missing = instances.filter((v) => v.state === 'not-registered').map((v) => ({ v, sopClass: v.instanceId === null ? null : (classOf.get(v.instanceId) ?? null) }));
  const documents = missing.filter((x) => x.sopClass && DOCUMENT_SOP_CLASS.test(x.sopClass)).length;
  const images = missing.length - documents;
  if (documents > 0 && images === 0) {
    return `${documents} document(s) saved after the anchor (key images or a report) are not in the ledger record; the images are verified. Anchor the study again to include them.`;
  }
  return `${missing.length} of ${n} image(s) are not covered by a ledger record.`;
}
