/**
 * The local audit log: an append-only, hash-chained table in the app's SQLite database.
 *
 * Each entry's canonical encoding is the canonical JSON array
 *   ["medimgshr-audit/1", seq, at, actor, action, subject, details, reason, prevHash]
 * and its hash is SHA-256 over the UTF-8 bytes of that string. `prevHash` is the previous entry's
 * hash (64 zeros for the first entry), so editing, deleting or reordering any row breaks the chain
 * at that row. `audit_head` remembers the newest entry so deleting the newest rows is noticed too.
 * The table is append-only through triggers; verifyChain() catches anyone who bypasses them.
 */
import { createHash } from 'node:crypto';
import { AppError, ErrorCode } from '../../shared/errors';
import type { Db } from '../store/database';
import { canonicalJson } from './canonical';

export const AUDIT_FORMAT = 'medimgshr-audit/1';
export const GENESIS_HASH = '0'.repeat(64);

/** Actions the app records; other dotted lower-case names are allowed for later features. */
export const AUDIT_ACTIONS = ['export.original', 'export.anonymised', 'export.png', 'export.failed', 'share', 'override', 'receive', 'consent.collected', 'view', 'login', 'login.failed', 'logout'] as const;
export type KnownAuditAction = (typeof AUDIT_ACTIONS)[number];
const ACTION_RE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;

export interface AuditSubject {
  study?: string;
  series?: string;
  instances?: string[];
  package?: string;
}

export interface AuditInput {
  actor: string;
  action: KnownAuditAction | (string & {});
  subject: AuditSubject;
  details?: Record<string, unknown>;
  /** Required (non-empty) for overrides. */
  reason?: string | null;
  /** Defaults to now. */
  at?: Date;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: AuditSubject;
  details: Record<string, unknown>;
  reason: string | null;
  prevHash: string;
  hash: string;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  study?: string;
  /** ISO time, inclusive. */
  from?: string;
  /** ISO time, exclusive. */
  to?: string;
  limit?: number;
  offset?: number;
  order?: 'asc' | 'desc';
}

export type ChainProblemKind = 'edited' | 'missing' | 'reordered' | 'truncated' | 'unreadable';

export interface ChainProblem {
  /** The entry (sequence number) where the chain breaks. */
  seq: number;
  kind: ChainProblemKind;
  message: string;
}

