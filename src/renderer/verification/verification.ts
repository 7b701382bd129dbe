/**
 * Verification results as the renderer shows them. Every badge state comes from a ledger.verify*
 * call made in this window after the last change of the ledger connection: when the connection
 * state changes, an anchor is confirmed or the library changes, every result is dropped and asked
 * again — a cached "verified" is never shown for a ledger that went away.
 *
 * Images: asked for (one batch per series) only after the viewport has shown its first image, so
 * verification never delays it. Studies in the browser: one study at a time, and only while no
 * viewport is loading its first image.
 */
import { useEffect, useSyncExternalStore } from 'react';
import type { InstanceVerification, LedgerStatus, StudyVerification, VerificationState } from '../../shared/api';
import { bridge, call } from '../bridge';
import { errText } from '../errors';
import { Store } from '../store';
import { openStudyOfSeries } from '../library/studyOfSeries';

/**
 * One badge's state. `unreachable`: the ledger of this connection stopped answering at `at` (a failed
 * chain read anywhere in the main process, one 'ledger-status' event): every earlier answer is void.
 */
export type Check<T> =
  | { kind: 'checking' }
  | { kind: 'done'; value: T }
  | { kind: 'error'; message: string }
  | { kind: 'unreachable'; message: string; at: string };

interface VState {
  generation: number;
  instances: Map<string, Check<InstanceVerification>>;
  studies: Map<string, Check<StudyVerification>>;
  /** ISO time of the last failed chain read the main process reported (null: none seen). */
  failedAt: string | null;
}

export const verification = new Store<VState>({ generation: 0, instances: new Map(), studies: new Map(), failedAt: null });

/** Worst-first order (the study badge is the worst instance state). */
export const SEVERITY: Record<VerificationState, number> = { altered: 4, unreadable: 3, 'ledger-unreachable': 2, 'not-registered': 1, verified: 0 };

/** Drops every result; mounted badges ask again. */
export function invalidateAll(): void {
  verification.set((s) => ({ ...s, generation: s.generation + 1, instances: new Map(), studies: new Map() }));
}

/**
 * The ledger stopped answering: every badge (each image and study asked for in this window, and
 * those still being checked) says "ledger unreachable" in the same render; answers still in flight
 * are dropped (new generation). Badges asked for later get the main process's own answer (it knows
 * the ledger is down). When the ledger answers again, invalidateAll() re-runs every check.
 */
export function ledgerUnreachable(status: LedgerStatus): void {
  const at = status.failedAt ?? status.checkedAt ?? new Date().toISOString();
  const u = { kind: 'unreachable' as const, message: `The ledger stopped answering at ${clock(at)}, so nothing is verified until it answers again${status.message ? `: ${status.message.replace(/\.$/, '')}` : ''}.`, at };
  verification.set((s) => ({
    generation: s.generation + 1,
    failedAt: at,
    instances: new Map([...s.instances.keys()].map((k) => [k, u])),
    studies: new Map([...s.studies.keys()].map((k) => [k, u])),
  }));
}

/** Local time of day to the second, e.g. 13:42:05 (a badge's "checked at"). */
export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/**
 * Never "verified" from a check older than the last failed chain read: such an answer (it can only
 * arrive late) is shown as unreachable.
 */
function honest<T extends { state: VerificationState; checkedAt: string }>(v: T, failedAt: string | null): Check<T> {
  if (v.state === 'verified' && failedAt && Date.parse(v.checkedAt) < Date.parse(failedAt)) {
    return { kind: 'unreachable', message: `This check (${clock(v.checkedAt)}) is older than the ledger's last failure (${clock(failedAt)}); checking again.`, at: failedAt };
  }
  return { kind: 'done', value: v };
}

// ------------------------------------------------------------ instances

const inFlight = new Set<string>();

export function requestInstances(ids: string[]): void {
  const gen = verification.get().generation;
  const want = ids.filter((id) => !verification.get().instances.has(id) && !inFlight.has(`${gen}:${id}`));
  if (!want.length) return;
  for (const id of want) inFlight.add(`${gen}:${id}`);
  verification.set((s) => {
    const m = new Map(s.instances);
    for (const id of want) m.set(id, { kind: 'checking' });
    return { ...s, instances: m };
  });
  const done = () => want.forEach((id) => inFlight.delete(`${gen}:${id}`));
  call('ledger.verifyInstances', { instanceIds: want.map(Number) }).then(
    (r) => {
      done();
      if (verification.get().generation !== gen) return;
      verification.set((s) => {
        const m = new Map(s.instances);
        for (const v of r.instances) if (v.instanceId !== null) m.set(String(v.instanceId), honest(v, s.failedAt));
        for (const id of want) if (m.get(id)?.kind === 'checking') m.set(id, { kind: 'error', message: 'Not checked (no answer for this image).' });
        return { ...s, instances: m };
      });
    },
    (e) => {
      done();
      if (verification.get().generation !== gen) return;
      verification.set((s) => {
        const m = new Map(s.instances);
        for (const id of want) m.set(id, { kind: 'error', message: errText(e) });
        return { ...s, instances: m };
      });
    },
  );
}

