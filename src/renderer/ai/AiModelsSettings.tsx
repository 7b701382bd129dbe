import { useCallback, useEffect, useState } from 'react';
import { AI_NOT_FOR_DIAGNOSTIC_USE, type AiModel } from '../../shared/api';
import { call } from '../bridge';
import { errorText, type UserError } from '../errors';
import { HOW_TO_ADD, modelsChanged, useAiModels, useOpenAiModelsSettings } from './useAiModels';
import './ai.css';

/**
 * Settings → AI models: the models the clinic installed (name, version, intended use, modalities,
 * licence, "not for diagnostic use"), add one from a folder (model.onnx + card.json; the card is
 * validated and the model loaded once to check its shapes — a mismatch names the field or shape),
 * remove one (its results stay and are reported stale).
 */
export function AiModelsSettings({ onClose }: { onClose(): void }) {
  const { models, error: listError } = useAiModels();
  const [folder, setFolder] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UserError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const add = async (path: string) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const r = await call('ai.models.add', { folder: path });
      setDone(`${r.alreadyInstalled ? 'Already installed' : 'Installed'}: ${r.model.name} ${r.model.version}.`);
      setFolder('');
      modelsChanged();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const pick = async () => {
    const r = await call('app.pickPaths', { mode: 'folder' }).catch(() => ({ paths: [] as string[] }));
    if (r.paths[0]) {
      setFolder(r.paths[0]);
      await add(r.paths[0]);
    }
  };
  const remove = async (m: AiModel) => {
    setError(null);
    setDone(null);
    try {
      await call('ai.models.remove', { id: m.id });
      setDone(`Removed ${m.name} ${m.version}. Its results are kept and now shown as stale.`);
      modelsChanged();
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <div className="modal" role="dialog" aria-modal="true" aria-label="AI models" data-testid="ai-models-settings">
      <div className="modal__card ai-models__card">
        <header className="modal__head">
          <h2>AI models</h2>
          <button type="button" className="btn btn--ghost" onClick={onClose} aria-label="Close">✕</button>
        </header>
        <p className="modal__note">
          MedImgShr ships no model. A clinic installs the model it has validated, as a folder with model.onnx and its model card
          (card.json). Every finding is shown as “{AI_NOT_FOR_DIAGNOSTIC_USE}” and is bound to the image and the model that produced it.
        </p>
        {listError && <p className="ai__error" role="alert">{listError}</p>}
        {models && models.length === 0 && (
          <p className="ai__empty" data-testid="ai-models-empty">No AI model is installed.</p>
        )}
        <ul className="ai-models" data-testid="ai-models">
          {models?.map((m) => (
            <li key={m.id} className="ai-model" data-testid="ai-model" data-model-id={m.id}>
              <div className="ai-model__head">
                <strong>{m.name}</strong> <span className="ai-model__version">{m.version}</span>
                <span className="ai-disclaimer ai-disclaimer--small">Not for diagnostic use</span>
                <button type="button" className="btn btn--small ai-model__remove" aria-label={`Remove ${m.name} ${m.version}`} onClick={() => void remove(m)}>
                  Remove
                </button>
              </div>
              <dl className="ai-model__facts">
                <dt>Intended use</dt>
                <dd>{m.intendedUse}</dd>
                <dt>Accepts</dt>
                <dd>
                  {m.modalities.join(', ')}
                  {m.bodyParts.length ? ` · ${m.bodyParts.join(', ')}` : ''}
                  {m.viewPositions.length ? ` · ${m.viewPositions.join(', ')}` : ''}
                </dd>
                <dt>Findings</dt>
                <dd>{m.labels.map((l) => `${l.name} (threshold ${Math.round(l.threshold * 1000) / 10} %)`).join(', ')}{m.heatMap ? ' · heat map' : ''}</dd>
                <dt>Licence</dt>
                <dd>{m.licence}</dd>
                <dt>SHA-256</dt>
                <dd className="mono" title={`model ${m.modelSha256}\ncard ${m.cardSha256}`}>model {m.modelSha256.slice(0, 16)}… · card {m.cardSha256.slice(0, 16)}…</dd>
              </dl>
            </li>
          ))}
        </ul>
        <div className="ai-models__add">
          <label htmlFor="ai-model-folder">Add a model from a folder</label>
          <div className="ai-models__row">
            <input
              id="ai-model-folder"
              className="mono"
              placeholder="/path/to/model-folder (model.onnx + card.json)"
              value={folder}
              onChange={(e) => setFolder(e.target.value)}
              spellCheck={false}
            />
            <button type="button" className="btn" onClick={() => void pick()} disabled={busy}>Choose folder…</button>
            <button type="button" className="btn btn--primary" onClick={() => void add(folder.trim())} disabled={busy || !folder.trim()}>
              {busy ? 'Checking…' : 'Add'}
            </button>
          </div>
          <small className="modal__note">The card is validated and the model is loaded once to check its inputs and outputs against the card. Command line: medimgshr model add &lt;folder&gt;.</small>
        </div>
        {error && (
          <div className="ai__error" role="alert" data-testid="ai-models-error">
            <p>{error.message}</p>
            {error.hint && <p className="ai__hint">{error.hint}</p>}
          </div>
        )}
        {done && <p className="ai__done" role="status" data-testid="ai-models-done">{done}</p>}
      </div>
    </div>
  );
}

/** The status bar's "AI models" entry: how many are installed; opens the settings. */
export function AiModelsStatusButton() {
  const { models } = useAiModels();
  const [open, setOpen] = useState(false);
  useOpenAiModelsSettings(useCallback(() => setOpen(true), []));
  const n = models?.length ?? 0;
  return (
    <>
      <button
        type="button"
        className="ledger--button ai-models-status"
        data-testid="ai-models-status"
        title={n ? 'AI models installed (Settings → AI models)' : `No AI model is installed. ${HOW_TO_ADD}`}
        onClick={() => setOpen(true)}
      >
        {models === null ? 'AI models…' : n ? `AI models: ${n}` : 'AI models: none'}
      </button>
      {open && <AiModelsSettings onClose={() => setOpen(false)} />}
    </>
  );
}
