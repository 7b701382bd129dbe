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

/** The syslog collector (IHE ATNA audit messages over RFC 5424 syslog, docs/audit.md). */
export const SyslogTransport = z.enum(['udp', 'tls']);
export const SyslogSettingsView = z.object({
  enabled: z.boolean(),
  host: z.string(),
  port: z.number().int(),
  transport: SyslogTransport,
  /** Whether a CA certificate is stored (its PEM is not sent to the renderer). */
  hasCa: z.boolean(),
  caSubject: z.string().nullable(),
});
export type SyslogSettingsView = z.infer<typeof SyslogSettingsView>;

export const CollectorStateView = z.object({
  settings: SyslogSettingsView,
  state: z.enum(['off', 'misconfigured', 'idle', 'sending', 'retrying', 'failing']),
  problem: z.string().nullable(),
  queued: z.number().int(),
  sent: z.number().int(),
  dropped: z.number().int(),
  lastError: z.string().nullable(),
  lastSentAt: z.string().nullable(),
});
export type CollectorStateView = z.infer<typeof CollectorStateView>;

export const SetSyslogRequest = z
  .object({
    enabled: z.boolean(),
    host: z.string().trim().max(253).regex(/^[A-Za-z0-9.:_-]*$/, 'a host name or IP address'),
    port: z.number().int().min(1).max(65535),
    transport: SyslogTransport,
    /** A PEM file with the collector's CA certificate (read by the main process); omitted: keep the stored one; null: forget it. */
    caPath: Path.nullable().optional(),
  })
  .strict();
export type SetSyslogRequest = z.infer<typeof SetSyslogRequest>;

// ---------------------------------------------------------------- channels

export const auditChannels = {
  'audit.list': {
    request: AuditFilterRequest,
    /** names: display names of the accounts the entries mention (address → name), where this workstation knows them. */
    response: z.object({ entries: z.array(AuditEntryView), total: z.number().int(), names: z.record(z.string(), z.string()).optional() }),
  },
  /** Re-hashes the whole audit log and reports where the chain breaks. */
  'audit.verify': { request: z.object({}).strict(), response: AuditChainReport },
  /** Writes the (filtered) audit log as CSV or JSON to `path` (atomically). */
  'audit.export': {
    request: z.object({ format: z.enum(['csv', 'json']), path: Path, filter: AuditFilterRequest.optional() }).strict(),
    response: z.object({ path: z.string(), bytes: z.number().int(), entries: z.number().int() }),
  },
  /**
   * A viewport shows a series: the main process records who (its own session identity, else the
   * workstation user) opened which patient's study — one entry per study opening.
   */
  'audit.studyOpened': {
    request: z.object({ seriesId: z.number().int().positive() }).strict(),
    response: z.object({ seq: z.number().int(), recorded: z.boolean() }),
  },
  'audit.syslog.get': { request: z.object({}).strict(), response: CollectorStateView },
  /** Saves the collector settings and restarts the sender. */
  'audit.syslog.set': { request: SetSyslogRequest, response: CollectorStateView },
} as const;
