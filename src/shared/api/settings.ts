import { z } from 'zod';
import { Address } from './primitives';
import { LedgerStatus } from './ledger';

/** The ledger the app uses, as the settings screen shows and edits it. */
export const LedgerEndpointSettings = z.object({
  mode: z.enum(['embedded', 'remote', 'none']),
  rpcUrl: z.string().nullable(),
  chainId: z.number().int().nullable(),
  contractAddress: z.string().nullable(),
  /** environment = MEDIMG_RPC_URL overrides the settings; saved = chosen in the settings; default = embedded. */
  source: z.enum(['environment', 'saved', 'default', 'explicit']),
});
export type LedgerEndpointSettings = z.infer<typeof LedgerEndpointSettings>;

export const SetLedgerEndpoint = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('embedded') }).strict(),
  z
    .object({
      mode: z.literal('remote'),
      rpcUrl: z.string().url().max(2000).refine((u) => /^https?:\/\//.test(u), 'an http:// or https:// URL'),
      chainId: z.number().int().positive(),
      contractAddress: Address,
    })
    .strict(),
]);
export type SetLedgerEndpoint = z.infer<typeof SetLedgerEndpoint>;

export const settingsChannels = {
  'settings.ledger.get': { request: z.object({}).strict(), response: LedgerEndpointSettings },
  /** Checks the endpoint (chain id matches, the contract is there), saves it and switches to it. */
  'settings.ledger.set': {
    request: SetLedgerEndpoint,
    response: z.object({ settings: LedgerEndpointSettings, status: LedgerStatus }),
  },
} as const;
