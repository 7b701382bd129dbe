import { z } from 'zod';
import { Address, Bytes32, Hex64, Uid, Path } from './primitives';
import { IdentitySummary } from './identity';

/**
 * The ledger domain: connection status, the current identity's on-chain roles, anchoring a study,
 * verifying instances and studies against the chain (with evidence), the chain-event sync and the
 * demo setup. See docs/ledger.md for what each verification state means exactly.
 */

/**
 * The ledger connection as the main process last saw it. `unreachable` is never shown as
 * anything but unreachable: the UI must not fall back to a cached "verified".
 */
export const LedgerState = z.enum(['not-configured', 'starting', 'connected', 'unreachable']);
export type LedgerState = z.infer<typeof LedgerState>;

export const LedgerStatus = z.object({
  state: LedgerState,
  /** 'embedded' = the local anvil node the app starts itself; 'remote' = a configured JSON-RPC endpoint. */
  mode: z.enum(['embedded', 'remote']),
  rpcUrl: z.string().nullable(),
  chainId: z.number().int().nullable(),
  blockNumber: z.number().int().nullable(),
  /** ISO time of the last successful or failed check. */
  checkedAt: z.string().nullable(),
  /** Plain-language detail, e.g. why it is unreachable. */
  message: z.string().nullable(),
  /**
   * ISO time of the last failed chain read on this connection (a monitor poll, or any read by verify,
   * sync, the outbox or an anchor status read; or the embedded node exiting). No "verified" result
   * checked before this moment may be shown.
   */
  failedAt: z.string().nullable().optional(),
});
export type LedgerStatus = z.infer<typeof LedgerStatus>;

// ---------------------------------------------------------------- pieces

/** The roles an account holds on the contract (read from the chain, never from local hints). */
export const ChainRoles = z.object({
  address: Address,
  regulator: z.boolean(),
  institution: z.boolean(),
  clinician: z.boolean(),
  patient: z.boolean(),
  /** For a clinician: the institution that granted the role (null otherwise). */
  clinicianOf: Address.nullable(),
  /** Credit score (institutions and patients; the start score for others). */
  score: z.number().int().nullable(),
  /** Institutions: suspended by the regulator. */
  suspended: z.boolean(),
});
export type ChainRoles = z.infer<typeof ChainRoles>;

/** The unlocked identity and what the chain says it may do. */
export const LedgerIdentity = z.object({
  identity: IdentitySummary.nullable(),
  /** null when no identity is unlocked or the chain could not be asked (see `message`). */
  roles: ChainRoles.nullable(),
  /** Whether the roles were read from the chain in this call. */
  fromChain: z.boolean(),
  message: z.string().nullable(),
});
export type LedgerIdentity = z.infer<typeof LedgerIdentity>;

/** The on-chain record an image was checked against: who anchored what, when, where. */
export const RecordEvidence = z.object({
  chainId: z.number().int(),
  contract: Address,
  root: Bytes32,
  /** Study id on chain (root of the first version). */
  study: Bytes32,
  version: z.number().int(),
  leafCount: z.number().int(),
  institution: Address,
  clinician: Address,
  /** Pseudonymous patient account. */
  patient: Address,
  /** ISO time of the block that holds the record. */
  time: z.string(),
  storageUri: z.string(),
  /** Block and transaction of the StudyAnchored event (null when not known locally yet: not synced). */
  block: z.number().int().nullable(),
  txHash: z.string().nullable(),
  /** Newer version's root, when this record was superseded. */
  supersededBy: Bytes32.nullable(),
});
export type RecordEvidence = z.infer<typeof RecordEvidence>;

/**
 * verified: the instance's recomputed digests are a leaf of a root that has a record on chain,
 *   checked in this call (record read + Merkle proof verified, also by the contract's verifyInstance).
 * altered: the study's anchored manifest has this SOP Instance UID with other digests (`differs`).
 * not-registered: no record on chain covers this instance (never anchored, anchor still queued, or the
 *   instance is not part of what was anchored).
 * ledger-unreachable: the chain could not be asked in this call (whatever the local copy says).
 * unreadable: the file could not be read or fingerprinted (missing, not DICOM, truncated…).
 */
export const VerificationState = z.enum(['verified', 'altered', 'not-registered', 'ledger-unreachable', 'unreadable']);
export type VerificationState = z.infer<typeof VerificationState>;

export const Digests = z.object({ pixel: Hex64, meta: Hex64 });

