import { useEffect, useRef, useState } from 'react';
import type { ImportReport, ProgressEvent } from '../../shared/api';
import { bridge, call } from '../bridge';
import { errText } from '../errors';
import { filesPerSecond } from '../format';

/**
 * The path of a dropped OS file, when the desktop shell can tell it: the preload's optional
 * `window.medimg.pathForFile` (Electron's webUtils.getPathForFile). A plain browser cannot.
 */
export function pathForFile(file: File): string | null {
  const b = window.medimg as unknown as { pathForFile?: (f: File) => string } | undefined;
  try {
    const p = b?.pathForFile?.(file);
    return p ? p : null;
  } catch {
    return null;
  }
}

interface Props {
  /** Paths dropped on the window, handed in by the app. */
  dropped: { paths: string[]; skipped: number; seq: number } | null;
  onImported(report: ImportReport): void;
}

/** Import by path or drag-and-drop: progress with counts and rate, cancel, and the report. */
export function ImportPanel({ dropped, onImported }: Props) {
  const [path, setPath] = useState('');
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [showRejected, setShowRejected] = useState(true);
  const taskRef = useRef<string | null>(null);
  const runningRef = useRef(false);

  useEffect(
    () =>
      bridge().on((e) => {
        if (e.type === 'progress' && e.kind === 'import' && runningRef.current) {
          taskRef.current = e.taskId;
          setProgress(e);
        }
      }),
    [],
  );

  async function start(paths: string[]) {
    if (runningRef.current || paths.length === 0) return;
    runningRef.current = true;
    setRunning(true);
    setProgress(null);
    setReport(null);
    setError(null);
    try {
      const r = await call('library.import', { paths });
      setReport(r);
      setShowRejected(r.rejected.length <= 20);
      onImported(r);
    } catch (e) {
      setError(errText(e));
    } finally {
      runningRef.current = false;
      taskRef.current = null;
      setRunning(false);
    }
  }

  useEffect(() => {
    if (!dropped) return;
    if (dropped.paths.length) void start(dropped.paths);
    else if (dropped.skipped)
      setError('Dropped files can be imported only in the desktop app (the browser does not tell their paths). Type or paste the folder path instead.');
    // Only a new drop starts an import.
  }, [dropped?.seq]);

  const total = progress?.total ?? null;
  const done = progress?.done ?? 0;
  const pct = total ? Math.min(100, (done / total) * 100) : null;

  return (
    <section className="import" aria-label="Import">
      <form
        className="import__form"
        onSubmit={(e) => {
          e.preventDefault();
          const p = path.trim();
          if (p) void start(p.split(/\n/).map((s) => s.trim()).filter(Boolean));
        }}
      >
        <input
          type="text"
          value={path}
          onChange={(e) => setPath(e.target.value)}
          placeholder="Folder, file or DICOMDIR path…"
          aria-label="Path to import"
          spellCheck={false}
          disabled={running}
         
        />
        <button type="submit" className="btn btn--primary" disabled={running || !path.trim()}>
          Import
        </button>
      </form>
      <p className="import__hint">or drop files and folders anywhere on the window</p>
      {running && (
        <div className="import__progress" data-testid="import-progress">
          <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={total ?? undefined} aria-valuenow={done}>
            <div className={`progress__bar${pct === null ? ' progress__bar--busy' : ''}`} style={{ width: pct === null ? '30%' : `${pct}%` }} />
          </div>
          <div className="import__line">
            <span data-testid="import-counts">
              {done}
              {total !== null ? ` / ${total}` : ''} files
              {progress?.failed ? ` · ${progress.failed} rejected` : ''}
            </span>
            <span className="import__rate">{filesPerSecond(progress?.rate)}</span>
            <button
              type="button"
              className="btn btn--small"
              onClick={() => taskRef.current && void call('task.cancel', { taskId: taskRef.current }).catch(() => undefined)}
              disabled={!taskRef.current}
            >
              Cancel
            </button>
          </div>
        </div>
      )}
      {error && (
        <div className="import__error" role="alert">
          {error}
          <button type="button" className="btn btn--link" onClick={() => setError(null)} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
      {report && !running && (
        <div className="import__report" data-testid="import-report">
          <div className="import__line">
            <strong>{report.cancelled ? 'Import cancelled' : 'Import finished'}</strong>
            <button type="button" className="btn btn--link" onClick={() => setReport(null)} aria-label="Close import report">
              ×
            </button>
          </div>
          <div className="import__summary" data-testid="import-summary">
            {report.added} added · {report.updated} updated · {report.unchanged} unchanged · {report.rejected.length} rejected
            <br />
            {report.scanned} files in {report.seconds.toFixed(1)} s{report.rate ? ` (${filesPerSecond(report.rate)})` : ''}
          </div>
          {report.rejected.length > 0 && (
            <>
              <button type="button" className="btn btn--link" onClick={() => setShowRejected((v) => !v)}>
                {showRejected ? 'Hide' : 'Show'} rejected files ({report.rejected.length})
              </button>
              {showRejected && (
                <ul className="import__rejected" data-testid="import-rejected">
                  {report.rejected.map((r) => (
                    <li key={r.path} title={r.path}>
                      <span className="import__file">{r.path.split(/[\\/]/).pop()}</span>
                      <span className="import__reason">{r.reason}</span>
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </div>
      )}
    </section>
  );
}
