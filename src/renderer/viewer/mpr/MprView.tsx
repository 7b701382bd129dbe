/**
 * Multiplanar reformats of the active series: axial, sagittal and coronal views of one streaming
 * image volume (loaded once, shared by the three viewports), crosshairs that move and rotate the
 * planes, a slab (MIP / MinIP / average, in mm) and one window for all three.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { CT_PRESETS } from '../../../shared/viewer/presets';
import { SLAB_THICKNESSES_MM, type SlabMode } from '../../../shared/viewer/volume';
import { hasWebGL2, initVolume } from './initVolume';
import { seriesVolume, type SeriesVolume } from './volumeGeometry';
import { MprSession, PLANES, type MprPaneInfo, type Plane, type PrimaryTool } from './mprSession';
import './mpr.css';
// The benchmark's peer (window.medimgMprBench.bare) lives with the volume code it is compared with.
import './bareVolume';

export { warmUpVolumeRendering } from './warmUp';

export type MprLayout = '1x3' | '2x2';

interface Props {
  seriesId: number;
  onClose(): void;
}

type Phase =
  | { kind: 'starting' }
  | { kind: 'reading'; done: number; total: number }
  | { kind: 'streaming'; done: number; total: number }
  | { kind: 'complete'; total: number }
  | { kind: 'error'; message: string; hint: string }
  | { kind: 'no-webgl' }
  | { kind: 'not-a-volume'; reason: string };

const PLANE_LABEL: Record<Plane, string> = { axial: 'Axial', sagittal: 'Sagittal', coronal: 'Coronal' };
const SLAB_LABEL: Record<SlabMode | 'single', string> = { single: 'Single slice', mip: 'MIP', minip: 'MinIP', average: 'Average' };

export function MprView({ seriesId, onClose }: Props) {
  const [phase, setPhase] = useState<Phase>({ kind: 'starting' });
  const [layout, setLayout] = useState<MprLayout>('1x3');
  const [tool, setTool] = useState<PrimaryTool>('crosshairs');
  const [slabMode, setSlabMode] = useState<SlabMode | 'single'>('single');
  const [thickness, setThickness] = useState<number>(10);
  const [panes, setPanes] = useState<Partial<Record<Plane, MprPaneInfo>>>({});
  const [volume, setVolume] = useState<SeriesVolume | null>(null);
  const gridRef = useRef<HTMLDivElement>(null);
  const els = { axial: useRef<HTMLDivElement>(null), sagittal: useRef<HTMLDivElement>(null), coronal: useRef<HTMLDivElement>(null) };
  const session = useRef<MprSession | null>(null);

  // Escape goes back to the stack (before the app's own Escape, which closes panels).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.stopImmediatePropagation();
      e.preventDefault();
      onClose();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [onClose]);

  useEffect(() => {
    let cancelled = false;
    let s: MprSession | null = null;
    (async () => {
      const vol = await seriesVolume(seriesId);
      if (cancelled) return;
      setVolume(vol);
      if (!vol.decision.ok) {
        setPhase({ kind: 'not-a-volume', reason: vol.decision.reason });
        return;
      }
      if (!hasWebGL2()) {
        setPhase({ kind: 'no-webgl' });
        return;
      }
      initVolume();
      const elements = { axial: els.axial.current!, sagittal: els.sagittal.current!, coronal: els.coronal.current! };
      s = new MprSession(vol, elements, {
        onProgress: (p) => !cancelled && setPhase(p.stage === 'complete' ? { kind: 'complete', total: p.total } : { kind: p.stage, done: p.done, total: p.total }),
        onPane: (plane, info) => !cancelled && setPanes((prev) => ({ ...prev, [plane]: info })),
      });
      session.current = s;
      await s.start();
    })().catch((e: unknown) => {
      if (cancelled) return;
      console.warn('MPR failed', e);
      const message = e instanceof Error ? e.message : String(e);
      setPhase({ kind: 'error', message: `The volume could not be built: ${message}`, hint: 'Go back to the stack view; if the series was just imported, try again once the import has finished.' });
    });
    return () => {
      cancelled = true;
      session.current = null;
      s?.destroy();
    };
    // The elements are stable refs: the session is rebuilt only for another series.
  }, [seriesId]);

  // Keep the viewports' canvases matched to their boxes (layout switch, window resize, side panels).
  useEffect(() => {
    const grid = gridRef.current;
    if (!grid) return;
    const ro = new ResizeObserver(() => session.current?.resize());
    ro.observe(grid);
    return () => ro.disconnect();
  }, []);
  useEffect(() => session.current?.resize(), [layout]);
  useEffect(() => session.current?.setPrimaryTool(tool), [tool, phase.kind === 'starting']);
  useEffect(() => session.current?.setSlab(slabMode === 'single' ? null : slabMode, thickness), [slabMode, thickness, phase.kind === 'starting']);

  const preset = useCallback((id: string) => {
    const p = CT_PRESETS.find((x) => x.id === id);
    if (p) session.current?.setWindow(p.center, p.width);
  }, []);

  const progress = phase.kind === 'reading' || phase.kind === 'streaming' ? phase : null;
  const blocked = phase.kind === 'no-webgl' || phase.kind === 'error' || phase.kind === 'not-a-volume';
  const isCt = (volume?.modality ?? '') === 'CT';

  return (
    <main className="mpr" aria-label="MPR" data-testid="mpr" data-phase={phase.kind} data-layout={layout}>
      <div className="mpr__toolbar" role="toolbar" aria-label="MPR tools">
        <button type="button" className="tbtn tbtn--text mpr__back" onClick={onClose} title="Back to the stack view (Esc)">
          ← Back to stack
        </button>
        <span className="mpr__title" title={volume?.label}>
          MPR · {volume?.label ?? '…'}
        </span>
        <div className="toolbar__group" role="group" aria-label="MPR layout">
          {(['1x3', '2x2'] as MprLayout[]).map((l) => (
            <button
              key={l}
              type="button"
              className={`tbtn tbtn--text${layout === l ? ' tbtn--on' : ''}`}
              aria-pressed={layout === l}
              aria-label={`MPR layout ${l}`}
              title={l === '1x3' ? 'Three planes side by side' : 'Axial large, sagittal and coronal beside it'}
              onClick={() => setLayout(l)}
            >
              {l.replace('x', '×')}
            </button>
          ))}
        </div>
        <div className="toolbar__group" role="group" aria-label="MPR mouse tool">
          <button type="button" className={`tbtn tbtn--text${tool === 'crosshairs' ? ' tbtn--on' : ''}`} aria-pressed={tool === 'crosshairs'} title="Crosshairs: drag the centre to move the planes, a line's end to rotate it (oblique)" onClick={() => setTool('crosshairs')}>
          ✛ Crosshairs
          </button>
          <button type="button" className={`tbtn tbtn--text${tool === 'window' ? ' tbtn--on' : ''}`} aria-pressed={tool === 'window'} title="Window/level on all three planes (right drag: zoom, middle drag: pan, wheel: slice)" onClick={() => setTool('window')}>
            ◐ W/L
          </button>
          {isCt && (
            <select className="tselect" aria-label="MPR window preset" value="" onChange={(e) => preset(e.target.value)}>
              <option value="">W/L preset</option>
              {CT_PRESETS.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label} {p.center}/{p.width}
                </option>
              ))}
            </select>
          )}
        </div>
        <div className="toolbar__group" role="group" aria-label="Slab">
          <select className="tselect" aria-label="Slab projection" value={slabMode} onChange={(e) => setSlabMode(e.target.value as SlabMode | 'single')} title="Projection through a slab of the volume">
            {(Object.keys(SLAB_LABEL) as (SlabMode | 'single')[]).map((m) => (
              <option key={m} value={m}>
                {SLAB_LABEL[m]}
              </option>
            ))}
          </select>
          <select className="tselect" aria-label="Slab thickness" value={thickness} disabled={slabMode === 'single'} onChange={(e) => setThickness(Number(e.target.value))} title="Slab thickness in mm">
            {SLAB_THICKNESSES_MM.filter((t) => t > 0).map((t) => (
              <option key={t} value={t}>
                {t} mm
              </option>
            ))}
          </select>
        </div>
        <span className="mpr__spacer" />
        {progress && (
          <div className="mpr__progress" role="progressbar" aria-label="Volume loading" aria-valuemin={0} aria-valuemax={progress.total} aria-valuenow={progress.done} data-testid="mpr-progress">
            <span>
              {progress.kind === 'reading' ? 'Reading the series' : `Building volume ${progress.done} / ${progress.total}`}
            </span>
            <span className="mpr__bar">
              <span style={{ width: `${Math.round((100 * progress.done) / Math.max(1, progress.total))}%` }} />
            </span>
          </div>
        )}
      </div>
      <div ref={gridRef} className={`mpr__grid mpr__grid--${layout}`}>
        {blocked ? (
          <div className="mpr__message" role="alert" data-testid="mpr-message">
            {phase.kind === 'no-webgl' && (
              <>
                <p className="mpr__message-title">3D reformatting needs WebGL, which this computer&apos;s graphics do not provide; the stack view still works.</p>
                <p>Update the graphics driver or enable hardware acceleration, then reopen MPR.</p>
              </>
            )}
            {phase.kind === 'not-a-volume' && (
              <>
                <p className="mpr__message-title">This series cannot be reformatted: {phase.reason}.</p>
                <p>It stays in the stack view.</p>
              </>
            )}
            {phase.kind === 'error' && (
              <>
                <p className="mpr__message-title">{phase.message}</p>
                <p>{phase.hint}</p>
              </>
            )}
            <button type="button" className="btn" onClick={onClose}>
              Back to stack
            </button>
          </div>
        ) : (
          PLANES.map((plane) => {
            const info = panes[plane];
            return (
              <section key={plane} className={`mpr__pane mpr__pane--${plane}`} aria-label={`${PLANE_LABEL[plane]} reformat`} data-testid={`mpr-${plane}`}>
                <div ref={els[plane]} className="mpr__viewport" onContextMenu={(e) => e.preventDefault()} />
                <div className="mpr__overlay" aria-hidden={!info}>
                  <span className={`mpr__plane mpr__plane--${plane}`}>{PLANE_LABEL[plane]}{info?.oblique ? ' (oblique)' : ''}</span>
                  {info && (
                    <>
                      <span className="mpr__pos" data-testid={`mpr-${plane}-position`}>
                        {info.positionLabel}
                      </span>
                      <span className="mpr__wl" data-testid={`mpr-${plane}-wl`}>
                        W {Math.round(info.ww)} L {Math.round(info.wc)}
                        {info.slab ? ` · ${info.slab}` : ''}
                      </span>
                      <span className="mpr__m mpr__m--top">{info.markers.top}</span>
                      <span className="mpr__m mpr__m--right">{info.markers.right}</span>
                      <span className="mpr__m mpr__m--bottom">{info.markers.bottom}</span>
                      <span className="mpr__m mpr__m--left">{info.markers.left}</span>
                    </>
                  )}
                </div>
              </section>
            );
          })
        )}
      </div>
    </main>
  );
}

