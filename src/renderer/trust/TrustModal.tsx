import type { ReactNode } from 'react';

/**
 * The frame of a gated action (export, share): the trust panel of the study on the left — score, history, sharing
 * rules — so the decision is made looking at them, and the action on the right. Closing is refused while it runs.
 */
export function TrustModal({ label, testId, title, trustPanel, onClose, busy, children }: { label: string; testId: string; title: string; trustPanel: ReactNode; onClose(): void; busy: boolean; children: ReactNode }) {
  return (
    <div className="tmodal" role="dialog" aria-modal="true" aria-label={label} data-testid={testId}>
      <div className="tmodal__body">
        <div className="tmodal__trust">{trustPanel}</div>
        <div className="tmodal__main">
          <header className="tmodal__head">
            <h2>{title}</h2>
            <button type="button" className="btn btn--link" onClick={onClose} aria-label={`Close ${label.toLowerCase()}`} disabled={busy}>
              ×
            </button>
          </header>
          {children}
        </div>
      </div>
    </div>
  );
}
