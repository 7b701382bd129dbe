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
    p = call('library.instances', { seriesId, ...(source ? { source } : {}) });
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
