import { z } from 'zod';

/**
 * The ledger connection as the main process last saw it. `unreachable` is never shown as
 * anything but unreachable: the UI must not fall back to a cached "verified".
 */
export const LedgerState = z.enum(['not-configured', 'starting', 'connected', 'unreachable']);
export type LedgerState = z.infer<typeof LedgerState>;

export const LedgerStatus = z.object({
  state: LedgerState,
  /** 'embedded' = the local anvil node the app starts itself; 'remote' = a configured JSON-RPC endpoint. */
  mode: z.enum(['embedded', 'remote']),
  rpcUrl: z.string().nullable(),
  chainId: z.number().int().nullable(),
  blockNumber: z.number().int().nullable(),
  /** ISO time of the last successful or failed check. */
  checkedAt: z.string().nullable(),
  /** Plain-language detail, e.g. why it is unreachable. */
  message: z.string().nullable(),
});
export type LedgerStatus = z.infer<typeof LedgerStatus>;

export const ledgerChannels = {
  'ledger.status': { request: z.object({}).strict(), response: LedgerStatus },
} as const;

export const LedgerStatusEvent = z.object({ type: z.literal('ledger-status'), status: LedgerStatus });
