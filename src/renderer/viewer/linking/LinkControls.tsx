import type { LinkedViewing } from './useLinkedViewing';

interface Props {
  linked: LinkedViewing;
  /** Opens the same patient's earlier study of the same modality beside the open one. */
  onCompare(): void;
  canCompare: boolean;
}

/** The top bar's linked-viewing group: reference lines, scrolling by position, W/L, manual sync, prior comparison. */
export function LinkControls({ linked, onCompare, canCompare }: Props) {
  const { toggles, setToggle, unlinked, syncHere } = linked;
  const toggle = (name: keyof typeof toggles, label: string, icon: string, title: string) => (
    <button type="button" className={`tbtn${toggles[name] ? ' tbtn--on' : ''}`} aria-pressed={toggles[name]} aria-label={label} title={title} data-testid={`link-${name}`} onClick={() => setToggle(name, !toggles[name])}>
      {icon}
    </button>
  );
  return (
    <div className="linkbar" role="group" aria-label="Linked viewing">
      {toggle('referenceLines', 'Reference lines', '⌗', "Reference lines: the active viewport's slice drawn on the other viewports of the same frame of reference")}
      {toggle('scroll', 'Link scrolling by position', '⇅', 'Linked scrolling: the other viewports of the same frame of reference follow to the slice nearest in position')}
      {toggle('windowLevel', 'Link window/level', '◐⇄', 'Linked W/L: the window is copied to the other viewports of the same modality')}
      {unlinked.length > 0 && (
        <button
          type="button"
          className="tbtn tbtn--text linkbar__sync linkbar__sync--pending"
          data-testid="link-sync-here"
          aria-label="Sync here"
          title={`Viewport ${unlinked.map((i) => i + 1).join(', ')} has another frame of reference: scroll each to the same anatomy, then link them at these slices`}
          onClick={syncHere}
        >
          Sync here
        </button>
      )}
      <button type="button" className="tbtn tbtn--text" data-testid="compare-prior" aria-label="Compare with prior" title="Open the same patient's earlier study of the same modality beside this one" disabled={!canCompare} onClick={onCompare}>
        Prior
      </button>
    </div>
  );
}
