import { z } from 'zod';
import { Path } from './primitives';

/** The local hash-chained audit log (docs/audit-log.md). */

export const AuditEntryView = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.object({ study: z.string().optional(), series: z.string().optional(), instances: z.array(z.string()).optional(), package: z.string().optional() }),
  details: z.record(z.string(), z.unknown()),
  reason: z.string().nullable(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEntryView = z.infer<typeof AuditEntryView>;

export const AuditFilterRequest = z
  .object({
    action: z.string().max(64).optional(),
    actor: z.string().max(64).optional(),
    study: z.string().max(64).optional(),
    from: z.string().max(40).optional(),
    to: z.string().max(40).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    offset: z.number().int().min(0).optional(),
    order: z.enum(['asc', 'desc']).optional(),
  })
  .strict();

export const AuditChainReport = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  lastSeq: z.number().int(),
  problems: z.array(z.object({ seq: z.number().int(), kind: z.enum(['edited', 'missing', 'reordered', 'truncated', 'unreadable']), message: z.string() })),
});

/** An audit entry was appended (export, override, share, receive). */
export const AuditAppendedEvent = z.object({ type: z.literal('audit-appended'), entry: AuditEntryView });

// ---------------------------------------------------------------- channels

export const auditChannels = {
  'audit.list': { request: AuditFilterRequest, response: z.object({ entries: z.array(AuditEntryView), total: z.number().int() }) },
  /** Re-hashes the whole audit log and reports where the chain breaks. */
  'audit.verify': { request: z.object({}).strict(), response: AuditChainReport },
  /** Writes the (filtered) audit log as CSV or JSON to `path` (atomically). */
  'audit.export': {
    request: z.object({ format: z.enum(['csv', 'json']), path: Path, filter: AuditFilterRequest.optional() }).strict(),
    response: z.object({ path: z.string(), bytes: z.number().int(), entries: z.number().int() }),
  },
} as const;
