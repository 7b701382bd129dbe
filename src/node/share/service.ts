/**
 * Sharing a study with another institution (docs/trust-and-sharing.md):
 *
 *   gate      every rule with its reason and what would change it: ledger reachable, a record on chain,
 *             every instance verified, recipient registered / not suspended / score ≥ the contract's
 *             receive threshold, sender institution's score ≥ the same threshold, the contract's
 *             canAccess (the patient's consent: present, not expired, not revoked), the recipient's
 *             public key known (recovered from a signature).
 *   consent   the patient's identity on this workstation signs the EIP-712 Consent for
 *             grantConsentBySig; the acting identity submits it (patients pay no gas).
 *   send      gate → package (the study's files, the anchored manifest with digests and Merkle proofs)
 *             encrypted to the recipient's key, stored in the blob store under its SHA-256; audited.
 *   receive   decrypt with the unlocked recipient institution's key → fingerprint every file →
 *             leaf = manifest leaf, proof reaches the root locally and in the contract, the root has
 *             a record on chain by the sender → recordAccess (AccessGranted / AccessDenied) →
 *             confirmIntegrity when every instance matched → index into the library; audited.
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { getAddress, Wallet, ZeroHash } from 'ethers';
import { DENIAL_TEXT, Denial, type DenialCode } from '../../core/credit-policy';
import { leafValue, verifyLeafProof } from '../../core/fingerprint';
import { ALL_STUDIES, confirmed, decodeContractError, decodeEvents, signConsent, type MedImgShr } from '../ledger/contracts';
import { atomicExport } from '../atomic';
import type { FingerprintEngine } from '../fingerprint/engine';
import type { IdentityService } from '../identity';
import type { Library } from '../library/library';
import type { ChainConnection } from '../ledger';
import type { AppContext } from '../context';
import type { Task } from '../tasks';
import { BASIS_TEXT, type TrustService } from '../trust';
import type { ConsentResult, ReceiveResult, ShareDecision, ShareResult } from '../../shared/api/share';
import type { GateCheck } from '../../shared/api/export';
import type { RecordEvidence } from '../../shared/api/ledger';
import { AppError, ErrorCode } from '../../shared/errors';
import { buildPackage, openPackage, type ShareManifest } from './package';

/** The AI findings sidecar's name inside a share package (docs/ai.md). */
export const AI_SIDECAR_FILE = 'ai-findings.json';
import { resolvePublicKey } from '../ledger/public-keys';
import { patientConsents, revokeConsent } from './consent';
import type { RevokeConsentRequest, RevokeConsentResult, WalletConsentRequest, WalletConsentResult, WalletConsentSubmit } from '../../shared/api/share';
import { submitWalletConsent, walletConsentTypedData } from './wallet-consent';

/**
 * What a share by metadata needs from split storage (src/node/split/service.ts implements it; the
 * composition root passes it in). The manifest's `split` entry is opaque here.
 */
export interface SplitSharing {
  sharePartsFor(
    chosen: { name: string; path: string; sopInstanceUid: string; meta: string; pixel: string }[],
    task?: Task,
  ): Promise<{ files: { name: string; bytes: Uint8Array }[]; split: { store: string; blobs: Record<string, { address: string }> }; metadataBytes: number; pixelBytesInStore: number }>;
  rebuildShared(
    manifestSplit: unknown,
    files: { name: string; bytes: Uint8Array }[],
    recordStorageUri: string | null,
    onProgress?: (done: number) => void,
  ): Promise<{ files: { name: string; bytes: Uint8Array }[]; store: string; pixelBytesFetched: number }>;
  pinForShare(addresses: string[], packageAddress: string, scope?: { recipient: string; root: string }): void;
  sharePins(): { reason: string; packageAddress: string; recipient: string | null; root: string | null; blobs: number }[];
  releaseSharePins(reason: string): number;
}

const nowIso = () => new Date().toISOString();

function check(code: string, ok: boolean, message: string, remedy: string | null = null): GateCheck {
  return { code, ok, message, remedy: ok ? null : remedy };
}

/** What send needs once the gate allows it (kept inside the domain, never part of the decision). */
interface SendPlan {
  conn: ChainConnection;
  root: string;
  publicKey: string;
  sender: string;
  record: RecordEvidence;
}

interface StudyFile {
  path: string;
  sopInstanceUid: string;
  seriesUid: string;
}

export class ShareService {
  private readonly s: AppContext;
  private readonly trust: TrustService;
  private readonly identity: IdentityService;
  private readonly fingerprints: FingerprintEngine;

