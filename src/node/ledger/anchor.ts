/**
 * Anchoring a study: fingerprints (engine), the study's Merkle tree, a storage URI that carries no
 * identity, and ONE transaction sent through the outbox (kind 'anchor', idempotency key = root):
 * queued when the ledger is down or the signer locked, sent when possible, never duplicated (the
 * outbox asks hasRecord(root) before every send; the contract ignores a root it already has).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { getAddress, Wallet, ZeroHash, type Provider } from 'ethers';
import { buildStudyTree, leafValue, type Bytes32, type LeafValue } from '../../core/fingerprint';
import { connect, decodeContractError } from './contracts';
import { OutboxPermanentError, type OutboxItem } from './outbox';
import type { Task } from '../tasks';
import type { AnchorResult, LocalAnchor, RecordEvidence } from '../../shared/api/ledger';
import { AppError, ErrorCode } from '../../shared/errors';
import type { ChainConnection } from './client';
import type { LedgerService } from './index';
import { readRoles } from './roles';

export const ANCHOR_KIND = 'anchor';

export interface AnchorOptions {
  /** Storage URI recorded with every anchor (default medimg-blob://<institution address>). */
  storageUri?: string;
  /** How long `anchor` waits for the transaction to be mined by default (ms). */
  waitMs?: number;
}

export interface AnchorPayload {
  root: string;
  leafCount: number;
  patient: string;
  storageUri: string;
  previous: string | null;
  studyInstanceUid: string;
}

export interface ManifestInstance {
  sopInstanceUid: string;
  pixel: string;
  meta: string;
  uidHash: string;
  leaf: string;
  proof: string[];
}

export interface Manifest {
  specVersion: number;
  studyInstanceUid: string;
  root: string;
  leafCount: number;
  instances: ManifestInstance[];
}

interface AnchorRow {
  root: string;
  study_instance_uid: string;
  leaf_count: number;
  storage_uri: string;
  patient: string;
  clinician: string;
  previous: string | null;
  manifest_json: string;
  outbox_id: number | null;
  chain_id: number | null;
  contract: string | null;
  tx_hash: string | null;
  block_number: number | null;
  block_hash: string | null;
  anchored_at: number | null;
  created_at: string;
  updated_at: string;
}

const iso = () => new Date().toISOString();

/** Plain words for the contract errors an anchor can revert with (all permanent: retrying cannot fix them). */
function anchorRevertMessage(name: string, args: Record<string, unknown>): string {
  switch (name) {
    case 'AccessControlUnauthorizedAccount':
      return `the account ${String(args.account)} is not a clinician on the ledger`;
    case 'NotAnInstitution':
      return 'the clinician belongs to no registered institution';
    case 'InstitutionIsSuspended':
      return 'the clinician\'s institution is suspended by the regulator';
    case 'InstitutionScoreTooLow':
      return `the institution's credit score (${String(args.score)}) is below the anchoring threshold (${String(args.threshold)})`;
    case 'VersionPatientMismatch':
    case 'VersionInstitutionMismatch':
    case 'AlreadySuperseded':
    case 'UnknownRecord':
      return `the previous version cannot be superseded (${name})`;
    default:
      return `the ledger refused the anchor (${name})`;
  }
}

export class Anchoring {
  constructor(
    private readonly l: LedgerService,
    private readonly opts: AnchorOptions = {},
  ) {
    l.outbox.register<AnchorPayload>(ANCHOR_KIND, {
      send: async (item, signer) => {
        const conn = await l.chain.connection();
        if (!conn) throw Object.assign(new Error('the ledger is not connected'), { code: 'NETWORK_ERROR' });
        const p = item.payload;
        const c = conn.contract.connect(signer);
        try {
          const tx = await c.anchor(p.root, p.leafCount, p.patient, p.storageUri, p.previous ?? ZeroHash);
          return tx.hash;
        } catch (err) {
          const d = decodeContractError(err);
          if (d) throw new OutboxPermanentError(anchorRevertMessage(d.name, d.args));
          throw err;
        }
      },
      isOnChain: async (item: OutboxItem<AnchorPayload>, provider: Provider) => {
        const conn = await l.chain.connection();
        if (!conn) throw Object.assign(new Error('the ledger is not connected'), { code: 'NETWORK_ERROR' });
        return connect(conn.address, provider).hasRecord(item.payload.root);
      },
    });
    // The outbox may have re-checked its confirmations before this kind was registered (it skips
    // kinds it does not know): re-check now, so anchors a crashed chain lost are re-sent.
    l.outbox.ledgerChanged();
  }

