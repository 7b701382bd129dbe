// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {CreditPolicy} from "../CreditPolicy.sol";
import {IMedImgShr} from "../IMedImgShr.sol";
import {Registry} from "./Registry.sol";

/// @title Scores — credit scores of patients and institutions, and every rule that changes them
/// @notice Each change is a ScoreChanged event with a reason code; the numbers are CreditPolicy's.
abstract contract Scores is Registry {
    // study => recipient => bit0 patient rewarded, bit1 integrity rewarded: each reward is paid once.
    mapping(bytes32 => mapping(address => uint8)) private _rewarded;

    /// @inheritdoc IMedImgShr
    function adjustScore(address account, int16 delta, uint8 reason) external onlyRegulator {
        if (!_parties[account].scored) revert UnknownParty(account);
        if (reason < CreditPolicy.REGULATOR_REASON_MIN) revert InvalidReasonCode(reason);
        int16 max = int16(CreditPolicy.MAX_REGULATOR_DELTA);
        if (delta > max || delta < -max || delta == 0) revert AdjustmentOutOfRange(delta);
        _changeScore(account, delta, reason);
    }

    /// @inheritdoc IMedImgShr
    function scoreOf(address account) external view returns (uint16) {
        Party storage p = _parties[account];
        return p.scored ? p.score : CreditPolicy.START_SCORE;
    }

    /// @inheritdoc IMedImgShr
    function rewardedThisPeriod(address patient) external view returns (uint16) {
        Party storage p = _parties[patient];
        return p.rewardPeriod == _period() ? p.rewardedInPeriod : 0;
    }

    /// @inheritdoc IMedImgShr
    function creditPolicy() external pure returns (CreditPolicy.Numbers memory) {
        return CreditPolicy.numbers();
    }

    // ─────────────────────────── internals ───────────────────────────

    function _startScore(address account) internal override {
        Party storage p = _parties[account];
        if (p.scored) return;
        p.scored = true;
        p.score = CreditPolicy.START_SCORE;
        emit ScoreChanged(account, msg.sender, 0, CreditPolicy.REASON_START, CreditPolicy.START_SCORE);
    }

    function _changeScore(address account, int256 delta, uint8 reason) internal {
        Party storage p = _parties[account];
        (uint16 next, int16 applied) = CreditPolicy.apply_(p.score, delta);
        p.score = next;
        emit ScoreChanged(account, msg.sender, applied, reason, next);
    }

    /// @dev A patient earns points when a study they consented to is actually accessed: once per recipient
    ///      and study, and at most the policy's cap per period, so only genuine use pays.
    function _rewardPatient(address patient, bytes32 study, address recipient) internal {
        uint8 flags = _rewarded[study][recipient];
        if (flags & 1 != 0) return;
        _rewarded[study][recipient] = flags | 1;
        Party storage p = _parties[patient];
        uint32 period = _period();
        if (p.rewardPeriod != period) {
            p.rewardPeriod = period;
            p.rewardedInPeriod = 0;
        }
        uint16 room = CreditPolicy.PATIENT_REWARD_CAP_PER_PERIOD - p.rewardedInPeriod;
        uint16 points = CreditPolicy.PATIENT_ACCESS_REWARD < room ? CreditPolicy.PATIENT_ACCESS_REWARD : room;
        if (points == 0) return;
        p.rewardedInPeriod += points;
        _changeScore(patient, int256(uint256(points)), CreditPolicy.REASON_PATIENT_ACCESS_REWARD);
    }

    /// @dev The anchoring institution earns when a recipient confirms the images matched: once per
    ///      recipient and study, so confirming the same study again pays nothing.
    function _rewardIntegrity(address anchoring, bytes32 study, address recipient) internal {
        uint8 flags = _rewarded[study][recipient];
        if (flags & 2 == 0) {
            _rewarded[study][recipient] = flags | 2;
            _changeScore(anchoring, int256(uint256(CreditPolicy.INTEGRITY_REWARD)), CreditPolicy.REASON_INTEGRITY_CONFIRMED);
        }
    }

    /// @dev An upheld mismatch report costs the anchoring institution heavily and rewards the reporter.
    function _scoreUpheldReport(address anchoring, address reporter) internal {
        _changeScore(anchoring, -int256(uint256(CreditPolicy.MISMATCH_PENALTY)), CreditPolicy.REASON_MISMATCH_UPHELD);
        _changeScore(reporter, int256(uint256(CreditPolicy.REPORT_UPHELD_REWARD)), CreditPolicy.REASON_REPORT_UPHELD_REWARD);
    }

    /// @dev A rejected report costs the reporter a little, so reports are made with care.
    function _scoreRejectedReport(address reporter) internal {
        _changeScore(reporter, -int256(uint256(CreditPolicy.REPORT_REJECTED_PENALTY)), CreditPolicy.REASON_REPORT_REJECTED);
    }

    function _period() internal view returns (uint32) {
        return uint32(block.timestamp / CreditPolicy.REWARD_PERIOD_SECONDS);
    }
}
