// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title CreditPolicy — every number of the credit-score rules, in one place
/// @notice The TypeScript mirror is src/core/credit-policy.ts and docs/credit-score.md gives the
///         reason for each number; a test asserts the mirror equals `MedImgShr.creditPolicy()`.
library CreditPolicy {
    /// @notice All policy numbers, as returned by `MedImgShr.creditPolicy()`.
    struct Numbers {
        uint16 minScore;
        uint16 maxScore;
        uint16 startScore;
        uint16 receiveThreshold;
        uint16 anchorThreshold;
        uint16 patientAccessReward;
        uint16 patientRewardCapPerPeriod;
        uint32 rewardPeriodSeconds;
        uint16 integrityReward;
        uint16 mismatchPenalty;
        uint16 reportUpheldReward;
        uint16 reportRejectedPenalty;
        uint16 maxRegulatorDelta;
        uint8 regulatorReasonMin;
        uint32 maxConsentSeconds;
    }

    uint16 internal constant MIN_SCORE = 0;
    uint16 internal constant MAX_SCORE = 1000;
    uint16 internal constant START_SCORE = 500;
    /// Below this an institution can receive no new consent and its accesses are denied.
    uint16 internal constant RECEIVE_THRESHOLD = 300;
    /// Below this an institution's clinicians can no longer anchor studies.
    uint16 internal constant ANCHOR_THRESHOLD = 100;
    /// A patient earns this when a study they consented to is accessed (once per recipient and study).
    uint16 internal constant PATIENT_ACCESS_REWARD = 5;
    /// At most this many reward points per patient per period.
    uint16 internal constant PATIENT_REWARD_CAP_PER_PERIOD = 50;
    uint32 internal constant REWARD_PERIOD_SECONDS = 30 days;
    /// The anchoring institution earns this when a recipient confirms an access matched (once per recipient and study).
    uint16 internal constant INTEGRITY_REWARD = 2;
    /// The anchoring institution loses this when the regulator upholds a mismatch report.
    uint16 internal constant MISMATCH_PENALTY = 200;
    /// The reporter earns this when its report is upheld.
    uint16 internal constant REPORT_UPHELD_REWARD = 10;
    /// The reporter loses this when its report is rejected.
    uint16 internal constant REPORT_REJECTED_PENALTY = 25;
    /// Largest single adjustment the regulator may make, either way.
    uint16 internal constant MAX_REGULATOR_DELTA = 500;
    /// Regulator adjustments use reason codes from this value up (lower codes are the automatic rules).
    uint8 internal constant REGULATOR_REASON_MIN = 100;
    /// A consent may run at most this long.
    uint32 internal constant MAX_CONSENT_SECONDS = 730 days;

    // Automatic reason codes of ScoreChanged.
    uint8 internal constant REASON_START = 0;
    uint8 internal constant REASON_PATIENT_ACCESS_REWARD = 1;
    uint8 internal constant REASON_INTEGRITY_CONFIRMED = 2;
    uint8 internal constant REASON_MISMATCH_UPHELD = 3;
    uint8 internal constant REASON_REPORT_UPHELD_REWARD = 4;
    uint8 internal constant REASON_REPORT_REJECTED = 5;

    function numbers() internal pure returns (Numbers memory) {
        return Numbers({
            minScore: MIN_SCORE,
            maxScore: MAX_SCORE,
            startScore: START_SCORE,
            receiveThreshold: RECEIVE_THRESHOLD,
            anchorThreshold: ANCHOR_THRESHOLD,
            patientAccessReward: PATIENT_ACCESS_REWARD,
            patientRewardCapPerPeriod: PATIENT_REWARD_CAP_PER_PERIOD,
            rewardPeriodSeconds: REWARD_PERIOD_SECONDS,
            integrityReward: INTEGRITY_REWARD,
            mismatchPenalty: MISMATCH_PENALTY,
            reportUpheldReward: REPORT_UPHELD_REWARD,
            reportRejectedPenalty: REPORT_REJECTED_PENALTY,
            maxRegulatorDelta: MAX_REGULATOR_DELTA,
            regulatorReasonMin: REGULATOR_REASON_MIN,
            maxConsentSeconds: MAX_CONSENT_SECONDS
        });
    }

    /// @dev Applies `delta` to `score`, clamped to [MIN_SCORE, MAX_SCORE]; returns the new score and the applied delta.
    function apply_(uint16 score, int256 delta) internal pure returns (uint16 next, int16 applied) {
        int256 s = int256(uint256(score)) + delta;
        if (s < int256(uint256(MIN_SCORE))) s = int256(uint256(MIN_SCORE));
        if (s > int256(uint256(MAX_SCORE))) s = int256(uint256(MAX_SCORE));
        next = uint16(uint256(s));
        applied = int16(int256(uint256(next)) - int256(uint256(score)));
    }
}
