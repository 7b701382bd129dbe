/**
 * Anchoring a study's AI findings (docs/ai.md "Anchoring findings"): the Merkle root of its current
 * result records goes on chain with `anchorFindings(studyRoot, findingsRoot, count)`, beside the
 * study's own record — one transaction through the outbox (kind 'ai-findings', key = findings
 * root), so it is queued when the ledger is down and never sent twice. Only digests reach the chain.
 *
 * Verifying (a recipient, with the JSON sidecar): each result's record is hashed again, its leaf
 * rebuilt and its proof checked against the sidecar's root, on chain with `verifyFinding`; the root
 * must be anchored (`getFindings`), and the images' pixel digests can be recomputed from the files.
 */
import { getAddress, ZeroHash, type Provider } from 'ethers';
import { recordDigest, resultLeaf, sha256Hex, verifyResultProof, type ResultLeaf, type ResultRecord } from '../../core/ai/result-record';
import { AppError, ErrorCode } from '../../shared/errors';
import { connect, decodeContractError } from '../ledger/contracts';
import type { LedgerService } from '../ledger';
import { OutboxPermanentError, type OutboxItem } from '../ledger/outbox';
import type { AiService, AiSidecar } from './ai-service';

export const FINDINGS_KIND = 'ai-findings';

export interface FindingsPayload {
  studyRoot: string;
  findingsRoot: string;
  count: number;
  studyInstanceUid: string;
}

export interface FindingsAnchorResult {
  studyInstanceUid: string;
  studyRoot: string;
  findingsRoot: string;
  count: number;
  excludedStale: number;
  delivery: 'queued' | 'sent' | 'confirmed' | 'failed';
  alreadyAnchored: boolean;
  txHash: string | null;
  block: number | null;
  lastError: string | null;
  message: string;
}

export interface FindingVerification {
  sopInstanceUid: string;
  model: string;
  findings: ResultRecord['findings'];
  /** the record hashes to the leaf's record digest */
  recordMatches: boolean;
  /** the proof leads to the sidecar's root (checked here and by the contract) */
  proofValid: boolean;
  proofValidOnChain: boolean | null;
  /** the file given for this image has the pixel digest the model read (null: no file given) */
  pixelsMatch: boolean | null;
}

export interface FindingsVerification {
  findingsRoot: string;
  anchored: { studyRoot: string; count: number; institution: string; clinician: string; time: string } | null;
  results: FindingVerification[];
  ok: boolean;
  message: string;
}

function revertMessage(name: string, args: Record<string, unknown>): string {
  switch (name) {
    case 'AccessControlUnauthorizedAccount':
      return `the account ${String(args.account)} is not a clinician on the ledger`;
    case 'InstitutionIsSuspended':
      return 'the clinician\'s institution is suspended by the regulator';
    case 'InstitutionScoreTooLow':
      return `the institution's credit score (${String(args.score)}) is below the anchoring threshold (${String(args.threshold)})`;
    case 'UnknownRecord':
      return 'the study\'s record is not on the ledger (anchor the study first)';
    case 'FindingsOfAnotherStudy':
      return 'these findings are already anchored for another study';
    default:
      return `the ledger refused the findings (${name})`;
  }
}

export class FindingsAnchoring {
  constructor(
    private readonly ai: AiService,
    private readonly ledger: LedgerService,
  ) {
    ledger.outbox.register<FindingsPayload>(FINDINGS_KIND, {
      send: async (item, signer) => {
        const conn = await ledger.chain.connection();
        if (!conn) throw Object.assign(new Error('the ledger is not connected'), { code: 'NETWORK_ERROR' });
        const p = item.payload;
        try {
          const tx = await conn.contract.connect(signer).anchorFindings(p.studyRoot, p.findingsRoot, p.count);
          return tx.hash;
        } catch (err) {
          const d = decodeContractError(err);
          if (d) throw new OutboxPermanentError(revertMessage(d.name, d.args));
          throw err;
        }
      },
      isOnChain: async (item: OutboxItem<FindingsPayload>, provider: Provider) => {
        const conn = await ledger.chain.connection();
        if (!conn) throw Object.assign(new Error('the ledger is not connected'), { code: 'NETWORK_ERROR' });
        return (await connect(conn.address, provider).getFindings(item.payload.findingsRoot)).count > 0n;
      },
    });
    ledger.outbox.ledgerChanged();
  }

