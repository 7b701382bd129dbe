import { useCallback, useEffect, useState } from 'react';
import type { AiModel } from '../../shared/api';
import { call } from '../bridge';

/** Installed models change only from the settings dialog: it tells the AI button and panel. */
const changes = new EventTarget();
export function modelsChanged(): void {
  changes.dispatchEvent(new Event('change'));
}

/** The installed models (null while loading). */
export function useAiModels(): { models: AiModel[] | null; error: string | null; reload(): void } {
  const [models, setModels] = useState<AiModel[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    call('ai.models.list', {}).then(
      (r) => {
        setModels(r.models);
        setError(null);
      },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
  }, []);
  useEffect(() => {
    reload();
    changes.addEventListener('change', reload);
    return () => changes.removeEventListener('change', reload);
  }, [reload]);
  return { models, error, reload };
}

/** How a clinic adds a model, in the words the panel, the button and the CLI use. */
export const HOW_TO_ADD = 'Add one in Settings → AI models (status bar), or on the command line: medimgshr model add <folder> (a folder with model.onnx and card.json; see docs/ai.md).';

/** Opens the AI models settings from anywhere (the panel's empty state, the status bar). */
const openers = new EventTarget();
export function openAiModelsSettings(): void {
  openers.dispatchEvent(new Event('open'));
}
export function useOpenAiModelsSettings(open: () => void): void {
  useEffect(() => {
    openers.addEventListener('open', open);
    return () => openers.removeEventListener('open', open);
  }, [open]);
}
