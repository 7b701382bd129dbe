// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {CreditPolicy} from "../CreditPolicy.sol";
import {IMedImgShr} from "../IMedImgShr.sol";
import {Registry} from "./Registry.sol";
import {StorageDirectory} from "./StorageDirectory.sol";

/// @title Records — study anchors: one record per study version (Merkle root of its instances)
/// @notice A clinician anchors a study's root with its leaf count, the patient's pseudonymous account
///         and the store holding the files; a new version supersedes the old one, which stays readable.
///         Lin et al.'s per-patient list (count, get by index) and the on-chain proof check live here too.
abstract contract Records is Registry, StorageDirectory {
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

    mapping(bytes32 => Record) internal _records;
    mapping(bytes32 => Links) internal _links;
    mapping(address => mapping(uint256 => bytes32)) private _patientRecords;
    mapping(bytes32 => bytes32) private _latest; // study => latest root

    /// @inheritdoc IMedImgShr
    function anchor(bytes32 root, uint32 leafCount, address patient, string calldata storageUri, bytes32 previous)
        external
        returns (bool created)
    {
        Party storage cp = _parties[msg.sender];
        (uint32 instId, address institution) = _anchoringInstitution(cp);
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
            // A new version stays with one patient and one institution and never forks, so a study's
            // history is a single line.
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

    /// @inheritdoc IMedImgShr
    function verifyInstance(bytes32 root, bytes32[] calldata proof, bytes32 pixel, bytes32 meta, bytes32 uidHash)
        external
        pure
        returns (bool valid)
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(pixel, meta, uidHash))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IMedImgShr
    function hasRecord(bytes32 root) external view returns (bool) {
        return _records[root].version != 0;
    }

    /// @inheritdoc IMedImgShr
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
            storageUri: _storageUri(r.storageId)
        });
    }

    /// @inheritdoc IMedImgShr
    function recordCount(address patient) external view returns (uint256) {
        return _parties[patient].recordCount;
    }

    /// @inheritdoc IMedImgShr
    function recordAt(address patient, uint256 index) external view returns (RecordView memory) {
        bytes32 root = _patientRecords[patient][index];
        if (root == bytes32(0)) revert UnknownRecord(bytes32(index));
        return getRecord(root);
    }

    /// @inheritdoc IMedImgShr
    function studyOf(bytes32 root) public view returns (bytes32) {
        Record storage r = _record(root);
        return r.version == 1 ? root : _links[root].study;
    }

    /// @inheritdoc IMedImgShr
    function latestVersion(bytes32 root) external view returns (bytes32) {
        bytes32 study = studyOf(root);
        bytes32 latest = _latest[study];
        return latest == bytes32(0) ? study : latest;
    }

    /// @inheritdoc IMedImgShr
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

    // ─────────────────────────── internals ───────────────────────────

    /// @dev The institution a calling clinician anchors for, if that institution may anchor now
    ///      (registered, not suspended, score at least the anchor threshold).
    function _anchoringInstitution(Party storage cp) internal view returns (uint32 instId, address institution) {
        instId = cp.clinicianOf;
        if (instId == 0) revert AccessControlUnauthorizedAccount(msg.sender, CLINICIAN_ROLE);
        institution = _institutions[instId - 1];
        Party storage inst = _parties[institution];
        if (!inst.isInstitution) revert NotAnInstitution(institution);
        if (inst.suspended) revert InstitutionIsSuspended(institution);
        if (inst.score < CreditPolicy.ANCHOR_THRESHOLD) {
            revert InstitutionScoreTooLow(institution, inst.score, CreditPolicy.ANCHOR_THRESHOLD);
        }
    }

    /// @dev The record of a root; reverts UnknownRecord when there is none.
    function _record(bytes32 root) internal view returns (Record storage r) {
        r = _records[root];
        if (r.version == 0) revert UnknownRecord(root);
    }

    function _institutionOfRecord(bytes32 root) internal view returns (address) {
        return _institutions[_records[root].institutionId - 1];
    }
}
