import { createPortal } from 'react-dom';
import { pacsSettingsOpen, usePacsConnections, usePacsSettingsOpen } from './connections';
import { PacsSettingsDialog } from './PacsSettingsDialog';

/** "PACS" in the status bar, next to the ledger: opens Settings → PACS (also reachable from the study browser). */
export function PacsStatusButton() {
  const open = usePacsSettingsOpen();
  const n = usePacsConnections()?.length ?? 0;
  return (
    <>
      <button type="button" className="ledger--button pacs-status" data-testid="pacs-status" onClick={() => pacsSettingsOpen.set(true)} title="PACS connections: add, edit, test">
        {n === 0 ? 'PACS: none' : `PACS: ${n} connection${n === 1 ? '' : 's'}`}
      </button>
      {/* outside the status bar: it must not inherit the bar's nowrap / overflow */}
      {open && createPortal(<PacsSettingsDialog onClose={() => pacsSettingsOpen.set(false)} />, document.body)}
    </>
  );
}
