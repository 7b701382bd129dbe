import { z } from 'zod';

/** Our Storage SCP (receive side of the PACS, docs/pacs.md): its saved settings and what it is doing. */

const AeTitle = z.string().trim().min(1).max(16);

export const StorageScpSettingsView = z.object({
  /** Off by default: nothing listens until an administrator turns it on. */
  enabled: z.boolean(),
  aeTitle: z.string(),
  port: z.number().int(),
  /** 127.0.0.1 by default (this workstation only). */
  bindAddress: z.string(),
  /** Calling AE titles allowed to store; empty = nobody. */
  allowedCallingAets: z.array(z.string()),
  /** Anchor each arrived study on the ledger (the unlocked clinician signs); off by default. */
  anchorArrivals: z.boolean(),
});
export type StorageScpSettingsView = z.infer<typeof StorageScpSettingsView>;

export const StorageScpStatus = z.object({
  settings: StorageScpSettingsView,
  listening: z.boolean(),
  port: z.number().int().nullable(),
  /** Why it is not listening although enabled. */
  error: z.string().nullable(),
  stats: z.object({ associations: z.number().int(), rejected: z.number().int(), stored: z.number().int(), failed: z.number().int() }),
  lastRejected: z.object({ callingAet: z.string(), calledAet: z.string(), reason: z.string(), remote: z.string(), at: z.string() }).nullable(),
  anchored: z.array(z.object({ studyInstanceUid: z.string(), root: z.string().nullable(), delivery: z.string().nullable(), error: z.string().nullable(), at: z.string() })),
  recent: z.array(
    z.object({
      sopInstanceUid: z.string(),
      studyInstanceUid: z.string().nullable(),
      callingAet: z.string().nullable(),
      state: z.string(),
      verification: z.string().nullable(),
      message: z.string().nullable(),
      receivedAt: z.string(),
    }),
  ),
});
export type StorageScpStatus = z.infer<typeof StorageScpStatus>;

export const StorageScpUpdate = z
  .object({
    enabled: z.boolean().optional(),
    aeTitle: AeTitle.optional(),
    port: z.number().int().min(1).max(65535).optional(),
    bindAddress: z.string().trim().min(2).max(45).optional(),
    allowedCallingAets: z.array(AeTitle).max(200).optional(),
    anchorArrivals: z.boolean().optional(),
  })
  .strict();
export type StorageScpUpdate = z.infer<typeof StorageScpUpdate>;

export const storageScpChannels = {
  /** The saved settings and whether it listens (port, counts, the last rejected caller, recent arrivals). */
  'storageScp.status': { request: z.object({}).strict(), response: StorageScpStatus },
  /** Saves the settings (checked: AE titles, port, an IP address) and starts / stops / restarts the SCP to match. */
  'storageScp.update': { request: StorageScpUpdate, response: StorageScpStatus },
} as const;
