/**
 * The credit-score and sharing policy of the MedImgShr contract, mirrored in TypeScript.
 * The contract keeps every number in contracts/CreditPolicy.sol; this module mirrors them for the
 * UI (explaining a score, a threshold, a denial) and for tests. docs/credit-score.md gives the
 * reason for each number. A test asserts this mirror equals `MedImgShr.creditPolicy()` on chain.
 */

export const CREDIT_POLICY = {
  minScore: 0,
  maxScore: 1000,
  /** Every new patient and institution starts here. */
  startScore: 500,
  /** Below this an institution receives no new consent and its accesses are denied (ScoreTooLow). */
  receiveThreshold: 300,
  /** Below this an institution's clinicians cannot anchor studies. */
  anchorThreshold: 100,
  /** A patient earns this when a consented study is accessed by a recipient (once per recipient and study). */
  patientAccessReward: 5,
  /** At most this many access-reward points per patient per reward period. */
  patientRewardCapPerPeriod: 50,
  /** Length of a reward period (fixed windows of block time: floor(time / period)). */
  rewardPeriodSeconds: 30 * 24 * 3600,
  /** The anchoring institution earns this for a confirmed-integrity access (once per recipient and study). */
  integrityReward: 2,
  /** The anchoring institution loses this when the regulator upholds a mismatch report. */
  mismatchPenalty: 200,
  /** The reporter earns this when its report is upheld. */
  reportUpheldReward: 10,
  /** The reporter loses this when its report is rejected. */
  reportRejectedPenalty: 25,
  /** Largest single regulator adjustment, either way. */
  maxRegulatorDelta: 500,
  /** Regulator reason codes start here; lower codes are the automatic rules. */
  regulatorReasonMin: 100,
  /** A consent may run at most this long. */
  maxConsentSeconds: 730 * 24 * 3600,
} as const;

export type CreditPolicy = typeof CREDIT_POLICY;

/** Reason codes of the contract's ScoreChanged event. */
export const ScoreReason = {
  Start: 0,
  PatientAccessReward: 1,
  IntegrityConfirmed: 2,
  MismatchUpheld: 3,
  ReportUpheldReward: 4,
  ReportRejected: 5,
  /** Regulator codes (>= regulatorReasonMin). */
  RegulatorCorrection: 100,
  RegulatorAuditFinding: 101,
  RegulatorDataBreach: 102,
  RegulatorReinstatement: 103,
} as const;

export const SCORE_REASON_TEXT: Record<number, string> = {
  0: 'starting score',
  1: 'a study the patient consented to was accessed',
  2: 'a recipient confirmed the images matched the record',
  3: 'the regulator upheld a report that an image did not match its record',
  4: 'a mismatch report by this institution was upheld',
  5: 'a mismatch report by this institution was rejected',
  100: 'regulator correction',
  101: 'regulator audit finding',
  102: 'regulator: data-protection breach',
  103: 'regulator: reinstatement',
};

/** Why an access was denied (AccessDenied.reason / canAccess); None = allowed. */
export const Denial = { None: 0, NoConsent: 1, Expired: 2, Revoked: 3, ScoreTooLow: 4, Suspended: 5 } as const;
export type DenialCode = (typeof Denial)[keyof typeof Denial];

export const DENIAL_TEXT: Record<DenialCode, string> = {
  0: 'allowed',
  1: 'the patient has not consented to this institution',
  2: "the patient's consent has expired",
  3: 'the patient revoked the consent',
  4: "the recipient institution's credit score is below the sharing threshold",
  5: 'the recipient institution is suspended by the regulator',
};

/** What an allowed access rests on (AccessGranted.basis). */
export const AccessBasis = { None: 0, StudyConsent: 1, AllStudiesConsent: 2, OwnInstitution: 3 } as const;

/** Life of a granted access. */
export const AccessState = { None: 0, Granted: 1, Confirmed: 2, Reported: 3, ReportUpheld: 4, ReportRejected: 5 } as const;

/** Applies a delta to a score, clamped to the score range; returns the new score and the delta applied. */
export function applyScoreDelta(score: number, delta: number, p: CreditPolicy = CREDIT_POLICY): { score: number; applied: number } {
  const next = Math.min(p.maxScore, Math.max(p.minScore, score + delta));
  return { score: next, applied: next - score };
}

/** The reward period a unix time (seconds) falls in. */
export function rewardPeriod(unixSeconds: number, p: CreditPolicy = CREDIT_POLICY): number {
  return Math.floor(unixSeconds / p.rewardPeriodSeconds);
}

/** Points a patient earns for one rewarded access, given what they already earned in the period. */
export function patientRewardPoints(earnedInPeriod: number, p: CreditPolicy = CREDIT_POLICY): number {
  return Math.max(0, Math.min(p.patientAccessReward, p.patientRewardCapPerPeriod - earnedInPeriod));
}

/** What an institution may do at a given score. */
export function institutionCapabilities(score: number, p: CreditPolicy = CREDIT_POLICY): { canReceive: boolean; canAnchor: boolean } {
  return { canReceive: score >= p.receiveThreshold, canAnchor: score >= p.anchorThreshold };
}
