// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IMedImgShr} from "../IMedImgShr.sol";
import {Consents} from "./Consents.sol";

/// @title SignedConsents — consents and revocations a patient signs (EIP-712) and an institution submits
/// @notice The patient needs no gas; each signature carries the patient's nonce, so it works once.
/// @dev The composing contract names the EIP-712 domain (EIP712's constructor).
abstract contract SignedConsents is Consents, EIP712, Nonces {
    /// @inheritdoc IMedImgShr
    bytes32 public constant CONSENT_TYPEHASH =
        keccak256("Consent(address patient,address institution,bytes32 study,uint64 expiry,uint256 nonce,uint256 deadline)");
    /// @inheritdoc IMedImgShr
    bytes32 public constant REVOCATION_TYPEHASH =
        keccak256("Revocation(address patient,address institution,bytes32 study,uint256 nonce,uint256 deadline)");

    /// @inheritdoc IMedImgShr
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

    /// @inheritdoc IMedImgShr
    function revokeConsentBySig(address patient, address institution, bytes32 study, uint256 deadline, bytes calldata signature)
        external
    {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        bytes32 structHash = keccak256(abi.encode(REVOCATION_TYPEHASH, patient, institution, study, _useNonce(patient), deadline));
        _checkSigner(patient, structHash, signature);
        if (!hasRole(PATIENT_ROLE, patient)) revert PatientNotRegistered(patient);
        _revokeConsent(patient, institution, study, true);
    }

    /// @inheritdoc IMedImgShr
    /// @dev IMedImgShr declares it for clients that sign; OpenZeppelin's Nonces implements it.
    function nonces(address owner) public view virtual override(IMedImgShr, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @inheritdoc IMedImgShr
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _checkSigner(address signer, bytes32 structHash, bytes calldata signature) private view {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert InvalidSignature(signer, recovered);
    }
}
