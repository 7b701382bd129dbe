/**
 * The patient's consent (and its revocation) signed in an injected browser wallet (EIP-1193,
 * `eth_signTypedData_v4`): the main process builds the EIP-712 typed data from the chain (domain,
 * the study's patient and study id, the patient's nonce), the wallet signs it (its key never leaves
 * it), and the main process checks that the signature recovers the patient's account before
 * anything is stored or sent; the acting identity then submits it (grantConsentBySig /
 * revokeConsentBySig — the patient pays no gas). The domain and types are the contract's
 * (src/node/ledger/contracts: CONSENT_TYPES, REVOCATION_TYPES, consentDomain).
 */
import { getAddress, verifyTypedData, type TypedDataDomain } from 'ethers';
import { ALL_STUDIES, CONSENT_TYPES, confirmed, consentDomain, decodeContractError, REVOCATION_TYPES, type MedImgShr } from '../ledger/contracts';
import type { ChainConnection } from '../ledger';
import type { IdentityService } from '../identity';
import type { TrustService } from '../trust';
import type { WalletConsentRequest, WalletConsentSubmit, WalletConsentResult, WalletTypedData } from '../../shared/api/share';
import { AppError, ErrorCode } from '../../shared/errors';

interface Deps {
  trust: TrustService;
  identity: IdentityService;
  /** The study's record root on chain (null when not anchored). */
  recordRoot(conn: ChainConnection, studyInstanceUid: string): Promise<string | null>;
}

const DEADLINE_SECONDS = 3600;

/** What the consent or revocation names, read from the chain (never from the renderer). */
async function subject(d: Deps, conn: ChainConnection, r: { kind: 'consent' | 'revocation'; studyInstanceUid?: string; recipient: string; scope?: 'study' | 'all'; patient?: string; study?: string }): Promise<{ patient: string; institution: string; study: string }> {
  const institution = getAddress(r.recipient);
  if (r.kind === 'revocation' && r.patient && r.study) return { patient: getAddress(r.patient), institution, study: r.study };
  if (!r.studyInstanceUid) throw new AppError(ErrorCode.InvalidArgument, 'Name the study (Study Instance UID) the consent is for.');
  const root = await d.recordRoot(conn, r.studyInstanceUid);
  if (!root) throw new AppError(ErrorCode.NotFound, 'The study has no record on the ledger, so there is nothing to consent to yet.', 'A clinician anchors the study first.');
  const rec = await conn.contract.getRecord(root);
  const study = r.scope === 'all' ? ALL_STUDIES : await conn.contract.studyOf(root);
  return { patient: getAddress(rec.patient), institution, study };
}