  constructor(
    private readonly deps: {
      ctx: AppContext;
      trust: TrustService;
      identity: IdentityService;
      fingerprints: FingerprintEngine;
      library: () => Library;
      /** The study's current AI findings as the JSON sidecar (docs/ai.md), null when it has none. */
      aiSidecar?: (studyInstanceUid: string) => Promise<unknown>;
      /** Split storage, for a share by metadata (docs/split-storage.md); absent: only whole files are shared. */
      split?: () => SplitSharing;
    },
  ) {
    this.s = deps.ctx;
    this.trust = deps.trust;
    this.identity = deps.identity;
    this.fingerprints = deps.fingerprints;
  }

  /** The study's files in series/instance order, with their SOP Instance UIDs. */
  studyFiles(studyInstanceUid: string): StudyFile[] {
    return this.s.db
      .prepare(
        `SELECT i.file_path AS path, i.sop_uid AS sopInstanceUid, se.series_uid AS seriesUid FROM instances i JOIN series se ON i.series_ref = se.id
         JOIN studies st ON se.study_ref = st.id WHERE st.study_uid = ? AND i.copy_of IS NULL ORDER BY se.number, se.id, i.number, i.id`,
      )
      .all(studyInstanceUid) as StudyFile[];
  }

  /** The newest local anchor of the study that has a record on chain now. */
  private async recordRoot(conn: ChainConnection, studyInstanceUid: string): Promise<string | null> {
    for (const a of this.trust.ledger.anchors.ofStudy(studyInstanceUid)) {
      if (await conn.contract.hasRecord(a.root).catch(() => false)) return a.root;
    }
    return null;
  }

  /** The Share dialog's decision: every rule with its reason and what would change it. */
  async gate(studyInstanceUid: string, recipient: string): Promise<ShareDecision> {
    return (await this.evaluate(studyInstanceUid, recipient)).decision;
  }

