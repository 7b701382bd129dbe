import { z } from 'zod';
import { Address, Bytes32, Uid, Path } from './primitives';
import { RecordEvidence } from './ledger';
import { ConsentView, LedgerFreshness, PartyRef } from './trust';
import { GateCheck } from './export';

/** The share gate (with the patient's EIP-712 consent), share packages and receiving them. See docs/trust-and-sharing.md. */

export const ShareDecision = z.object({
  studyInstanceUid: z.string(),
  recipient: PartyRef,
  sender: PartyRef.nullable(),
  /** The record shared (newest local anchor's root on chain), null when there is none. */
  root: Bytes32.nullable(),
  allowed: z.boolean(),
  checks: z.array(GateCheck),
  /** The contract's canAccess answer (denial code, plain words). */
  contract: z.object({ denial: z.number().int(), basis: z.number().int(), text: z.string() }).nullable(),
  /** The patient's identity is on this workstation: a consent signature can be collected here. */
  patientIdentityHere: Address.nullable(),
  patient: Address.nullable(),
  checkedAt: z.string(),
});
export type ShareDecision = z.infer<typeof ShareDecision>;

export const ShareResult = z.object({
  decision: ShareDecision,
  /** Content address (SHA-256 hex) of the package in the blob store. */
  address: z.string(),
  path: z.string(),
  size: z.number().int(),
  /** The storage URI of the record on chain + the package's address: where the recipient fetches it. */
  storageUri: z.string(),
  instances: z.number().int(),
  auditSeq: z.number().int(),
  message: z.string(),
  /** What was sent, in plain words (identifiable original DICOM or anonymised). */
  sent: z.string().optional(),
  /** How it reaches the recipient, in plain words. */
  delivery: z.string().optional(),
  /** A share by metadata (docs/split-storage.md): the pixel store the recipient fetches the encrypted Pixel Data from. */
  split: z.object({ store: z.string(), metadataBytes: z.number().int(), pixelBytesInStore: z.number().int() }).optional(),
});
export type ShareResult = z.infer<typeof ShareResult>;

export const ConsentRequest = z
  .object({
    studyInstanceUid: Uid,
    recipient: Address,
    /** The patient's identity on this workstation and its passphrase (used once, in the main process). */
    patientIdentity: Address,
    passphrase: z.string().min(1).max(1024),
    /** 'study' (default) or all the patient's studies. */
    scope: z.enum(['study', 'all']).optional(),
    /** Consent length in days (default 90, at most the contract's maximum). */
    days: z.number().int().min(1).max(730).optional(),
  })
  .strict();

export const ConsentResult = z.object({
  patient: Address,
  institution: Address,
  study: Bytes32,
  expiresAt: z.string(),
  txHash: z.string(),
  block: z.number().int(),
  /** Who submitted the signed consent (paid the gas). */
  submittedBy: Address,
});
export type ConsentResult = z.infer<typeof ConsentResult>;

/** Revoke a consent: the patient is signed in, or signs a revocation here with their passphrase. */
export const RevokeConsentRequest = z
  .object({
    patient: Address,
    institution: Address,
    /** The consent's study id as granted (ConsentView.study), or ALL_STUDIES. */
    study: Bytes32,
    /** The patient's passphrase (used once, in the main process) when the patient is not the signed-in identity. */
    passphrase: z.string().min(1).max(1024).optional(),
    /** The study the revocation was made from (for the audit log). */
    studyInstanceUid: Uid.optional(),
  })
  .strict();
export type RevokeConsentRequest = z.infer<typeof RevokeConsentRequest>;

export const RevokeConsentResult = z.object({
  patient: Address,
  institution: Address,
  study: Bytes32,
  scope: z.enum(['study', 'all']),
  txHash: z.string(),
  block: z.number().int(),
  submittedBy: Address,
  /** The patient signed a revocation that another identity submitted. */
  bySignature: z.boolean(),
});
export type RevokeConsentResult = z.infer<typeof RevokeConsentResult>;

export const ReceivedInstance = z.object({
  file: z.string(),
  sopInstanceUid: z.string().nullable(),
  /** The decrypted file's digests are the manifest's leaf, its proof reaches the on-chain root (local + contract). */
  verified: z.boolean(),
  message: z.string(),
});

export const ReceiveResult = z.object({
  address: z.string(),
  root: Bytes32,
  sender: Address,
  recipient: Address,
  instances: z.array(ReceivedInstance),
  verified: z.boolean(),
  record: RecordEvidence.nullable(),
  access: z.object({ granted: z.boolean(), accessId: z.number().int().nullable(), denial: z.number().int().nullable(), text: z.string(), txHash: z.string() }),
  integrityConfirmed: z.boolean(),
  confirmTxHash: z.string().nullable(),
  /** Where the files were written and indexed (null when nothing was kept). */
  folder: z.string().nullable(),
  indexed: z.number().int(),
  studyInstanceUid: z.string().nullable(),
  auditSeq: z.number().int(),
  message: z.string(),
  /** A share by metadata: the pixel store the images were rebuilt from (byte-identical, checked). */
  split: z.object({ store: z.string(), rebuilt: z.number().int(), pixelBytesFetched: z.number().int() }).optional(),
});
export type ReceiveResult = z.infer<typeof ReceiveResult>;