export function useInstanceCheck(instanceId: string | null): Check<InstanceVerification> | null {
  const s = useSyncExternalStore(verification.subscribe, verification.get);
  return instanceId ? (s.instances.get(instanceId) ?? null) : null;
}

// ------------------------------------------------------------ studies

const busyViewports = new Set<number>();
const waiters: (() => void)[] = [];
/** A viewport is loading its first image (study checks wait) or not. */
export function setViewerBusy(index: number, busy: boolean): void {
  if (busy) busyViewports.add(index);
  else busyViewports.delete(index);
  if (!busyViewports.size) waiters.splice(0).forEach((w) => w());
}
function viewerIdle(): Promise<void> {
  return busyViewports.size ? new Promise((r) => waiters.push(r)) : Promise.resolve();
}

const queue: string[] = [];
let running = false;

export function requestStudy(uid: string, opts: { front?: boolean } = {}): void {
  const s = verification.get();
  if (s.studies.has(uid)) return;
  verification.set((p) => ({ ...p, studies: new Map(p.studies).set(uid, { kind: 'checking' }) }));
  if (opts.front) queue.unshift(uid);
  else queue.push(uid);
  void pump();
}

async function pump(): Promise<void> {
  if (running) return;
  running = true;
  try {
    // Let the first image of anything being opened go first.
    await new Promise((r) => setTimeout(r, 150));
    while (queue.length) {
      await viewerIdle();
      const uid = queue.shift()!;
      const gen = verification.get().generation;
      if (verification.get().studies.get(uid)?.kind !== 'checking') continue;
      let next: Check<StudyVerification>;
      try {
        next = { kind: 'done', value: await call('ledger.verifyStudy', { studyInstanceUid: uid }) };
      } catch (e) {
        next = { kind: 'error', message: errText(e) };
      }
      if (verification.get().generation !== gen) continue;
      verification.set((p) => {
        const instances = new Map(p.instances);
        // The study check also answers for each of its images (same call, same moment).
        if (next.kind === 'done') for (const v of next.value.instances) if (v.instanceId !== null && instances.has(String(v.instanceId))) instances.set(String(v.instanceId), honest(v, p.failedAt));
        return { ...p, instances, studies: new Map(p.studies).set(uid, next.kind === 'done' ? honest(next.value, p.failedAt) : next) };
      });
    }
  } finally {
    running = false;
    if (queue.length) void pump();
  }
}

export function useStudyCheck(uid: string | null, enabled = true): Check<StudyVerification> | null {
  const s = useSyncExternalStore(verification.subscribe, verification.get);
  const c = uid ? (s.studies.get(uid) ?? null) : null;
  useEffect(() => {
    if (enabled && uid && !c) requestStudy(uid);
  }, [uid, c, s.generation, enabled]);
  return c;
}

export function recheckStudy(uid: string): void {
  verification.set((p) => {
    const studies = new Map(p.studies);
    studies.delete(uid);
    return { ...p, studies, instances: new Map() , generation: p.generation + 1 };
  });
  requestStudy(uid, { front: true });
}

// ------------------------------------------------------------ invalidation

let started = false;
export function startVerification(): void {
  if (started) return;
  started = true;
  let lastState: string | null = null;
  bridge().on((e) => {
    if (e.type === 'ledger-status') {
      // Unreachable: every badge flips now (no re-ask round trip). Any other change (back, another
      // endpoint): every check runs again.
      if (e.status.state === 'unreachable' && lastState !== 'unreachable') ledgerUnreachable(e.status);
      else if (lastState !== null && lastState !== e.status.state) invalidateAll();
      lastState = e.status.state;
    } else if (e.type === 'ledger-anchor' && e.anchor.delivery === 'confirmed') {
      invalidateAll();
    } else if (e.type === 'library-changed') {
      invalidateAll();
    }
  });
  void call('ledger.status', {}).then((s) => (lastState ??= s.state), () => undefined);
}

// ------------------------------------------------------------ study of a series (viewer)

const studyOfSeriesCache = new Map<string, Promise<string | null>>();
/** The Study Instance UID of a series (library/studyOfSeries.ts, cached). */
export function studyOfSeries(seriesId: string): Promise<string | null> {
  let p = studyOfSeriesCache.get(seriesId);
  if (!p) {
    p = openStudyOfSeries(Number(seriesId)).then(
      (o) => o.study.studyInstanceUid,
      () => null,
    );
    studyOfSeriesCache.set(seriesId, p);
    void p.then((v) => v === null && studyOfSeriesCache.delete(seriesId));
  }
  return p;
}
