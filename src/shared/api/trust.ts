import { z } from 'zod';
import { InstanceVerification, RecordEvidence, StateCounts, VerificationState } from './ledger';

/**
 * The trust panel, the export gate, the share gate (with the patient's EIP-712 consent), receiving a
 * share package, and the local hash-chained audit log. See docs/trust-and-sharing.md.
 *
 * Everything in the trust panel is read from the synced SQLite copy of the chain's events
 * (`ledger-sync` events tell the UI to refresh); `ledger.reachable` says whether the chain could be
 * asked now — when false the UI shows "ledger unreachable", never a cached "verified".
 */

const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const Bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const Uid = z.string().min(1).max(64);
const Path = z.string().min(1).max(4096);
const Reason = z.string().trim().min(3, 'type a reason (at least 3 characters)').max(1000);

// ---------------------------------------------------------------- trust panel

/** A party as the panel names it: address + a local label (identity name, demo name) + its role on chain. */
export const PartyRef = z.object({
  address: Address,
  /** Local display name when this workstation knows the account (its identities, key cards), else null. */
  label: z.string().nullable(),
  /** What the synced events say it is: regulator | institution | clinician | patient | unknown. */
  role: z.enum(['regulator', 'institution', 'clinician', 'patient', 'unknown']),
});
export type PartyRef = z.infer<typeof PartyRef>;

/** Where a fact on chain comes from. */
export const ChainRef = z.object({
  block: z.number().int(),
  txHash: z.string(),
  /** ISO time of the block (null when the block time is not known). */
  time: z.string().nullable(),
});
export type ChainRef = z.infer<typeof ChainRef>;

export const ScoreChange = ChainRef.extend({
  account: Address,
  delta: z.number().int(),
  newScore: z.number().int(),
  reasonCode: z.number().int(),
  /** The reason in plain words (one table: src/core/credit-policy.ts SCORE_REASON_TEXT). */
  reason: z.string(),
  /** Who caused it (msg.sender of the transaction). */
  by: PartyRef,
});
export type ScoreChange = z.infer<typeof ScoreChange>;

export const Threshold = z.object({
  key: z.enum(['receiveThreshold', 'anchorThreshold', 'startScore', 'minScore', 'maxScore', 'patientRewardCapPerPeriod']),
  value: z.number().int(),
  /** What it gates, in plain words. */
  meaning: z.string(),
  appliesTo: z.enum(['institution', 'patient', 'both']),
});
export type Threshold = z.infer<typeof Threshold>;

export const ScoreSummary = z.object({
  account: Address,
  /** The newest score in the synced events (the start score when the account has no event yet; null when unknown). */
  score: z.number().int().nullable(),
  /** Every change, oldest first (for the chart). */
  history: z.array(ScoreChange),
});
export type ScoreSummary = z.infer<typeof ScoreSummary>;

export const ConsentState = z.enum(['active', 'expired', 'revoked']);
export const ConsentView = z.object({
  institution: PartyRef,
  /** 'study' = this study only; 'all' = all the patient's studies. */
  scope: z.enum(['study', 'all']),
  study: Bytes32,
  state: ConsentState,
  grantedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  bySignature: z.boolean(),
  granted: ChainRef,
  revoked: ChainRef.nullable(),
});
export type ConsentView = z.infer<typeof ConsentView>;

export const AccessView = ChainRef.extend({
  outcome: z.enum(['granted', 'denied']),
  accessId: z.number().int().nullable(),
  recipient: PartyRef,
  accessor: PartyRef,
  root: Bytes32,
  /** granted: what it rested on; denied: why, in plain words. */
  detail: z.string(),
  basis: z.number().int().nullable(),
  denial: z.number().int().nullable(),
  /** What happened next: confirmed (integrity), reported (mismatch), upheld / rejected. */
  followUp: z.enum(['none', 'confirmed', 'reported', 'upheld', 'rejected']),
});
export type AccessView = z.infer<typeof AccessView>;

