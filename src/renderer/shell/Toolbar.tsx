import { memo } from 'react';
import { CT_PRESETS, relativePresetsFor } from '../../shared/viewer/presets';
import type { ToolName, ViewerAction } from '../../shared/viewer/shortcuts';
import type { Layout } from '../viewer/ViewportArea';

interface Props {
  tool: ToolName;
  layout: Layout;
  showOverlays: boolean;
  cinePlaying: boolean;
  fps: number;
  /** The active image's modality: MR and PET get their own presets. */
  modality?: string;
  panel: string | null;
  onAction(a: ViewerAction): void;
  onFps(fps: number): void;
}

const TOOLS: { tool: ToolName; label: string; key: string; icon: string }[] = [
  { tool: 'Wwwc', label: 'Window/level', key: 'W', icon: '◐' },
  { tool: 'Pan', label: 'Pan', key: 'P', icon: '✥' },
  { tool: 'Zoom', label: 'Zoom', key: 'Z', icon: '⌕' },
  { tool: 'Length', label: 'Length', key: 'L', icon: '⟷' },
  { tool: 'Angle', label: 'Angle', key: 'A', icon: '∠' },
  { tool: 'RectangleRoi', label: 'Rectangle ROI', key: 'R', icon: '▭' },
  { tool: 'EllipticalRoi', label: 'Ellipse ROI', key: 'E', icon: '◯' },
  { tool: 'Probe', label: 'Probe', key: 'B', icon: '⊹' },
];

const VIEW: { op: Extract<ViewerAction, { kind: 'view' }>['op']; label: string; key: string; icon: string }[] = [
  { op: 'fit', label: 'Fit', key: 'F', icon: '⤢' },
  { op: 'actual-size', label: 'Actual size 1:1', key: '0', icon: '1:1' },
  { op: 'rotate-right', label: 'Rotate right', key: ']', icon: '↻' },
  { op: 'flip-h', label: 'Flip horizontal', key: 'H', icon: '⇋' },
  { op: 'flip-v', label: 'Flip vertical', key: 'V', icon: '⇅' },
  { op: 'invert', label: 'Invert', key: 'I', icon: '◑' },
  { op: 'reset', label: 'Reset', key: 'X', icon: '⟲' },
];

export const Toolbar = memo(function Toolbar({ tool, layout, showOverlays, cinePlaying, fps, modality = '', panel, onAction, onFps }: Props) {
  const cine = { playing: cinePlaying, fps };
  const relative = relativePresetsFor(modality);
  return (
    <nav className="toolbar" aria-label="Tools">
      <div className="toolbar__group" role="group" aria-label="Mouse tool">
        {TOOLS.map((t) => (
          <button
            key={t.tool}
            type="button"
            className={`tbtn${tool === t.tool ? ' tbtn--on' : ''}`}
            aria-pressed={tool === t.tool}
            aria-label={t.label}
            title={`${t.label} (${t.key})`}
            onClick={() => onAction({ kind: 'tool', tool: t.tool })}
          >
            {t.icon}
          </button>
        ))}
      </div>
      <div className="toolbar__group">
        <select
          className="tselect"
          aria-label="Window preset"
          value=""
          onChange={(e) => e.target.value && onAction({ kind: 'preset', preset: e.target.value })}
          title={relative ? `${modality} window presets (keys 1–${relative.length}; from this image's values)` : 'CT window presets (keys 1–8)'}
        >
          <option value="">W/L preset</option>
          {relative
            ? relative.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.key} {p.label}
                </option>
              ))
            : CT_PRESETS.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.key} {p.label} {p.center}/{p.width}
                </option>
              ))}
        </select>
      </div>
      <div className="toolbar__group" role="group" aria-label="View">
        {VIEW.map((v) => (
          <button key={v.op} type="button" className="tbtn" aria-label={v.label} title={`${v.label} (${v.key})`} onClick={() => onAction({ kind: 'view', op: v.op })}>
            {v.icon}
          </button>
        ))}
      </div>
      <div className="toolbar__group" role="group" aria-label="Cine">
        <button
          type="button"
          className={`tbtn${cine.playing ? ' tbtn--on' : ''}`}
          aria-label={cine.playing ? 'Stop cine' : 'Play cine'}
          title="Cine play/pause (C)"
          onClick={() => onAction({ kind: 'cine', op: 'toggle' })}
        >
          {cine.playing ? '❚❚' : '▶'}
        </button>
        <label className="tfps" title="Cine frame rate (+/−)">
          <input type="number" min={1} max={60} value={cine.fps} aria-label="Frames per second" onChange={(e) => onFps(Number(e.target.value) || 1)} />
          fps
        </label>
      </div>
      <div className="toolbar__group" role="group" aria-label="Layout">
        {(['1x1', '1x2', '2x2'] as Layout[]).map((l, i) => (
          <button
            key={l}
            type="button"
            className={`tbtn tbtn--text${layout === l ? ' tbtn--on' : ''}`}
            aria-pressed={layout === l}
            aria-label={`Layout ${l}`}
            title={`Layout ${l.replace('x', '×')} (Alt+${i + 1})`}
            onClick={() => onAction({ kind: 'layout', layout: l })}
          >
            {l.replace('x', '×')}
          </button>
        ))}
      </div>
      <div className="toolbar__group" role="group" aria-label="Panels">
        <button type="button" className={`tbtn tbtn--text${showOverlays ? ' tbtn--on' : ''}`} aria-pressed={showOverlays} aria-label="Overlays" title="Corner overlays (O)" onClick={() => onAction({ kind: 'panel', panel: 'overlays' })}>
          Info
        </button>
        <button type="button" className={`tbtn tbtn--text${panel === 'measurements' ? ' tbtn--on' : ''}`} aria-pressed={panel === 'measurements'} aria-label="Measurements" title="Measurement list (M)" onClick={() => onAction({ kind: 'panel', panel: 'measurements' })}>
          Meas
        </button>
        <button type="button" className={`tbtn tbtn--text${panel === 'tags' ? ' tbtn--on' : ''}`} aria-pressed={panel === 'tags'} aria-label="Tags" title="DICOM tags (T)" onClick={() => onAction({ kind: 'panel', panel: 'tags' })}>
          Tags
        </button>
        <button type="button" className="tbtn tbtn--text" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" onClick={() => onAction({ kind: 'panel', panel: 'help' })}>
          ?
        </button>
      </div>
    </nav>
  );
});