/** An institution's public-key card: a signed statement the public key is recovered from. */
export const KeyCard = z.object({
  format: z.literal('medimgshr-key-card/1'),
  address: Address,
  /** Uncompressed secp256k1 public key (0x04…), recovered from `signature` by whoever imports it. */
  publicKey: z.string().regex(/^0x04[0-9a-fA-F]{128}$/),
  label: z.string().max(120).nullable(),
  created: z.string(),
  /** EIP-191 personal_sign over keyCardMessage(address, created). */
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
});
export type KeyCard = z.infer<typeof KeyCard>;

/** A share was sent or received on this workstation (refresh the trust panel). */
export const ShareEvent = z.object({
  type: z.literal('share'),
  direction: z.enum(['sent', 'received']),
  studyInstanceUid: z.string().nullable(),
  address: z.string(),
  counterparty: Address,
});

/** A consent or revocation signed in an injected browser wallet (EIP-1193 eth_signTypedData_v4). */
export const WalletConsentRequest = z
  .object({
    kind: z.enum(['consent', 'revocation']),
    /** consent: the study (its record on chain names the patient); revocation: optional, for the audit log. */
    studyInstanceUid: Uid.optional(),
    /** The institution the consent is (or was) given to. */
    recipient: Address,
    scope: z.enum(['study', 'all']).optional(),
    days: z.number().int().min(1).max(730).optional(),
    /** revocation: the consent's patient and study id (ConsentView). */
    patient: Address.optional(),
    study: Bytes32.optional(),
  })
  .strict();
export type WalletConsentRequest = z.infer<typeof WalletConsentRequest>;

/** EIP-712 typed data as eth_signTypedData_v4 takes it (numbers as decimal strings). */
export const WalletTypedData = z.object({
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
  primaryType: z.string(),
  domain: z.object({ name: z.string(), version: z.string(), chainId: z.number().int(), verifyingContract: Address }),
  message: z.record(z.string(), z.string()),
});
export type WalletTypedData = z.infer<typeof WalletTypedData>;

export const WalletConsentSubmit = WalletConsentRequest.extend({
  expiry: z.string().regex(/^[0-9]+$/).optional(),
  nonce: z.string().regex(/^[0-9]+$/),
  deadline: z.string().regex(/^[0-9]+$/),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte signature (0x followed by 130 hex digits)'),
}).strict();
export type WalletConsentSubmit = z.infer<typeof WalletConsentSubmit>;

export const WalletConsentResult = z.object({
  kind: z.enum(['consent', 'revocation']),
  patient: Address,
  institution: Address,
  study: Bytes32,
  expiresAt: z.string().nullable(),
  txHash: z.string(),
  block: z.number().int(),
  submittedBy: Address,
});
export type WalletConsentResult = z.infer<typeof WalletConsentResult>;

// ---------------------------------------------------------------- channels

export const shareChannels = {
  /** The share gate: the decision with every check, its reason and what would change it. */
  'share.gate': { request: z.object({ studyInstanceUid: Uid, recipient: Address }).strict(), response: ShareDecision },
  /** Shares (gate first; refused with the reasons when denied): builds the package in the blob store, audited. */
  'share.send': {
    /** byMetadata: send only the metadata parts and the instance keys; the recipient fetches the pixels from the pixel store. */
    request: z.object({ studyInstanceUid: Uid, recipient: Address, byMetadata: z.boolean().optional() }).strict(),
    response: ShareResult,
  },
  /** The patient's identity on this workstation signs an EIP-712 consent; the acting identity submits it. */
  'share.collectConsent': { request: ConsentRequest, response: ConsentResult },
  /** The EIP-712 typed data of a consent or revocation for the patient's browser wallet to sign (built from the chain). */
  'share.walletConsentTypedData': {
    request: WalletConsentRequest,
    response: z.object({ typedData: WalletTypedData, patient: Address, institution: Address, study: Bytes32 }),
  },
  /** Submits a wallet-signed consent or revocation after checking it recovers the patient's account (else refused, nothing stored). */
  'share.submitWalletConsent': { request: WalletConsentSubmit, response: WalletConsentResult },
  /** Revokes a patient's consent (the patient signed in, or the patient's passphrase here); later accesses are denied. */
  'share.revokeConsent': { request: RevokeConsentRequest, response: RevokeConsentResult },
  /** A patient's consents to every institution, all studies (the patient console). */
  'share.patientConsents': {
    request: z.object({ patient: Address }).strict(),
    response: z.object({ patient: Address, consents: z.array(ConsentView), ledger: LedgerFreshness }),
  },
  /** Opens a package as the unlocked recipient institution: decrypt, verify, record the access, index. */
  'share.receive': { request: z.object({ path: Path }).strict(), response: ReceiveResult },
  /** The unlocked institution's key card (give it to senders). */
  'share.keyCard': { request: z.object({ label: z.string().max(120).optional() }).strict(), response: KeyCard },
  /** Imports a recipient's key card (the public key is recovered from its signature and checked). */
  'share.importKeyCard': { request: z.object({ card: KeyCard }).strict(), response: z.object({ address: Address, publicKey: z.string() }) },
  /** DEMO (embedded chain): a second institution to share with (local demo keystore, registered by the demo regulator). */
  'share.demoPartner': {
    request: z.object({}).strict(),
    response: z.object({ address: Address, displayName: z.string(), registered: z.boolean(), passphrase: z.string() }),
  },
} as const;
