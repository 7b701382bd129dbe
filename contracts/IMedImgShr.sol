// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IAccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {IERC165} from "@openzeppelin/contracts/interfaces/IERC165.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IERC5313} from "@openzeppelin/contracts/interfaces/IERC5313.sol";
import {CreditPolicy} from "./CreditPolicy.sol";

/// @title IMedImgShr — the external API of MedImgShr: codes, events, errors and functions
/// @notice What a client (the app, a consortium member, an auditor) may call and read. Roles and the
///         regulator's two-step handover come from OpenZeppelin's IAccessControlDefaultAdminRules (the
///         regulator is `owner()`, IERC5313); the EIP-712 domain of signed consents from IERC5267. The
///         implementation is split into modules (contracts/modules), composed by MedImgShr; see
///         docs/contracts.md.
/// @dev MedImgShr's ABI has this interface's entries plus the constructor, `DEFAULT_ADMIN_ROLE` (the
///      regulator's role, zero; declaring it here would collide with AccessControl's non-virtual constant)
///      and errors of the OpenZeppelin libraries it uses.
interface IMedImgShr is IAccessControlDefaultAdminRules, IERC5313, IERC5267, IERC165 {
    // ───────────────────────────── codes ─────────────────────────────
    /// @notice Why an access was denied (AccessDenied.reason); None when it is allowed.
    enum Denial { None, NoConsent, Expired, Revoked, ScoreTooLow, Suspended }
    /// @notice On what an allowed access rests (AccessGranted.basis).
    enum Basis { None, StudyConsent, AllStudiesConsent, OwnInstitution }
    /// @notice Life of an access: granted, then at most one of confirmed / reported; a report is then ruled.
    enum AccessState { None, Granted, Confirmed, Reported, ReportUpheld, ReportRejected }

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

    /// @notice A patient's consent to one institution (grantedAt 0 = never granted).
    struct Consent {
        uint64 expiry;
        uint64 grantedAt;
        bool revoked;
    }

    /// @notice A granted access and where it is in its life.
    struct AccessEntry {
        bytes32 root;
        address recipient;
        AccessState state;
    }

    /// @notice An anchored set of AI findings as returned by the views (count 0 = none).
    struct FindingsView {
        bytes32 findingsRoot;
        bytes32 studyRoot;
        uint32 count;
        address institution;
        address clinician;
        uint64 time;
    }

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
    /// @notice A clinician anchored the Merkle root of a study's AI result records (docs/ai.md).
    event FindingsAnchored(bytes32 indexed studyRoot, bytes32 indexed findingsRoot, address indexed institution, address clinician, uint32 count);
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
    error InvalidFindingsCount();
    error FindingsOfAnotherStudy(bytes32 findingsRoot, bytes32 studyRoot);

    // ─────────────────────── registry and roles ──────────────────────
    /// @notice Hospitals, clinics, imaging centres: registered and suspended by the regulator.
    function INSTITUTION_ROLE() external view returns (bytes32);
    /// @notice Clinicians: granted and removed by their institution; they anchor studies.
    function CLINICIAN_ROLE() external view returns (bytes32);
    /// @notice Patients' pseudonymous accounts: self-registered or registered by an institution.
    function PATIENT_ROLE() external view returns (bytes32);
    /// @notice Admin role of CLINICIAN_ROLE and PATIENT_ROLE; nobody holds it.
    function NO_ADMIN_ROLE() external view returns (bytes32);

    /// @notice Registers an institution (grants INSTITUTION_ROLE; its score starts at the policy's start score).
    /// @param institution the institution's account
    function registerInstitution(address institution) external;

    /// @notice Suspends an institution: it cannot anchor, receive consents, manage clinicians or access.
    /// @param institution a registered institution
    function suspendInstitution(address institution) external;

    /// @notice Lifts a suspension.
    /// @param institution a registered institution
    function reinstateInstitution(address institution) external;

    /// @notice Grants CLINICIAN_ROLE to an account on behalf of the calling institution.
    /// @param clinician the clinician's account
    function grantClinician(address clinician) external;

    /// @notice Removes one of the calling institution's clinicians; a removed clinician can no longer write.
    /// @param clinician a clinician of the caller (works while suspended, so access can always be cut)
    function removeClinician(address clinician) external;

    /// @notice Registers a patient account the calling institution has verified.
    /// @param patient the patient's pseudonymous account
    function registerPatientFor(address patient) external;

    /// @notice Registers the caller as a patient (pseudonymous account; score starts at the start score).
    function registerPatient() external;

    /// @notice Whether an institution is suspended.
    /// @param institution an institution
    function isSuspended(address institution) external view returns (bool);