function typedDataJson(domain: TypedDataDomain, kind: 'consent' | 'revocation', message: Record<string, string>): WalletTypedData {
  const types = kind === 'consent' ? CONSENT_TYPES : REVOCATION_TYPES;
  return {
    types: {
      EIP712Domain: [
        { name: 'name', type: 'string' },
        { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' },
        { name: 'verifyingContract', type: 'address' },
      ],
      ...types,
    },
    primaryType: kind === 'consent' ? 'Consent' : 'Revocation',
    domain: { name: String(domain.name), version: String(domain.version), chainId: Number(domain.chainId), verifyingContract: String(domain.verifyingContract) },
    message,
  };
}

/** The EIP-712 typed data the patient's wallet signs (eth_signTypedData_v4), built from the chain. */
export async function walletConsentTypedData(d: Deps, r: WalletConsentRequest): Promise<{ typedData: WalletTypedData; patient: string; institution: string; study: string }> {
  const conn = await d.trust.ledger.chain.require();
  const c = conn.contract;
  const s = await subject(d, conn, r);
  if (r.kind === 'revocation') {
    const held = await c.consentOf(s.patient, s.institution, s.study);
    if (Number(held.grantedAt) === 0) throw new AppError(ErrorCode.NotFound, 'The patient has no consent for that institution and study, so there is nothing to revoke.', 'Check the institution and the study (or "all studies").');
    if (held.revoked) throw new AppError(ErrorCode.Conflict, 'That consent is already revoked; nothing was changed.');
  }
  const block = await conn.provider.getBlock('latest');
  const now = block?.timestamp ?? Math.floor(Date.now() / 1000);
  const nonce = await c.nonces(s.patient);
  const message: Record<string, string> = { patient: s.patient, institution: s.institution, study: s.study };
  if (r.kind === 'consent') message.expiry = String(now + (r.days ?? 90) * 86400);
  message.nonce = nonce.toString();
  message.deadline = String(now + DEADLINE_SECONDS);
  return { typedData: typedDataJson(await consentDomain(c), r.kind, message), ...s };
}

/**
 * Checks that the wallet's signature recovers the patient's account (against the domain and types
 * this process builds), then submits it. Nothing is stored, audited or sent before that check.
 */
export async function submitWalletConsent(d: Deps, r: WalletConsentSubmit): Promise<WalletConsentResult> {
  const t = d.trust;
  const conn = await t.ledger.chain.require();
  const c = conn.contract;
  const s = await subject(d, conn, r);
  const domain = await consentDomain(c);
  const value =
    r.kind === 'consent'
      ? { patient: s.patient, institution: s.institution, study: s.study, expiry: BigInt(r.expiry ?? '0'), nonce: BigInt(r.nonce), deadline: BigInt(r.deadline) }
      : { patient: s.patient, institution: s.institution, study: s.study, nonce: BigInt(r.nonce), deadline: BigInt(r.deadline) };
  let recovered: string;
  try {
    recovered = getAddress(verifyTypedData(domain, r.kind === 'consent' ? CONSENT_TYPES : REVOCATION_TYPES, value, r.signature));
  } catch {
    throw new AppError(ErrorCode.InvalidArgument, `The wallet's answer is not a valid EIP-712 signature of this ${r.kind}; nothing was stored or sent.`, 'Sign again in the wallet.');
  }
  const what = r.kind === 'consent' ? 'consent' : 'revocation';
  if (recovered !== s.patient) {
    throw new AppError(
      ErrorCode.Denied,
      `The ${what} was signed by account ${recovered}, not by the patient of this study (${s.patient}); nothing was stored or sent.`,
      `Let the patient sign with their own account (${s.patient}) in the wallet.`,
    );
  }
  const current = await c.nonces(s.patient);
  if (current !== BigInt(r.nonce)) {
    throw new AppError(ErrorCode.Conflict, `The signed ${what} is out of date (the patient has signed something else since); nothing was sent.`, 'Sign again in the wallet.');
  }
  const submitter = d.identity.signer();
  const writer = c.connect(submitter) as MedImgShr;
  let receipt;
  try {
    receipt =
      r.kind === 'consent'
        ? await confirmed(writer.grantConsentBySig(s.patient, s.institution, s.study, BigInt(r.expiry ?? '0'), BigInt(r.deadline), r.signature))
        : await confirmed(writer.revokeConsentBySig(s.patient, s.institution, s.study, BigInt(r.deadline), r.signature));
  } catch (err) {
    const dec = decodeContractError(err);
    throw new AppError(ErrorCode.Denied, `The ledger refused the ${what}${dec ? ` (${dec.name})` : ''}.`, r.kind === 'consent' ? 'Check that the recipient is a registered institution with a score above the sharing threshold.' : 'Check that the consent is still active.');
  }
  t.appendAudit({
    actor: t.actor(),
    action: r.kind === 'consent' ? 'consent.collected' : 'consent.revoked',
    subject: r.studyInstanceUid ? { study: r.studyInstanceUid } : {},
    details: { patient: s.patient, institution: s.institution, study: s.study, ...(r.kind === 'consent' ? { expiry: Number(r.expiry) } : {}), txHash: receipt.hash, bySignature: true, signedIn: 'browser wallet' },
  });
  await t.ledger.sync.sync();
  return {
    kind: r.kind,
    patient: s.patient,
    institution: s.institution,
    study: s.study,
    expiresAt: r.kind === 'consent' ? new Date(Number(r.expiry) * 1000).toISOString() : null,
    txHash: receipt.hash,
    block: receipt.blockNumber,
    submittedBy: getAddress(await submitter.getAddress()),
  };
}
