import { useEffect } from 'react';
import { pacsSettingsOpen, usePacsConnections } from './connections';
import './pacs.css';

export type StudySource = 'local' | number;

/** The study browser's source: the local library, or one of the configured PACS connections. */
export function SourceSwitch({ value, onChange }: { value: StudySource; onChange(v: StudySource): void }) {
  const connections = usePacsConnections();
  // a removed connection falls back to the local library
  useEffect(() => {
    if (value !== 'local' && connections && !connections.some((c) => c.id === value)) onChange('local');
  }, [connections, value, onChange]);
  return (
    <div className="source-switch">
      <select
        aria-label="Study source"
        data-testid="study-source"
        value={String(value)}
        onChange={(e) => onChange(e.target.value === 'local' ? 'local' : Number(e.target.value))}
        title="Where the studies come from: this workstation's library, or a PACS"
      >
        <option value="local">Local library</option>
        {connections?.map((c) => (
          <option key={c.id} value={String(c.id)}>
            PACS: {c.name}
          </option>
        ))}
      </select>
      <button type="button" className="btn btn--small" data-testid="open-pacs-settings" onClick={() => pacsSettingsOpen.set(true)} title="PACS connections (Settings → PACS)">
        PACS…
      </button>
    </div>
  );
}
