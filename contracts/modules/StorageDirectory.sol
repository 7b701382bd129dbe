// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IMedImgShr} from "../IMedImgShr.sol";

/// @title StorageDirectory — the stores where the image files live (hierarchical storage)
/// @notice The chain keeps the address of a store (a PACS or blob store base URI), never the files: a
///         record points to a store by a 32-bit id, and the study is found there by its root.
abstract contract StorageDirectory is IMedImgShr {
    /// @inheritdoc IMedImgShr
    uint256 public constant MAX_STORAGE_URI_BYTES = 256;

    string[] private _storageUris; // id - 1 => URI
    mapping(bytes32 => uint32) private _storageIdOfHash;

    /// @inheritdoc IMedImgShr
    function storageUriOf(uint32 storageId) external view returns (string memory) {
        return _storageUris[storageId - 1];
    }

    /// @inheritdoc IMedImgShr
    function storageCount() external view returns (uint256) {
        return _storageUris.length;
    }

    /// @dev Interns a URI once per store (StorageRegistered), so each record carries 4 bytes, not the URI.
    function _internStorage(string calldata uri) internal returns (uint32 id) {
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

    function _storageUri(uint32 storageId) internal view returns (string storage) {
        return _storageUris[storageId - 1];
    }
}
