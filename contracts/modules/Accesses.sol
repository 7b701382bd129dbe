// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {CreditPolicy} from "../CreditPolicy.sol";
import {IMedImgShr} from "../IMedImgShr.sol";
import {Consents} from "./Consents.sol";
import {Scores} from "./Scores.sol";

/// @title Accesses — the sharing history: every access and every refused attempt, then the recipient's
///        integrity confirmation or mismatch report and the regulator's ruling on it
/// @notice An access is decided by the recipient's standing and the patient's consents (`canAccess`).
abstract contract Accesses is Scores, Consents {
    AccessEntry[] private _accesses; // accessId = index + 1

    /// @inheritdoc IMedImgShr
    function recordAccess(bytes32 root) external returns (bool granted, uint256 accessId) {
        address recipient = _recipientOf(msg.sender);
        Record storage r = _record(root);
        address patient = _patients[r.patientId - 1];
        bytes32 study = r.version == 1 ? root : _links[root].study;
        (Denial denial, Basis basis) = _evaluate(patient, study, r.institutionId, recipient);
        if (denial != Denial.None) {
            // An event, not a revert: a refused attempt belongs in the history too.
            emit AccessDenied(study, recipient, patient, root, msg.sender, denial);
            return (false, 0);
        }
        _accesses.push(AccessEntry({root: root, recipient: recipient, state: AccessState.Granted}));
        accessId = _accesses.length;
        emit AccessGranted(accessId, study, recipient, root, patient, msg.sender, basis);
        if (basis != Basis.OwnInstitution) _rewardPatient(patient, study, recipient);
        return (true, accessId);
    }

    /// @inheritdoc IMedImgShr
    function confirmIntegrity(uint256 accessId) external {
        AccessEntry storage a = _recipientAccess(accessId);
        a.state = AccessState.Confirmed;
        address anchoring = _institutionOfRecord(a.root);
        emit IntegrityConfirmed(accessId, a.recipient, anchoring);
        if (anchoring != a.recipient) _rewardIntegrity(anchoring, studyOf(a.root), a.recipient);
    }

    /// @inheritdoc IMedImgShr
    function reportMismatch(uint256 accessId) external {
        AccessEntry storage a = _recipientAccess(accessId);
        address anchoring = _institutionOfRecord(a.root);
        if (anchoring == a.recipient) revert OwnRecordReport(accessId);
        a.state = AccessState.Reported;
        emit MismatchReported(accessId, a.recipient, anchoring, msg.sender);
    }

    /// @inheritdoc IMedImgShr
    function ruleOnReport(uint256 accessId, bool upheld) external onlyRegulator {
        AccessEntry storage a = _access(accessId);
        if (a.state != AccessState.Reported) revert ReportNotOpen(accessId, a.state);
        address anchoring = _institutionOfRecord(a.root);
        if (upheld) {
            a.state = AccessState.ReportUpheld;
            _scoreUpheldReport(anchoring, a.recipient);
        } else {
            a.state = AccessState.ReportRejected;
            _scoreRejectedReport(a.recipient);
        }
        emit ReportRuled(accessId, upheld, msg.sender);
    }

    /// @inheritdoc IMedImgShr
    function canAccess(bytes32 root, address recipient) external view returns (Denial reason, Basis basis) {
        Record storage r = _record(root);
        if (!_parties[recipient].isInstitution) revert NotAnInstitution(recipient);
        return _evaluate(_patients[r.patientId - 1], studyOf(root), r.institutionId, recipient);
    }

    /// @inheritdoc IMedImgShr
    function getAccess(uint256 accessId) external view returns (AccessEntry memory) {
        return _access(accessId);
    }

    /// @inheritdoc IMedImgShr
    function accessCount() external view returns (uint256) {
        return _accesses.length;
    }

    // ─────────────────────────── internals ───────────────────────────

    /// @dev The sharing rule: a suspended recipient never; its own institution's records always; otherwise
    ///      a score at least the receive threshold and a live consent for the study or for all studies.
    ///      When both consents fail, the reason given is the study consent's if one was ever granted.
    function _evaluate(address patient, bytes32 study, uint32 ownerId, address recipient)
        private
        view
        returns (Denial, Basis)
    {
        Party storage inst = _parties[recipient];
        if (inst.suspended) return (Denial.Suspended, Basis.None);
        if (inst.institutionId == ownerId) return (Denial.None, Basis.OwnInstitution);
        if (inst.score < CreditPolicy.RECEIVE_THRESHOLD) return (Denial.ScoreTooLow, Basis.None);
        Consent storage one = _consents[patient][recipient][study];
        Denial d1 = _consentState(one);
        if (d1 == Denial.None) return (Denial.None, Basis.StudyConsent);
        Consent storage all = _consents[patient][recipient][ALL_STUDIES];
        Denial d2 = _consentState(all);
        if (d2 == Denial.None) return (Denial.None, Basis.AllStudiesConsent);
        return (one.grantedAt != 0 ? d1 : d2, Basis.None);
    }

    function _access(uint256 accessId) private view returns (AccessEntry storage) {
        if (accessId == 0 || accessId > _accesses.length) revert UnknownAccess(accessId);
        return _accesses[accessId - 1];
    }

    /// @dev An access the caller's institution received and has not yet confirmed or reported.
    function _recipientAccess(uint256 accessId) private view returns (AccessEntry storage a) {
        a = _access(accessId);
        if (_recipientOf(msg.sender) != a.recipient) revert NotAccessRecipient(accessId, msg.sender);
        if (a.state != AccessState.Granted) revert AccessNotOpen(accessId, a.state);
    }
}