  /** The decision, and what send needs when it is allowed. */
  private async evaluate(studyInstanceUid: string, recipientAddress: string): Promise<{ decision: ShareDecision; plan: SendPlan | null }> {
    const recipient = getAddress(recipientAddress);
    const t = this.trust;
    const sc = await t.scope();
    const party = t.partyFactory(sc.chainId, sc.contract);
    const checks: GateCheck[] = [];
    const conn = sc.conn;
    const acting = t.actingInstitution(sc.chainId, sc.contract);
    const sender = acting.address;
    const base: ShareDecision = {
      studyInstanceUid,
      recipient: party(recipient),
      sender: sender ? party(sender) : null,
      root: null,
      allowed: false,
      checks,
      contract: null,
      patientIdentityHere: null,
      patient: null,
      checkedAt: nowIso(),
    };
    checks.push(
      check('ledger', conn !== null, conn ? 'The ledger answered.' : (sc.freshness.message ?? 'The ledger cannot be reached.'), 'Wait until the ledger is connected again; nothing is shared without it.'),
    );
    checks.push(
      check('sender', sender !== null, sender ? `Acting for institution ${sender}.` : (acting.message ?? 'No acting institution.'), 'Log in with an institution identity or a clinician identity of an institution.'),
    );
    if (sender && getAddress(sender) === recipient) {
      checks.push(check('recipient-self', false, 'The recipient is your own institution: its clinicians already see this study, so there is nothing to share.', 'Choose another institution.'));
    }
    if (this.studyFiles(studyInstanceUid).length === 0) {
      throw new AppError(ErrorCode.NotFound, `Study ${studyInstanceUid} is not in the library.`, 'Import it first.');
    }
    if (!conn) return { decision: base, plan: null };
    const { policy } = await t.policy(conn);
    const c = conn.contract;

    // The record.
    const root = await this.recordRoot(conn, studyInstanceUid);
    base.root = root;
    checks.push(check('record', root !== null, root ? `The study has a record on the ledger (${root.slice(0, 10)}…).` : 'The study has no record on the ledger.', 'A clinician anchors the study first.'));

    // Verification of every instance (reusing the dialog's check moments ago: one dialog verifies once).
    const v = await t.ledger.verifier.verifyStudy(studyInstanceUid, { reuseRecent: true });
    const n = v.instances.length;
    checks.push(
      check(
        'verified',
        v.state === 'verified' && v.counts.verified === n,
        v.state === 'verified' ? `All ${n} images are verified against the ledger.` : `${n - v.counts.verified} of ${n} images are not verified (${Object.entries(v.counts).filter(([k, x]) => x > 0 && k !== 'verified').map(([k, x]) => `${x} ${k}`).join(', ')}).`,
        'Only verified images may be shared: re-import the originals of altered images or anchor the study again, then check again.',
      ),
    );

    // Recipient.
    const [instRole, rScore, rSusp] = await Promise.all([c.INSTITUTION_ROLE(), c.scoreOf(recipient), c.isSuspended(recipient)]);
    const isInst = await c.hasRole(instRole, recipient);
    checks.push(check('recipient-registered', isInst, isInst ? 'The recipient is a registered institution.' : `${recipient} is not a registered institution on the ledger.`, 'Choose an institution from the registry.'));
    checks.push(check('recipient-suspended', !rSusp, rSusp ? 'The recipient institution is suspended by the regulator.' : 'The recipient is not suspended.', 'Nothing can be shared with it until the regulator reinstates it.'));
    const rs = Number(rScore);
    checks.push(
      check(
        'recipient-score',
        rs >= policy.receiveThreshold,
        `The recipient's credit score is ${rs} (sharing needs at least ${policy.receiveThreshold}).`,
        `The recipient needs ${policy.receiveThreshold - rs} more points (confirmed-integrity accesses earn ${policy.integrityReward} each; the regulator can adjust).`,
      ),
    );
    if (sender) {
      const ss = Number(await c.scoreOf(sender));
      const sSusp = await c.isSuspended(sender);
      checks.push(
        check(
          'sender-score',
          ss >= policy.receiveThreshold && !sSusp,
          sSusp ? 'Your institution is suspended by the regulator.' : `Your institution's credit score is ${ss} (sharing needs at least ${policy.receiveThreshold}).`,
          sSusp ? 'Ask the regulator to reinstate your institution.' : `Your institution needs ${policy.receiveThreshold - ss} more points.`,
        ),
      );
    }

    // Consent, as the contract evaluates it.
    if (root && isInst) {
      const [denial, basis] = await c.canAccess(root, recipient);
      const d = Number(denial) as DenialCode;
      const rec = await c.getRecord(root);
      const patient = getAddress(rec.patient);
      base.patient = patient;
      base.patientIdentityHere = this.identity.list().some((i) => i.address === patient) ? patient : null;
      base.contract = { denial: d, basis: Number(basis), text: d === Denial.None ? (BASIS_TEXT[Number(basis)] ?? 'allowed') : DENIAL_TEXT[d] };
      const consentProblem = d === Denial.NoConsent || d === Denial.Expired || d === Denial.Revoked;
      const here = base.patientIdentityHere
        ? "The patient's identity is on this workstation: let the patient unlock it and sign the consent (EIP-712); your institution submits it, the patient pays nothing."
        : 'Ask the patient for consent: the patient signs a consent for this institution with their own identity (EIP-712), or grants it from their app.';
      if (d === Denial.None) {
        checks.push(check('consent', true, `The contract allows it: ${base.contract.text}.`));
      } else if (consentProblem) {
        let detail: string = DENIAL_TEXT[d];
        if (d === Denial.Expired || d === Denial.Revoked) {
          const cs = await c.consentOf(patient, recipient, await c.studyOf(root));
          const all = await c.consentOf(patient, recipient, ALL_STUDIES);
          const ref = Number(cs.grantedAt) ? cs : all;
          detail += d === Denial.Expired ? ` (it ended ${new Date(Number(ref.expiry) * 1000).toISOString()})` : '';
        }
        checks.push(check('consent', false, `No valid consent: ${detail}.`, here));
      } else {
        // Score / suspension denials are already explained above; keep the contract's word too.
        checks.push(check('consent', false, `The contract refuses: ${DENIAL_TEXT[d]}.`, 'See the recipient checks above.'));
      }
    }

    // The recipient's public key.
    const publicKey = await resolvePublicKey({ db: this.s.db, identity: this.identity }, conn, recipient);
    checks.push(
      check(
        'recipient-key',
        publicKey !== null,
        publicKey ? "The recipient's public key is known (recovered from its signature)." : "The recipient's public key is not known on this workstation, so the package cannot be encrypted to it.",
        'Import the recipient institution\'s key card (it runs "medimgshr share-key export"), or wait until it has sent any transaction on the ledger.',
      ),
    );
    base.allowed = checks.every((x) => x.ok);
    if (base.allowed && root && sender && publicKey) {
      const record = await t.ledger.anchors.evidence(conn, root);
      return { decision: base, plan: { conn, root, publicKey, sender, record } };
    }
    return { decision: base, plan: null };
  }

