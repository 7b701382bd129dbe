/**
 * The viewer toolbar's "MPR" button: enabled only when the active series forms a volume; its title
 * says why not otherwise (e.g. "gap of 5.0 mm between slices 12 and 13").
 */
import { useEffect, useState } from 'react';
import { seriesVolume } from './volumeGeometry';
import { preloadMprView } from './LazyMprView';

interface Props {
  seriesId: number | null;
  open: boolean;
  onToggle(): void;
}

export function MprButton({ seriesId, open, onToggle }: Props) {
  const [why, setWhy] = useState<string | null>('Open a series first');
  useEffect(() => {
    if (seriesId === null) {
      setWhy('Open a series first');
      return;
    }
    let live = true;
    setWhy('Checking whether the series forms a volume…');
    seriesVolume(seriesId).then(
      (v) => {
        if (!live) return;
        setWhy(v.decision.ok ? null : `This series cannot be reformatted: ${v.decision.reason}`);
        // A series that forms a volume is shown: the MPR's code and renderer are made ready while idle.
        if (v.decision.ok) preloadMprView({ rows: v.decision.rows, columns: v.decision.columns, slices: v.decision.keys.length, spacing: v.decision.spacing });
      },
      () => live && setWhy('The series could not be read from the library'),
    );
    return () => {
      live = false;
    };
  }, [seriesId]);
  const enabled = open || why === null;
  return (
    <div className="toolbar__group" role="group" aria-label="Reformat">
      <button
        type="button"
        className={`tbtn tbtn--text tbtn--mpr${open ? ' tbtn--on' : ''}`}
        aria-pressed={open}
        aria-label="MPR"
        disabled={!enabled}
        title={open ? 'Back to the stack view (Esc)' : (why ?? 'Multiplanar reformats: axial, sagittal, coronal (oblique with the crosshairs), slab MIP / MinIP / average')}
        onClick={onToggle}
        data-testid="mpr-button"
      >
        MPR
      </button>
    </div>
  );
}
