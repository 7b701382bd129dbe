import type { ReactNode } from 'react';
import type { MeasurementView } from './types';

export function MeasurementPanel({ items, onDelete, onClose, footer }: { items: MeasurementView[]; onDelete(uuid: string): void; onClose(): void; footer?: ReactNode }) {
  return (
    <aside className="side" aria-label="Measurements" data-testid="measurement-panel">
      <header className="side__head">
        <h2>Measurements on this image</h2>
        <button type="button" className="btn btn--link" onClick={onClose} aria-label="Close measurements">
          ×
        </button>
      </header>
      <div className="side__scroll">
        {items.length === 0 && <p className="side__none">None. Pick a tool (L, A, R, E, B) and draw on the image.</p>}
        <ul className="meas">
          {items.map((m) => (
            <li key={m.uuid} className="meas__row" data-testid="measurement-row" data-tool={m.tool} data-uuid={m.uuid}>
              <span className="meas__text">{m.text}</span>
              <button type="button" className="btn btn--remove" aria-label={`Delete ${m.text}`} onClick={() => onDelete(m.uuid)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      </div>
      {footer}
    </aside>
  );
}
