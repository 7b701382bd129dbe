import { useEffect, useState } from 'react';
import { pathForFile } from '../library/ImportPanel';
import { SERIES_MIME } from '../viewer/seriesDrop';

export interface DroppedFiles {
  paths: string[];
  /** Files whose path the desktop shell could not tell. */
  skipped: number;
  /** Counts drops, so the same paths dropped twice import twice. */
  seq: number;
}

/**
 * OS files dropped anywhere on the window: their paths come from the desktop shell. `dragging`
 * is true while files are held over the window (a series dragged from the study list is not files).
 */
export function useFileDrop(): { dragging: boolean; dropped: DroppedFiles | null } {
  const [dropped, setDropped] = useState<DroppedFiles | null>(null);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const isFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files') && ![...e.dataTransfer.types].includes(SERIES_MIME);
    const over = (e: DragEvent) => {
      if (!isFiles(e)) return;
      e.preventDefault();
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!isFiles(e)) return;
      e.preventDefault();
      setDragging(false);
      const files = [...(e.dataTransfer?.files ?? [])];
      const paths = files.map(pathForFile).filter((p): p is string => !!p);
      setDropped((d) => ({ paths, skipped: files.length - paths.length, seq: (d?.seq ?? 0) + 1 }));
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);

  return { dragging, dropped };
}
