/**
 * Revoking a patient's consent (docs/trust-and-sharing.md): the patient's own identity revokes it
 * (revokeConsent, when the patient is the unlocked identity), or the patient signs an EIP-712
 * Revocation on this workstation with their passphrase and the acting identity submits it
 * (revokeConsentBySig, the patient pays no gas). Also: the patient's consents across all studies
 * (the patient console) and finding a consent by its id (the transaction that granted it).
 */
import { getAddress, Wallet } from 'ethers';
import { ALL_STUDIES, confirmed, decodeContractError, signRevocation, type MedImgShr } from '../ledger/contracts';
import type { IdentityService } from '../identity';
import type { TrustService } from '../trust';
import type { ConsentView, LedgerFreshness } from '../../shared/api/trust';
import type { RevokeConsentRequest, RevokeConsentResult } from '../../shared/api/share';
import { AppError, ErrorCode } from '../../shared/errors';

interface Deps {
  trust: TrustService;
  identity: IdentityService;
}

/** The patient's consents to every institution, for all their studies (synced chain events). */
export async function patientConsents(d: Deps, patientAddress: string): Promise<{ patient: string; consents: ConsentView[]; ledger: LedgerFreshness }> {
  const t = d.trust;
  const sc = await t.scope();
  if (sc.conn) await t.ledger.sync.sync();
  const patient = getAddress(patientAddress);
  if (sc.chainId === null || sc.contract === null) return { patient, consents: [], ledger: sc.freshness };
  const studies = (
    t.ledger.ctx.db.prepare('SELECT DISTINCT study FROM chain_consents WHERE chain_id = ? AND contract = ? AND patient = ?').all(sc.chainId, sc.contract, patient) as { study: string }[]
  ).map((r) => r.study);
  const party = t.partyFactory(sc.chainId, sc.contract);
  return { patient, consents: t.consents(sc.chainId, sc.contract, patient, studies, party, Math.floor(Date.now() / 1000)), ledger: sc.freshness };
}

/** A consent by its id: the hash (or a unique prefix of at least 8 hex digits) of the transaction that granted it. */
export function consentById(d: Deps, id: string): { patient: string; institution: string; study: string; txHash: string } {
  const t = d.trust;
  const hex = id.toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{8,64}$/.test(hex)) {
    throw new AppError(ErrorCode.InvalidArgument, `"${id}" is not a consent id.`, 'A consent id is the transaction hash that granted it (shown by "medimgshr consent --list" and "medimgshr trust show").');
  }
  const rows = t.ledger.ctx.db
    .prepare("SELECT patient, institution, study, tx_hash FROM chain_consents WHERE action = 'granted' AND lower(tx_hash) LIKE ?")
    .all(`0x${hex}%`) as { patient: string; institution: string; study: string; tx_hash: string }[];
  if (rows.length === 0) throw new AppError(ErrorCode.NotFound, `No consent with id ${id} is known on this workstation.`, 'List the consents with "medimgshr consent --list --patient <address>".');
  if (rows.length > 1) throw new AppError(ErrorCode.InvalidArgument, `The id ${id} matches ${rows.length} consents.`, 'Give more digits of the id.');
  const r = rows[0]!;
  return { patient: getAddress(r.patient), institution: getAddress(r.institution), study: r.study, txHash: r.tx_hash };
}

/** The study id a consent names for a study on this workstation (its record's first version), or ALL_STUDIES. */
export async function consentStudyOf(d: Deps, studyInstanceUid: string, scope: 'study' | 'all'): Promise<{ study: string; patient: string }> {
  const conn = await d.trust.ledger.chain.require();
  for (const a of d.trust.ledger.anchors.ofStudy(studyInstanceUid)) {
    if (await conn.contract.hasRecord(a.root).catch(() => false)) {
      const rec = await conn.contract.getRecord(a.root);
      return { study: scope === 'all' ? ALL_STUDIES : await conn.contract.studyOf(a.root), patient: getAddress(rec.patient) };
    }
  }
  throw new AppError(ErrorCode.NotFound, 'The study has no record on the ledger, so it has no consent to revoke.', 'Check the Study Instance UID ("medimgshr studies").');
}

/** Revokes a consent; afterwards every access of that institution under it is denied. */
export async function revokeConsent(d: Deps, r: RevokeConsentRequest): Promise<RevokeConsentResult> {
  const t = d.trust;
  const ids = d.identity;
  const conn = await t.ledger.chain.require();
  const c = conn.contract;
  const patient = getAddress(r.patient);
  const institution = getAddress(r.institution);
  const study = r.study;
  const held = await c.consentOf(patient, institution, study);
  if (Number(held.grantedAt) === 0) {
    throw new AppError(ErrorCode.NotFound, 'The patient has no consent for that institution and study, so there is nothing to revoke.', 'Check the institution and the study (or "all studies").');
  }
  if (held.revoked) {
    throw new AppError(ErrorCode.Conflict, 'That consent is already revoked; nothing was changed.');
  }
  const me = ids.current();
  let receipt;
  let submittedBy: string;
  let bySignature: boolean;
  try {
    if (me && getAddress(me.address) === patient) {
      // The patient is signed in: they revoke it themselves.
      const writer = c.connect(ids.signer()) as MedImgShr;
      receipt = await confirmed(writer.revokeConsent(institution, study));
      submittedBy = patient;
      bySignature = false;
    } else {
      if (!r.passphrase) {
        throw new AppError(ErrorCode.Locked, "The patient's passphrase is needed to revoke the consent on this workstation.", 'Let the patient type their passphrase, or let the patient revoke it from their own app.');
      }
      let wallet: Wallet;
      try {
        wallet = new Wallet((await Wallet.fromEncryptedJson(ids.exportKeystore(patient).keystoreJson, r.passphrase)).privateKey);
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError(ErrorCode.WrongPassphrase, "The patient's passphrase is not correct; nothing was revoked.", 'Let the patient type their passphrase again.');
      }
      const block = await conn.provider.getBlock('latest');
      const now = block?.timestamp ?? Math.floor(Date.now() / 1000);
      const signed = await signRevocation(wallet, c, { institution, study, deadline: now + 3600 });
      // The acting identity submits the patient's signature; with nobody signed in, the patient's key pays.
      const submitter = me ? ids.signer() : wallet.connect(conn.provider);
      const writer = c.connect(submitter) as MedImgShr;
      receipt = await confirmed(writer.revokeConsentBySig(signed.patient, signed.institution, signed.study, signed.deadline, signed.signature));
      submittedBy = getAddress(await submitter.getAddress());
      bySignature = true;
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    const dec = decodeContractError(err);
    throw new AppError(ErrorCode.Denied, `The ledger refused the revocation${dec ? ` (${dec.name})` : ''}.`, 'Check that the patient is registered on the ledger and the consent is still active.');
  }
  t.appendAudit({
    actor: t.actor(),
    action: 'consent.revoked',
    subject: r.studyInstanceUid ? { study: r.studyInstanceUid } : {},
    details: { patient, institution, study, txHash: receipt.hash, bySignature },
  });
  await t.ledger.sync.sync();
  return { patient, institution, study, scope: study === ALL_STUDIES ? 'all' : 'study', txHash: receipt.hash, block: receipt.blockNumber, submittedBy, bySignature };
}