export const RecordVersion = ChainRef.extend({
  root: Bytes32,
  study: Bytes32,
  version: z.number().int(),
  leafCount: z.number().int(),
  institution: PartyRef,
  clinician: PartyRef,
  storageUri: z.string().nullable(),
  supersededBy: Bytes32.nullable(),
});
export type RecordVersion = z.infer<typeof RecordVersion>;

export const HistoryKind = z.enum(['record', 'consent', 'access', 'score', 'report']);
export type HistoryKind = z.infer<typeof HistoryKind>;

/** One line of the unified history (what the table, the CSV and the PDF show). */
export const HistoryEntry = ChainRef.extend({
  kind: HistoryKind,
  /** e.g. "access denied", "consent granted", "score +5". */
  title: z.string(),
  /** One plain sentence. */
  detail: z.string(),
  /** The institution involved (recipient, consented institution, anchoring institution), when any. */
  institution: Address.nullable(),
  account: Address.nullable(),
  delta: z.number().int().nullable(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const HistoryFilter = z
  .object({
    kinds: z.array(HistoryKind).max(5).optional(),
    /** ISO times: from inclusive, to exclusive. */
    from: z.string().max(40).optional(),
    to: z.string().max(40).optional(),
    institution: Address.optional(),
    /** Free-text match on title and detail (case-insensitive). */
    text: z.string().max(200).optional(),
  })
  .strict();
export type HistoryFilter = z.infer<typeof HistoryFilter>;

export const LedgerFreshness = z.object({
  /** Whether the chain answered in this call. false → the UI says "ledger unreachable". */
  reachable: z.boolean(),
  message: z.string().nullable(),
  chainId: z.number().int().nullable(),
  contract: Address.nullable(),
  lastSyncedBlock: z.number().int().nullable(),
  /** ISO time of the last successful sync pass (null = never synced). */
  lastSyncedAt: z.string().nullable(),
  head: z.number().int().nullable(),
});
export type LedgerFreshness = z.infer<typeof LedgerFreshness>;

export const InstitutionStatus = z.object({
  institution: PartyRef,
  score: z.number().int().nullable(),
  suspended: z.boolean(),
  canReceive: z.boolean(),
  canAnchor: z.boolean(),
  history: z.array(ScoreChange),
});
export type InstitutionStatus = z.infer<typeof InstitutionStatus>;

export const TrustPanel = z.object({
  studyInstanceUid: z.string(),
  ledger: LedgerFreshness,
  /** The pseudonymous patient account of the study (null: never anchored and no linked account). */
  patient: ScoreSummary.extend({ party: PartyRef }).nullable(),
  thresholds: z.array(Threshold),
  /** Where the thresholds come from: the contract now, or the mirror in src/core when unreachable. */
  thresholdsFrom: z.enum(['contract', 'mirror']),
  /** Verification of every instance (null when `verify: false` was asked). */
  verification: z
    .object({ state: VerificationState, message: z.string(), counts: StateCounts, instances: z.array(InstanceVerification), record: RecordEvidence.nullable() })
    .nullable(),
  /** The study's record versions on chain (synced), oldest first. */
  records: z.array(RecordVersion),
  consents: z.array(ConsentView),
  accesses: z.array(AccessView),
  /** The acting institution (the unlocked identity, or the institution its clinician role belongs to). */
  actingInstitution: InstitutionStatus.nullable(),
  /** Why actingInstitution is null, in plain words. */
  actingMessage: z.string().nullable(),
  history: z.array(HistoryEntry),
});
export type TrustPanel = z.infer<typeof TrustPanel>;

export const RegistryInstitution = z.object({
  id: z.number().int(),
  party: PartyRef,
  score: z.number().int(),
  suspended: z.boolean(),
  /** Still holds the institution role. */
  active: z.boolean(),
  canReceive: z.boolean(),
  /** This workstation knows its public key (needed to encrypt a share to it). */
  publicKeyKnown: z.boolean(),
  /** The unlocked identity acts for this institution. */
  self: z.boolean(),
});
export type RegistryInstitution = z.infer<typeof RegistryInstitution>;

// ---------------------------------------------------------------- export

export const ExportFormat = z.enum(['dicom-anonymised', 'dicom-original', 'png']);
export type ExportFormat = z.infer<typeof ExportFormat>;

export const ExportScope = z.union([
  z.object({ studyInstanceUid: Uid }).strict(),
  z.object({ seriesInstanceUid: Uid }).strict(),
  z.object({ instanceIds: z.array(z.number().int().positive()).min(1).max(100_000) }).strict(),
]);
export type ExportScope = z.infer<typeof ExportScope>;

export const PngOptions = z
  .object({
    /** Current window/level from the viewer (null/absent → the file's default window, else min/max). */
    windowCenter: z.number().nullable().optional(),
    windowWidth: z.number().positive().nullable().optional(),
    /** Text drawn onto the image (e.g. the viewer's overlay). Identifying → the export is identifiable. */
    overlayText: z.array(z.string().max(200)).max(12).optional(),
    /** Frame of multi-frame images (0-based, default 0). */
    frame: z.number().int().nonnegative().optional(),
  })
  .strict();
export type PngOptions = z.infer<typeof PngOptions>;

export const ExportRequest = z
  .object({
    scope: ExportScope,
    format: ExportFormat,
    /** The destination folder; must not exist (it appears only when the export is complete). */
    outDir: Path,
    png: PngOptions.optional(),
    /**
     * Export identifiable data although not every instance is verified (or anonymised images with
     * burned-in annotation). Recorded in the audit log as `override` with this reason.
     */
    override: z.object({ reason: Reason }).strict().optional(),
  })
  .strict();
export type ExportRequest = z.infer<typeof ExportRequest>;

export const GateCheck = z.object({
  code: z.string(),
  ok: z.boolean(),
  /** Plain sentence: what was checked and what was found. */
  message: z.string(),
  /** What would change it (null when ok). */
  remedy: z.string().nullable(),
});
export type GateCheck = z.infer<typeof GateCheck>;

export const ExportDecision = z.object({
  format: ExportFormat,
  /** Original DICOM, or PNG with overlay text: data that can identify the patient. */
  identifiable: z.boolean(),
  allowed: z.boolean(),
  /** Not allowed as is, but allowed with an override reason. */
  overridable: z.boolean(),
  instances: z.number().int(),
  counts: StateCounts,
  checks: z.array(GateCheck),
});
export type ExportDecision = z.infer<typeof ExportDecision>;

export const ExportReport = z.object({
  format: ExportFormat,
  outDir: z.string(),
  written: z.array(z.object({ output: z.string(), sopInstanceUid: z.string().nullable() })),
  skipped: z.array(z.object({ source: z.string(), code: z.string(), reason: z.string() })),
  decision: ExportDecision,
  overridden: z.boolean(),
  /** Sequence numbers of the audit entries written (export, and override when used). */
  auditSeqs: z.array(z.number().int()),
  /** PNG: marked NOT FOR DIAGNOSTIC USE (always: 8-bit windowed rendering is lossy). */
  notForDiagnosticUse: z.boolean(),
  seconds: z.number().nonnegative(),
  message: z.string(),
});
export type ExportReport = z.infer<typeof ExportReport>;

// ---------------------------------------------------------------- share

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

// ---------------------------------------------------------------- audit

export const AuditEntryView = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.object({ study: z.string().optional(), series: z.string().optional(), instances: z.array(z.string()).optional(), package: z.string().optional() }),
  details: z.record(z.string(), z.unknown()),
  reason: z.string().nullable(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEntryView = z.infer<typeof AuditEntryView>;

export const AuditFilterRequest = z
  .object({
    action: z.string().max(64).optional(),
    actor: z.string().max(64).optional(),
    study: z.string().max(64).optional(),
    from: z.string().max(40).optional(),
    to: z.string().max(40).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    offset: z.number().int().min(0).optional(),
    order: z.enum(['asc', 'desc']).optional(),
  })
  .strict();

export const AuditChainReport = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  lastSeq: z.number().int(),
  problems: z.array(z.object({ seq: z.number().int(), kind: z.enum(['edited', 'missing', 'reordered', 'truncated', 'unreadable']), message: z.string() })),
});

// ---------------------------------------------------------------- channels

export const trustChannels = {
  /** Everything the trust panel shows for a study (verify: also verify every instance now; default true). */
  'trust.panel': {
    request: z.object({ studyInstanceUid: Uid, verify: z.boolean().optional(), filter: HistoryFilter.optional() }).strict(),
    response: TrustPanel,
  },
  /** The unified history of a study's patient and record, filtered. */
  'trust.history': {
    request: z.object({ studyInstanceUid: Uid, filter: HistoryFilter.optional() }).strict(),
    response: z.object({ entries: z.array(HistoryEntry), ledger: LedgerFreshness }),
  },
  /** Writes the (filtered) history as CSV or as a printable PDF report to `path` (atomically). */
  'trust.exportHistory': {
    request: z.object({ studyInstanceUid: Uid, filter: HistoryFilter.optional(), format: z.enum(['csv', 'pdf']), path: Path }).strict(),
    response: z.object({ path: z.string(), bytes: z.number().int(), entries: z.number().int() }),
  },
  /** The chain's institution registry with scores, status and whether a share can be encrypted to each. */
  'trust.institutions': {
    request: z.object({}).strict(),
    response: z.object({ institutions: z.array(RegistryInstitution), ledger: LedgerFreshness }),
  },

  /** The export gate's decision without exporting (verifies the instances now). */
  'export.check': {
    request: z.object({ scope: ExportScope, format: ExportFormat, png: PngOptions.optional() }).strict(),
    response: ExportDecision,
  },
  /** Export as a task (kind 'export', progress events); atomic; audited; the report at the end. */
  'export.run': { request: ExportRequest, response: ExportReport },

  /** The share gate: the decision with every check, its reason and what would change it. */
  'share.gate': { request: z.object({ studyInstanceUid: Uid, recipient: Address }).strict(), response: ShareDecision },
  /** Shares (gate first; refused with the reasons when denied): builds the package in the blob store, audited. */
  'share.send': { request: z.object({ studyInstanceUid: Uid, recipient: Address }).strict(), response: ShareResult },
  /** The patient's identity on this workstation signs an EIP-712 consent; the acting identity submits it. */
  'share.collectConsent': { request: ConsentRequest, response: ConsentResult },
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

  'audit.list': { request: AuditFilterRequest, response: z.object({ entries: z.array(AuditEntryView), total: z.number().int() }) },
  /** Re-hashes the whole audit log and reports where the chain breaks. */
  'audit.verify': { request: z.object({}).strict(), response: AuditChainReport },
  /** Writes the (filtered) audit log as CSV or JSON to `path` (atomically). */
  'audit.export': {
    request: z.object({ format: z.enum(['csv', 'json']), path: Path, filter: AuditFilterRequest.optional() }).strict(),
    response: z.object({ path: z.string(), bytes: z.number().int(), entries: z.number().int() }),
  },
} as const;

// ---------------------------------------------------------------- events

/** An audit entry was appended (export, override, share, receive). */
export const AuditAppendedEvent = z.object({ type: z.literal('audit-appended'), entry: AuditEntryView });

/** A share was sent or received on this workstation (refresh the trust panel). */
export const ShareEvent = z.object({
  type: z.literal('share'),
  direction: z.enum(['sent', 'received']),
  studyInstanceUid: z.string().nullable(),
  address: z.string(),
  counterparty: Address,
});
