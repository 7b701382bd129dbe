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
import { buildStudyTree, FINGERPRINT_SPEC_VERSION, leafValue, verifyLeafProof, type LeafValue } from '../../core/fingerprint';
import { fingerprintEngine } from '../fingerprint/engine';
import type { InstanceVerification, RecordEvidence, StudyVerification, VerificationState } from '../../shared/api/ledger';
import { AppError, ErrorCode } from '../../shared/errors';
import type { ChainConnection } from './chain';
import type { LedgerService } from './index';

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

export class Verifier {
  constructor(private readonly l: LedgerService) {}

  /** Digests of the files: from the store when size and mtime are unchanged, else recomputed (one engine run). */
  private async digests(entries: { path: string; instanceId: number | null }[]): Promise<Digest[]> {
    const db = this.l.s.db;
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
      const run = await fingerprintEngine(this.l.s).fingerprintPaths(stale.map((i) => out[i]!.entry.path));
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
    const q = this.l.s.db.prepare(
      `SELECT ai.root, ai.sop_instance_uid, ai.pixel_sha256, ai.meta_sha256, ai.uid_hash, ai.leaf, ai.proof_json, a.created_at
       FROM ledger_anchor_instances ai JOIN ledger_anchors a ON a.root = ai.root WHERE ai.sop_instance_uid = ? ORDER BY a.created_at DESC, a.rowid DESC`,
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

  /** Verifies files (with their library ids when known). Never throws for one bad file. */
  async verifyEntries(entries: { path: string; instanceId: number | null }[]): Promise<InstanceVerification[]> {
    const checkedAt = new Date().toISOString();
    const digests = await this.digests(entries);
    const cands = this.candidates(digests.filter((d) => d.row?.sop_instance_uid).map((d) => d.row!.sop_instance_uid!));

    // One connection and one batch of record reads for every candidate root.
    let conn: ChainConnection | null = null;
    let unreachable: string | null = null;
    try {
      conn = await this.l.chain.connection();
      if (!conn) unreachable = this.l.s.ledger.current().message ?? 'the ledger is not connected';
    } catch (err) {
      unreachable = err instanceof Error ? err.message : String(err);
    }
    const records = new Map<string, RecordEvidence | null>();
    if (conn) {
      const roots = [...new Set([...cands.values()].flat().map((c) => c.root))];
      try {
        const c = conn;
        const has = await Promise.all(roots.map((r) => c.contract.hasRecord(r)));
        const views = await Promise.all(roots.map((r, i) => (has[i] ? c.contract.getRecord(r) : Promise.resolve(null))));
        for (let i = 0; i < roots.length; i++) {
          records.set(roots[i]!, views[i] ? await this.l.anchors.evidence(c, roots[i]!, views[i]!) : null);
        }
      } catch (err) {
        unreachable = err instanceof Error ? err.message : String(err);
        conn = null;
      }
    }

    // Decide per instance; matching leaves are proven on chain in one batch.
    const results: InstanceVerification[] = [];
    const proofs: { idx: number; root: string; value: LeafValue; proof: string[] }[] = [];
    for (const d of digests) {
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
      if (!d.row) {
        results.push({ ...base, state: 'unreadable', message: d.error ?? 'The file could not be read.' });
        continue;
      }
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
        results.push({
          ...base,
          state: 'ledger-unreachable',
          message: `The ledger cannot be reached, so this image is not verified${local}.${unreachable ? ` Detail: ${unreachable}` : ''}`,
          differs: !match && other ? differsOf(other, r.pixel_sha256!, r.meta_sha256!) : [],
          expected: match ?? other ? { pixel: (match ?? other)!.pixel, meta: (match ?? other)!.meta } : null,
        });
        continue;
      }
      const matchOnChain = list.find((c) => c.leaf === r.leaf && records.get(c.root));
      if (matchOnChain) {
        results.push({
          ...base,
          state: 'verified',
          message: 'Verified against the ledger record.',
          evidence: records.get(matchOnChain.root)!,
          expected: { pixel: matchOnChain.pixel, meta: matchOnChain.meta },
        });
        proofs.push({ idx: results.length - 1, root: matchOnChain.root, value: leafValue(r.pixel_sha256!, r.meta_sha256!, r.uid_hash!), proof: matchOnChain.proof });
        continue;
      }
      const otherOnChain = list.find((c) => c.leaf !== r.leaf && records.get(c.root));
      if (otherOnChain) {
        const differs = differsOf(otherOnChain, r.pixel_sha256!, r.meta_sha256!);
        const what = differs.length === 2 ? 'Pixels and metadata differ' : differs[0] === 'pixels' ? 'Pixels differ' : 'Metadata differs';
        results.push({
          ...base,
          state: 'altered',
          message: `${what} from the anchored record.`,
          evidence: records.get(otherOnChain.root)!,
          differs,
          expected: { pixel: otherOnChain.pixel, meta: otherOnChain.meta },
        });
        continue;
      }
      const queued = list.length > 0;
      results.push({
        ...base,
        state: 'not-registered',
        message: queued
          ? 'This image was anchored on this workstation, but the ledger has no record of it yet (the anchor is queued or was lost and is being re-sent).'
          : 'No ledger record covers this image (it has not been anchored).',
        expected: match ?? other ? { pixel: (match ?? other)!.pixel, meta: (match ?? other)!.meta } : null,
      });
    }

    // Proofs: checked locally and by the contract's verifyInstance view (batched JSON-RPC).
    if (proofs.length && conn) {
      const c = conn;
      let onChain: boolean[] | null = null;
      try {
        onChain = await Promise.all(proofs.map((p) => c.contract.verifyInstance(p.root, p.proof, p.value[0], p.value[1], p.value[2])));
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        for (const p of proofs) {
          const r = results[p.idx]!;
          results[p.idx] = { ...r, state: 'ledger-unreachable', evidence: null, message: `The ledger stopped answering during the check (${msg}); this image is not verified.` };
        }
      }
      if (onChain) {
        proofs.forEach((p, i) => {
          const ok = onChain[i] === true && verifyLeafProof(p.root, p.value, p.proof);
          const r = results[p.idx]!;
          results[p.idx] = ok
            ? { ...r, provenOnChain: true }
            : { ...r, state: 'not-registered', evidence: null, message: 'The stored proof for this image does not verify against the ledger record.' };
        });
      }
    }
    return results;
  }

  async verifyInstances(req: { instanceIds?: number[]; paths?: string[] }): Promise<{ instances: InstanceVerification[]; checkedAt: string }> {
    const db = this.l.s.db;
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
    return { instances: await this.verifyEntries(entries), checkedAt: new Date().toISOString() };
  }

  /** Verifies every file of a study (library instances, else files fingerprinted under its UID). */
  async verifyStudy(studyInstanceUid: string): Promise<StudyVerification> {
    const t0 = Date.now();
    const db = this.l.s.db;
    let entries = (
      db
        .prepare(
          `SELECT i.id, i.file_path FROM instances i JOIN series se ON i.series_ref = se.id JOIN studies st ON se.study_ref = st.id
           WHERE st.study_uid = ? ORDER BY se.number, i.number, i.id`,
        )
        .all(studyInstanceUid) as { id: number; file_path: string }[]
    ).map((r) => ({ path: r.file_path, instanceId: r.id as number | null }));
    if (entries.length === 0) {
      entries = (db.prepare('SELECT path FROM fingerprint_files WHERE study_instance_uid = ? ORDER BY path').all(studyInstanceUid) as { path: string }[]).map((r) => ({
        path: r.path,
        instanceId: null,
      }));
    }
    if (entries.length === 0) {
      throw new AppError(ErrorCode.NotFound, `Study ${studyInstanceUid} is not on this workstation.`, 'Import it first.');
    }
    const instances = await this.verifyEntries(entries);
    const counts = { verified: 0, altered: 0, 'not-registered': 0, 'ledger-unreachable': 0, unreadable: 0 };
    for (const i of instances) counts[i.state]++;
    const state = worstState(instances.map((i) => i.state));
    const anchor = this.l.anchors.ofStudy(studyInstanceUid)[0] ?? null;
    let record: RecordEvidence | null = instances.find((i) => i.evidence && i.evidence.root === anchor?.root)?.evidence ?? instances.find((i) => i.evidence)?.evidence ?? null;
    if (!record && anchor && state !== 'ledger-unreachable') {
      const conn = await this.l.chain.connection().catch(() => null);
      if (conn && (await conn.contract.hasRecord(anchor.root).catch(() => false))) record = await this.l.anchors.evidence(conn, anchor.root).catch(() => null);
    }
    const values = instances
      .filter((i) => i.actual && i.sopInstanceUid)
      .map((i) => {
        const uh = db.prepare('SELECT uid_hash FROM fingerprint_files WHERE path = ?').get(i.path) as { uid_hash: string | null } | undefined;
        return uh?.uid_hash ? leafValue(i.actual!.pixel, i.actual!.meta, uh.uid_hash) : null;
      })
      .filter((v): v is LeafValue => v !== null);
    const currentRoot = values.length ? buildStudyTree(values).root : null;
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
                ? `${counts['not-registered']} of ${n} image(s) are not covered by a ledger record.`
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
