import { useMemo, useState, type DragEvent } from 'react';

/** The drag type of a series dragged from the study list (its data is the series id). */
export const SERIES_MIME = 'application/x-medimg-series';

/** A viewport as a drop target for a series from the study list; `dragOver` highlights it meanwhile. */
export function useSeriesDrop(index: number, onDropSeries: (index: number, seriesId: string) => void) {
  const [dragOver, setDragOver] = useState(false);
  const handlers = useMemo(
    () => ({
      onDragOver(e: DragEvent) {
        if (e.dataTransfer.types.includes(SERIES_MIME)) {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
          setDragOver(true);
        }
      },
      onDragLeave() {
        setDragOver(false);
      },
      onDrop(e: DragEvent) {
        const id = e.dataTransfer.getData(SERIES_MIME);
        setDragOver(false);
        if (id) {
          e.preventDefault();
          e.stopPropagation();
          onDropSeries(index, id);
        }
      },
    }),
    [index, onDropSeries],
  );
  return { dragOver, handlers };
}
