/** "Save key images (KOS)": the document title (DICOM CID 7010) and an optional note, then the result in words. */
import { useState } from 'react';
import { KOS_TITLES, type KosSaveResult, type KosTitleCode } from '../../shared/api';
import { BridgeError } from '../bridge';

interface Props {
  count: number;
  save(title: KosTitleCode, description: string): Promise<KosSaveResult>;
  onClose(): void;
}

export function SaveKosDialog({ count, save, onClose }: Props) {
  const [title, setTitle] = useState<KosTitleCode>('113000');
  const [description, setDescription] = useState('');
  const [state, setState] = useState<{ kind: 'idle' } | { kind: 'saving' } | { kind: 'done'; r: KosSaveResult } | { kind: 'error'; message: string; hint?: string }>({ kind: 'idle' });

  async function onSave() {
    setState({ kind: 'saving' });
    try {
      setState({ kind: 'done', r: await save(title, description) });
    } catch (e) {
      setState(e instanceof BridgeError ? { kind: 'error', message: e.error.message, hint: e.error.hint } : { kind: 'error', message: String(e) });
    }
  }

  return (
    <div className="modal" role="dialog" aria-modal="true" aria-label="Save key images (KOS)" data-testid="save-kos-dialog" onClick={onClose}>
      <div className="modal__body kosdlg" onClick={(e) => e.stopPropagation()}>
        <header className="modal__head">
          <h2>Save key images</h2>
          <button type="button" className="btn btn--link" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        <p className="kosdlg__lead">
          {count} key image{count === 1 ? '' : 's'} of this study, saved as a DICOM Key Object Selection document: a new series of the study that other viewers and PACS show as key images.
        </p>
        <label className="kosdlg__field">
          Title
          <select value={title} onChange={(e) => setTitle(e.target.value as KosTitleCode)} aria-label="Document title" disabled={state.kind === 'saving'}>
            {KOS_TITLES.map((t) => (
              <option key={t.code} value={t.code}>
                {t.meaning}
              </option>
            ))}
          </select>
        </label>
        <label className="kosdlg__field">
          Note (optional)
          <input type="text" maxLength={1024} value={description} onChange={(e) => setDescription(e.target.value)} aria-label="Note" placeholder="e.g. for the tumour board" disabled={state.kind === 'saving'} />
        </label>
        {state.kind === 'done' && (
          <p className="kosdlg__ok" role="status" data-testid="save-kos-result">
            {state.r.unchanged
              ? `Already saved: “${state.r.document.title.meaning}” names these ${state.r.document.referenced} image(s); nothing new was written.`
              : `Saved “${state.r.document.title.meaning}” with ${state.r.document.referenced} key image(s). It is listed in the study as a KO series.`}
          </p>
        )}
        {state.kind === 'error' && (
          <p className="kosdlg__error" role="alert">
            {state.message}
            {state.hint ? ` ${state.hint}` : ''}
          </p>
        )}
        <div className="kosdlg__actions">
          <button type="button" className="btn" onClick={onClose}>
            {state.kind === 'done' ? 'Close' : 'Cancel'}
          </button>
          {state.kind !== 'done' && (
            <button type="button" className="btn btn--primary" data-testid="save-kos-confirm" onClick={() => void onSave()} disabled={state.kind === 'saving'}>
              {state.kind === 'saving' ? 'Saving…' : 'Save KOS'}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
