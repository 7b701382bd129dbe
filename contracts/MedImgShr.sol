// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {CreditPolicy} from "./CreditPolicy.sol";

/// @title MedImgShr — study records, patient consent, access history and credit scores
/// @notice One record per study (Merkle root of the instance leaves), consents granted by
///         pseudonymous patient accounts, every access and every denied attempt as an event, and
///         credit scores for patients and institutions. No personal data is ever stored or logged:
///         only accounts, hashes, roots and storage URIs that carry no identity.
/// @dev The regulator is the default admin (two-step handover with a delay, OpenZeppelin
///      AccessControlDefaultAdminRules). Credit numbers live in CreditPolicy.
contract MedImgShr is AccessControlDefaultAdminRules, EIP712, Nonces {
    // ───────────────────────────── roles ─────────────────────────────
    /// @notice Hospitals, clinics, imaging centres: registered and suspended by the regulator.
    bytes32 public constant INSTITUTION_ROLE = keccak256("INSTITUTION_ROLE");
    /// @notice Clinicians: granted and removed by their institution; they anchor studies.
    bytes32 public constant CLINICIAN_ROLE = keccak256("CLINICIAN_ROLE");
    /// @notice Patients' pseudonymous accounts: self-registered or registered by an institution.
    bytes32 public constant PATIENT_ROLE = keccak256("PATIENT_ROLE");
    /// @dev Admin role of CLINICIAN_ROLE and PATIENT_ROLE that nobody holds: those roles change only
    ///      through grantClinician / removeClinician / registerPatient*, which keep the bookkeeping.
    /// @notice Admin role of CLINICIAN_ROLE and PATIENT_ROLE; nobody holds it.
    bytes32 public constant NO_ADMIN_ROLE = keccak256("NO_ADMIN_ROLE");

    /// @notice `study` value that means "all studies of this patient" in a consent.
    bytes32 public constant ALL_STUDIES = bytes32(0);
    /// @notice Longest storage URI accepted by `anchor`.
    uint256 public constant MAX_STORAGE_URI_BYTES = 256;

    /// @notice EIP-712 type hash of a signed consent.
    bytes32 public constant CONSENT_TYPEHASH =
        keccak256("Consent(address patient,address institution,bytes32 study,uint64 expiry,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type hash of a signed revocation.
    bytes32 public constant REVOCATION_TYPEHASH =
        keccak256("Revocation(address patient,address institution,bytes32 study,uint256 nonce,uint256 deadline)");

    // ───────────────────────────── codes ─────────────────────────────
    /// @notice Why an access was denied (AccessDenied.reason); None when it is allowed.
    enum Denial { None, NoConsent, Expired, Revoked, ScoreTooLow, Suspended }
    /// @notice On what an allowed access rests (AccessGranted.basis).
    enum Basis { None, StudyConsent, AllStudiesConsent, OwnInstitution }
    /// @notice Life of an access: granted, then at most one of confirmed / reported; a report is then ruled.
    enum AccessState { None, Granted, Confirmed, Reported, ReportUpheld, ReportRejected }

    // ──────────────────────────── storage ────────────────────────────
    /// @dev One storage slot per account (31 bytes): the hot path of `anchor` reads each party once.
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

    /// @dev One storage slot per study record (29 bytes); accounts are stored as 32-bit ids, so anchoring
    ///      a study writes two new slots (this record and the patient's index entry).
    struct Record {
        uint32 patientId;
        uint32 clinicianId;
        uint32 institutionId;
        uint32 storageId;
        uint32 leafCount;
        uint32 version;
        uint40 time;
    }

    /// @dev Version links, written only for versions > 1 and for superseded records.
    struct Links {
        bytes32 study;
        bytes32 previous;
        bytes32 next;
    }

    /// @notice A study record as returned by the views.
    struct RecordView {
        bytes32 root;
        bytes32 study;
        bytes32 previous;
        bytes32 next;
        uint32 version;
        uint32 leafCount;
        address patient;
        address institution;
        address clinician;
        uint64 time;
        uint32 storageId;
        string storageUri;
    }

    struct Consent {
        uint64 expiry;
        uint64 grantedAt;
        bool revoked;
    }

    struct AccessEntry {
        bytes32 root;
        address recipient;
        AccessState state;
    }

    mapping(address => Party) private _parties;
    address[] private _institutions;
    address[] private _clinicians;
    address[] private _patients;

    mapping(bytes32 => Record) private _records;
    mapping(bytes32 => Links) private _links;
    mapping(address => mapping(uint256 => bytes32)) private _patientRecords;
    mapping(bytes32 => bytes32) private _latest; // study => latest root

    string[] private _storageUris;
    mapping(bytes32 => uint32) private _storageIdOfHash;

    mapping(address => mapping(address => mapping(bytes32 => Consent))) private _consents;

    AccessEntry[] private _accesses; // accessId = index + 1
    mapping(bytes32 => mapping(address => uint8)) private _rewarded; // study => recipient => bit0 patient, bit1 integrity

    // ──────────────────────────── events ─────────────────────────────
    event InstitutionRegistered(address indexed institution, uint32 indexed institutionId, address indexed by);
    event InstitutionSuspended(address indexed institution, address indexed by);
    event InstitutionReinstated(address indexed institution, address indexed by);
    event ClinicianGranted(address indexed clinician, address indexed institution);
    event ClinicianRemoved(address indexed clinician, address indexed institution, address indexed by);
    event PatientRegistered(address indexed patient, address indexed by);
    event StorageRegistered(uint32 indexed storageId, string uri);
    event StudyAnchored(
        bytes32 indexed root,
        bytes32 indexed study,
        address indexed patient,
        address institution,
        address clinician,
        uint32 leafCount,
        uint32 version,
        uint32 storageId,
        bytes32 previous
    );
    event StudySuperseded(bytes32 indexed previous, bytes32 indexed root, bytes32 indexed study);
    event ConsentGranted(address indexed patient, address indexed institution, bytes32 indexed study, uint64 expiry, bool bySignature);
    event ConsentRevoked(address indexed patient, address indexed institution, bytes32 indexed study, bool bySignature);
    event AccessGranted(
        uint256 indexed accessId,
        bytes32 indexed study,
        address indexed recipient,
        bytes32 root,
        address patient,
        address accessor,
        Basis basis
    );
    event AccessDenied(bytes32 indexed study, address indexed recipient, address indexed patient, bytes32 root, address accessor, Denial reason);
    event IntegrityConfirmed(uint256 indexed accessId, address indexed recipient, address indexed anchoringInstitution);
    event MismatchReported(uint256 indexed accessId, address indexed recipient, address indexed anchoringInstitution, address reporter);
    event ReportRuled(uint256 indexed accessId, bool upheld, address indexed regulator);
    event ScoreChanged(address indexed account, address indexed by, int16 delta, uint8 indexed reason, uint16 newScore);

    // ──────────────────────────── errors ─────────────────────────────
    error NotAnInstitution(address account);
    error InstitutionIsSuspended(address institution);
    error InstitutionScoreTooLow(address institution, uint16 score, uint16 threshold);
    error ClinicianOfAnotherInstitution(address clinician, address institution);
    error NotYourClinician(address clinician, address institution);
    error AlreadyRegistered(address account);
    error ZeroAddress();
    error InvalidRoot();
    error InvalidLeafCount();
    error InvalidStorageUri();
    error UnknownRecord(bytes32 root);
    error AlreadySuperseded(bytes32 root, bytes32 next);
    error VersionPatientMismatch(bytes32 previous, address patient);
    error VersionInstitutionMismatch(bytes32 previous, address institution);
    error PatientNotRegistered(address patient);
    error StudyNotOfPatient(bytes32 study, address patient);
    error ConsentExpiryInvalid(uint64 expiry);
    error NoSuchConsent(address patient, address institution, bytes32 study);
    error SignatureExpired(uint256 deadline);
    error InvalidSignature(address expectedSigner, address recovered);
    error UnknownAccess(uint256 accessId);
    error NotAccessRecipient(uint256 accessId, address caller);
    error AccessNotOpen(uint256 accessId, AccessState state);
    error OwnRecordReport(uint256 accessId);
    error ReportNotOpen(uint256 accessId, AccessState state);
    error UnknownParty(address account);
    error InvalidReasonCode(uint8 reason);
    error AdjustmentOutOfRange(int16 delta);

    // ────────────────────────── construction ─────────────────────────
    /// @param initialDelay seconds a regulator handover waits between begin and accept
    /// @param regulator the first regulator (default admin)
    constructor(uint48 initialDelay, address regulator)
        AccessControlDefaultAdminRules(initialDelay, regulator)
        EIP712("MedImgShr", "1")
    {
        _setRoleAdmin(CLINICIAN_ROLE, NO_ADMIN_ROLE);
        _setRoleAdmin(PATIENT_ROLE, NO_ADMIN_ROLE);
    }

    // ─────────────────────────── modifiers ───────────────────────────
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

    /// @notice Registers an institution (grants INSTITUTION_ROLE; its score starts at the policy's start score).
    /// @param institution the institution's account
    function registerInstitution(address institution) external onlyRegulator {
        if (institution == address(0)) revert ZeroAddress();
        if (hasRole(INSTITUTION_ROLE, institution)) revert AlreadyRegistered(institution);
        _grantRole(INSTITUTION_ROLE, institution);
    }

    /// @notice Suspends an institution: it cannot anchor, receive consents, manage clinicians or access.
    /// @param institution a registered institution
    function suspendInstitution(address institution) external onlyRegulator {
        if (!hasRole(INSTITUTION_ROLE, institution)) revert NotAnInstitution(institution);
        _parties[institution].suspended = true;
        emit InstitutionSuspended(institution, msg.sender);
    }

    /// @notice Lifts a suspension.
    /// @param institution a registered institution
    function reinstateInstitution(address institution) external onlyRegulator {
        if (!hasRole(INSTITUTION_ROLE, institution)) revert NotAnInstitution(institution);
        _parties[institution].suspended = false;
        emit InstitutionReinstated(institution, msg.sender);
    }

    /// @notice Adjusts a patient's or institution's score, clamped to the score range.
    /// @param account a scored party (registered patient or institution)
    /// @param delta points to add (negative to remove), at most CreditPolicy.MAX_REGULATOR_DELTA either way
    /// @param reason a regulator reason code (>= CreditPolicy.REGULATOR_REASON_MIN), see docs/credit-score.md
    function adjustScore(address account, int16 delta, uint8 reason) external onlyRegulator {
        if (!_parties[account].scored) revert UnknownParty(account);
        if (reason < CreditPolicy.REGULATOR_REASON_MIN) revert InvalidReasonCode(reason);
        int16 max = int16(CreditPolicy.MAX_REGULATOR_DELTA);
        if (delta > max || delta < -max || delta == 0) revert AdjustmentOutOfRange(delta);
        _changeScore(account, delta, reason);
    }

    /// @notice Rules on a mismatch report: upheld costs the anchoring institution heavily and rewards the
    ///         reporter; rejected costs the reporter a little.
    /// @param accessId the reported access
    /// @param upheld true when the image indeed did not match its record
    function ruleOnReport(uint256 accessId, bool upheld) external onlyRegulator {
        AccessEntry storage a = _access(accessId);
        if (a.state != AccessState.Reported) revert ReportNotOpen(accessId, a.state);
        address anchoring = _institutionOfRecord(a.root);
        if (upheld) {
            a.state = AccessState.ReportUpheld;
            _changeScore(anchoring, -int256(uint256(CreditPolicy.MISMATCH_PENALTY)), CreditPolicy.REASON_MISMATCH_UPHELD);
            _changeScore(a.recipient, int256(uint256(CreditPolicy.REPORT_UPHELD_REWARD)), CreditPolicy.REASON_REPORT_UPHELD_REWARD);
        } else {
            a.state = AccessState.ReportRejected;
            _changeScore(a.recipient, -int256(uint256(CreditPolicy.REPORT_REJECTED_PENALTY)), CreditPolicy.REASON_REPORT_REJECTED);
        }
        emit ReportRuled(accessId, upheld, msg.sender);
    }

    // ────────────────────────── institutions ─────────────────────────

    /// @notice Grants CLINICIAN_ROLE to an account on behalf of the calling institution.
    /// @param clinician the clinician's account
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

    /// @notice Removes one of the calling institution's clinicians; a removed clinician can no longer write.
    /// @param clinician a clinician of the caller (works while suspended, so access can always be cut)
    function removeClinician(address clinician) external {
        _checkRole(INSTITUTION_ROLE);
        uint32 ofId = _parties[clinician].clinicianOf;
        if (ofId == 0 || ofId != _parties[msg.sender].institutionId) revert NotYourClinician(clinician, msg.sender);
        _revokeRole(CLINICIAN_ROLE, clinician);
    }

    /// @notice Registers a patient account the calling institution has verified.
    /// @param patient the patient's pseudonymous account
    function registerPatientFor(address patient) external onlyActiveInstitution {
        if (patient == address(0)) revert ZeroAddress();
        if (hasRole(PATIENT_ROLE, patient)) revert AlreadyRegistered(patient);
        _registerPatient(patient);
    }

    // ──────────────────────────── patients ───────────────────────────

    /// @notice Registers the caller as a patient (pseudonymous account; score starts at the start score).
    function registerPatient() external {
        if (hasRole(PATIENT_ROLE, msg.sender)) revert AlreadyRegistered(msg.sender);
        _registerPatient(msg.sender);
    }

    /// @notice Grants an institution access to one study (any version root of it) or to all studies
    ///         (`study` = ALL_STUDIES) until `expiry`. Replaces an earlier consent for the same pair.
    /// @param institution the recipient institution (registered, not suspended, score >= receive threshold)
    /// @param study a root of one of the caller's studies, or ALL_STUDIES
    /// @param expiry unix time the consent ends (exclusive); at most MAX_CONSENT_SECONDS ahead
    function grantConsent(address institution, bytes32 study, uint64 expiry) external onlyRole(PATIENT_ROLE) {
        _grantConsent(msg.sender, institution, study, expiry, false);
    }

    /// @notice Revokes the caller's consent for (institution, study); later accesses are denied. Reverts
    ///         NoSuchConsent when that consent was never granted.
    /// @param institution the recipient institution
    /// @param study a root of the study or ALL_STUDIES, as granted
    function revokeConsent(address institution, bytes32 study) external onlyRole(PATIENT_ROLE) {
        _revokeConsent(msg.sender, institution, study, false);
    }

    /// @notice Submits a consent the patient signed (EIP-712 `Consent`), so the patient pays no gas.
    /// @param patient the signing patient
    /// @param institution the recipient institution
    /// @param study a root of one of the patient's studies, or ALL_STUDIES
    /// @param expiry unix time the consent ends
    /// @param deadline unix time after which the signature is void
    /// @param signature the patient's 65-byte signature over the typed data (nonce = nonces(patient))
    function grantConsentBySig(
        address patient,
        address institution,
        bytes32 study,
        uint64 expiry,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        bytes32 structHash =
            keccak256(abi.encode(CONSENT_TYPEHASH, patient, institution, study, expiry, _useNonce(patient), deadline));
        _checkSigner(patient, structHash, signature);
        if (!hasRole(PATIENT_ROLE, patient)) revert PatientNotRegistered(patient);
        _grantConsent(patient, institution, study, expiry, true);
    }

    /// @notice Submits a revocation the patient signed (EIP-712 `Revocation`).
    /// @param patient the signing patient
    /// @param institution the recipient institution
    /// @param study the study root or ALL_STUDIES, as granted
    /// @param deadline unix time after which the signature is void
    /// @param signature the patient's signature (nonce = nonces(patient))
    function revokeConsentBySig(address patient, address institution, bytes32 study, uint256 deadline, bytes calldata signature)
        external
    {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        bytes32 structHash = keccak256(abi.encode(REVOCATION_TYPEHASH, patient, institution, study, _useNonce(patient), deadline));
        _checkSigner(patient, structHash, signature);
        if (!hasRole(PATIENT_ROLE, patient)) revert PatientNotRegistered(patient);
        _revokeConsent(patient, institution, study, true);
    }

    // ──────────────────────────── clinicians ─────────────────────────

    /// @notice Anchors one study: the Merkle root of its instance leaves, with its leaf count, the patient's
    ///         pseudonymous account and the storage URI where the files live. Re-anchoring an existing root
    ///         changes nothing and returns false. With `previous` set, the record is a new version of that
    ///         study (same patient, same institution) and supersedes it; the old record stays readable.
    /// @dev An unregistered patient account is registered by the clinician's institution.
    /// @param root StandardMerkleTree root over [pixelDigest, metaDigest, sopInstanceUidDigest] leaves
    /// @param leafCount number of instances (leaves)
    /// @param patient the patient's pseudonymous account (never an identifier or a hash of one)
    /// @param storageUri the store holding the files (PACS / blob store base URI; never a name); the study is
    ///        found there by its root. Interned: the record keeps a 32-bit id.
    /// @param previous root of the version this one supersedes, or zero for a first version
    /// @return created true when a new record was written
    function anchor(bytes32 root, uint32 leafCount, address patient, string calldata storageUri, bytes32 previous)
        external
        returns (bool created)
    {
        Party storage cp = _parties[msg.sender];
        uint32 instId = cp.clinicianOf;
        if (instId == 0) revert AccessControlUnauthorizedAccount(msg.sender, CLINICIAN_ROLE);
        address institution = _institutions[instId - 1];
        Party storage inst = _parties[institution];
        if (!inst.isInstitution) revert NotAnInstitution(institution);
        if (inst.suspended) revert InstitutionIsSuspended(institution);
        if (inst.score < CreditPolicy.ANCHOR_THRESHOLD) {
            revert InstitutionScoreTooLow(institution, inst.score, CreditPolicy.ANCHOR_THRESHOLD);
        }
        if (root == bytes32(0)) revert InvalidRoot();
        if (_records[root].version != 0) return false;
        if (leafCount == 0) revert InvalidLeafCount();
        if (patient == address(0)) revert ZeroAddress();
        uint32 storageId = _internStorage(storageUri);

        Party storage p = _parties[patient];
        if (p.patientId == 0) _registerPatientBy(patient, institution);
        uint32 patientId = p.patientId;

        bytes32 study = root;
        uint32 version = 1;
        if (previous != bytes32(0)) {
            Record storage old = _records[previous];
            if (old.version == 0) revert UnknownRecord(previous);
            Links storage ol = _links[previous];
            if (ol.next != bytes32(0)) revert AlreadySuperseded(previous, ol.next);
            if (old.patientId != patientId) revert VersionPatientMismatch(previous, patient);
            if (old.institutionId != instId) revert VersionInstitutionMismatch(previous, institution);
            study = old.version == 1 ? previous : ol.study;
            version = old.version + 1;
            _links[root] = Links({study: study, previous: previous, next: bytes32(0)});
            ol.next = root;
            _latest[study] = root;
            emit StudySuperseded(previous, root, study);
        }
        _records[root] = Record({
            patientId: patientId,
            clinicianId: cp.clinicianId,
            institutionId: instId,
            storageId: storageId,
            leafCount: leafCount,
            version: version,
            time: uint40(block.timestamp)
        });
        uint32 index = p.recordCount;
        _patientRecords[patient][index] = root;
        p.recordCount = index + 1;
        emit StudyAnchored(root, study, patient, institution, msg.sender, leafCount, version, storageId, previous);
        return true;
    }

    // ─────────────────────────── recipients ──────────────────────────

    /// @notice Records an access to a study record by the caller's institution (an institution or one of
    ///         its clinicians). An allowed access is an AccessGranted event (and may earn the patient
    ///         points); a refused one is an AccessDenied event with the reason — it does not revert, so the
    ///         history is complete.
    /// @param root the record (any version) being accessed
    /// @return granted whether the access is allowed
    /// @return accessId id of the granted access (0 when denied), used to confirm or report integrity
    function recordAccess(bytes32 root) external returns (bool granted, uint256 accessId) {
        address recipient = _recipientOf(msg.sender);
        Record storage r = _record(root);
        address patient = _patients[r.patientId - 1];
        bytes32 study = r.version == 1 ? root : _links[root].study;
        (Denial denial, Basis basis) = _evaluate(patient, study, r.institutionId, recipient);
        if (denial != Denial.None) {
            emit AccessDenied(study, recipient, patient, root, msg.sender, denial);
            return (false, 0);
        }
        _accesses.push(AccessEntry({root: root, recipient: recipient, state: AccessState.Granted}));
        accessId = _accesses.length;
        emit AccessGranted(accessId, study, recipient, root, patient, msg.sender, basis);
        if (basis != Basis.OwnInstitution) _rewardPatient(patient, study, recipient);
        return (true, accessId);
    }

    /// @notice The recipient confirms the images it received matched the record; the anchoring institution
    ///         earns the integrity reward (once per recipient and study).
    /// @param accessId a granted access of the caller's institution
    function confirmIntegrity(uint256 accessId) external {
        AccessEntry storage a = _recipientAccess(accessId);
        a.state = AccessState.Confirmed;
        address anchoring = _institutionOfRecord(a.root);
        emit IntegrityConfirmed(accessId, a.recipient, anchoring);
        if (anchoring == a.recipient) return;
        bytes32 study = studyOf(a.root);
        uint8 flags = _rewarded[study][a.recipient];
        if (flags & 2 == 0) {
            _rewarded[study][a.recipient] = flags | 2;
            _changeScore(anchoring, int256(uint256(CreditPolicy.INTEGRITY_REWARD)), CreditPolicy.REASON_INTEGRITY_CONFIRMED);
        }
    }

    /// @notice The recipient reports that the images it received did not match the record; the regulator
    ///         rules on it with ruleOnReport.
    /// @param accessId a granted access of the caller's institution to another institution's record
    function reportMismatch(uint256 accessId) external {
        AccessEntry storage a = _recipientAccess(accessId);
        address anchoring = _institutionOfRecord(a.root);
        if (anchoring == a.recipient) revert OwnRecordReport(accessId);
        a.state = AccessState.Reported;
        emit MismatchReported(accessId, a.recipient, anchoring, msg.sender);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @notice Every policy number (see CreditPolicy and docs/credit-score.md).
    function creditPolicy() external pure returns (CreditPolicy.Numbers memory) {
        return CreditPolicy.numbers();
    }

    /// @notice Recomputes the StandardMerkleTree leaf of one instance and checks its proof against `root`.
    /// @dev leaf = keccak256(bytes.concat(keccak256(abi.encode(pixel, meta, uidHash)))). Does not check that
    ///      `root` is anchored: use hasRecord / getRecord for that.
    /// @param root the study root
    /// @param proof the instance's Merkle proof
    /// @param pixel SHA-256 of the decoded pixel data
    /// @param meta SHA-256 of the canonical metadata
    /// @param uidHash SHA-256 of the SOP Instance UID
    /// @return valid whether the proof is valid for that leaf and root
    function verifyInstance(bytes32 root, bytes32[] calldata proof, bytes32 pixel, bytes32 meta, bytes32 uidHash)
        external
        pure
        returns (bool valid)
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(pixel, meta, uidHash))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @notice Whether a record with this root exists.
    /// @param root a study root
    function hasRecord(bytes32 root) external view returns (bool) {
        return _records[root].version != 0;
    }

    /// @notice The record of a root (reverts UnknownRecord when there is none).
    /// @param root a study root (any version)
    function getRecord(bytes32 root) public view returns (RecordView memory) {
        Record storage r = _record(root);
        Links storage l = _links[root];
        return RecordView({
            root: root,
            study: r.version == 1 ? root : l.study,
            previous: l.previous,
            next: l.next,
            version: r.version,
            leafCount: r.leafCount,
            patient: _patients[r.patientId - 1],
            institution: _institutions[r.institutionId - 1],
            clinician: _clinicians[r.clinicianId - 1],
            time: r.time,
            storageId: r.storageId,
            storageUri: _storageUris[r.storageId - 1]
        });
    }

    /// @notice Number of records anchored for a patient (all versions).
    /// @param patient the patient's account
    function recordCount(address patient) external view returns (uint256) {
        return _parties[patient].recordCount;
    }

    /// @notice The patient's index-th record (0-based, in anchoring order).
    /// @param patient the patient's account
    /// @param index 0 .. recordCount(patient) - 1
    function recordAt(address patient, uint256 index) external view returns (RecordView memory) {
        bytes32 root = _patientRecords[patient][index];
        if (root == bytes32(0)) revert UnknownRecord(bytes32(index));
        return getRecord(root);
    }

    /// @notice The study id (root of the first version) of a record.
    /// @param root a study root (any version)
    function studyOf(bytes32 root) public view returns (bytes32) {
        Record storage r = _record(root);
        return r.version == 1 ? root : _links[root].study;
    }

    /// @notice The newest version's root of the study a root belongs to.
    /// @param root a study root (any version)
    function latestVersion(bytes32 root) external view returns (bytes32) {
        bytes32 study = studyOf(root);
        bytes32 latest = _latest[study];
        return latest == bytes32(0) ? study : latest;
    }

    /// @notice Every version's root of the study a root belongs to, oldest first.
    /// @param root a study root (any version)
    function versions(bytes32 root) external view returns (bytes32[] memory list) {
        bytes32 study = studyOf(root);
        bytes32 latest = _latest[study];
        uint256 n = latest == bytes32(0) ? 1 : _records[latest].version;
        list = new bytes32[](n);
        bytes32 cur = study;
        for (uint256 i = 0; i < n; i++) {
            list[i] = cur;
            cur = _links[cur].next;
        }
    }

    /// @notice Whether `recipient` may access `root` now, and why not.
    /// @param root a study root (any version)
    /// @param recipient an institution
    /// @return reason Denial.None when allowed
    /// @return basis what the access would rest on
    function canAccess(bytes32 root, address recipient) external view returns (Denial reason, Basis basis) {
        Record storage r = _record(root);
        if (!_parties[recipient].isInstitution) revert NotAnInstitution(recipient);
        return _evaluate(_patients[r.patientId - 1], studyOf(root), r.institutionId, recipient);
    }

    /// @notice A consent as stored (grantedAt 0 = never granted).
    /// @param patient the patient
    /// @param institution the recipient institution
    /// @param study the study id (studyOf) or ALL_STUDIES
    function consentOf(address patient, address institution, bytes32 study) external view returns (Consent memory) {
        return _consents[patient][institution][study];
    }

    /// @notice A party's credit score (the start score for an account that has none yet).
    /// @param account a patient or institution
    function scoreOf(address account) external view returns (uint16) {
        Party storage p = _parties[account];
        return p.scored ? p.score : CreditPolicy.START_SCORE;
    }

    /// @notice Whether an institution is suspended.
    /// @param institution an institution
    function isSuspended(address institution) external view returns (bool) {
        return _parties[institution].suspended;
    }

    /// @notice The institution a clinician belongs to (zero when none).
    /// @param clinician a clinician
    function institutionOf(address clinician) external view returns (address) {
        uint32 ofId = _parties[clinician].clinicianOf;
        return ofId == 0 ? address(0) : _institutions[ofId - 1];
    }

    /// @notice Number of institutions ever registered.
    function institutionCount() external view returns (uint256) {
        return _institutions.length;
    }

    /// @notice The institution with a 1-based id.
    /// @param institutionId 1 .. institutionCount()
    function institutionById(uint32 institutionId) external view returns (address) {
        return _institutions[institutionId - 1];
    }

    /// @notice Points a patient earned from accesses in the current reward period.
    /// @param patient the patient
    function rewardedThisPeriod(address patient) external view returns (uint16) {
        Party storage p = _parties[patient];
        return p.rewardPeriod == _period() ? p.rewardedInPeriod : 0;
    }

    /// @notice A storage URI by id.
    /// @param storageId 1 .. storageCount()
    function storageUriOf(uint32 storageId) external view returns (string memory) {
        return _storageUris[storageId - 1];
    }

    /// @notice Number of interned storage URIs.
    function storageCount() external view returns (uint256) {
        return _storageUris.length;
    }

    /// @notice A recorded access.
    /// @param accessId 1 .. accessCount()
    function getAccess(uint256 accessId) external view returns (AccessEntry memory) {
        return _access(accessId);
    }

    /// @notice Number of granted accesses.
    function accessCount() external view returns (uint256) {
        return _accesses.length;
    }

    /// @notice The EIP-712 domain separator consents are signed under.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ─────────────────────────── internals ───────────────────────────

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

    function _startScore(address account) private {
        Party storage p = _parties[account];
        if (p.scored) return;
        p.scored = true;
        p.score = CreditPolicy.START_SCORE;
        emit ScoreChanged(account, msg.sender, 0, CreditPolicy.REASON_START, CreditPolicy.START_SCORE);
    }

    function _changeScore(address account, int256 delta, uint8 reason) private {
        Party storage p = _parties[account];
        (uint16 next, int16 applied) = CreditPolicy.apply_(p.score, delta);
        p.score = next;
        emit ScoreChanged(account, msg.sender, applied, reason, next);
    }

    function _registerPatient(address patient) private {
        _grantRole(PATIENT_ROLE, patient);
        emit PatientRegistered(patient, msg.sender);
    }

    function _registerPatientBy(address patient, address institution) private {
        _grantRole(PATIENT_ROLE, patient);
        emit PatientRegistered(patient, institution);
    }

    function _internStorage(string calldata uri) private returns (uint32 id) {
        uint256 len = bytes(uri).length;
        if (len == 0 || len > MAX_STORAGE_URI_BYTES) revert InvalidStorageUri();
        bytes32 h = keccak256(bytes(uri));
        id = _storageIdOfHash[h];
        if (id == 0) {
            _storageUris.push(uri);
            id = uint32(_storageUris.length);
            _storageIdOfHash[h] = id;
            emit StorageRegistered(id, uri);
        }
    }

    function _checkSigner(address signer, bytes32 structHash, bytes calldata signature) private view {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert InvalidSignature(signer, recovered);
    }

    function _grantConsent(address patient, address institution, bytes32 study, uint64 expiry, bool bySig) private {
        Party storage inst = _parties[institution];
        if (!inst.isInstitution) revert NotAnInstitution(institution);
        if (inst.suspended) revert InstitutionIsSuspended(institution);
        if (inst.score < CreditPolicy.RECEIVE_THRESHOLD) {
            revert InstitutionScoreTooLow(institution, inst.score, CreditPolicy.RECEIVE_THRESHOLD);
        }
        if (expiry <= block.timestamp || expiry > block.timestamp + CreditPolicy.MAX_CONSENT_SECONDS) {
            revert ConsentExpiryInvalid(expiry);
        }
        if (study != ALL_STUDIES) {
            Record storage r = _records[study];
            if (r.version == 0) revert UnknownRecord(study);
            if (r.patientId != _parties[patient].patientId) revert StudyNotOfPatient(study, patient);
            if (r.version != 1) study = _links[study].study;
        }
        _consents[patient][institution][study] = Consent({expiry: expiry, grantedAt: uint64(block.timestamp), revoked: false});
        emit ConsentGranted(patient, institution, study, expiry, bySig);
    }

    function _revokeConsent(address patient, address institution, bytes32 study, bool bySig) private {
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

    function _consentState(Consent storage c) private view returns (Denial) {
        if (c.grantedAt == 0) return Denial.NoConsent;
        if (c.revoked) return Denial.Revoked;
        if (block.timestamp >= c.expiry) return Denial.Expired;
        return Denial.None;
    }

    function _rewardPatient(address patient, bytes32 study, address recipient) private {
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

    function _period() private view returns (uint32) {
        return uint32(block.timestamp / CreditPolicy.REWARD_PERIOD_SECONDS);
    }

    function _recipientOf(address caller) private view returns (address) {
        Party storage p = _parties[caller];
        if (p.isInstitution) return caller;
        if (p.clinicianOf != 0) {
            address institution = _institutions[p.clinicianOf - 1];
            if (!_parties[institution].isInstitution) revert NotAnInstitution(institution);
            return institution;
        }
        revert AccessControlUnauthorizedAccount(caller, INSTITUTION_ROLE);
    }

    function _record(bytes32 root) private view returns (Record storage r) {
        r = _records[root];
        if (r.version == 0) revert UnknownRecord(root);
    }

    function _institutionOfRecord(bytes32 root) private view returns (address) {
        return _institutions[_records[root].institutionId - 1];
    }

    function _access(uint256 accessId) private view returns (AccessEntry storage) {
        if (accessId == 0 || accessId > _accesses.length) revert UnknownAccess(accessId);
        return _accesses[accessId - 1];
    }

    function _recipientAccess(uint256 accessId) private view returns (AccessEntry storage a) {
        a = _access(accessId);
        if (_recipientOf(msg.sender) != a.recipient) revert NotAccessRecipient(accessId, msg.sender);
        if (a.state != AccessState.Granted) revert AccessNotOpen(accessId, a.state);
    }
}
