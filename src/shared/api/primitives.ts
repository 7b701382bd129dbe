import { z } from 'zod';

/**
 * The basic value schemas every API domain shares, defined once so they cannot drift apart.
 * Hex is accepted in either case (ethers returns lower case; a pasted value may be upper case).
 */

/** An Ethereum account or contract address. */
export const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an Ethereum address (0x followed by 40 hex digits)');
/** A 32-byte value as 0x-prefixed hex: Merkle roots and leaves, hashed study ids. */
export const Bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
/** A SHA-256 digest as stored locally: 64 lower-case hex digits, no prefix. */
export const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
/** A DICOM UID (PS3.5 §9: at most 64 characters). */
export const Uid = z.string().min(1).max(64);
/** A file-system path on the workstation. */
export const Path = z.string().min(1).max(4096);
/** A typed reason (overrides, reports): recorded in the audit log. */
export const Reason = z.string().trim().min(3, 'type a reason (at least 3 characters)').max(1000);