  private splitService(): SplitSharing {
    const sp = this.deps.split?.();
    if (!sp) throw new AppError(ErrorCode.Unavailable, 'Split storage is not available on this workstation, so a share by metadata cannot be made or opened.', 'Share the whole files instead.');
    return sp;
  }

  /**
   * Shares the study. `byMetadata`: the package holds only each instance's metadata part and its
   * instance key (both encrypted to the recipient like any package file); the encrypted Pixel Data
   * stays in the pixel store the manifest names, pinned there until garbage collection is told otherwise.
   */
  async send(studyInstanceUid: string, recipientAddress: string, task?: Task, opts: { byMetadata?: boolean } = {}): Promise<ShareResult> {
    const { decision, plan: inner } = await this.evaluate(studyInstanceUid, recipientAddress);
    if (!decision.allowed || !inner) {
      const failed = decision.checks.filter((x) => !x.ok);
      throw new AppError(
        ErrorCode.Denied,
        `Sharing is not allowed: ${failed.map((x) => x.message).join(' ')}`,
        failed.map((x) => x.remedy).filter(Boolean).join(' '),
      );
    }
    const manifestLocal = this.trust.ledger.anchors.manifest(inner.root);
    if (!manifestLocal) throw new AppError(ErrorCode.NotFound, 'The anchored manifest of this record is not on this workstation.', 'Anchor the study again from this workstation.');
    const files = this.studyFiles(studyInstanceUid);
    const bySop = new Map(manifestLocal.instances.map((i) => [i.sopInstanceUid, i]));
    const series = new Map<string, string>();
    const counters = new Map<string, number>();
    const pkgFiles: { name: string; path?: string; bytes?: Uint8Array }[] = [];
    const instances: ShareManifest['instances'] = [];
    const chosen: { name: string; path: string; sopInstanceUid: string; meta: string; pixel: string }[] = [];
    for (const f of files) {
      const m = bySop.get(f.sopInstanceUid);
      if (!m) continue;
      let dir = series.get(f.seriesUid);
      if (!dir) {
        dir = `series-${String(series.size + 1).padStart(3, '0')}`;
        series.set(f.seriesUid, dir);
      }
      const k = (counters.get(dir) ?? 0) + 1;
      counters.set(dir, k);
      const name = `${dir}/image-${String(k).padStart(4, '0')}${opts.byMetadata ? '.msm' : '.dcm'}`;
      if (!opts.byMetadata) pkgFiles.push({ name, path: f.path });
      chosen.push({ name, path: f.path, sopInstanceUid: f.sopInstanceUid, meta: m.meta, pixel: m.pixel });
      instances.push({ key: m.uidHash, file: name, digests: { pixel: m.pixel, meta: m.meta, uidHash: m.uidHash }, leaf: m.leaf, proof: m.proof });
    }
    // The study's current AI findings travel as a JSON sidecar inside the encrypted package (docs/ai.md).
    const sidecar = this.deps.aiSidecar ? await this.deps.aiSidecar(studyInstanceUid) : null;
    let sidecarTmp: string | null = null;
    if (sidecar) {
      await mkdir(this.s.home.cache, { recursive: true });
      sidecarTmp = join(this.s.home.cache, `ai-findings-${process.pid}-${Date.now()}.json`);
      await writeFile(sidecarTmp, JSON.stringify(sidecar, null, 2) + '\n');
      pkgFiles.push({ name: AI_SIDECAR_FILE, path: sidecarTmp });
    }
    let split: Awaited<ReturnType<SplitSharing['sharePartsFor']>>['split'] | null = null;
    let splitSizes = { metadataBytes: 0, pixelBytesInStore: 0 };
    if (opts.byMetadata) {
      const parts = await this.splitService().sharePartsFor(chosen, task);
      pkgFiles.push(...parts.files);
      split = parts.split;
      splitSizes = { metadataBytes: parts.metadataBytes, pixelBytesInStore: parts.pixelBytesInStore };
    }
    task?.progress({ total: pkgFiles.length, done: 0, label: 'encrypting the package' }, true);
    const manifest: ShareManifest = {
      version: 1,
      studyRoot: inner.root,
      instances,
      sender: inner.sender,
      recipient: getAddress(recipientAddress),
      created: nowIso(),
      chainId: inner.conn.chainId,
      contract: inner.conn.address,
      storageUri: inner.record.storageUri,
      leafCount: inner.record.leafCount,
      ...(split ? { split } : {}),
    };
    const built = await buildPackage({ files: pkgFiles, manifest, recipientPublicKey: inner.publicKey, blobs: this.s.home.blobs }).finally(() => {
      if (sidecarTmp) rmSync(sidecarTmp, { force: true });
    });
    // The blobs a share in flight names are spared by garbage collection.
    if (split) this.splitService().pinForShare(Object.values(split.blobs).map((b) => b.address), built.address, { recipient: manifest.recipient, root: inner.root });
    task?.progress({ done: pkgFiles.length }, true);
    const storageUri = `${inner.record.storageUri.replace(/\/+$/, '')}/${built.address}`;
    const entry = this.trust.appendAudit({
      actor: this.trust.actor(),
      action: 'share',
      subject: { study: studyInstanceUid, package: built.address },
      details: { recipient: manifest.recipient, sender: inner.sender, root: inner.root, instances: instances.length, storageUri, bytes: built.size, basis: decision.contract?.text ?? null, ...(split ? { byMetadata: true, pixelStore: split.store } : {}) },
    });
    this.s.emit({ type: 'share', direction: 'sent', studyInstanceUid, address: built.address, counterparty: manifest.recipient });
    return {
      decision,
      address: built.address,
      path: built.path,
      size: built.size,
      storageUri,
      instances: instances.length,
      auditSeq: entry.seq,
      message: `Shared ${instances.length} image(s) with ${manifest.recipient}${split ? ' by metadata' : ''}: package ${built.address.slice(0, 12)}… (${built.size} bytes) at ${storageUri}.`,
      sent: split
        ? `The metadata of ${instances.length} DICOM image(s) (every element but Pixel Data: identifiable, not anonymised) and one key per image, with the anchored manifest of digests and Merkle proofs. No pixel data: the encrypted Pixel Data stays in the pixel store ${split.store} (${splitSizes.pixelBytesInStore} bytes).`
        : `${instances.length} original DICOM image(s), identifiable (patient name, ID and dates as acquired, not anonymised), with the anchored manifest of digests and Merkle proofs.`,
      delivery: split
        ? `Encrypted so that only the recipient's key opens it, stored as one package at ${storageUri}. The recipient opens it with its key, fetches each image's encrypted Pixel Data from ${split.store} (it must be able to reach that store), rebuilds the original files byte-identical, checks every image against the ledger, and its access is recorded on the ledger.`
        : `Encrypted so that only the recipient's key opens it, stored as one package at ${storageUri}. Nothing is sent over the network by this step: the recipient fetches the package from that address (or you hand over the file ${built.path}), opens it with its key, checks every image against the ledger, and its access is recorded on the ledger.`,
      ...(split ? { split: { store: split.store, ...splitSizes } } : {}),
    };
  }