  // ---- local anchors ----

  private row(root: string): AnchorRow | undefined {
    return this.l.ctx.db.prepare('SELECT * FROM ledger_anchors WHERE root = ?').get(root) as AnchorRow | undefined;
  }

  private toLocal(r: AnchorRow): LocalAnchor {
    const item = this.l.outbox.get(ANCHOR_KIND, r.root);
    return {
      studyInstanceUid: r.study_instance_uid,
      root: r.root,
      leafCount: r.leaf_count,
      storageUri: r.storage_uri,
      patient: r.patient,
      clinician: r.clinician,
      previous: r.previous,
      delivery: item?.status ?? 'queued',
      attempts: item?.attempts ?? 0,
      lastError: item?.lastError ?? null,
      txHash: r.tx_hash ?? item?.txHash ?? null,
      block: r.block_number ?? item?.blockNumber ?? null,
      createdAt: r.created_at,
    };
  }

  local(root: string): LocalAnchor | null {
    const r = this.row(root);
    return r ? this.toLocal(r) : null;
  }

  /** Local anchors of a study, newest first. */
  ofStudy(studyInstanceUid: string): LocalAnchor[] {
    const rows = this.l.ctx.db
      .prepare('SELECT * FROM ledger_anchors WHERE study_instance_uid = ? ORDER BY created_at DESC, rowid DESC')
      .all(studyInstanceUid) as AnchorRow[];
    return rows.map((r) => this.toLocal(r));
  }

  /**
   * The manifest of a local anchor. Its instances (digests, leaf, proof) are the anchor's instance
   * rows with their proofs (merkle_proofs), in the tree's leaf order; a manifest written before
   * migration 022 may still carry them in its JSON.
   */
  manifest(root: string): Manifest | null {
    const r = this.row(root);
    if (!r) return null;
    const m = JSON.parse(r.manifest_json) as Omit<Manifest, 'instances'> & { instances?: ManifestInstance[] };
    if (m.instances) return m as Manifest;
    const rows = this.l.ctx.db
      .prepare(
        `SELECT ai.sop_instance_uid, ai.pixel_sha256, ai.meta_sha256, ai.uid_hash, ai.leaf, mp.proof_json FROM ledger_anchor_instances ai
         JOIN merkle_proofs mp ON mp.root = ai.root AND mp.leaf = ai.leaf WHERE ai.root = ? ORDER BY ai.rowid`,
      )
      .all(root) as { sop_instance_uid: string; pixel_sha256: string; meta_sha256: string; uid_hash: string; leaf: string; proof_json: string }[];
    return {
      specVersion: m.specVersion,
      studyInstanceUid: m.studyInstanceUid,
      root: m.root,
      leafCount: m.leafCount,
      instances: rows.map((x) => ({ sopInstanceUid: x.sop_instance_uid, pixel: x.pixel_sha256, meta: x.meta_sha256, uidHash: x.uid_hash, leaf: x.leaf, proof: JSON.parse(x.proof_json) as string[] })),
    };
  }

  // ---- patient accounts ----

  /** The pseudonymous account for a library patient: assigned/linked, else derived with a local secret (keyed hash, never a plain hash). */
  patientAccount(patientKey: string): string {
    const db = this.l.ctx.db;
    const r = db.prepare('SELECT address FROM ledger_patient_accounts WHERE patient_key = ?').get(patientKey) as { address: string } | undefined;
    if (r) return r.address;
    let secret = this.l.settings.get('patient-key-secret');
    if (!secret) {
      secret = randomBytes(32).toString('hex');
      this.l.settings.set('patient-key-secret', secret);
    }
    const key = createHmac('sha256', Buffer.from(secret, 'hex')).update(`medimgshr-patient:${patientKey}`).digest('hex');
    const address = new Wallet(`0x${key}`).address;
    db.prepare('INSERT OR IGNORE INTO ledger_patient_accounts (patient_key, address, source, created_at) VALUES (?, ?, ?, ?)').run(patientKey, address, 'derived', iso());
    return (db.prepare('SELECT address FROM ledger_patient_accounts WHERE patient_key = ?').get(patientKey) as { address: string }).address;
  }