  /** The study's record on chain that the findings are about: its newest confirmed anchor. */
  private studyRoot(studyInstanceUid: string): { root: string; pixels: Set<string> } {
    const anchor = this.ledger.anchors.ofStudy(studyInstanceUid).find((a) => a.delivery === 'confirmed');
    if (!anchor) {
      throw new AppError(
        ErrorCode.NotFound,
        `Study ${studyInstanceUid} has no confirmed record on the ledger, so its AI findings have nothing to be anchored beside.`,
        'Anchor the study first (Anchor in the top bar, or `medimgshr anchor --study <UID>`), then anchor its findings.',
      );
    }
    const manifest = this.ledger.anchors.manifest(anchor.root);
    return { root: anchor.root, pixels: new Set((manifest?.instances ?? []).map((i) => `${i.uidHash}:${i.pixel}`)) };
  }

  async anchorStudy(studyInstanceUid: string, o: { waitMs?: number } = {}): Promise<FindingsAnchorResult> {
    const me = this.ledger.identity.actingIdentity();
    if (!me) throw new AppError(ErrorCode.Locked, 'Anchoring findings needs an unlocked clinician identity.', 'Log in as a clinician, then anchor again.');
    const study = this.studyRoot(studyInstanceUid);
    // A contract deployed before findings anchoring existed has no anchorFindings: say so instead of retrying forever.
    const conn = await this.ledger.chain.connection().catch(() => null);
    if (conn && !(await conn.contract.getFindings(ZeroHash).then(() => true, (err: unknown) => decodeContractError(err) !== null))) {
      throw new AppError(
        ErrorCode.Unavailable,
        `The MedImgShr contract on this ledger (${conn.address}) predates AI findings anchoring (it has no anchorFindings).`,
        'Ask the regulator to deploy the current contract version; until then the findings travel unanchored in the JSON sidecar.',
      );
    }
    const { tree, excludedStale } = await this.ai.studyTree(studyInstanceUid);
    // Each result must be about an image exactly as the study's record has it (same UID hash, same pixels).
    const outside = tree.proofs.filter((p) => !study.pixels.has(`${p.leaf[0].slice(2)}:${p.leaf[1].slice(2)}`));
    if (outside.length) {
      throw new AppError(
        ErrorCode.Conflict,
        `${outside.length} of ${tree.leafCount} AI result(s) are about images that are not in the study's anchored record (a different version of the pixels).`,
        'Anchor the study again at its current version, or run the model again on the images as anchored.',
      );
    }
    const payload: FindingsPayload = { studyRoot: study.root, findingsRoot: tree.root, count: tree.leafCount, studyInstanceUid };
    const before = this.ledger.outbox.get<FindingsPayload>(FINDINGS_KIND, tree.root);
    this.ledger.outbox.enqueue<FindingsPayload>(FINDINGS_KIND, tree.root, payload, { signer: me.address });
    if (before?.status === 'failed') this.ledger.outbox.retry(before.id);
    const waitMs = o.waitMs ?? 30_000;
    const deadline = Date.now() + waitMs;
    let cur = this.ledger.outbox.get<FindingsPayload>(FINDINGS_KIND, tree.root)!;
    while (cur.status !== 'confirmed' && cur.status !== 'failed' && Date.now() < deadline && this.ledger.connection.monitor.current().state === 'connected') {
      await this.ledger.outbox.runOnce();
      cur = this.ledger.outbox.get<FindingsPayload>(FINDINGS_KIND, tree.root)!;
      if (cur.status === 'confirmed' || cur.status === 'failed' || cur.lastError?.startsWith('waiting for')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const already = before?.status === 'confirmed';
    const message =
      cur.status === 'confirmed'
        ? `${already ? 'Already anchored' : 'Findings anchored'}: ${tree.leafCount} AI result(s), root ${tree.root.slice(0, 10)}… beside study record ${study.root.slice(0, 10)}…${excludedStale ? ` (${excludedStale} stale result(s) left out)` : ''}.`
        : cur.status === 'failed'
          ? `The findings could not be anchored: ${cur.lastError ?? 'unknown error'}.`
          : 'The ledger is unreachable or the signer is locked: the findings are queued and will be sent when possible.';
    return {
      studyInstanceUid,
      studyRoot: study.root,
      findingsRoot: tree.root,
      count: tree.leafCount,
      excludedStale,
      delivery: cur.status,
      alreadyAnchored: already,
      txHash: cur.txHash ?? null,
      block: cur.blockNumber ?? null,
      lastError: cur.lastError ?? null,
      message,
    };
  }

  /**
   * Checks a sidecar: every record against its leaf and proof (here and on chain), the root anchored,
   * and — for the images given as files, by SOP Instance UID — the pixels the model read.
   */
  async verifySidecar(sidecar: AiSidecar, pixelDigestOf?: (sopInstanceUid: string) => Promise<string | null>): Promise<FindingsVerification> {
    const conn = await this.ledger.chain.connection().catch(() => null);
    let anchored: FindingsVerification['anchored'] = null;
    if (conn) {
      const f = await conn.contract.getFindings(sidecar.merkleRoot);
      if (f.count > 0n) {
        anchored = { studyRoot: f.studyRoot, count: Number(f.count), institution: getAddress(f.institution), clinician: getAddress(f.clinician), time: new Date(Number(f.time) * 1000).toISOString() };
      }
    }
    const results: FindingVerification[] = [];
    for (const r of sidecar.results) {
      const leaf = r.leaf as ResultLeaf;
      const recordMatches = `0x${recordDigest(r.record)}` === leaf[4] && resultLeaf(r.record).every((v, i) => v === leaf[i]) && sha256Hex(r.sopInstanceUid) === r.record.uidHash;
      const proofValid = verifyResultProof(sidecar.merkleRoot, leaf, r.proof);
      const proofValidOnChain = conn ? await conn.contract.verifyFinding(sidecar.merkleRoot, r.proof, ...leaf) : null;
      const now = pixelDigestOf ? await pixelDigestOf(r.sopInstanceUid) : null;
      results.push({
        sopInstanceUid: r.sopInstanceUid,
        model: `${r.record.model.name} ${r.record.model.version}`,
        findings: r.record.findings,
        recordMatches,
        proofValid,
        proofValidOnChain,
        pixelsMatch: now === null ? null : now === r.record.pixel,
      });
    }
    const ok = anchored !== null && anchored.count === sidecar.results.length && results.every((x) => x.recordMatches && x.proofValid && x.proofValidOnChain !== false && x.pixelsMatch !== false);
    const message = !conn
      ? 'The ledger is unreachable: the proofs were checked locally only; whether the findings are anchored is unknown.'
      : !anchored
        ? `These findings (root ${sidecar.merkleRoot.slice(0, 10)}…) are not anchored on this ledger.`
        : ok
          ? `Verified: ${results.length} AI result(s) anchored by ${anchored.clinician} (institution ${anchored.institution}) at ${anchored.time}, each bound to its image's pixels and its model.`
          : 'NOT verified: at least one result does not match its anchored record, proof or image (see each result).';
    return { findingsRoot: sidecar.merkleRoot, anchored, results, ok, message };
  }
}