  /** Revokes a patient's consent (./consent.ts); the pixel blobs that shares under it pinned are released. */
  async revokeConsent(r: RevokeConsentRequest): Promise<RevokeConsentResult> {
    const result = await revokeConsent({ trust: this.trust, identity: this.identity }, r);
    await this.releaseEndedSharePins().catch((err: unknown) => this.s.log.warn('share: the pins of revoked shares were not released (the next garbage collection retries)', { error: err instanceof Error ? err.message : String(err) }));
    return result;
  }

  /**
   * Releases the pins of shares by metadata that have ended: the contract no longer lets the
   * recipient access the record (its consent expired, was revoked, or is gone). A share still open,
   * or refused only for a score or a suspension (which can change back), keeps its pins; so does one
   * whose pins do not name recipient and record (made before they were recorded). Needs the ledger:
   * without it nothing is released.
   */
  async releaseEndedSharePins(): Promise<{ released: { packageAddress: string; blobs: number; why: string }[]; kept: number }> {
    const sp = this.deps.split?.();
    const pins = sp?.sharePins() ?? [];
    const out = { released: [] as { packageAddress: string; blobs: number; why: string }[], kept: 0 };
    if (!sp || !pins.length) return out;
    const conn = await this.trust.ledger.chain.require();
    for (const p of pins) {
      if (!p.recipient || !p.root) {
        out.kept++;
        continue;
      }
      const [denial] = await conn.contract.canAccess(p.root, p.recipient);
      const d = Number(denial) as DenialCode;
      if (d === Denial.Expired || d === Denial.Revoked || d === Denial.NoConsent) {
        out.released.push({ packageAddress: p.packageAddress, blobs: sp.releaseSharePins(p.reason), why: DENIAL_TEXT[d] });
      } else out.kept++;
    }
    return out;
  }

