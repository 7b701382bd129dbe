import type { ViewportStatus } from './types';

/**
 * How often a lone viewport tells the app its position while the reader scrolls. Each report
 * re-renders the whole app (toolbar, browser, panels, badges): per frame it was ≈ a tenth of a
 * scroll step's main-thread time in the profile, for panels that only need the image the scroll
 * stops on.
 */
export const SCROLL_REPORT_MS = 120;

/** True when two reports differ only in which image of the same stack is shown (a scroll step). */
export function onlyPositionMoved(a: ViewportStatus, b: ViewportStatus): boolean {
  return (
    a.index === b.index &&
    a.count === b.count &&
    a.modality === b.modality &&
    a.cinePlaying === b.cinePlaying &&
    a.fps === b.fps &&
    (a.imageId === null) === (b.imageId === null) &&
    a.position !== b.position
  );
}

/**
 * When to send a viewport's report: in the next frame ('frame'), or held back to at most one every
 * SCROLL_REPORT_MS ('later') — only for a scroll step of a viewport no other follows
 * (`everyFrame` false: a 1×1 layout), shortly after the last report.
 */
export function reportTiming(last: ViewportStatus | null, next: ViewportStatus, msSinceLast: number, everyFrame: boolean): 'frame' | 'later' {
  return !everyFrame && last !== null && onlyPositionMoved(last, next) && msSinceLast < SCROLL_REPORT_MS ? 'later' : 'frame';
}
