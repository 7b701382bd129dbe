/**
 * Export: scope (study / series / image), format (anonymised DICOM, original DICOM, PNG with the
 * viewer's window/level and optional overlays), destination, and the gate — an identifiable export
 * needs every image verified or an override with a typed reason (recorded in the audit log). The
 * trust panel is shown beside it. Progress while it runs, the report at the end.
 */
import { useEffect, useMemo, useState } from 'react';
import type { ExportDecision, ExportFormat, ExportReport, ExportScope, PngOptions } from '../../shared/api';
import { call } from '../bridge';
import { errorText } from '../errors';
import { joinPath } from '../files';
import { fileStamp } from '../format';
import type { OpenStudy, TrustState } from './hooks';
import { TrustPanelView } from './TrustPanel';
import { TrustModal } from './TrustModal';
import { ProgressBar, useTaskProgress } from '../shell/useTask';
import { ErrorBox } from './ErrorBox';
import { GateChecks } from './GateChecks';

export interface ViewportContext {
  index: number;
  instanceId: string | null;
}

type ScopeKind = 'study' | 'series' | 'image';

const FORMATS: { id: ExportFormat; label: string; note: string }[] = [
  { id: 'dicom-anonymised', label: 'Anonymised DICOM', note: 'PS3.15 Annex E: identifying attributes removed, new UIDs. Logged.' },
  { id: 'dicom-original', label: 'Original DICOM', note: 'Identifiable: every image must be verified, or override with a reason.' },
  { id: 'png', label: 'PNG', note: 'With the current window/level; marked NOT FOR DIAGNOSTIC USE.' },
];

/** The window/level the viewer shows now (the viewport reports it as data attributes), else the series default. */
export function currentWindow(open: OpenStudy, vp: ViewportContext): { center: number; width: number; from: 'viewer' | 'series' } | null {
  const el = document.querySelector<HTMLElement>(`[data-testid=viewport][data-index="${vp.index}"]`);
  const wc = Number(el?.dataset.wc);
  const ww = Number(el?.dataset.ww);
  if (el?.dataset.wc && el.dataset.ww && Number.isFinite(wc) && Number.isFinite(ww) && ww > 0) return { center: wc, width: ww, from: 'viewer' };
  const first = open.instances.find((i) => i.windowWidth !== null && i.windowCenter !== null);
  if (first) return { center: first.windowCenter!, width: first.windowWidth!, from: 'series' };
  return null;
}

/** The corner overlay text the viewer draws (what "with overlays" burns into the PNG). */
export function overlayLines(vp: ViewportContext): string[] {
  const el = document.querySelector<HTMLElement>(`[data-testid=viewport][data-index="${vp.index}"] [data-testid=overlay]`);
  if (!el) return [];
  const lines: string[] = [];
  el.querySelectorAll<HTMLElement>('.overlay__corner').forEach((c) => {
    for (const l of c.innerText.split('\n')) if (l.trim()) lines.push(l.trim().slice(0, 200));
  });
  return lines.slice(0, 12);
}

function defaultName(format: ExportFormat): string {
  const kind = format === 'dicom-anonymised' ? 'anonymised' : format === 'dicom-original' ? 'original' : 'png';
  return `medimgshr-${kind}-${fileStamp()}`;
}

interface Props {
  open: OpenStudy;
  trust: TrustState;
  viewport: ViewportContext;
  onClose(): void;
  onShowAudit(): void;
}