export const InstanceVerification = z.object({
  /** Library instance id when the file is indexed, else null. */
  instanceId: z.number().int().nullable(),
  path: z.string(),
  sopInstanceUid: z.string().nullable(),
  studyInstanceUid: z.string().nullable(),
  state: VerificationState,
  /** One plain sentence for the badge tooltip, e.g. "Pixels differ from the anchored record." */
  message: z.string(),
  /** verified / altered: the record checked against (altered: the record whose manifest differs). */
  evidence: RecordEvidence.nullable(),
  /** altered: which digests differ from the anchored manifest. */
  differs: z.array(z.enum(['pixels', 'metadata'])),
  /** The digests recomputed now (null when unreadable). */
  actual: Digests.nullable(),
  /** The digests in the anchored manifest for this SOP Instance UID (null when none). */
  expected: Digests.nullable(),
  /**
   * verified: the contract's verifyInstance view also accepted the proof in this call (calls with up to
   * 64 instances; larger batches check the proof locally against the root read from the chain — the
   * view is a pure function, so the result is the same).
   */
  provenOnChain: z.boolean(),
  /** Digests reused from the store because the file's size and time had not changed. */
  cachedDigests: z.boolean(),
  checkedAt: z.string(),
});
export type InstanceVerification = z.infer<typeof InstanceVerification>;

export const StateCounts = z.object({
  verified: z.number().int(),
  altered: z.number().int(),
  'not-registered': z.number().int(),
  'ledger-unreachable': z.number().int(),
  unreadable: z.number().int(),
});

/** Local state of one anchor (what this workstation anchored or queued). */
export const AnchorDelivery = z.enum(['queued', 'sent', 'confirmed', 'failed']);
export const LocalAnchor = z.object({
  studyInstanceUid: z.string(),
  root: Bytes32,
  leafCount: z.number().int(),
  storageUri: z.string(),
  patient: Address,
  clinician: Address,
  previous: Bytes32.nullable(),
  delivery: AnchorDelivery,
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  txHash: z.string().nullable(),
  block: z.number().int().nullable(),
  createdAt: z.string(),
});
export type LocalAnchor = z.infer<typeof LocalAnchor>;

export const StudyVerification = z.object({
  studyInstanceUid: z.string(),
  /** The worst instance state (altered > unreadable > ledger-unreachable > not-registered > verified). */
  state: VerificationState,
  message: z.string(),
  counts: StateCounts,
  /** The record of the study's newest local anchor as read from the chain (null if none / unreachable). */
  record: RecordEvidence.nullable(),
  /** The newest local anchor of the study (null: never anchored here). */
  anchor: LocalAnchor.nullable(),
  /** Root the current files give (null when no instance could be fingerprinted). */
  currentRoot: Bytes32.nullable(),
  instances: z.array(InstanceVerification),
  checkedAt: z.string(),
  seconds: z.number().nonnegative(),
});
export type StudyVerification = z.infer<typeof StudyVerification>;

export const AnchorResult = z.object({
  anchor: LocalAnchor,
  /** The chain record once mined (null while queued: ledger down or identity locked). */
  record: RecordEvidence.nullable(),
  /** True when this root was already anchored or queued (nothing new was sent). */
  existing: z.boolean(),
  /** Instances fingerprinted for this anchor, and files that failed (not part of the root). */
  instances: z.number().int(),
  failed: z.array(z.object({ path: z.string(), message: z.string() })),
  message: z.string(),
  seconds: z.number().nonnegative(),
});
export type AnchorResult = z.infer<typeof AnchorResult>;

export const SyncStatus = z.object({
  chainId: z.number().int().nullable(),
  contract: Address.nullable(),
  /** Every event up to this block is in the local tables. */
  lastSyncedBlock: z.number().int().nullable(),
  /** ISO time of the last successful sync pass. */
  syncedAt: z.string().nullable(),
  /** Chain head seen by the last pass. */
  head: z.number().int().nullable(),
  running: z.boolean(),
  /** Events stored for this chain and contract. */
  events: z.number().int(),
  /** Times a rollback (chain restored from an older state, reorg) was detected and resynced. */
  resets: z.number().int(),
  lastResetFrom: z.number().int().nullable(),
  lastError: z.string().nullable(),
});
export type SyncStatus = z.infer<typeof SyncStatus>;

export const DemoStatus = z.object({
  /** Demo setup is possible only on the embedded chain. */
  available: z.boolean(),
  /** Everything in place: identities, on-chain roles, sample study imported. */
  ready: z.boolean(),
  passphrase: z.string().nullable(),
  identities: z.array(z.object({ role: z.enum(['regulator', 'institution', 'clinician', 'patient']), address: Address, displayName: z.string(), onChain: z.boolean() })),
  study: z.object({ studyInstanceUid: z.string(), studyId: z.number().int().nullable(), files: z.number().int(), folder: z.string() }).nullable(),
  message: z.string(),
});
export type DemoStatus = z.infer<typeof DemoStatus>;

export const LedgerInfo = z.object({
  status: LedgerStatus,
  contract: Address.nullable(),
  sync: SyncStatus,
  outbox: z.object({ queued: z.number().int(), sent: z.number().int(), confirmed: z.number().int(), failed: z.number().int() }),
});
export type LedgerInfo = z.infer<typeof LedgerInfo>;

/** Role administration actions, each one transaction signed by the unlocked identity (see ledger.admin). */
export const AdminAction = z.enum([
  'registerInstitution',
  'suspendInstitution',
  'reinstateInstitution',
  'grantClinician',
  'removeClinician',
  'registerPatientFor',
  'registerPatient',
]);
export type AdminAction = z.infer<typeof AdminAction>;