  /** The typed data a browser wallet signs for a consent or revocation (./wallet-consent.ts). */
  walletConsentTypedData(r: WalletConsentRequest): ReturnType<typeof walletConsentTypedData> {
    return walletConsentTypedData(this.walletDeps(), r);
  }

  /** A wallet-signed consent or revocation: checked to recover the patient, then submitted (./wallet-consent.ts). */
  submitWalletConsent(r: WalletConsentSubmit): Promise<WalletConsentResult> {
    return submitWalletConsent(this.walletDeps(), r);
  }

  private walletDeps() {
    return { trust: this.trust, identity: this.identity, recordRoot: (conn: ChainConnection, uid: string) => this.recordRoot(conn, uid) };
  }

  /** A patient's consents across all studies (./consent.ts). */
  patientConsents(patient: string): ReturnType<typeof patientConsents> {
    return patientConsents({ trust: this.trust, identity: this.identity }, patient);
  }

  /** The patient signs an EIP-712 consent with their identity on this workstation; the acting identity submits it. */
  async collectConsent(r: { studyInstanceUid: string; recipient: string; patientIdentity: string; passphrase: string; scope?: 'study' | 'all'; days?: number }): Promise<ConsentResult> {
    const t = this.trust;
    const conn = await t.ledger.chain.require();
    const ids = this.identity;
    const submitter = ids.signer();
    const root = await this.recordRoot(conn, r.studyInstanceUid);
    if (!root) throw new AppError(ErrorCode.NotFound, 'The study has no record on the ledger, so there is nothing to consent to yet.', 'A clinician anchors the study first.');
    const rec = await conn.contract.getRecord(root);
    const patientAddr = getAddress(r.patientIdentity);
    if (getAddress(rec.patient) !== patientAddr) {
      throw new AppError(ErrorCode.Denied, `${patientAddr} is not the patient account of this study's record (${getAddress(rec.patient)}).`, "Unlock the study's patient identity.");
    }
    const json = ids.exportKeystore(patientAddr).keystoreJson;
    let patient: Wallet;
    try {
      patient = new Wallet((await Wallet.fromEncryptedJson(json, r.passphrase)).privateKey);
    } catch {
      throw new AppError(ErrorCode.WrongPassphrase, "The patient's passphrase is not correct; nothing was signed.", 'Let the patient type their passphrase again.');
    }
    const block = await conn.provider.getBlock('latest');
    const now = block?.timestamp ?? Math.floor(Date.now() / 1000);
    const expiry = now + (r.days ?? 90) * 86400;
    const study = r.scope === 'all' ? ALL_STUDIES : await conn.contract.studyOf(root);
    const signed = await signConsent(patient, conn.contract, { institution: getAddress(r.recipient), study, expiry, deadline: now + 3600 });
    const writer = conn.contract.connect(submitter) as MedImgShr;
    let receipt;
    try {
      receipt = await confirmed(writer.grantConsentBySig(signed.patient, signed.institution, signed.study, signed.expiry, signed.deadline, signed.signature));
    } catch (err) {
      const d = decodeContractError(err);
      throw new AppError(ErrorCode.Denied, `The ledger refused the consent${d ? ` (${d.name})` : ''}: ${d ? JSON.stringify(d.args, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) : (err as Error).message}.`, 'Check that the recipient is a registered institution with a score above the sharing threshold.');
    }
    this.trust.appendAudit({
      actor: this.trust.actor(),
      action: 'consent.collected',
      subject: { study: r.studyInstanceUid },
      details: { patient: patientAddr, institution: signed.institution, study: signed.study, expiry: Number(signed.expiry), txHash: receipt.hash },
    });
    await t.ledger.sync.sync();
    return {
      patient: patientAddr,
      institution: signed.institution,
      study: signed.study,
      expiresAt: new Date(expiry * 1000).toISOString(),
      txHash: receipt.hash,
      block: receipt.blockNumber,
      submittedBy: await submitter.getAddress(),
    };
  }

