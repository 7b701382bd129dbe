import { useCallback, useEffect, useState } from 'react';
import { AI_NOT_FOR_DIAGNOSTIC_USE, type AiResult, type AiRunReport } from '../../shared/api';
import { call } from '../bridge';
import { errText, errorText, type UserError } from '../errors';
import { ProgressBar, useTaskProgress } from '../shell/useTask';
import { HOW_TO_ADD, openAiModelsSettings, useAiModels } from './useAiModels';
import './ai.css';

const pct = (p: number) => `${(p * 100).toFixed(1)} %`;

export interface FindingsPanelProps {
  /** The image on screen (library instance id), null when none. */
  instanceId: string | null;
  /** The heat map shown over the image (null: none). */
  heatmapResultId: number | null;
  onHeatmap(result: AiResult | null): void;
  onClose(): void;
}

/**
 * The findings panel: run the installed model(s) on the displayed image or the whole study (with
 * progress and cancel), then per label its probability against the card's threshold, images the
 * model did not accept with the reason, stale results with why. "AI — not for diagnostic use" is
 * always visible. No model installed: it says so and how to add one — never a made-up result.
 */
export function FindingsPanel({ instanceId, heatmapResultId, onHeatmap, onClose }: FindingsPanelProps) {
  const { models } = useAiModels();
  const [results, setResults] = useState<AiResult[] | null>(null);
  const [run, setRun] = useState<{ scope: 'image' | 'study'; report: AiRunReport } | null>(null);
  const [running, setRunning] = useState<'image' | 'study' | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [anchor, setAnchor] = useState<{ busy: boolean; message: string | null; ok: boolean }>({ busy: false, message: null, ok: false });
  const { progress, cancel } = useTaskProgress('ai', running !== null);
  const id = instanceId ? Number(instanceId) : null;

  const load = useCallback(async () => {
    if (id === null) return setResults(null);
    try {
      const r = await call('ai.findings', { scope: { instanceId: id } });
      setResults(r.results);
    } catch (e) {
      setError(errorText(e));
    }
  }, [id]);
  useEffect(() => {
    setResults(null);
    void load();
  }, [load, models]);

  const start = async (scope: 'image' | 'study') => {
    setError(null);
    setRunning(scope);
    try {
      const report = await call('ai.run', { scope: scope === 'image' ? { instanceId: id! } : { studyOfInstanceId: id! } });
      setRun({ scope, report });
      await load();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setRunning(null);
    }
  };

  const anchorFindings = async () => {
    setAnchor({ busy: true, message: null, ok: false });
    try {
      const r = await call('ai.anchor', { scope: { studyOfInstanceId: id! } });
      setAnchor({ busy: false, message: r.message, ok: r.delivery === 'confirmed' });
    } catch (e) {
      setAnchor({ busy: false, message: errText(e), ok: false });
    }
  };

  // A heat map shown for a result that is no longer on screen, or is stale (the pixels under it changed), is taken down.
  useEffect(() => {
    if (heatmapResultId !== null && results && !results.some((r) => r.id === heatmapResultId && r.freshness.state === 'current')) onHeatmap(null);
  }, [results, heatmapResultId, onHeatmap]);

  const none = models !== null && models.length === 0;
  return (
    <aside className="side ai-panel" aria-label="AI findings" data-testid="ai-panel" data-models={models?.length ?? ''}>
      <header className="side__head">
        <h2>AI findings</h2>
        <button type="button" className="btn btn--link" onClick={onClose} aria-label="Close AI findings">
          ×
        </button>
      </header>
      <p className="ai-disclaimer" data-testid="ai-disclaimer">{AI_NOT_FOR_DIAGNOSTIC_USE}</p>
      <div className="side__scroll ai-panel__scroll">
        {none && (
          <div className="ai-empty" data-testid="ai-no-model">
            <p><strong>No AI model is installed.</strong></p>
            <p>MedImgShr ships no model and never shows a finding without one. {HOW_TO_ADD}</p>
            <button type="button" className="btn" onClick={openAiModelsSettings}>Open Settings → AI models</button>
          </div>
        )}
        {!none && models && (
          <>
            <p className="ai-panel__models">
              {models.map((m) => `${m.name} ${m.version}`).join(', ')}
            </p>
            <div className="ai-panel__actions">
              <button type="button" className="btn btn--primary" data-testid="ai-run-image" disabled={running !== null || id === null} onClick={() => void start('image')}>
                Run on this image
              </button>
              <button type="button" className="btn" data-testid="ai-run-study" disabled={running !== null || id === null} onClick={() => void start('study')}>
                Run on the whole study
              </button>
              <button type="button" className="btn btn--link" data-testid="ai-recheck" disabled={running !== null || id === null} onClick={() => void load()} title="Check again whether the image or the model changed">
                Check again
              </button>
            </div>
            {running && (
              <div className="ai-panel__progress" data-testid="ai-progress">
                <ProgressBar progress={progress} label={running === 'image' ? 'Running the model on this image' : 'Running the model on the study'} />
                <button type="button" className="btn btn--small" data-testid="ai-cancel" onClick={cancel}>
                  Cancel
                </button>
              </div>
            )}
          </>
        )}
        {error && (
          <div className="ai__error" role="alert" data-testid="ai-error">
            <p>{error.message}</p>
            {error.hint && <p className="ai__hint">{error.hint}</p>}
          </div>
        )}
        {!none && id === null && <p className="side__none">Open an image to see or run its AI findings.</p>}
        {!none && id !== null && results && results.length === 0 && !running && (
          <p className="side__none" data-testid="ai-no-results">No AI result for this image yet. Run the model on it.</p>
        )}
        {results?.map((r) => (
          <ResultCard key={r.id} r={r} heatmapOn={heatmapResultId === r.id} onHeatmap={onHeatmap} />
        ))}
        {run && <RunSummary scope={run.scope} report={run.report} />}
        {results && results.some((r) => r.freshness.state === 'current') && (
          <div className="ai-anchor">
            <button type="button" className="btn btn--small" data-testid="ai-anchor" disabled={anchor.busy || running !== null} onClick={() => void anchorFindings()}
              title="Record one Merkle root of this study's current AI results on the ledger, beside the study's record (clinicians; no personal data on chain)">
              {anchor.busy ? 'Anchoring…' : 'Anchor the study\'s findings'}
            </button>
            {anchor.message && (
              <p className={anchor.ok ? 'ai__done' : 'ai__error'} data-testid="ai-anchor-message" role="status">
                {anchor.message}
              </p>
            )}
          </div>
        )}
      </div>
    </aside>
  );
}

