import { z } from 'zod';
import { Bytes32, Uid } from './primitives';
import { RecordEvidence } from './ledger';

/**
 * Secondary access ("address first, then file", docs/pacs.md): a study record on chain → the store
 * its storage URI names (a configured PACS connection) → retrieve → verified against that record.
 */

export const RecordStoreCheck = z.object({
  root: z.string(),
  storageUri: z.string(),
  /** Every image of the record is already in this workstation's library. */
  inLibrary: z.boolean(),
  /** The PACS connection the storage URI resolves to; null → problem / hint (e.g. the `medimgshr pacs add …` command). */
  connection: z.string().nullable(),
  problem: z.string().nullable(),
  hint: z.string().nullable(),
});
export type RecordStoreCheck = z.infer<typeof RecordStoreCheck>;

export const OpenRecordResult = z.object({
  root: z.string(),
  record: RecordEvidence,
  store: z.object({ uri: z.string(), connection: z.string() }),
  studyInstanceUid: z.string(),
  studyFrom: z.enum(['caller', 'local-anchor']),
  state: z.enum(['verified', 'altered', 'incomplete']),
  differs: z.array(z.string()),
  retrievedRoot: z.string().nullable(),
  retrieved: z.object({ listed: z.number().int(), received: z.number().int(), failed: z.number().int(), via: z.string(), seconds: z.number() }),
  verification: z.record(z.string(), z.number().int()),
  instances: z.array(z.object({ sopInstanceUid: z.string(), verification: z.string().nullable(), differs: z.array(z.string()), message: z.string().nullable() })),
  message: z.string(),
});
export type OpenRecordResult = z.infer<typeof OpenRecordResult>;

export const secondaryChannels = {
  /** Where the record's images are and whether this workstation can open them from there. */
  'secondary.check': { request: z.object({ root: Bytes32 }).strict(), response: RecordStoreCheck },
  /** Retrieves the record's study from its store and verifies it against the record (a task with progress). */
  'secondary.openRecord': { request: z.object({ root: Bytes32, study: Uid.optional() }).strict(), response: OpenRecordResult },
} as const;
