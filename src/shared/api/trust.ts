import { z } from 'zod';
import { Address, Bytes32, Uid, Path } from './primitives';
import { InstanceVerification, RecordEvidence, StateCounts, VerificationState } from './ledger';

/**
 * The trust panel: the patient's and institutions' credit scores, consents, accesses and the
 * unified sharing history of a study. See docs/trust-and-sharing.md.
 *
 * Everything in the trust panel is read from the synced SQLite copy of the chain's events
 * (`ledger-sync` events tell the UI to refresh); `ledger.reachable` says whether the chain could be
 * asked now — when false the UI shows "ledger unreachable", never a cached "verified".
 */

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
} as const;
