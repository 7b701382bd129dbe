/**
 * A series' instance list (`library.instances`), asked once however many parts of the window want it.
 * Opening a series used to send the same request four times at once (the viewport's stack, the
 * verification badge's study, the trust drawer's study, the MPR button's volume check): for a
 * 2,000-image series each answer is ≈ 1.4 MB the main process builds and sends while the first
 * image's file waits behind it. Forgotten whenever the index changes (seriesViews.forgetSeriesViews)
 * and after a short while, so a re-import or a growing series is read again.
 */
import type { InstanceSummary, SeriesSummary } from '../../shared/api';
import { call } from '../bridge';

export interface InstanceList {
  series: SeriesSummary;
  instances: InstanceSummary[];
}

const lists = new Map<string, Promise<InstanceList>>();
/** How long an answer stands in for a new request (the index may change without an event, e.g. the CLI). */
const KEEP_MS = 30_000;

const key = (seriesId: number, source?: string | null) => `${seriesId}|${source ?? ''}`;

export function instanceList(seriesId: number, source?: string | null): Promise<InstanceList> {
  const k = key(seriesId, source);
  let p = lists.get(k);
  if (!p) {
    // Asked after the first image of a series being opened is on screen: the viewport's stack comes
    // from the lean list (library.stack); this answer would stand before the first image's file.
    p = firstImagesShown().then(() => call('library.instances', { seriesId, ...(source ? { source } : {}) }));
    lists.set(k, p);
    const mine = p;
    const drop = () => {
      if (lists.get(k) === mine) lists.delete(k);
    };
    p.then(() => setTimeout(drop, KEEP_MS), drop);
  }
  return p;
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
