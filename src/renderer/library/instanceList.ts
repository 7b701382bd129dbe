/**
 * A series' instance list (`library.instances`), asked once however many parts of the window want it.
 * Opening a series used to send the same request four times at once (the viewport's stack, the
 * verification badge's study, the trust drawer's study, the MPR button's volume check): for a
 * 2,000-image series each answer is ≈ 1.4 MB the main process builds and sends while the first
 * image's file waits behind it. Forgotten whenever the index changes (seriesViews.forgetSeriesViews)
 * and, once no viewport shows the series (holdInstanceList), after a short while, so a re-import or
 * a growing series is read again.
 */
import type { InstanceSummary, SeriesSummary } from '../../shared/api';
import { call } from '../bridge';

export interface InstanceList {
  series: SeriesSummary;
  instances: InstanceSummary[];
}

interface Entry {
  p: Promise<InstanceList>;
  /** KEEP_MS have passed since the answer came: dropped as soon as no one holds it. */
  stale: boolean;
}
const lists = new Map<string, Entry>();
/** How long an answer stands in for a new request once no viewport shows its series (the index may change without an event, e.g. the CLI). */
const KEEP_MS = 30_000;
/**
 * Series shown right now (a viewport's, or the MPR's), by key: their lists are kept however long
 * they are shown (an MPR click a minute after the series was opened read the index again, ≈ 1 s
 * for 300 images). Bounded by what is on screen: one list per viewport (four at most), each
 * ≈ 0.7 kB per instance (1.4 MB for 2,000 images); the index changing still drops them.
 */
const holds = new Map<string, number>();

const key = (seriesId: number, source?: string | null) => `${seriesId}|${source ?? ''}`;

/** Drops the entry KEEP_MS from now unless its series is shown then. */
function expireLater(k: string, e: Entry): void {
  setTimeout(() => {
    e.stale = true;
    if (!holds.get(k) && lists.get(k) === e) lists.delete(k);
  }, KEEP_MS);
}

export function instanceList(seriesId: number, source?: string | null): Promise<InstanceList> {
  const k = key(seriesId, source);
  let e = lists.get(k);
  if (!e) {
    // Asked after the first image of a series being opened is on screen: the viewport's stack comes
    // from the lean list (library.stack); this answer would stand before the first image's file.
    const entry: Entry = { p: firstImagesShown().then(() => call('library.instances', { seriesId, ...(source ? { source } : {}) })), stale: false };
    e = entry;
    lists.set(k, entry);
    entry.p.then(
      () => expireLater(k, entry),
      () => {
        if (lists.get(k) === entry) lists.delete(k);
      },
    );
  }
  return e.p;
}

/**
 * The series is shown (until the returned release is called): its list, once asked for, is kept
 * while it is shown and for KEEP_MS after, instead of KEEP_MS after the answer.
 */
export function holdInstanceList(seriesId: number, source?: string | null): () => void {
  const k = key(seriesId, source);
  holds.set(k, (holds.get(k) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const n = (holds.get(k) ?? 1) - 1;
    if (n > 0) {
      holds.set(k, n);
      return;
    }
    holds.delete(k);
    const e = lists.get(k);
    if (e?.stale) expireLater(k, e);
  };
}

/** Asks again next time (the series changed, or every series: `undefined`). */
export function forgetInstanceList(seriesId?: number, source?: string | null): void {
  if (seriesId === undefined) lists.clear();
  else lists.delete(key(seriesId, source));
}

// ------------------------------------------------------------ first images go first

/** Viewports whose newly opened series has no image on screen yet. */
const opening = new Set<number>();
let waiting: (() => void)[] = [];
/** Longest a full list waits for a first image (one that fails or never comes does not hold it up). */
const WAIT_MS = 3_000;

/** Viewport `index` is opening a series (its first image is loading): full lists wait until it is drawn. */
export function firstImagePending(index: number): void {
  opening.add(index);
}

/** Viewport `index` has drawn its series' first image (or said why it cannot). */
export function firstImageDone(index: number): void {
  if (!opening.delete(index) || opening.size) return;
  const w = waiting;
  waiting = [];
  for (const r of w) r();
}

function firstImagesShown(): Promise<void> {
  if (!opening.size) return Promise.resolve();
  return new Promise((resolve) => {
    waiting.push(resolve);
    setTimeout(resolve, WAIT_MS);
  });
}
