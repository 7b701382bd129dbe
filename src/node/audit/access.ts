/**
 * An honest record of access (issue 17): who opened which patient's study, from which workstation,
 * and every login, failed login and logout. The main process decides who acts (the unlocked
 * identity, else the workstation's OS user) — the renderer only says which series it opened.
 *
 * One entry per study opening, not per image or per series: opening a second series of the study
 * that was opened last by the same person is the same viewing; opening another study and coming
 * back is a new one, and so is any opening after a login or logout.
 */
import { hostname, userInfo } from 'node:os';
import type { AuditEntry, AuditInput } from './audit-log';

export interface Workstation {
  host: string;
  osUser: string;
}

/** This machine's host name and the OS user running the app. */
export function thisWorkstation(): Workstation {
  let osUser = 'unknown';
  try {
    osUser = userInfo().username || osUser;
  } catch {
    osUser = process.env.USER ?? process.env.USERNAME ?? osUser;
  }
  return { host: hostname() || 'localhost', osUser };
}

/** The actor name of a workstation user with no identity signed in. */
export function workstationActor(w: Workstation): string {
  return `workstation:${w.osUser}@${w.host}`;
}

export interface Who {
  /** The signed-in identity (address and display name), or null: viewing as the workstation user. */
  identity: { address: string; displayName: string } | null;
}

export interface OpenedStudy {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  patientId: string;
  patientName: string | null;
  studyDescription: string | null;
  studyDate: string | null;
}

/** One PACS search as the audit log records it. */
export interface PacsQueryRecord {
  connection: string;
  via: 'dicomweb' | 'dimse';
  level: 'STUDY' | 'SERIES';
  /** The DICOMweb root (QIDO-RS) or the called AE title and host (C-FIND). */
  url?: string | null;
  aeTitle?: string | null;
  host?: string | null;
  /** The matching keys asked (empty ones left out). */
  query: Record<string, string | number>;
  /** The study a series-level search was about. */
  studyInstanceUid?: string | null;
  matches: number;
  more: boolean;
  error?: string | null;
}

export class AccessRecorder {
  private last: { key: string; seq: number } | null = null;
  /** Studies whose viewing was recorded since the last sign-in or sign-out (actor + study). */
  private readonly seen = new Set<string>();

  constructor(
    private readonly deps: {
      append(input: AuditInput): AuditEntry;
      who(): Who;
      workstation: Workstation;
    },
  ) {}

  private actorOf(who: Who): string {
    return who.identity?.address ?? workstationActor(this.deps.workstation);
  }

  private base(who: Who): Record<string, unknown> {
    const w = this.deps.workstation;
    return { workstation: { host: w.host, osUser: w.osUser }, identity: who.identity ? { address: who.identity.address, name: who.identity.displayName } : null };
  }

  /** A study shown in a viewport. Returns the entry's sequence number and whether it is new. */
  viewed(study: OpenedStudy): { seq: number; recorded: boolean } {
    const who = this.deps.who();
    const actor = this.actorOf(who);
    const key = `${actor}\u0000${study.studyInstanceUid}`;
    if (this.last?.key === key) return { seq: this.last.seq, recorded: false };
    return this.record(who, actor, key, study, null);
  }

  /**
   * Image bytes of a study are about to be served to the renderer. The viewer records the opening
   * first (viewed); if it did not — a renderer that skipped the call — the viewing is recorded here,
   * marked `via: "image request"`. No entry when the study's viewing is already recorded in this session.
   */
  imageServed(study: () => OpenedStudy | null): { seq: number; recorded: boolean } | null {
    const who = this.deps.who();
    const actor = this.actorOf(who);
    const s = study();
    if (!s) return null;
    const key = `${actor}\u0000${s.studyInstanceUid}`;
    if (this.seen.has(key)) return null;
    return this.record(who, actor, key, s, 'image request');
  }

  private record(who: Who, actor: string, key: string, study: OpenedStudy, via: string | null): { seq: number; recorded: boolean } {
    const e = this.deps.append({
      actor,
      action: 'view',
      subject: { study: study.studyInstanceUid, series: study.seriesInstanceUid },
      details: {
        ...this.base(who),
        patient: { id: study.patientId, name: study.patientName },
        study: { description: study.studyDescription, date: study.studyDate },
        signedIn: who.identity !== null,
        ...(via ? { via } : {}),
      },
    });
    this.last = { key, seq: e.seq };
    this.seen.add(key);
    return { seq: e.seq, recorded: true };
  }

  /**
   * A PACS search (QIDO-RS or C-FIND), answered or failed: who asked which PACS what, and how many
   * matches came back (ATNA Query, DCM 110112). Every search is recorded, not only the first.
   */
  queried(q: PacsQueryRecord): AuditEntry {
    const who = this.deps.who();
    return this.deps.append({
      actor: this.actorOf(who),
      action: 'pacs.query',
      subject: q.studyInstanceUid ? { study: q.studyInstanceUid } : {},
      details: {
        ...this.base(who),
        pacs: { connection: q.connection, ...(q.url ? { url: q.url } : {}), ...(q.aeTitle ? { aeTitle: q.aeTitle } : {}), ...(q.host ? { host: q.host } : {}) },
        via: q.via,
        level: q.level,
        query: q.query,
        ...(q.error ? { error: q.error } : { matches: q.matches, more: q.more }),
      },
    });
  }

  /** A sign-in (identity unlocked) or a failed one (wrong passphrase, unreadable keystore). */
  login(r: { address: string; displayName: string | null; ok: boolean; error?: string; via?: 'app' | 'cli' }): AuditEntry {
    this.last = null;
    if (r.ok) this.seen.clear();
    const who = this.deps.who();
    return this.deps.append({
      actor: r.address,
      action: r.ok ? 'login' : 'login.failed',
      subject: {},
      details: { ...this.base(who), account: { address: r.address, name: r.displayName }, ...(r.via ? { via: r.via } : {}), ...(r.ok ? {} : { error: r.error ?? 'sign-in failed' }) },
    });
  }

  /** The identity was locked (signed out). */
  logout(r: { address: string; displayName: string | null }): AuditEntry {
    this.last = null;
    this.seen.clear();
    return this.deps.append({ actor: r.address, action: 'logout', subject: {}, details: { ...this.base({ identity: null }), account: { address: r.address, name: r.displayName } } });
  }
}