    /// @notice The institution a clinician belongs to (zero when none).
    /// @param clinician a clinician
    function institutionOf(address clinician) external view returns (address);

    /// @notice Number of institutions ever registered.
    function institutionCount() external view returns (uint256);

    /// @notice The institution with a 1-based id.
    /// @param institutionId 1 .. institutionCount()
    function institutionById(uint32 institutionId) external view returns (address);

    // ──────────────────────────── records ────────────────────────────
    /// @notice Longest storage URI accepted by `anchor`.
    function MAX_STORAGE_URI_BYTES() external view returns (uint256);

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
        returns (bool created);

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
        returns (bool valid);

    // ──────────────────────────── AI findings ────────────────────────
    /// @notice Anchors the AI findings of an anchored study: the Merkle root of its result records, one
    ///         per (image, model), so a recipient can prove which model said what about which image. No
    ///         personal data: the leaves hold only digests (SOP Instance UID hash, pixel digest, model and
    ///         card SHA-256, record SHA-256). Re-anchoring the same findings root returns false.
    /// @dev Allowed for clinicians whose institution may anchor (registered, not suspended, score at least
    ///      the anchor threshold), like `anchor`. The study record must exist.
    /// @param studyRoot the anchored study record the findings are about (any version)
    /// @param findingsRoot StandardMerkleTree root over [uidHash, pixel, model, card, record] leaves (bytes32 each)
    /// @param count number of result records (leaves)
    /// @return created true when new findings were recorded
    function anchorFindings(bytes32 studyRoot, bytes32 findingsRoot, uint32 count) external returns (bool created);

    /// @notice The anchored findings with this root (count 0 when none).
    /// @param findingsRoot a findings root
    function getFindings(bytes32 findingsRoot) external view returns (FindingsView memory);

    /// @notice Recomputes one AI result's StandardMerkleTree leaf and checks its proof against `findingsRoot`.
    /// @dev leaf = keccak256(bytes.concat(keccak256(abi.encode(uidHash, pixel, model, card, record)))). Does
    ///      not check that the root is anchored: use getFindings for that.
    /// @param findingsRoot the findings root
    /// @param proof the result's Merkle proof
    /// @param uidHash SHA-256 of the SOP Instance UID
    /// @param pixel the image's pixel digest the model read
    /// @param model SHA-256 of the ONNX model file
    /// @param card SHA-256 of the model card
    /// @param record SHA-256 of the canonical result record (labels, probabilities, thresholds, preprocessing)
    /// @return valid whether the proof is valid for that leaf and root
    function verifyFinding(bytes32 findingsRoot, bytes32[] calldata proof, bytes32 uidHash, bytes32 pixel, bytes32 model, bytes32 card, bytes32 record)
        external
        pure
        returns (bool valid);

    /// @notice Whether a record with this root exists.
    /// @param root a study root
    function hasRecord(bytes32 root) external view returns (bool);

    /// @notice The record of a root (reverts UnknownRecord when there is none).
    /// @param root a study root (any version)
    function getRecord(bytes32 root) external view returns (RecordView memory);

    /// @notice Number of records anchored for a patient (all versions).
    /// @param patient the patient's account
    function recordCount(address patient) external view returns (uint256);

    /// @notice The patient's index-th record (0-based, in anchoring order).
    /// @param patient the patient's account
    /// @param index 0 .. recordCount(patient) - 1
    function recordAt(address patient, uint256 index) external view returns (RecordView memory);

    /// @notice The study id (root of the first version) of a record.
    /// @param root a study root (any version)
    function studyOf(bytes32 root) external view returns (bytes32);

    /// @notice The newest version's root of the study a root belongs to.
    /// @param root a study root (any version)
    function latestVersion(bytes32 root) external view returns (bytes32);

    /// @notice Every version's root of the study a root belongs to, oldest first.
    /// @param root a study root (any version)
    function versions(bytes32 root) external view returns (bytes32[] memory list);

    /// @notice A storage URI by id.
    /// @param storageId 1 .. storageCount()
    function storageUriOf(uint32 storageId) external view returns (string memory);

    /// @notice Number of interned storage URIs.
    function storageCount() external view returns (uint256);

    // ──────────────────────────── consent ────────────────────────────
    /// @notice `study` value that means "all studies of this patient" in a consent.
    function ALL_STUDIES() external view returns (bytes32);
    /// @notice EIP-712 type hash of a signed consent.
    function CONSENT_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of a signed revocation.
    function REVOCATION_TYPEHASH() external view returns (bytes32);

