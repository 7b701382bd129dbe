import { createRef, useMemo, type RefObject } from 'react';
import { Viewport } from './Viewport';
import type { SeriesView, ViewportApi, ViewportBadges, ViewportImageLayer, ViewportStatus } from './types';

export type Layout = '1x1' | '1x2' | '2x2';
export const LAYOUT_CELLS: Record<Layout, number> = { '1x1': 1, '1x2': 2, '2x2': 4 };

interface Props {
  layout: Layout;
  series: (SeriesView | null)[];
  active: number;
  showOverlays: boolean;
  apis: RefObject<ViewportApi | null>[];
  /** Drawn over each viewport's image (the app decides what: e.g. verification badges). */
  badges?: ViewportBadges;
  imageLayer?: ViewportImageLayer;
  onActivate(i: number): void;
  onDropSeries(i: number, seriesId: string): void;
  onStatus(s: ViewportStatus): void;
}

export function useViewportApis(n = 4): RefObject<ViewportApi | null>[] {
  return useMemo(() => Array.from({ length: n }, () => createRef<ViewportApi | null>()), [n]);
}

export function ViewportArea({ layout, series, active, showOverlays, apis, badges, imageLayer, onActivate, onDropSeries, onStatus }: Props) {
  const cells = LAYOUT_CELLS[layout];
  return (
    <main className={`viewport-area viewport-area--${layout}`} aria-label="Viewport" data-layout={layout}>
      {Array.from({ length: cells }, (_, i) => (
        <Viewport
          key={i}
          index={i}
          series={series[i] ?? null}
          active={cells > 1 && i === active}
          showOverlays={showOverlays}
          shared={cells > 1}
          apiRef={apis[i]!}
          badges={badges}
          imageLayer={imageLayer}
          onActivate={onActivate}
          onDropSeries={onDropSeries}
          onStatus={onStatus}
        />
      ))}
    </main>
  );
}