export const AdminResult = z.object({
  action: AdminAction,
  account: Address,
  txHash: z.string(),
  block: z.number().int().nullable(),
  /** The account's roles read from the chain after the transaction was mined. */
  roles: ChainRoles,
});
export type AdminResult = z.infer<typeof AdminResult>;

// ---------------------------------------------------------------- channels

export const ledgerChannels = {
  'ledger.status': { request: z.object({}).strict(), response: LedgerStatus },
  /** Connection, contract address, sync state and outbox counts in one call (status bar, settings). */
  'ledger.info': { request: z.object({}).strict(), response: LedgerInfo },
  /** The unlocked identity and its roles read from the chain now (the UI adapts to these). */
  'ledger.me': { request: z.object({}).strict(), response: LedgerIdentity },
  /** Roles of any account, read from the chain. */
  'ledger.roles': { request: z.object({ address: Address }).strict(), response: ChainRoles },
  /**
   * Anchor a study as a task with progress (kind 'anchor'): fingerprints, Merkle root, one transaction
   * through the outbox (idempotent by root). Resolves when mined, or with delivery 'queued' when the
   * ledger is down (sent when it is back). The unlocked identity must be a clinician on chain.
   * `patient`: the pseudonymous patient account; default: the account linked to the study's patient.
   */
  'ledger.anchor': {
    request: z.object({ studyInstanceUid: Uid, patient: Address.optional(), waitMs: z.number().int().min(0).max(120_000).optional() }).strict(),
    response: AnchorResult,
  },
  /** Local anchors of a study (newest first) with their delivery state; nothing is read from the chain. */
  'ledger.anchors': {
    request: z.object({ studyInstanceUid: Uid }).strict(),
    response: z.object({ anchors: z.array(LocalAnchor) }),
  },
  /** Verify every indexed instance of a study against the chain (per instance + the study's worst state). */
  'ledger.verifyStudy': { request: z.object({ studyInstanceUid: Uid }).strict(), response: StudyVerification },
  /** Verify some instances (library ids and/or file paths) against the chain; call it after showing the image. */
  'ledger.verifyInstances': {
    request: z
      .object({ instanceIds: z.array(z.number().int().positive()).max(10_000).optional(), paths: z.array(Path).max(10_000).optional() })
      .strict()
      .refine((r) => (r.instanceIds?.length ?? 0) + (r.paths?.length ?? 0) > 0, { message: 'give instanceIds or paths' }),
    response: z.object({ instances: z.array(InstanceVerification), checkedAt: z.string() }),
  },
  /** Sync chain events into the local tables now (incremental); returns the sync status. */
  'ledger.sync': { request: z.object({}).strict(), response: SyncStatus },
  'ledger.syncStatus': { request: z.object({}).strict(), response: SyncStatus },
  /** The demo setup (embedded chain only): identities, roles, sample study. */
  'ledger.demoStatus': { request: z.object({}).strict(), response: DemoStatus },
  /** Creates whatever of the demo setup is missing (idempotent). */
  'ledger.setupDemo': { request: z.object({}).strict(), response: DemoStatus },
  /**
   * Role administration, signed by the unlocked identity and mined before it resolves: the regulator
   * registers / suspends / reinstates institutions; an institution grants / removes clinicians and
   * registers a verified patient (`registerPatientFor`); anyone may `registerPatient` themselves
   * (`account` ignored). The contract decides: a refused call is a DENIED error naming the reason.
   */
  'ledger.admin': {
    request: z.object({ action: AdminAction, account: Address.optional() }).strict(),
    response: AdminResult,
  },
  /**
   * A patient's records as the chain lists them (recordCount / recordAt, all versions, oldest first,
   * at most 500). `patient` defaults to the unlocked identity. Public chain data: no local secrets.
   */
  'ledger.patientRecords': {
    request: z.object({ patient: Address.optional() }).strict(),
    response: z.object({ patient: Address, total: z.number().int(), records: z.array(RecordEvidence) }),
  },
} as const;

// ---------------------------------------------------------------- events

export const LedgerStatusEvent = z.object({ type: z.literal('ledger-status'), status: LedgerStatus });

/** An anchor changed delivery state (queued → sent → confirmed, or failed). */
export const LedgerAnchorEvent = z.object({ type: z.literal('ledger-anchor'), anchor: LocalAnchor });

/** A sync pass stored new events (or detected a rollback). */
export const LedgerSyncEvent = z.object({ type: z.literal('ledger-sync'), status: SyncStatus, newEvents: z.number().int() });

/** The unlocked identity or its on-chain roles changed (login, logout, role granted/removed). */
export const LedgerIdentityEvent = z.object({ type: z.literal('ledger-identity'), me: LedgerIdentity });
/** The DEMO set-up moved on (its identities exist, or it is ready): the login screen reads it again. */
export const DemoEvent = z.object({ type: z.literal('demo'), status: DemoStatus });
