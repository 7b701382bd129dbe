import { z } from 'zod';
import { Address } from './primitives';

/**
 * Local identities: encrypted keystores (Web3 Secret Storage, scrypt) kept in the app-data
 * folder. Keys stay in the main process; no response ever carries a private key or passphrase.
 */
/** An Ethereum address (the shared primitive, under the name the identity API has always used). */
export const EthAddress = Address;

/** What the user says the identity is for; the contract's roles decide what it may do. */
export const RoleHint = z.enum(['regulator', 'institution', 'clinician', 'patient']);
export type RoleHint = z.infer<typeof RoleHint>;

export const IdentitySummary = z.object({
  /** EIP-55 checksummed address; the identity's id. */
  address: EthAddress,
  displayName: z.string(),
  roleHint: RoleHint.nullable(),
  createdAt: z.string(),
  /** Created by the demo setup (may use a weak scrypt setting; never for real patients). */
  demo: z.boolean(),
  /** True for the one identity whose keystore is unlocked now. */
  unlocked: z.boolean(),
});
export type IdentitySummary = z.infer<typeof IdentitySummary>;

const DisplayName = z.string().trim().min(1, 'a name is required').max(80);
/** New passphrases: at least 8 characters. */
const NewPassphrase = z.string().min(8, 'the passphrase must have at least 8 characters').max(1024);
const Passphrase = z.string().min(1, 'the passphrase is required').max(1024);

export const IdentityImportRequest = z
  .object({
    displayName: DisplayName,
    roleHint: RoleHint.nullable().optional(),
    /** Raw private key (0x + 64 hex): encrypted here with `passphrase` (min 8 characters). */
    privateKey: z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, 'a private key is 64 hex digits').optional(),
    /** A Web3 Secret Storage JSON keystore, kept as is; `passphrase` must unlock it. */
    keystoreJson: z.string().min(2).max(100_000).optional(),
    passphrase: Passphrase,
  })
  .strict()
  .refine((r) => (r.privateKey === undefined) !== (r.keystoreJson === undefined), {
    message: 'give either a private key or a keystore file, not both',
  });

export const identityChannels = {
  'identity.list': {
    request: z.object({}).strict(),
    response: z.object({ identities: z.array(IdentitySummary), current: EthAddress.nullable() }),
  },
  'identity.create': {
    request: z.object({ displayName: DisplayName, passphrase: NewPassphrase, roleHint: RoleHint.nullable().optional() }).strict(),
    response: IdentitySummary,
  },
  'identity.import': { request: IdentityImportRequest, response: IdentitySummary },
  /** The encrypted keystore file (never the raw key). */
  'identity.export': {
    request: z.object({ address: EthAddress }).strict(),
    response: z.object({ address: EthAddress, fileName: z.string(), keystoreJson: z.string() }),
  },
  /** Wrong passphrase: error WRONG_PASSPHRASE; nothing is locked out or changed. */
  'identity.unlock': { request: z.object({ address: EthAddress, passphrase: Passphrase }).strict(), response: IdentitySummary },
  'identity.lock': { request: z.object({}).strict(), response: z.object({ locked: z.boolean() }) },
  'identity.current': { request: z.object({}).strict(), response: z.object({ identity: IdentitySummary.nullable() }) },
} as const;