  /** Opens, verifies, records and indexes a package as the unlocked recipient institution. */
  async receive(path: string, task?: Task): Promise<ReceiveResult> {
    const t = this.trust;
    const ids = this.identity;
    const me = ids.signer();
    const conn = await t.ledger.chain.require();
    const opened = await openPackage(path, me.privateKey);
    const m = opened.manifest;
    const root = m.studyRoot;
    // the images (the AI findings sidecar, when present, is kept beside them and not read as an image)
    const sidecarFiles = opened.files.filter((f) => f.name === AI_SIDECAR_FILE);
    let images = opened.files.filter((f) => f.name !== AI_SIDECAR_FILE);

    // The record on chain.
    const c = conn.contract;
    let record: RecordEvidence | null = null;
    if (await c.hasRecord(root)) record = await t.ledger.anchors.evidence(conn, root);
    // A share by metadata: fetch each encrypted Pixel Data blob from the store, rebuild the originals
    // (each byte-identical or it fails, naming the instance) before anything is written or recorded.
    let splitInfo: ReceiveResult['split'];
    const fileName = (n: string | undefined) => (m.split && n ? n.replace(/\.msm$/, '.dcm') : n);
    if (m.split) {
      task?.progress({ total: images.length, done: 0, label: 'fetching and rebuilding the images from the pixel store' }, true);
      const r = await this.splitService().rebuildShared(m.split, images, record?.storageUri ?? null, (done) => task?.progress({ done }));
      images = r.files;
      opened.files = [...images, ...sidecarFiles];
      splitInfo = { store: r.store, rebuilt: r.files.length, pixelBytesFetched: r.pixelBytesFetched };
    }
    task?.progress({ total: images.length, done: 0, label: 'verifying the received images' }, true);
    // The files, written completely (atomic folder) before anything looks at them.
    // A fresh folder per receive: an earlier receive of the same package stays untouched (it may be indexed).
    let folder = join(this.s.home.root, 'received', opened.address);
    for (let n = 2; existsSync(folder); n++) folder = join(this.s.home.root, 'received', `${opened.address}-${n}`);
    await atomicExport(folder, async (staging) => {
      for (const f of opened.files) {
        await mkdir(dirname(join(staging, f.name)), { recursive: true });
        await writeFile(join(staging, f.name), f.bytes);
      }
    });
    const paths = images.map((f) => join(folder, f.name));
    const run = await this.fingerprints.fingerprintPaths(paths);
    const byPath = new Map(run.instances.map((i) => [(i as unknown as { path?: string }).path ?? '', i]));
    const fpRows = this.s.db.prepare('SELECT pixel_sha256, meta_sha256, uid_hash, leaf, sop_instance_uid, study_instance_uid FROM fingerprint_files WHERE path = ?');
    const manifestByFile = new Map(m.instances.map((i) => [fileName(i.file), i]));
    const checks: { file: string; sopInstanceUid: string | null; verified: boolean; message: string; value?: ReturnType<typeof leafValue>; proof?: string[] }[] = [];
    let studyUid: string | null = null;
    for (const f of images) {
      const p = join(folder, f.name);
      const row = fpRows.get(p) as { pixel_sha256: string | null; meta_sha256: string | null; uid_hash: string | null; leaf: string | null; sop_instance_uid: string | null; study_instance_uid: string | null } | undefined;
      void byPath;
      const mi = manifestByFile.get(f.name);
      if (!row || !row.leaf || !row.pixel_sha256 || !row.meta_sha256 || !row.uid_hash) {
        checks.push({ file: f.name, sopInstanceUid: row?.sop_instance_uid ?? null, verified: false, message: 'The received file could not be fingerprinted.' });
        continue;
      }
      studyUid ??= row.study_instance_uid;
      if (!mi) {
        checks.push({ file: f.name, sopInstanceUid: row.sop_instance_uid, verified: false, message: 'The file is not listed in the manifest.' });
        continue;
      }
      const value = leafValue(row.pixel_sha256, row.meta_sha256, row.uid_hash);
      const differs = [row.pixel_sha256 !== mi.digests.pixel ? 'pixels' : null, row.meta_sha256 !== mi.digests.meta ? 'metadata' : null].filter(Boolean);
      if (row.leaf !== mi.leaf || differs.length) {
        checks.push({ file: f.name, sopInstanceUid: row.sop_instance_uid, verified: false, message: `The ${differs.join(' and ') || 'leaf'} of the received file differ from the manifest.` });
        continue;
      }
      if (!verifyLeafProof(root, value, mi.proof)) {
        checks.push({ file: f.name, sopInstanceUid: row.sop_instance_uid, verified: false, message: 'Its Merkle proof does not reach the study root.' });
        continue;
      }
      checks.push({ file: f.name, sopInstanceUid: row.sop_instance_uid, verified: true, message: 'Matches the record on the ledger (proof checked locally and by the contract).', value, proof: mi.proof });
    }
    // The contract checks every proof against the root too; the root must be a record by the sender.
    const onChain = await Promise.all(checks.map((x) => (x.verified && x.value ? c.verifyInstance(root, x.proof!, x.value[0], x.value[1], x.value[2]) : Promise.resolve(false))));
    checks.forEach((x, i) => {
      if (x.verified && !onChain[i]) {
        x.verified = false;
        x.message = 'The contract does not accept its Merkle proof for the study root.';
      }
    });
    if (!record) for (const x of checks) if (x.verified) { x.verified = false; x.message = 'The study root has no record on the ledger.'; }
    // A study may be passed on by an institution that received it: the record (by its anchoring
    // institution) is what the images are checked against; the sender is named in the result.
    const resent = record !== null && getAddress(record.institution) !== getAddress(m.sender);
    const allVerified = checks.length > 0 && checks.every((x) => x.verified) && (record?.leafCount ?? -1) >= checks.length;
    task?.progress({ done: images.length, label: 'recording the access on the ledger' }, true);

    // The access on chain (a denied attempt is recorded too).
    if (!record) {
      await rm(folder, { recursive: true, force: true });
      throw new AppError(ErrorCode.NotFound, `The package's study root ${root} has no record on this ledger, so it cannot be verified or accessed.`, 'Check that this workstation uses the same ledger as the sender.');
    }
    const writer = c.connect(me) as MedImgShr;
    const rc = await confirmed(writer.recordAccess(root));
    const evs = decodeEvents(rc.logs, conn.address);
    const granted = evs.find((e) => e.name === 'AccessGranted');
    const denied = evs.find((e) => e.name === 'AccessDenied');
    const accessId = granted ? Number((granted.args as { accessId: bigint }).accessId) : null;
    const denial = denied ? Number((denied.args as { reason: bigint }).reason) : null;
    const access = {
      granted: Boolean(granted),
      accessId,
      denial,
      text: granted ? (BASIS_TEXT[Number((granted.args as { basis: bigint }).basis)] ?? 'allowed') : DENIAL_TEXT[(denial ?? 1) as DenialCode],
      txHash: rc.hash,
    };
    let confirmTxHash: string | null = null;
    if (granted && allVerified) {
      const rc2 = await confirmed(writer.confirmIntegrity(accessId!));
      confirmTxHash = rc2.hash;
    }
    let indexed = 0;
    let alreadyHere = 0;
    let kept: string | null = folder;
    if (granted && allVerified) {
      const library = this.deps.library();
      const report = await this.s.tasks.run('import', null, (tk) => library.import([folder], tk));
      indexed = report.added + report.updated;
      alreadyHere = report.identicalCopies.length;
      if (indexed > 0) this.s.emit({ type: 'library-changed', reason: 'import', studyIds: report.studyIds });
    } else {
      await rm(folder, { recursive: true, force: true });
      kept = null;
    }
    const entry = t.appendAudit({
      actor: me.address,
      action: 'receive',
      subject: { study: studyUid ?? undefined, package: opened.address },
      details: { sender: m.sender, root, access, verified: allVerified, instances: checks.length, confirmTxHash, indexed, ...(splitInfo ? { byMetadata: true, pixelStore: splitInfo.store } : {}) },
    });
    await t.ledger.sync.sync();
    this.s.emit({ type: 'share', direction: 'received', studyInstanceUid: studyUid, address: opened.address, counterparty: getAddress(m.sender) });
    const nOk = checks.filter((x) => x.verified).length;
    return {
      address: opened.address,
      root,
      sender: getAddress(m.sender),
      recipient: getAddress(m.recipient),
      instances: checks.map(({ file, sopInstanceUid, verified, message }) => ({ file, sopInstanceUid, verified, message })),
      verified: allVerified,
      record,
      access,
      integrityConfirmed: confirmTxHash !== null,
      confirmTxHash,
      folder: kept,
      indexed,
      studyInstanceUid: studyUid,
      auditSeq: entry.seq,
      ...(splitInfo ? { split: splitInfo } : {}),
      message: !granted
        ? `The ledger denied the access (${access.text}); the attempt is recorded and nothing was kept.`
        : allVerified
          ? `Received ${checks.length} verified image(s); access recorded (id ${accessId}) and integrity confirmed; ${indexed} indexed into the library${alreadyHere ? ` (${alreadyHere} were already in it: identical copies)` : ''}.${resent ? ` The record was anchored by ${record!.institution}; ${m.sender} passed it on.` : ''}`
          : `${checks.length - nOk} of ${checks.length} image(s) do not match the record; the access is recorded but integrity was NOT confirmed and nothing was kept. Consider reporting a mismatch.`,
    };
  }
}

export const ZERO_ROOT = ZeroHash;