export function ExportDialog({ open, trust, viewport, onClose, onShowAudit }: Props) {
  const [scopeKind, setScopeKind] = useState<ScopeKind>('study');
  const [format, setFormat] = useState<ExportFormat>('dicom-anonymised');
  const [withOverlays, setWithOverlays] = useState(false);
  const [folder, setFolder] = useState('');
  const [name, setName] = useState(() => defaultName('dicom-anonymised'));
  const [decision, setDecision] = useState<ExportDecision | null>(null);
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<string | null>(null);
  const [overriding, setOverriding] = useState(false);
  const [reason, setReason] = useState('');
  const [running, setRunning] = useState(false);
  const [report, setReport] = useState<ExportReport | null>(null);
  const [runError, setRunError] = useState<{ message: string; hint: string | null } | null>(null);
  const { progress, cancel } = useTaskProgress('export', running);

  useEffect(() => setName(defaultName(format)), [format]);

  // Read once when the dialog opens: the view the clinician had on screen.
  const [win] = useState(() => currentWindow(open, viewport));
  const [overlay] = useState(() => overlayLines(viewport));
  const scope = useMemo<ExportScope | null>(() => {
    if (scopeKind === 'study') return { studyInstanceUid: open.study.studyInstanceUid };
    if (scopeKind === 'series') return { seriesInstanceUid: open.series.seriesInstanceUid };
    return viewport.instanceId ? { instanceIds: [Number(viewport.instanceId)] } : null;
  }, [scopeKind, open.study.studyInstanceUid, open.series.seriesInstanceUid, viewport.instanceId]);
  const png = useMemo<PngOptions | undefined>(() => {
    if (format !== 'png') return undefined;
    const o: PngOptions = {};
    if (win) {
      o.windowCenter = win.center;
      o.windowWidth = win.width;
    }
    if (withOverlays && overlay.length) o.overlayText = overlay;
    return o;
  }, [format, win, withOverlays, overlay]);
  const scopeCount = scopeKind === 'study' ? open.study.instanceCount : scopeKind === 'series' ? open.series.instanceCount : 1;

  useEffect(() => {
    if (!scope) return;
    let alive = true;
    setChecking(true);
    setCheckError(null);
    setDecision(null); // never show the previous choice's decision under the new one
    const t = window.setTimeout(() => {
      call('export.check', { scope, format, ...(png ? { png } : {}) }).then(
        (d) => {
          if (!alive) return;
          setDecision(d);
          setChecking(false);
        },
        (e) => {
          if (!alive) return;
          setDecision(null);
          setCheckError(errorText(e).message);
          setChecking(false);
        },
      );
    }, 150);
    return () => {
      alive = false;
      window.clearTimeout(t);
    };
  }, [scope, format, png]);

  const pick = async () => {
    const { paths } = await call('app.pickPaths', { mode: 'folder' });
    if (paths[0]) setFolder(paths[0]);
  };

  const outDir = folder.trim() && name.trim() ? joinPath(folder.trim(), name.trim()) : '';
  const needsOverride = !!decision && !decision.allowed;
  const reasonOk = reason.trim().length >= 3;
  const canRun = !!scope && !!decision && !!outDir && !running && !checking && (!needsOverride || (overriding && reasonOk));

  const run = async () => {
    if (!scope || !outDir) return;
    setRunning(true);
    setRunError(null);
    setReport(null);
    try {
      const r = await call('export.run', {
        scope,
        format,
        outDir,
        ...(png ? { png } : {}),
        ...(needsOverride && overriding ? { override: { reason: reason.trim() } } : {}),
      });
      setReport(r);
    } catch (e) {
      setRunError(errorText(e));
    } finally {
      setRunning(false);
    }
  };

  return (
    <TrustModal label="Export" testId="export-dialog" title="Export" trustPanel={<TrustPanelView open={open} trust={trust} embedded />} onClose={onClose} busy={running}>
      {report ? (
        <div className="treport" data-testid="export-report" data-written={report.written.length} data-overridden={report.overridden ? 'true' : 'false'}>
          <h3 className="treport__title treport__title--ok">Export complete</h3>
          <p>{report.message}</p>
          <dl className="tdl">
            <dt>Folder</dt>
            <dd className="mono" data-testid="export-outdir">
              {report.outDir}
            </dd>
            <dt>Written</dt>
            <dd>
              {report.written.length} file(s) and export-report.json, in {report.seconds.toFixed(1)} s
            </dd>
            <dt>Verification</dt>
            <dd>
              {report.decision.counts.verified} of {report.decision.instances} verified
              {report.decision.counts.altered ? `, ${report.decision.counts.altered} altered` : ''}
            </dd>
            {report.notForDiagnosticUse && (
              <>
                <dt>Marking</dt>
                <dd>NOT FOR DIAGNOSTIC USE (burned in and in the PNG text)</dd>
              </>
            )}
            <dt>Audit log</dt>
            <dd>
              entr{report.auditSeqs.length === 1 ? 'y' : 'ies'} #{report.auditSeqs.join(', #')}
              {report.overridden ? ' — override with your reason recorded' : ''}{' '}
              <button type="button" className="btn btn--link" onClick={onShowAudit}>
                Open audit log
              </button>
            </dd>
          </dl>
          {report.skipped.length > 0 && (
            <>
              <h4>Skipped ({report.skipped.length})</h4>
              <ul className="tlist">
                {report.skipped.map((s, i) => (
                  <li key={i}>
                    <span className="mono">{s.source.split(/[\\/]/).pop()}</span>: {s.reason}
                  </li>
                ))}
              </ul>
            </>
          )}
          <div className="tmodal__foot">
            <button type="button" className="btn btn--primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <>
          <fieldset className="tfield" disabled={running}>
            <legend>What</legend>
            <div className="tseg" role="radiogroup" aria-label="Scope">
              {(
                [
                  ['study', `Study (${open.study.instanceCount} images)`],
                  ['series', `Series (${open.series.instanceCount})`],
                  ['image', 'Current image'],
                ] as [ScopeKind, string][]
              ).map(([k, label]) => (
                <label key={k} className={`tseg__opt${scopeKind === k ? ' tseg__opt--on' : ''}`}>
                  <input type="radio" name="scope" value={k} checked={scopeKind === k} disabled={k === 'image' && !viewport.instanceId} onChange={() => setScopeKind(k)} />
                  {label}
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset className="tfield" disabled={running}>
            <legend>Format</legend>
            {FORMATS.map((f) => (
              <label key={f.id} className={`topt${format === f.id ? ' topt--on' : ''}`}>
                <input type="radio" name="format" value={f.id} checked={format === f.id} onChange={() => setFormat(f.id)} />
                <span>
                  <strong>{f.label}</strong>
                  <span className="trust__sub">{f.note}</span>
                </span>
              </label>
            ))}
            {format === 'png' && (
              <div className="tpng">
                <span data-testid="export-window">
                  Window {win ? `C ${Math.round(win.center)} / W ${Math.round(win.width)} (${win.from === 'viewer' ? 'as shown in the viewer' : 'series default'})` : 'from each file (min/max when none)'}
                </span>
                <label>
                  <input type="checkbox" checked={withOverlays} onChange={(e) => setWithOverlays(e.target.checked)} /> Burn in the viewer&apos;s overlay text (identifiable)
                </label>
              </div>
            )}
          </fieldset>
          <fieldset className="tfield" disabled={running}>
            <legend>Destination</legend>
            <div className="tdest">
              <input type="text" aria-label="Destination folder" placeholder="Folder (type a path or choose)" value={folder} onChange={(e) => setFolder(e.target.value)} />
              <button type="button" className="btn" onClick={() => void pick()}>
                Choose…
              </button>
            </div>
            <div className="tdest">
              <label className="tdest__name">
                New folder <input type="text" aria-label="Export folder name" value={name} onChange={(e) => setName(e.target.value)} />
              </label>
            </div>
            <p className="trust__fine">The export is written to a hidden folder and appears under this name only when complete.</p>
          </fieldset>

          <section className={`tgate${decision ? (decision.allowed ? ' tgate--ok' : ' tgate--no') : ''}`} data-testid="export-gate" data-allowed={decision ? String(decision.allowed) : ''}>
            <h3>
              {checking
                ? `Checking ${scopeCount} image(s) against the ledger…`
                : decision
                  ? decision.allowed
                    ? 'Allowed'
                    : 'Blocked'
                  : 'Not checked'}
            </h3>
            {checkError && <p className="trust__err">{checkError}</p>}
            {decision && (
              <GateChecks checks={decision.checks} />
            )}
            {decision && needsOverride && decision.overridable && (
              <div className="toverride" data-testid="export-override">
                <label className="toverride__toggle">
                  <input type="checkbox" checked={overriding} onChange={(e) => setOverriding(e.target.checked)} /> Override: export the identifiable images anyway
                </label>
                {overriding && (
                  <>
                    <textarea
                      aria-label="Override reason"
                      placeholder="Why must these images leave although they are not verified? (recorded in the audit log with your identity)"
                      value={reason}
                      onChange={(e) => setReason(e.target.value)}
                      rows={3}
                    />
                    {!reasonOk && <span className="trust__sub">Type a reason of at least 3 characters.</span>}
                  </>
                )}
              </div>
            )}
          </section>

          {running && <ProgressBar progress={progress} label="Exporting" />}
          {runError && <ErrorBox title="Export failed" error={runError} testId="export-error" />}
          <div className="tmodal__foot">
            {running ? (
              <button type="button" className="btn" onClick={cancel}>
                Cancel export
              </button>
            ) : (
              <button type="button" className="btn" onClick={onClose}>
                Close
              </button>
            )}
            <button type="button" className={`btn ${needsOverride ? 'btn--warn' : 'btn--primary'}`} disabled={!canRun} onClick={() => void run()} data-testid="export-run">
              {needsOverride ? 'Export with override' : 'Export'}
            </button>
          </div>
        </>
      )}
    </TrustModal>
  );
}
