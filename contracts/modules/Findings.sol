// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IMedImgShr} from "../IMedImgShr.sol";
import {Records} from "./Records.sol";

/// @title Findings — AI findings anchored beside the study record (issue 15, docs/ai.md)
/// @notice A clinician anchors one Merkle root of a study's AI result records; each leaf binds an image
///         (SOP Instance UID hash, pixel digest) to a model (model and card SHA-256) and what it said (the
///         record's SHA-256). Only digests reach the chain.
abstract contract Findings is Records {
    /// @dev One slot per findings root (28 bytes) plus the study root it is about.
    struct FindingsRecord {
        uint32 count;
        uint32 clinicianId;
        uint32 institutionId;
        uint40 time;
    }

    mapping(bytes32 => FindingsRecord) private _findings;
    mapping(bytes32 => bytes32) private _findingsStudy;

    /// @inheritdoc IMedImgShr
    function anchorFindings(bytes32 studyRoot, bytes32 findingsRoot, uint32 count) external returns (bool created) {
        Party storage cp = _parties[msg.sender];
        (uint32 instId, address institution) = _anchoringInstitution(cp);
        if (findingsRoot == bytes32(0)) revert InvalidRoot();
        if (count == 0) revert InvalidFindingsCount();
        _record(studyRoot); // reverts UnknownRecord: findings are about an anchored study
        if (_findings[findingsRoot].count != 0) {
            if (_findingsStudy[findingsRoot] != studyRoot) revert FindingsOfAnotherStudy(findingsRoot, _findingsStudy[findingsRoot]);
            return false;
        }
        _findings[findingsRoot] = FindingsRecord({count: count, clinicianId: cp.clinicianId, institutionId: instId, time: uint40(block.timestamp)});
        _findingsStudy[findingsRoot] = studyRoot;
        emit FindingsAnchored(studyRoot, findingsRoot, institution, msg.sender, count);
        return true;
    }

    /// @inheritdoc IMedImgShr
    function getFindings(bytes32 findingsRoot) external view returns (FindingsView memory) {
        FindingsRecord storage f = _findings[findingsRoot];
        if (f.count == 0) return FindingsView(findingsRoot, bytes32(0), 0, address(0), address(0), 0);
        return FindingsView({
            findingsRoot: findingsRoot,
            studyRoot: _findingsStudy[findingsRoot],
            count: f.count,
            institution: _institutions[f.institutionId - 1],
            clinician: _clinicians[f.clinicianId - 1],
            time: f.time
        });
    }

    /// @inheritdoc IMedImgShr
    function verifyFinding(bytes32 findingsRoot, bytes32[] calldata proof, bytes32 uidHash, bytes32 pixel, bytes32 model, bytes32 card, bytes32 record)
        external
        pure
        returns (bool valid)
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(uidHash, pixel, model, card, record))));
        return MerkleProof.verifyCalldata(proof, findingsRoot, leaf);
    }
}