  /** Links a library patient to a given account (e.g. the patient's own identity). */
  linkPatient(patientKey: string, address: string, source: 'identity' | 'assigned' = 'assigned'): void {
    this.l.ctx.db
      .prepare('INSERT INTO ledger_patient_accounts (patient_key, address, source, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (patient_key) DO UPDATE SET address = excluded.address, source = excluded.source')
      .run(patientKey, getAddress(address), source, iso());
  }

  // ---- files of a study ----

  /** Files of a study: indexed instances, plus files fingerprinted under this Study Instance UID. */
  studyFiles(studyInstanceUid: string): { paths: string[]; patientKey: string | null } {
    const db = this.l.ctx.db;
    const lib = db
      .prepare(
        `SELECT i.file_path AS path, p.patient_key AS pk FROM instances i JOIN series se ON i.series_ref = se.id
         JOIN studies st ON se.study_ref = st.id JOIN patients p ON st.patient_ref = p.id WHERE st.study_uid = ? AND i.copy_of IS NULL`,
      )
      .all(studyInstanceUid) as { path: string; pk: string }[];
    // a PACS copy with other bytes than the library's instance is never anchored as the study
    const fp = db
      .prepare('SELECT path FROM fingerprint_files WHERE study_instance_uid = ? AND path NOT IN (SELECT file_path FROM instances WHERE copy_of IS NOT NULL)')
      .all(studyInstanceUid) as { path: string }[];
    const paths = [...new Set([...lib.map((r) => r.path), ...fp.map((r) => r.path)])].sort();
    return { paths, patientKey: lib[0]?.pk ?? null };
  }

  // ---- anchoring ----

