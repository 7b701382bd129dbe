// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {CreditPolicy} from "../CreditPolicy.sol";
import {IMedImgShr} from "../IMedImgShr.sol";
import {Records} from "./Records.sol";

/// @title Consents — a patient grants an institution one study or all studies, until an expiry, and may revoke
/// @notice Consents name the study id (the first version's root), so they cover every version of it.
abstract contract Consents is Records {
    /// @inheritdoc IMedImgShr
    bytes32 public constant ALL_STUDIES = bytes32(0);

    // patient => institution => study. Internal: Accesses reads it directly on every access, which a
    // getter function made 12 gas dearer.
    mapping(address => mapping(address => mapping(bytes32 => Consent))) internal _consents;

    /// @inheritdoc IMedImgShr
    function grantConsent(address institution, bytes32 study, uint64 expiry) external onlyRole(PATIENT_ROLE) {
        _grantConsent(msg.sender, institution, study, expiry, false);
    }

    /// @inheritdoc IMedImgShr
    function revokeConsent(address institution, bytes32 study) external onlyRole(PATIENT_ROLE) {
        _revokeConsent(msg.sender, institution, study, false);
    }

    /// @inheritdoc IMedImgShr
    function consentOf(address patient, address institution, bytes32 study) external view returns (Consent memory) {
        return _consents[patient][institution][study];
    }

    // ─────────────────────────── internals ───────────────────────────

    /// @dev Only an institution that may receive shares now (registered, not suspended, score at least the
    ///      receive threshold) can be given a consent; the expiry is bounded by the policy.
    function _grantConsent(address patient, address institution, bytes32 study, uint64 expiry, bool bySig) internal {
        Party storage inst = _parties[institution];
        if (!inst.isInstitution) revert NotAnInstitution(institution);
        if (inst.suspended) revert InstitutionIsSuspended(institution);
        if (inst.score < CreditPolicy.RECEIVE_THRESHOLD) {
            revert InstitutionScoreTooLow(institution, inst.score, CreditPolicy.RECEIVE_THRESHOLD);
        }
        if (expiry <= block.timestamp || expiry > block.timestamp + CreditPolicy.MAX_CONSENT_SECONDS) {
            revert ConsentExpiryInvalid(expiry);
        }
        // A consent names the study id. Resolved inline here and in _revokeConsent: a shared helper
        // cost every consent and revocation 50-80 more gas (npm run bench contracts).
        if (study != ALL_STUDIES) {
            Record storage r = _records[study];
            if (r.version == 0) revert UnknownRecord(study);
            if (r.patientId != _parties[patient].patientId) revert StudyNotOfPatient(study, patient);
            if (r.version != 1) study = _links[study].study;
        }
        _consents[patient][institution][study] = Consent({expiry: expiry, grantedAt: uint64(block.timestamp), revoked: false});
        emit ConsentGranted(patient, institution, study, expiry, bySig);
    }

    function _revokeConsent(address patient, address institution, bytes32 study, bool bySig) internal {
        if (study != ALL_STUDIES) {
            Record storage r = _records[study];
            if (r.version == 0) revert UnknownRecord(study);
            if (r.patientId != _parties[patient].patientId) revert StudyNotOfPatient(study, patient);
            if (r.version != 1) study = _links[study].study;
        }
        Consent storage c = _consents[patient][institution][study];
        if (c.grantedAt == 0) revert NoSuchConsent(patient, institution, study);
        c.revoked = true;
        emit ConsentRevoked(patient, institution, study, bySig);
    }

    /// @dev Whether a stored consent allows access now, and if not, why.
    function _consentState(Consent storage c) internal view returns (Denial) {
        if (c.grantedAt == 0) return Denial.NoConsent;
        if (c.revoked) return Denial.Revoked;
        if (block.timestamp >= c.expiry) return Denial.Expired;
        return Denial.None;
    }
}