    /// @notice Grants an institution access to one study (any version root of it) or to all studies
    ///         (`study` = ALL_STUDIES) until `expiry`. Replaces an earlier consent for the same pair.
    /// @param institution the recipient institution (registered, not suspended, score >= receive threshold)
    /// @param study a root of one of the caller's studies, or ALL_STUDIES
    /// @param expiry unix time the consent ends (exclusive); at most MAX_CONSENT_SECONDS ahead
    function grantConsent(address institution, bytes32 study, uint64 expiry) external;

    /// @notice Revokes the caller's consent for (institution, study); later accesses are denied. Reverts
    ///         NoSuchConsent when that consent was never granted.
    /// @param institution the recipient institution
    /// @param study a root of the study or ALL_STUDIES, as granted
    function revokeConsent(address institution, bytes32 study) external;

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
    ) external;

    /// @notice Submits a revocation the patient signed (EIP-712 `Revocation`).
    /// @param patient the signing patient
    /// @param institution the recipient institution
    /// @param study the study root or ALL_STUDIES, as granted
    /// @param deadline unix time after which the signature is void
    /// @param signature the patient's signature (nonce = nonces(patient))
    function revokeConsentBySig(address patient, address institution, bytes32 study, uint256 deadline, bytes calldata signature)
        external;

    /// @notice A consent as stored (grantedAt 0 = never granted).
    /// @param patient the patient
    /// @param institution the recipient institution
    /// @param study the study id (studyOf) or ALL_STUDIES
    function consentOf(address patient, address institution, bytes32 study) external view returns (Consent memory);

    /// @notice The next nonce a patient's signed consent or revocation must carry.
    /// @param owner the patient
    function nonces(address owner) external view returns (uint256);

    /// @notice The EIP-712 domain separator consents are signed under.
    function domainSeparator() external view returns (bytes32);

    // ──────────────────────────── access ─────────────────────────────
    /// @notice Records an access to a study record by the caller's institution (an institution or one of
    ///         its clinicians). An allowed access is an AccessGranted event (and may earn the patient
    ///         points); a refused one is an AccessDenied event with the reason — it does not revert, so the
    ///         history is complete.
    /// @param root the record (any version) being accessed
    /// @return granted whether the access is allowed
    /// @return accessId id of the granted access (0 when denied), used to confirm or report integrity
    function recordAccess(bytes32 root) external returns (bool granted, uint256 accessId);

    /// @notice The recipient confirms the images it received matched the record; the anchoring institution
    ///         earns the integrity reward (once per recipient and study).
    /// @param accessId a granted access of the caller's institution
    function confirmIntegrity(uint256 accessId) external;

    /// @notice The recipient reports that the images it received did not match the record; the regulator
    ///         rules on it with ruleOnReport.
    /// @param accessId a granted access of the caller's institution to another institution's record
    function reportMismatch(uint256 accessId) external;

    /// @notice Rules on a mismatch report: upheld costs the anchoring institution heavily and rewards the
    ///         reporter; rejected costs the reporter a little.
    /// @param accessId the reported access
    /// @param upheld true when the image indeed did not match its record
    function ruleOnReport(uint256 accessId, bool upheld) external;

    /// @notice Whether `recipient` may access `root` now, and why not.
    /// @param root a study root (any version)
    /// @param recipient an institution
    /// @return reason Denial.None when allowed
    /// @return basis what the access would rest on
    function canAccess(bytes32 root, address recipient) external view returns (Denial reason, Basis basis);

    /// @notice A recorded access.
    /// @param accessId 1 .. accessCount()
    function getAccess(uint256 accessId) external view returns (AccessEntry memory);

    /// @notice Number of granted accesses.
    function accessCount() external view returns (uint256);

    // ──────────────────────────── scores ─────────────────────────────
    /// @notice Adjusts a patient's or institution's score, clamped to the score range.
    /// @param account a scored party (registered patient or institution)
    /// @param delta points to add (negative to remove), at most CreditPolicy.MAX_REGULATOR_DELTA either way
    /// @param reason a regulator reason code (>= CreditPolicy.REGULATOR_REASON_MIN), see docs/credit-score.md
    function adjustScore(address account, int16 delta, uint8 reason) external;

    /// @notice A party's credit score (the start score for an account that has none yet).
    /// @param account a patient or institution
    function scoreOf(address account) external view returns (uint16);

    /// @notice Points a patient earned from accesses in the current reward period.
    /// @param patient the patient
    function rewardedThisPeriod(address patient) external view returns (uint16);

    /// @notice Every policy number (see CreditPolicy and docs/credit-score.md).
    function creditPolicy() external pure returns (CreditPolicy.Numbers memory);
}
