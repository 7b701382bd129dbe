// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IMedImgShr} from "./IMedImgShr.sol";
import {Accesses} from "./modules/Accesses.sol";
import {Consents} from "./modules/Consents.sol";
import {Findings} from "./modules/Findings.sol";
import {Records} from "./modules/Records.sol";
import {Registry} from "./modules/Registry.sol";
import {Scores} from "./modules/Scores.sol";
import {SignedConsents} from "./modules/SignedConsents.sol";
import {StorageDirectory} from "./modules/StorageDirectory.sol";

/// @title MedImgShr — study records, AI findings, patient consent, access history and credit scores
/// @notice One record per study (Merkle root of the instance leaves), consents granted by
///         pseudonymous patient accounts, every access and every denied attempt as an event, and
///         credit scores for patients and institutions. No personal data is ever stored or logged:
///         only accounts, hashes, roots and storage URIs that carry no identity.
/// @dev Composes the modules in contracts/modules (API: IMedImgShr). The regulator is the default admin
///      (two-step handover with a delay, OpenZeppelin AccessControlDefaultAdminRules). Credit numbers
///      live in CreditPolicy.
contract MedImgShr is Registry, Scores, StorageDirectory, Records, Findings, Consents, SignedConsents, Accesses {
    /// @param initialDelay seconds a regulator handover waits between begin and accept
    /// @param regulator the first regulator (default admin)
    constructor(uint48 initialDelay, address regulator)
        AccessControlDefaultAdminRules(initialDelay, regulator)
        EIP712("MedImgShr", "1")
    {}

    // Solidity asks the composition to pick between the interface's declaration (seen through every
    // module) and SignedConsents' implementation.
    /// @inheritdoc IMedImgShr
    function nonces(address owner) public view override(IMedImgShr, SignedConsents) returns (uint256) {
        return super.nonces(owner);
    }
}