  /**
   * Anchors a study (see the file comment). Waits up to `waitMs` for the transaction to be mined;
   * returns with delivery 'queued' when the ledger is down (the outbox sends it when it is back).
   */
  async anchorStudy(studyInstanceUid: string, o: { patient?: string; waitMs?: number; task?: Task } = {}): Promise<AnchorResult> {
    const t0 = Date.now();
    const s = this.l.ctx;
    const ids = this.l.identity;
    const me = ids.actingIdentity();
    if (!me) {
      throw new AppError(ErrorCode.Locked, 'Anchoring needs an unlocked clinician identity.', 'Log in as a clinician (choose your identity and enter its passphrase), then anchor again.');
    }
    // Roles, when the chain can be asked now (when not, the anchor is queued and checked when sent).
    // Asked while the files are fingerprinted: the chain round trips no longer wait for each other.
    const conn = await this.l.chain.connection().catch(() => null);
    let institution: string | null = this.l.settings.get(`institution-of:${me.address}`);
    const rolesAsked = conn ? readRoles(conn, me.address).catch(() => null) : Promise.resolve(null);
    const checkRoles = async () => {
      const roles = await rolesAsked;
      if (roles && !roles.clinician) {
        throw new AppError(
          ErrorCode.Denied,
          `${me.displayName} (${me.address}) is not a clinician on the ledger, so it cannot anchor studies.`,
          'Log in as a clinician, or ask your institution\'s administrator to grant this identity the clinician role.',
        );
      }
      if (roles?.clinicianOf) {
        institution = roles.clinicianOf;
        this.l.settings.set(`institution-of:${me.address}`, institution);
      }
    };

    const { paths, patientKey } = this.studyFiles(studyInstanceUid);
    if (paths.length === 0) {
      await checkRoles();
      throw new AppError(ErrorCode.NotFound, `No files of study ${studyInstanceUid} are known on this workstation.`, 'Import the study first (or give its files to "medimgshr anchor").');
    }
    const fingerprinted = this.l.fingerprints.fingerprintPaths(paths, { task: o.task });
    fingerprinted.catch(() => undefined); // observed below; never an unhandled rejection while the roles are read
    // a refused role is named first (as before), once fingerprinting has finished with the files
    await checkRoles().catch(async (err: unknown) => {
      await fingerprinted.catch(() => undefined);
      throw err;
    });
    const run = await fingerprinted;
    if (run.cancelled) throw new AppError(ErrorCode.Cancelled, 'Anchoring was cancelled; nothing was sent.');
    const inStudy = run.instances.filter((i) => i.studyInstanceUid === studyInstanceUid && i.uidHash && i.sopInstanceUid);
    const failed = run.errors.map((e) => ({ path: e.path, message: e.message }));
    if (inStudy.length === 0) {
      throw new AppError(ErrorCode.Unreadable, `None of the ${paths.length} files of study ${studyInstanceUid} could be fingerprinted.`, 'Check that the files are still where they were imported from.');
    }
    // Two files claiming the same SOP Instance UID with different content: refuse (which one is right?).
    const bySop = new Map<string, Set<string>>();
    for (const i of inStudy) {
      const set = bySop.get(i.sopInstanceUid!) ?? new Set<string>();
      set.add(`${i.pixel}:${i.meta}`);
      bySop.set(i.sopInstanceUid!, set);
    }
    const conflicts = [...bySop].filter(([, v]) => v.size > 1).map(([k]) => k);
    if (conflicts.length) {
      throw new AppError(
        ErrorCode.Conflict,
        `${conflicts.length} image(s) of this study exist in different versions on this workstation (e.g. SOP Instance UID ${conflicts[0]}), so the study cannot be anchored as one record.`,
        'Remove the copies that are not the original from the library, then anchor again.',
      );
    }
    const values: LeafValue[] = inStudy.map((i) => leafValue(i.pixel, i.meta, i.uidHash!));
    // The leaf hashes were computed with the fingerprints (one keccak pair each); not again here.
    const known = new Map<string, Bytes32>();
    for (const [k, i] of inStudy.entries()) if (i.leaf) known.set(values[k]!.join(), i.leaf as Bytes32);
    // Fingerprinting just built this tree when the study's stored leaves are these (the usual case).
    const tree = this.l.fingerprints.builtTree(studyInstanceUid, values) ?? buildStudyTree(values, known);
    const sopOf = new Map<string, string>();
    for (const [k, i] of inStudy.entries()) sopOf.set(values[k]!.join(), i.sopInstanceUid!);
    // The manifest's head; its instances are the ledger_anchor_instances rows and their proofs the
    // merkle_proofs rows of this root (each proof stored once, migration 022; see manifest()).
    const manifestHead: Omit<Manifest, 'instances'> = { specVersion: inStudy[0]!.specVersion, studyInstanceUid, root: tree.root, leafCount: tree.leafCount };
    const patient = o.patient ? getAddress(o.patient) : this.patientAccount(patientKey ?? `study:${studyInstanceUid}`);
    // Where the images are kept: the configured store, else the pixel store when split storage holds them.
    const storageUri = this.opts.storageUri ?? this.l.settings.get('storage-uri') ?? this.l.pixelStoreUri(studyInstanceUid) ?? `medimg-blob://${(institution ?? me.address).toLowerCase()}`;
    // A new version of this study supersedes the newest earlier anchor that is on chain.
    let previous: string | null = null;
    const earlier = this.ofStudy(studyInstanceUid).find((a) => a.root !== tree.root && a.delivery === 'confirmed');
    if (earlier && conn && (await conn.contract.hasRecord(earlier.root).catch(() => false))) {
      const rec = await conn.contract.getRecord(earlier.root).catch(() => null);
      if (rec && rec.next === ZeroHash && getAddress(rec.patient) === patient) previous = earlier.root;
    }

    const payload: AnchorPayload = { root: tree.root, leafCount: tree.leafCount, patient, storageUri, previous, studyInstanceUid };
    let existing = false;
    s.db.transaction(() => {
      const t = iso();
      const info = s.db
        .prepare(
          `INSERT OR IGNORE INTO ledger_anchors (root, study_instance_uid, leaf_count, storage_uri, patient, clinician, previous, manifest_json, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(tree.root, studyInstanceUid, tree.leafCount, storageUri, patient, me.address, previous, JSON.stringify(manifestHead), t, t);
      existing = info.changes === 0;
      if (!existing) {
        const ins = s.db.prepare('INSERT OR IGNORE INTO ledger_anchor_instances (root, sop_instance_uid, pixel_sha256, meta_sha256, uid_hash, leaf) VALUES (?, ?, ?, ?, ?, ?)');
        for (const lf of tree.leaves) ins.run(tree.root, sopOf.get(lf.value.join())!, lf.value[0].slice(2), lf.value[1].slice(2), lf.value[2].slice(2), lf.leaf);
        // Fingerprinting stored this tree's proofs already (the usual case); written here only when it did not.
        const have = (s.db.prepare('SELECT COUNT(*) AS n FROM merkle_proofs WHERE root = ?').get(tree.root) as { n: number }).n;
        if (have < tree.leaves.length) {
          const proof = s.db.prepare('INSERT OR IGNORE INTO merkle_proofs (root, leaf, proof_json) VALUES (?, ?, ?)');
          for (const lf of tree.leaves) proof.run(tree.root, lf.leaf, JSON.stringify(lf.proof));
        }
      }
      const q = this.l.outbox.enqueue<AnchorPayload>(ANCHOR_KIND, tree.root, existing ? (this.l.outbox.get<AnchorPayload>(ANCHOR_KIND, tree.root)?.payload ?? payload) : payload, { signer: me.address });
      s.db.prepare('UPDATE ledger_anchors SET outbox_id = ? WHERE root = ?').run(q.item.id, tree.root);
    })();
    const item = this.l.outbox.get(ANCHOR_KIND, tree.root)!;
    // Anchored and confirmed before this call: nothing new is written (unless the chain lost it, below).
    let already = existing && item.status === 'confirmed';
    if (item.status === 'failed') this.l.outbox.retry(item.id);
    // "Confirmed" locally is not enough: the chain may have lost the block since (crash, reset).
    if (item.status === 'confirmed' && conn && !(await conn.contract.hasRecord(tree.root).catch(() => true))) {
      s.log.warn('ledger: an anchor confirmed earlier is no longer on chain; re-checking the outbox', { root: tree.root });
      this.l.outbox.ledgerChanged();
      await this.l.outbox.runOnce();
      already = false;
    }
    o.task?.progress({ label: 'sending the anchor transaction' }, true);

    const waitMs = o.waitMs ?? this.opts.waitMs ?? 30_000;
    const deadline = Date.now() + waitMs;
    let cur = this.l.outbox.get(ANCHOR_KIND, tree.root)!;
    // The embedded chain mines a transaction as it arrives: look for the receipt soon, then less often.
    let pollMs = 5;
    while (waitMs > 0 && cur.status !== 'confirmed' && cur.status !== 'failed' && Date.now() < deadline && this.l.connection.monitor.current().state === 'connected') {
      if (cur.status === 'sent') this.l.outbox.hurry(cur.id); // its receipt looked for now, not on the outbox's own schedule
      await this.l.outbox.runOnce();
      cur = this.l.outbox.get(ANCHOR_KIND, tree.root)!;
      if (cur.status === 'confirmed' || cur.status === 'failed') break;
      if (cur.lastError?.startsWith('waiting for')) break; // signer locked: stays queued
      await new Promise((r) => setTimeout(r, pollMs));
      pollMs = Math.min(50, pollMs * 2);
      cur = this.l.outbox.get(ANCHOR_KIND, tree.root)!;
    }
    let record: RecordEvidence | null = null;
    const conn2 = await this.l.chain.connection().catch(() => null);
    if (cur.status === 'confirmed' && conn2) {
      const mined = cur.txHash && cur.blockHash && cur.blockNumber !== null ? { block: cur.blockNumber, txHash: cur.txHash } : undefined;
      record = await this.evidence(conn2, tree.root, undefined, mined).catch(() => null);
      if (record) {
        s.db
          .prepare('UPDATE ledger_anchors SET chain_id = ?, contract = ?, tx_hash = COALESCE(?, tx_hash), block_number = COALESCE(?, block_number), anchored_at = ?, updated_at = ? WHERE root = ?')
          .run(conn2.chainId, conn2.address, record.txHash, record.block, Math.floor(Date.parse(record.time) / 1000), iso(), tree.root);
      }
    }
    const anchor = this.local(tree.root)!;
    s.emit({ type: 'ledger-anchor', anchor });
    const message =
      anchor.delivery === 'confirmed' && already
        ? `Already anchored at this version: ${tree.leafCount} image(s), record ${tree.root.slice(0, 10)}… in block ${record?.block ?? anchor.block ?? '?'}; nothing new was written.`
        : anchor.delivery === 'confirmed'
        ? `Study anchored: ${tree.leafCount} image(s), record ${tree.root.slice(0, 10)}… in block ${record?.block ?? anchor.block ?? '?'}.`
        : anchor.delivery === 'failed'
          ? `The anchor could not be written: ${anchor.lastError ?? 'unknown error'}.`
          : this.l.connection.monitor.current().state !== 'connected'
            ? 'The ledger is unreachable: the anchor is queued and will be sent when it is back.'
            : `The anchor is ${anchor.delivery}; it will be confirmed shortly.`;
    return { anchor, record, existing, instances: inStudy.length, failed, message, seconds: (Date.now() - t0) / 1000 };
  }

  /** The evidence of a record as the chain has it now (block/tx from the synced events, the local anchor, or a log query). */
  async evidence(
    conn: ChainConnection,
    root: string,
    view?: Awaited<ReturnType<ChainConnection['contract']['getRecord']>>,
    /** The receipt the outbox confirmed the anchor with a moment ago (no second receipt round trip). */
    justMined?: { block: number; txHash: string },
  ): Promise<RecordEvidence> {
    const rv = view ?? (await conn.contract.getRecord(root));
    const db = this.l.ctx.db;
    let block: number | null = null;
    let txHash: string | null = null;
    const synced = db
      .prepare('SELECT block_number, tx_hash FROM chain_records WHERE chain_id = ? AND contract = ? AND root = ? ORDER BY block_number DESC LIMIT 1')
      .get(conn.chainId, conn.address, root) as { block_number: number; tx_hash: string } | undefined;
    if (synced) {
      block = synced.block_number;
      txHash = synced.tx_hash;
    } else {
      const local = db
        .prepare('SELECT block_number, tx_hash FROM ledger_anchors WHERE root = ? AND chain_id = ? AND contract = ? AND block_number IS NOT NULL AND tx_hash IS NOT NULL')
        .get(root, conn.chainId, conn.address) as { block_number: number; tx_hash: string } | undefined;
      if (local) {
        block = local.block_number;
        txHash = local.tx_hash;
      }
    }
    if (block === null) {
      const item = this.l.outbox.get(ANCHOR_KIND, root);
      if (justMined) {
        block = justMined.block;
        txHash = justMined.txHash;
      } else if (item?.status === 'confirmed' && item.txHash) {
        const rc = await conn.provider.getTransactionReceipt(item.txHash).catch(() => null);
        if (rc && rc.status === 1) {
          block = rc.blockNumber;
          txHash = item.txHash;
        }
      }
      if (block === null) {
        const topic = conn.contract.interface.getEvent('StudyAnchored')!.topicHash;
        const logs = await conn.provider.getLogs({ address: conn.address, topics: [topic, root], fromBlock: conn.deployBlock ?? 0, toBlock: 'latest' }).catch(() => []);
        const last = logs.at(-1);
        if (last) {
          block = last.blockNumber;
          txHash = last.transactionHash;
        }
      }
    }
    return {
      chainId: conn.chainId,
      contract: conn.address,
      root,
      study: rv.study,
      version: Number(rv.version),
      leafCount: Number(rv.leafCount),
      institution: getAddress(rv.institution),
      clinician: getAddress(rv.clinician),
      patient: getAddress(rv.patient),
      time: new Date(Number(rv.time) * 1000).toISOString(),
      storageUri: rv.storageUri,
      block,
      txHash,
      supersededBy: rv.next === ZeroHash ? null : rv.next,
    };
  }
}
