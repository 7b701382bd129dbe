import type { ReactNode } from 'react';
import type { UserError } from '../errors';

/**
 * The frame every settings dialog shares (Ledger, Storage, Storage SCP, Hanging protocols): a modal
 * card with its title and ✕. The body, the outcome and the buttons are the dialog's own.
 */
export function SettingsDialog({ title, label, testId, cardClassName, onClose, children }: {
  title: string;
  /** The dialog's accessible name (defaults to the title). */
  label?: string;
  testId: string;
  cardClassName?: string;
  onClose: () => void;
  children: ReactNode;
}) {
  return (
    <div className="modal" role="dialog" aria-modal="true" aria-label={label ?? title} data-testid={testId}>
      <div className={cardClassName ? `modal__card ${cardClassName}` : 'modal__card'}>
        <header className="modal__head">
          <h2>{title}</h2>
          <button type="button" className="btn btn--ghost" onClick={onClose} aria-label="Close">✕</button>
        </header>
        {children}
      </div>
    </div>
  );
}

/** The last action's outcome: an error with what to do, or what was done. */
export function DialogOutcome({ error, done, errorTestId, doneTestId }: {
  error: UserError | null;
  done: string | null;
  errorTestId?: string;
  doneTestId?: string;
}) {
  return (
    <>
      {error && <ErrorNotice error={error} testId={errorTestId} />}
      {done && <p className="settings__done" role="status" data-testid={doneTestId}>{done}</p>}
    </>
  );
}

/** The footer: Close, then the dialog's own buttons (its primary action last). */
export function DialogActions({ onClose, children }: { onClose: () => void; children: ReactNode }) {
  return (
    <div className="modal__actions">
      <button type="button" className="btn" onClick={onClose}>Close</button>
      {children}
    </div>
  );
}

/**
 * An error block in a dialog or panel: the message, then the hint (what to do). `hintIsValue` shows
 * the hint as a selectable value (e.g. a UID to copy) rather than as advice.
 */
export function ErrorNotice({ error, testId, hintIsValue }: { error: UserError; testId?: string; hintIsValue?: boolean }) {
  return (
    <div className="settings__error" role="alert" data-testid={testId}>
      <p>{error.message}</p>
      {error.hint && (hintIsValue ? <p className="mono" style={{ userSelect: 'all' }}>{error.hint}</p> : <p className="modal__note">{error.hint}</p>)}
    </div>
  );
}