export interface ChainReport {
  ok: boolean;
  /** Entries checked. */
  checked: number;
  /** Sequence number of the newest entry seen. */
  lastSeq: number;
  problems: ChainProblem[];
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string;
  reason: string | null;
  prev_hash: string;
  hash: string;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** The canonical encoding of an entry (what its hash and the next entry's prevHash cover). */
export function canonicalEntry(e: {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string;
  reason: string | null;
  prevHash: string;
}): string {
  // subject and details are stored as canonical JSON text; they enter the array as text too, so a
  // stored value that is not canonical (hand-edited) changes the hash.
  return canonicalJson([AUDIT_FORMAT, e.seq, e.at, e.actor, e.action, e.subject, e.details, e.reason, e.prevHash]);
}

function rowHash(r: Row, seq = r.seq): string {
  return sha256Hex(
    canonicalEntry({ seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, details: r.details, reason: r.reason, prevHash: r.prev_hash }),
  );
}

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function toEntry(r: Row): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject: parseJson<AuditSubject>(r.subject, {}),
    details: parseJson<Record<string, unknown>>(r.details, {}),
    reason: r.reason,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function csvCell(v: string): string {
  // Spreadsheet formula injection: a cell starting with = + - @ (or tab/CR) is prefixed with '.
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export class AuditLog {
  constructor(private readonly db: Db) {}

  /** Appends one entry (atomically with the head pointer) and returns it. */
  append(input: AuditInput): AuditEntry {
    if (!input.actor || !input.actor.trim()) throw new AppError(ErrorCode.InvalidArgument, 'An audit entry needs an actor (who did it).');
    if (!ACTION_RE.test(input.action)) {
      throw new AppError(ErrorCode.InvalidArgument, `"${input.action}" is not a valid audit action name.`, 'Use dotted lower-case names such as export.anonymised.');
    }
    const reason = input.reason?.trim() ? input.reason.trim() : null;
    if (input.action === 'override' && !reason) {
      throw new AppError(ErrorCode.InvalidArgument, 'An override must carry a typed reason.', 'Type why the rule is being overridden.');
    }
    const at = (input.at ?? new Date()).toISOString();
    const subject = canonicalJson(input.subject ?? {});
    const details = canonicalJson(input.details ?? {});
    const insert = this.db.transaction((): AuditEntry => {
      const head = this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined;
      const last = this.db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
      const seq = Math.max(head?.seq ?? 0, last?.seq ?? 0) + 1;
      // Chain to the newest entry that exists (the head is the authority when rows went missing: the
      // gap stays visible to verifyChain rather than being papered over).
      const prevHash = head?.hash ?? last?.hash ?? GENESIS_HASH;
      const hash = sha256Hex(canonicalEntry({ seq, at, actor: input.actor, action: input.action, subject, details, reason, prevHash }));
      this.db
        .prepare('INSERT INTO audit_log (seq, at, actor, action, subject, study, details, reason, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(seq, at, input.actor, input.action, subject, input.subject?.study ?? null, details, reason, prevHash, hash);
      this.db.prepare('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash').run(seq, hash);
      return { seq, at, actor: input.actor, action: input.action, subject: JSON.parse(subject), details: JSON.parse(details), reason, prevHash, hash };
    });
    return insert.immediate();
  }

  list(filter: AuditFilter = {}): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      args.push(value);
    };
    if (filter.action) add('action = ?', filter.action);
    if (filter.actor) add('actor = ?', filter.actor);
    if (filter.study) add('study = ?', filter.study);
    if (filter.from) add('at >= ?', filter.from);
    if (filter.to) add('at < ?', filter.to);
    const order = filter.order === 'desc' ? 'DESC' : 'ASC';
    const limit = Math.max(0, Math.min(filter.limit ?? 10_000, 100_000));
    const offset = Math.max(0, filter.offset ?? 0);
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ? OFFSET ?`;
    return (this.db.prepare(sql).all(...args, limit, offset) as Row[]).map(toEntry);
  }

  /** The newest entry as the head pointer records it. */
  /** Number of entries in the whole log (the list is paged; the UI shows the total). */
  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
  }

  head(): { seq: number; hash: string } {
    const h = this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined;
    return h ?? { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * Walks the whole chain and says where it breaks: an entry edited after it was written, entries
   * deleted (a gap, or the newest ones missing), or entries moved to another position.
   */
  verifyChain(): ChainReport {
    const rows = this.db.prepare('SELECT * FROM audit_log ORDER BY seq ASC').all() as Row[];
    const problems: ChainProblem[] = [];
    const bySeq = new Map(rows.map((r) => [r.seq, r]));
    const maxSeq = rows.reduce((m, r) => Math.max(m, r.seq), 0);
    const head = this.head();
    let expectedSeq = 1;
    let prev: { hash: string; trusted: boolean; seq: number } = { hash: GENESIS_HASH, trusted: true, seq: 0 };
    for (const r of rows) {
      if (r.seq > expectedSeq) {
        const range = r.seq - 1 === expectedSeq ? `Entry ${expectedSeq} is` : `Entries ${expectedSeq}–${r.seq - 1} are`;
        problems.push({ seq: expectedSeq, kind: 'missing', message: `${range} missing: deleted from the audit log.` });
      }
      const recomputed = rowHash(r);
      const contentOk = recomputed === r.hash;
      if (!contentOk) {
        // Moved? Its content hashes correctly under another sequence number.
        let movedFrom: number | null = null;
        if (rows.length <= 20_000) {
          for (let s = 1; s <= Math.max(maxSeq, head.seq); s++) {
            if (s !== r.seq && rowHash(r, s) === r.hash) {
              movedFrom = s;
              break;
            }
          }
        }
        problems.push(
          movedFrom !== null
            ? { seq: r.seq, kind: 'reordered', message: `Entry ${r.seq} is out of order: it was written as entry ${movedFrom}.` }
            : { seq: r.seq, kind: 'edited', message: `Entry ${r.seq} was changed after it was written: its content no longer matches its hash.` },
        );
      } else if (r.seq === expectedSeq && prev.trusted && r.prev_hash !== prev.hash) {
        // This entry is intact but recorded a different hash for its predecessor: the predecessor was
        // rewritten together with its stored hash.
        problems.push({
          seq: prev.seq,
          kind: 'edited',
          message: `Entry ${prev.seq} was changed after it was written: entry ${r.seq} recorded a different hash for it.`,
        });
      }
      prev = { hash: contentOk ? r.hash : recomputed, trusted: contentOk, seq: r.seq };
      expectedSeq = r.seq + 1;
    }
    if (head.seq > maxSeq) {
      problems.push({
        seq: maxSeq + 1,
        kind: 'truncated',
        message: `The newest entries are missing: the log recorded ${head.seq} entries but only ${maxSeq} remain.`,
      });
    } else if (head.seq === maxSeq && maxSeq > 0 && bySeq.get(maxSeq)!.hash !== head.hash && !problems.some((p) => p.seq === maxSeq)) {
      problems.push({ seq: maxSeq, kind: 'edited', message: `Entry ${maxSeq} was changed after it was written: it does not match the recorded newest entry.` });
    } else if (head.seq < maxSeq) {
      problems.push({ seq: head.seq + 1, kind: 'edited', message: `Entries after ${head.seq} were not written by the app (the head pointer ends at ${head.seq}).` });
    }
    problems.sort((a, b) => a.seq - b.seq);
    return { ok: problems.length === 0, checked: rows.length, lastSeq: maxSeq, problems };
  }

  exportCsv(filter: AuditFilter = {}): string {
    const header = ['seq', 'at', 'actor', 'action', 'study', 'subject', 'details', 'reason', 'prev_hash', 'hash'];
    const lines = [header.join(',')];
    for (const e of this.list({ ...filter, limit: filter.limit ?? 100_000 })) {
      lines.push(
        [String(e.seq), e.at, e.actor, e.action, e.subject.study ?? '', canonicalJson(e.subject), canonicalJson(e.details), e.reason ?? '', e.prevHash, e.hash]
          .map(csvCell)
          .join(','),
      );
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  exportJson(filter: AuditFilter = {}): string {
    const verify = this.verifyChain();
    return JSON.stringify(
      {
        format: AUDIT_FORMAT,
        exported: new Date().toISOString(),
        head: this.head(),
        chain: { ok: verify.ok, checked: verify.checked, problems: verify.problems },
        canonicalEncoding: '["medimgshr-audit/1",seq,at,actor,action,subject,details,reason,prevHash] as canonical JSON; hash = SHA-256 (hex)',
        entries: this.list({ ...filter, limit: filter.limit ?? 100_000 }),
      },
      null,
      2,
    );
  }
}