function ResultCard({ r, heatmapOn, onHeatmap }: { r: AiResult; heatmapOn: boolean; onHeatmap(r: AiResult | null): void }) {
  const stale = r.freshness.state === 'stale';
  return (
    <section className={`ai-result${stale ? ' ai-result--stale' : ''}`} data-testid="ai-result" data-state={r.freshness.state} data-model={r.model.name}>
      <header className="ai-result__head">
        <span>
          {r.model.name} <span className="ai-model__version">{r.model.version}</span>
        </span>
        <span className={`ai-state ai-state--${r.freshness.state}`} data-testid="ai-result-state">
          {stale ? 'Stale' : 'Current'}
        </span>
      </header>
      {r.freshness.state === 'stale' && (
        <ul className="ai-stale" data-testid="ai-stale-reasons">
          {r.freshness.reasons.map((why) => (
            <li key={why}>{why}</li>
          ))}
          <li className="ai-stale__do">Run the model again to get a current result.</li>
        </ul>
      )}
      <table className="ai-findings">
        <thead>
          <tr>
            <th>Finding</th>
            <th>Probability</th>
            <th>Threshold</th>
            <th>Result</th>
          </tr>
        </thead>
        <tbody>
          {r.findings.map((f) => (
            <tr key={f.label} data-testid="ai-finding" data-label={f.label} data-probability={f.probability} data-threshold={f.threshold} data-present={String(f.present)}>
              <td>{f.label}</td>
              <td className="num">{pct(f.probability)}</td>
              <td className="num">{pct(f.threshold)}</td>
              <td className={f.present ? 'ai-pos' : 'ai-neg'}>{f.present ? 'positive' : 'negative'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {r.heatMap && (
        <label className="ai-result__heat">
          <input type="checkbox" data-testid="ai-heatmap-toggle" checked={heatmapOn} disabled={stale} onChange={(e) => onHeatmap(e.target.checked ? r : null)} />
          Show heat map{r.heatMap.label ? ` (${r.heatMap.label})` : ''}
        </label>
      )}
      <p className="ai-result__prov" title={`record SHA-256 ${r.recordSha256}\nmodel SHA-256 ${r.model.modelSha256}\ncard SHA-256 ${r.model.cardSha256}\npixel digest ${r.pixelSha256}`}>
        {new Date(r.createdAt).toLocaleString()} · pixels {r.pixelSha256.slice(0, 10)}… · model {r.model.modelSha256.slice(0, 10)}… · {r.preprocessing}
      </p>
    </section>
  );
}

function RunSummary({ scope, report }: { scope: 'image' | 'study'; report: AiRunReport }) {
  return (
    <section className="ai-run" data-testid="ai-run-summary" data-cancelled={String(report.cancelled)}>
      <h3>
        Last run ({scope === 'image' ? 'this image' : 'whole study'}): {report.results.length} result(s), {report.skipped.length} skipped, {report.failed.length} failed
        {report.cancelled ? ' — cancelled' : ''}
      </h3>
      {report.skipped.length > 0 && (
        <ul className="ai-run__list" data-testid="ai-skipped">
          {report.skipped.map((s, i) => (
            <li key={i} data-testid="ai-skipped-item">
              Image {s.instanceId ?? s.sopInstanceUid ?? '?'} skipped: {s.reason}
            </li>
          ))}
        </ul>
      )}
      {report.failed.length > 0 && (
        <ul className="ai-run__list ai-run__list--failed" data-testid="ai-failed">
          {report.failed.map((f, i) => (
            <li key={i}>
              Image {f.instanceId ?? f.sopInstanceUid ?? '?'}: {f.message}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The toolbar's AI button: opens the findings panel; says when no model is installed. */
export function AiButton({ open, onToggle }: { open: boolean; onToggle(): void }) {
  const { models } = useAiModels();
  const none = models !== null && models.length === 0;
  return (
    <div className="toolbar__group aibar" role="group" aria-label="AI">
      <button
        type="button"
        className={`tbtn tbtn--text${open ? ' tbtn--on' : ''}`}
        aria-pressed={open}
        aria-label="AI findings"
        data-testid="ai-button"
        title={none ? `AI findings — no model installed. ${HOW_TO_ADD}` : 'AI findings (not for diagnostic use)'}
        onClick={onToggle}
      >
        AI{none && <span className="aibar__none"> (no model)</span>}
      </button>
    </div>
  );
}
