/**
 * ATNA: every entry appended to the local audit log is also sent, as a DICOM PS3.15 A.5 audit
 * message in an RFC 5424 syslog message, to the clinic's collector when one is configured
 * (docs/audit.md). Never blocks and never throws into the caller: the audit log is the record,
 * the collector a copy.
 */
import type { AuditEntry } from '../audit';
import type { Logger } from '../log';
import type { Db } from '../store/database';
import { atnaEventFor, type MappingContext } from './map';
import { buildAuditMessage } from './message';
import { SyslogSender, type SenderOptions, type SenderStatus } from './sender';
import { caSubject, readSyslogSettings, syslogSettingsProblem, writeSyslogSettings, type SyslogSettings } from './settings';
import type { CollectorStateView } from '../../shared/api/audit';
import { syslogMessage } from './syslog';

export * from './message';
export * from './map';
export * from './syslog';
export * from './sender';
export * from './settings';

export interface CollectorState {
  settings: SyslogSettings;
  /** off: not enabled; misconfigured: enabled but unusable (problem says why). */
  state: 'off' | 'misconfigured' | SenderStatus['state'];
  problem: string | null;
  sender: SenderStatus | null;
  /** Entries whose action has no ATNA counterpart (not sent). */
  unmapped: number;
}

/** What the settings screen and the CLI show (the CA's PEM stays in the main process). */
export function collectorView(c: CollectorState): CollectorStateView {
  return {
    settings: { enabled: c.settings.enabled, host: c.settings.host, port: c.settings.port, transport: c.settings.transport, hasCa: c.settings.caPem !== null, caSubject: caSubject(c.settings.caPem) },
    state: c.state,
    problem: c.problem,
    queued: c.sender?.queued ?? 0,
    sent: c.sender?.sent ?? 0,
    dropped: c.sender?.dropped ?? 0,
    lastError: c.sender?.lastError ?? null,
    lastSentAt: c.sender?.lastSentAt ?? null,
  };
}

export class AtnaService {
  private sender: SyslogSender | null = null;
  private current: SyslogSettings;
  private unmapped = 0;

  constructor(
    private readonly deps: { db: Db; log: Logger; mapping: MappingContext; sender?: SenderOptions },
  ) {
    this.current = readSyslogSettings(deps.db);
    this.start();
  }

  private start(): void {
    const s = this.current;
    if (!s.enabled || syslogSettingsProblem(s)) return;
    this.sender = new SyslogSender(
      { host: s.host, port: s.port, transport: s.transport, caPem: s.caPem },
      { ...this.deps.sender, warn: (m, d) => this.deps.log.warn(m, d) },
    );
  }

  settings(): SyslogSettings {
    return { ...this.current };
  }

  /** Saves new settings and restarts the sender with them (messages still queued for the old collector are dropped, counted). */
  async configure(next: SyslogSettings): Promise<CollectorState> {
    const old = this.sender;
    this.sender = null;
    writeSyslogSettings(this.deps.db, next);
    this.current = { ...next };
    this.start();
    if (old) await old.close();
    return this.state();
  }

  state(): CollectorState {
    const problem = syslogSettingsProblem(this.current);
    const sender = this.sender?.status() ?? null;
    return {
      settings: this.settings(),
      state: !this.current.enabled ? 'off' : problem ? 'misconfigured' : (sender?.state ?? 'idle'),
      problem,
      sender,
      unmapped: this.unmapped,
    };
  }

  /** The syslog message for an entry (null when its action has no ATNA counterpart). */
  messageFor(entry: AuditEntry): string | null {
    const ev = atnaEventFor(entry, this.deps.mapping);
    if (!ev) return null;
    return syslogMessage({ timestamp: entry.at, hostname: this.deps.mapping.workstation.host, appName: 'MedImgShr', procId: process.pid }, buildAuditMessage(ev));
  }

  /** Sends an appended entry to the collector (when one is on). Never throws. */
  record(entry: AuditEntry): void {
    if (!this.sender) return;
    try {
      const msg = this.messageFor(entry);
      if (msg === null) {
        this.unmapped++;
        return;
      }
      this.sender.send(msg);
    } catch (err) {
      this.deps.log.warn('an audit entry could not be turned into an ATNA message', { seq: entry.seq, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Resolves when everything queued was sent or is waiting for a retry (tests). */
  settled(): Promise<void> {
    return this.sender?.settled() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    const s = this.sender;
    this.sender = null;
    await s?.close();
  }
}
