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
import type { InstanceVerification, StudyVerification, VerificationState } from '../../shared/api';
import { bridge, call } from '../bridge';
import { errText } from '../errors';
import { Store } from '../store';
import { openStudyOfSeries } from '../library/studyOfSeries';

export type Check<T> = { kind: 'checking' } | { kind: 'done'; value: T } | { kind: 'error'; message: string };

interface VState {
  generation: number;
  instances: Map<string, Check<InstanceVerification>>;
  studies: Map<string, Check<StudyVerification>>;
}

export const verification = new Store<VState>({ generation: 0, instances: new Map(), studies: new Map() });

/** Worst-first order (the study badge is the worst instance state). */
export const SEVERITY: Record<VerificationState, number> = { altered: 4, unreadable: 3, 'ledger-unreachable': 2, 'not-registered': 1, verified: 0 };

/** Drops every result; mounted badges ask again. */
export function invalidateAll(): void {
  verification.set((s) => ({ generation: s.generation + 1, instances: new Map(), studies: new Map() }));
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
        for (const v of r.instances) if (v.instanceId !== null) m.set(String(v.instanceId), { kind: 'done', value: v });
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
        if (next.kind === 'done') for (const v of next.value.instances) if (v.instanceId !== null && instances.has(String(v.instanceId))) instances.set(String(v.instanceId), { kind: 'done', value: v });
        return { ...p, instances, studies: new Map(p.studies).set(uid, next) };
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
      if (lastState !== null && lastState !== e.status.state) invalidateAll();
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
