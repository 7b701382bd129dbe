import { useEffect, useRef, useState } from 'react';
import type { LinkedViewing } from './useLinkedViewing';

interface Props {
  linked: LinkedViewing;
  /** Opens the same patient's earlier study of the same modality beside the open one. */
  onCompare(): void;
  canCompare: boolean;
}

const ITEMS: { name: 'referenceLines' | 'scroll' | 'windowLevel'; label: string; title: string }[] = [
  { name: 'referenceLines', label: 'Reference lines', title: "The active viewport's slice drawn on the other viewports of the same frame of reference" },
  { name: 'scroll', label: 'Link scrolling by position', title: 'The other viewports of the same frame of reference follow to the slice nearest in position (not the same number)' },
  { name: 'windowLevel', label: 'Link window/level', title: "The active viewport's window copied to the other viewports of the same modality" },
];

/**
 * The top bar's linked-viewing menu (one button, so the tool bar keeps its room at 1280 px): reference lines,
 * scrolling by position, W/L, manual sync between frames of reference, prior comparison.
 */
export function LinkControls({ linked, onCompare, canCompare }: Props) {
  const { toggles, setToggle, unlinked, syncHere } = linked;
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const away = (e: MouseEvent) => ref.current && !ref.current.contains(e.target as Node) && setOpen(false);
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    window.addEventListener('mousedown', away);
    window.addEventListener('keydown', esc);
    return () => {
      window.removeEventListener('mousedown', away);
      window.removeEventListener('keydown', esc);
    };
  }, [open]);
  const on = ITEMS.filter((i) => toggles[i.name]).map((i) => i.label.toLowerCase());
  return (
    <div className="linkbar" ref={ref}>
      <button
        type="button"
        className={`tbtn tbtn--text${open ? ' tbtn--on' : ''}`}
        data-testid="link-menu"
        aria-haspopup="true"
        aria-expanded={open}
        aria-label="Linked viewing"
        title={`Linked viewing: ${on.join(', ') || 'all off'}`}
        onClick={() => setOpen((o) => !o)}
      >
        Link{unlinked.length > 0 ? ' •' : ''} ▾
      </button>
      {open && (
        <div className="linkbar__menu" role="group" aria-label="Linked viewing">
          {ITEMS.map((i) => (
            <label key={i.name} className="linkbar__item" title={i.title}>
              <input type="checkbox" data-testid={`link-${i.name}`} checked={toggles[i.name]} onChange={(e) => setToggle(i.name, e.target.checked)} />
              {i.label}
            </label>
          ))}
          <button
            type="button"
            className="btn linkbar__sync"
            data-testid="link-sync-here"
            disabled={unlinked.length === 0}
            title={unlinked.length > 0 ? `Viewport ${unlinked.map((i) => i + 1).join(', ')} has another frame of reference: scroll each to the same anatomy, then link them at these slices` : 'Every viewport on screen shares the active one’s frame of reference (or has another orientation)'}
            onClick={syncHere}
          >
            Sync here{unlinked.length > 0 ? ` (viewport ${unlinked.map((i) => i + 1).join(', ')})` : ''}
          </button>
          <button
            type="button"
            className="btn"
            data-testid="compare-prior"
            disabled={!canCompare}
            title="Open the same patient's earlier study of the same modality beside this one"
            onClick={() => {
              setOpen(false);
              onCompare();
            }}
          >
            Compare with prior
          </button>
        </div>
      )}
    </div>
  );
}
