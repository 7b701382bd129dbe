// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IMedImgShr} from "../IMedImgShr.sol";

/// @title Registry — who takes part: the regulator, institutions, their clinicians and patients
/// @notice Roles on OpenZeppelin's AccessControlDefaultAdminRules (the regulator is the default admin)
///         and one storage slot per account that every other module reads.
/// @dev The scores module implements `_startScore`, called when an institution or a patient joins.
abstract contract Registry is IMedImgShr, AccessControlDefaultAdminRules {
    /// @inheritdoc IMedImgShr
    bytes32 public constant INSTITUTION_ROLE = keccak256("INSTITUTION_ROLE");
    /// @inheritdoc IMedImgShr
    bytes32 public constant CLINICIAN_ROLE = keccak256("CLINICIAN_ROLE");
    /// @inheritdoc IMedImgShr
    bytes32 public constant PATIENT_ROLE = keccak256("PATIENT_ROLE");
    /// @inheritdoc IMedImgShr
    /// @dev Nobody holds it, so CLINICIAN_ROLE and PATIENT_ROLE change only through grantClinician /
    ///      removeClinician / registerPatient*, which keep the bookkeeping.
    bytes32 public constant NO_ADMIN_ROLE = keccak256("NO_ADMIN_ROLE");

    /// @dev One storage slot per account (31 bytes) holding the fields of every module, so the hot path
    ///      of `anchor` reads each party once.
    struct Party {
        uint16 score;
        bool scored;
        bool suspended;
        bool isInstitution; // mirrors INSTITUTION_ROLE
        uint32 institutionId; // institutions: own 1-based id (kept after deregistration, records refer to it)
        uint32 clinicianOf; // clinicians: institution id while the clinician holds CLINICIAN_ROLE, else 0
        uint32 clinicianId; // clinicians: own 1-based id
        uint32 patientId; // patients: own 1-based id (0 = never registered)
        uint32 recordCount; // patients: number of records
        uint32 rewardPeriod; // patients: index of the current reward period
        uint16 rewardedInPeriod; // patients: points earned in that period
    }

    mapping(address => Party) internal _parties;
    // id - 1 => account; records store the 32-bit ids.
    address[] internal _institutions;
    address[] internal _clinicians;
    address[] internal _patients;

    constructor() {
        _setRoleAdmin(CLINICIAN_ROLE, NO_ADMIN_ROLE);
        _setRoleAdmin(PATIENT_ROLE, NO_ADMIN_ROLE);
    }

    modifier onlyRegulator() {
        _checkRole(DEFAULT_ADMIN_ROLE);
        _;
    }

    modifier onlyActiveInstitution() {
        _checkRole(INSTITUTION_ROLE);
        if (_parties[msg.sender].suspended) revert InstitutionIsSuspended(msg.sender);
        _;
    }

    // ─────────────────────────── regulator ───────────────────────────

    /// @inheritdoc IMedImgShr
    function registerInstitution(address institution) external onlyRegulator {
        if (institution == address(0)) revert ZeroAddress();
        if (hasRole(INSTITUTION_ROLE, institution)) revert AlreadyRegistered(institution);
        _grantRole(INSTITUTION_ROLE, institution);
    }

    /// @inheritdoc IMedImgShr
    function suspendInstitution(address institution) external onlyRegulator {
        if (!hasRole(INSTITUTION_ROLE, institution)) revert NotAnInstitution(institution);
        _parties[institution].suspended = true;
        emit InstitutionSuspended(institution, msg.sender);
    }

    /// @inheritdoc IMedImgShr
    function reinstateInstitution(address institution) external onlyRegulator {
        if (!hasRole(INSTITUTION_ROLE, institution)) revert NotAnInstitution(institution);
        _parties[institution].suspended = false;
        emit InstitutionReinstated(institution, msg.sender);
    }

    // ────────────────────────── institutions ─────────────────────────

    /// @inheritdoc IMedImgShr
    function grantClinician(address clinician) external onlyActiveInstitution {
        if (clinician == address(0)) revert ZeroAddress();
        Party storage cp = _parties[clinician];
        uint32 own = _parties[msg.sender].institutionId;
        if (cp.clinicianOf != 0) {
            if (cp.clinicianOf == own) revert AlreadyRegistered(clinician);
            revert ClinicianOfAnotherInstitution(clinician, _institutions[cp.clinicianOf - 1]);
        }
        if (cp.clinicianId == 0) {
            _clinicians.push(clinician);
            cp.clinicianId = uint32(_clinicians.length);
        }
        cp.clinicianOf = own;
        _grantRole(CLINICIAN_ROLE, clinician);
        emit ClinicianGranted(clinician, msg.sender);
    }

    /// @inheritdoc IMedImgShr
    function removeClinician(address clinician) external {
        _checkRole(INSTITUTION_ROLE);
        uint32 ofId = _parties[clinician].clinicianOf;
        if (ofId == 0 || ofId != _parties[msg.sender].institutionId) revert NotYourClinician(clinician, msg.sender);
        _revokeRole(CLINICIAN_ROLE, clinician);
    }

    /// @inheritdoc IMedImgShr
    function registerPatientFor(address patient) external onlyActiveInstitution {
        if (patient == address(0)) revert ZeroAddress();
        if (hasRole(PATIENT_ROLE, patient)) revert AlreadyRegistered(patient);
        _registerPatient(patient);
    }

    // ──────────────────────────── patients ───────────────────────────

    /// @inheritdoc IMedImgShr
    function registerPatient() external {
        if (hasRole(PATIENT_ROLE, msg.sender)) revert AlreadyRegistered(msg.sender);
        _registerPatient(msg.sender);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IMedImgShr
    function isSuspended(address institution) external view returns (bool) {
        return _parties[institution].suspended;
    }

    /// @inheritdoc IMedImgShr
    function institutionOf(address clinician) external view returns (address) {
        uint32 ofId = _parties[clinician].clinicianOf;
        return ofId == 0 ? address(0) : _institutions[ofId - 1];
    }

    /// @inheritdoc IMedImgShr
    function institutionCount() external view returns (uint256) {
        return _institutions.length;
    }

    /// @inheritdoc IMedImgShr
    function institutionById(uint32 institutionId) external view returns (address) {
        return _institutions[institutionId - 1];
    }

    // ─────────────────────────── internals ───────────────────────────

    /// @dev Gives a party its starting score once; implemented by the scores module.
    function _startScore(address account) internal virtual;

    /// @dev Keeps the Party slot in step with the roles, whichever way a role is granted.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (!granted) return granted;
        if (role == INSTITUTION_ROLE) {
            Party storage p = _parties[account];
            if (p.institutionId == 0) {
                _institutions.push(account);
                p.institutionId = uint32(_institutions.length);
            }
            p.isInstitution = true;
            emit InstitutionRegistered(account, p.institutionId, msg.sender);
            _startScore(account);
        } else if (role == PATIENT_ROLE) {
            Party storage p = _parties[account];
            if (p.patientId == 0) {
                _patients.push(account);
                p.patientId = uint32(_patients.length);
            }
            _startScore(account);
        }
    }

    /// @dev Covers removal by the institution, renouncing, and the regulator deregistering an institution.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (!revoked) return revoked;
        if (role == CLINICIAN_ROLE) {
            Party storage p = _parties[account];
            address institution = _institutions[p.clinicianOf - 1];
            p.clinicianOf = 0;
            emit ClinicianRemoved(account, institution, msg.sender);
        } else if (role == INSTITUTION_ROLE) {
            _parties[account].isInstitution = false;
        }
    }

    function _registerPatient(address patient) internal {
        _grantRole(PATIENT_ROLE, patient);
        emit PatientRegistered(patient, msg.sender);
    }

    /// @dev When a clinician anchors for an unregistered patient, the registration is its institution's.
    function _registerPatientBy(address patient, address institution) internal {
        _grantRole(PATIENT_ROLE, patient);
        emit PatientRegistered(patient, institution);
    }

    /// @dev The institution a caller acts for: itself, or a clinician's institution (which must still be registered).
    function _recipientOf(address caller) internal view returns (address) {
        Party storage p = _parties[caller];
        if (p.isInstitution) return caller;
        if (p.clinicianOf != 0) {
            address institution = _institutions[p.clinicianOf - 1];
            if (!_parties[institution].isInstitution) revert NotAnInstitution(institution);
            return institution;
        }
        revert AccessControlUnauthorizedAccount(caller, INSTITUTION_ROLE);
    }
}
