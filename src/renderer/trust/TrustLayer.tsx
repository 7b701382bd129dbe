/**
 * Wires the trust UI into the viewer: the right-side trust drawer (toolbar "Trust" or key U), the
 * export and share dialogs (each shows the trust panel before anything leaves), and the audit log.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { AuditLogDialog } from './AuditLog';
import { ExportDialog, type ViewportContext } from './ExportDialog';
import { useOpenStudy, useTrustPanel } from './hooks';
import { ShareDialog } from './ShareDialog';
import { TrustPanelView } from './TrustPanel';
import './trust.css';

export type TrustDialog = 'export' | 'share' | 'audit' | null;

export interface TrustUi {
  drawer: boolean;
  dialog: TrustDialog;
  toggleDrawer(): void;
  closeDrawer(): void;
  openDialog(d: TrustDialog): void;
}

/** The trust UI's state, owned by the app shell (the toolbar's buttons drive it). */
export function useTrustUi(): TrustUi {
  const [drawer, setDrawer] = useState(false);
  const [dialog, setDialog] = useState<TrustDialog>(null);
  const toggleDrawer = useCallback(() => setDrawer((v) => !v), []);
  const closeDrawer = useCallback(() => setDrawer(false), []);
  const openDialog = useCallback((d: TrustDialog) => setDialog(d), []);
  return useMemo(() => ({ drawer, dialog, toggleDrawer, closeDrawer, openDialog }), [drawer, dialog, toggleDrawer, closeDrawer, openDialog]);
}

/** Props for the toolbar's trust group. */
export interface TrustToolbarProps {
  drawerOpen: boolean;
  hasStudy: boolean;
  onTrust(): void;
  onExport(): void;
  onShare(): void;
  onAudit(): void;
}

export function useTrustToolbar(ui: TrustUi, hasStudy: boolean): TrustToolbarProps {
  const { drawer, toggleDrawer, openDialog } = ui;
  return useMemo(
    () => ({
      drawerOpen: drawer,
      hasStudy,
      onTrust: toggleDrawer,
      onExport: () => openDialog('export'),
      onShare: () => openDialog('share'),
      onAudit: () => openDialog('audit'),
    }),
    [drawer, hasStudy, toggleDrawer, openDialog],
  );
}

interface Props {
  ui: TrustUi;
  /** The series in the active viewport (its study is the one the panel is about). */
  seriesId: number | null;
  viewport: ViewportContext;
}

export function TrustLayer({ ui, seriesId, viewport }: Props) {
  const open = useOpenStudy(seriesId);
  const { drawer, dialog, toggleDrawer, closeDrawer, openDialog } = ui;
  const active = drawer || dialog === 'export' || dialog === 'share';
  const trust = useTrustPanel(open?.study.studyInstanceUid ?? null, undefined, active);

  // U toggles the drawer; Escape closes the open dialog, else the drawer.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = !!t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
      if (e.key === 'Escape') {
        if (dialog) openDialog(null);
        else if (drawer) closeDrawer();
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'u' || e.key === 'U') {
        e.preventDefault();
        toggleDrawer();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [dialog, drawer, openDialog, closeDrawer, toggleDrawer]);

  return (
    <>
      {drawer && (
        <div className="trust-drawer" data-testid="trust-drawer">
          {open ? (
            <TrustPanelView open={open} trust={trust} onClose={closeDrawer} onExport={() => openDialog('export')} onShare={() => openDialog('share')} onAudit={() => openDialog('audit')} />
          ) : (
            <aside className="trust" aria-label="Trust panel" data-testid="trust-panel">
              <header className="trust__head">
                <h2>Trust</h2>
                <button type="button" className="btn btn--link" onClick={closeDrawer} aria-label="Close trust panel">
                  ×
                </button>
              </header>
              <div className="trust__scroll">
                <p className="trust__none">Open a series to see its patient&apos;s credit score, the study&apos;s verification, consents and sharing history.</p>
                <div className="trust__actions">
                  <button type="button" className="btn" onClick={() => openDialog('audit')}>
                    Audit log
                  </button>
                </div>
              </div>
            </aside>
          )}
        </div>
      )}
      {dialog === 'export' && open && <ExportDialog open={open} trust={trust} viewport={viewport} onClose={() => openDialog(null)} onShowAudit={() => openDialog('audit')} />}
      {dialog === 'share' && open && <ShareDialog open={open} trust={trust} onClose={() => openDialog(null)} onShowAudit={() => openDialog('audit')} />}
      {dialog === 'audit' && <AuditLogDialog onClose={() => openDialog(null)} study={open?.study.studyInstanceUid ?? null} />}
    </>
  );
}
