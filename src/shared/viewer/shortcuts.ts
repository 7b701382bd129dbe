/**
 * The viewer's keyboard shortcuts: one table, used by the key handler and the '?' help overlay.
 * `keys` are KeyboardEvent.key values, with an optional "Alt+"/"Shift+" prefix.
 */
import { CT_PRESETS } from './presets';

export type ToolName = 'Wwwc' | 'Pan' | 'Zoom' | 'Length' | 'Angle' | 'RectangleRoi' | 'EllipticalRoi' | 'Probe';

export type ViewerAction =
  | { kind: 'tool'; tool: ToolName }
  | { kind: 'preset'; preset: string }
  | { kind: 'view'; op: 'fit' | 'actual-size' | 'rotate-right' | 'rotate-left' | 'flip-h' | 'flip-v' | 'invert' | 'reset' }
  | { kind: 'scroll'; delta: number | 'first' | 'last' }
  | { kind: 'cine'; op: 'toggle' | 'faster' | 'slower' }
  | { kind: 'layout'; layout: '1x1' | '1x2' | '2x2' }
  | { kind: 'panel'; panel: 'overlays' | 'tags' | 'help' | 'measurements' }
  | { kind: 'delete-measurement' }
  | { kind: 'next-viewport' }
  | { kind: 'close' }
  // Handled by a layer outside the viewer (e.g. the trust drawer); listed here so the help shows it.
  | { kind: 'external'; name: 'trust' | 'key-image' };

export interface Shortcut {
  keys: string[];
  action: ViewerAction;
  label: string;
  group: 'Tools' | 'Window' | 'View' | 'Stack' | 'Layout' | 'Panels';
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ['w'], action: { kind: 'tool', tool: 'Wwwc' }, label: 'Window/level (drag)', group: 'Tools' },
  { keys: ['p'], action: { kind: 'tool', tool: 'Pan' }, label: 'Pan (drag; middle button always pans)', group: 'Tools' },
  { keys: ['z'], action: { kind: 'tool', tool: 'Zoom' }, label: 'Zoom (drag; right button always zooms)', group: 'Tools' },
  { keys: ['l'], action: { kind: 'tool', tool: 'Length' }, label: 'Length', group: 'Tools' },
  { keys: ['a'], action: { kind: 'tool', tool: 'Angle' }, label: 'Angle', group: 'Tools' },
  { keys: ['r'], action: { kind: 'tool', tool: 'RectangleRoi' }, label: 'Rectangle ROI', group: 'Tools' },
  { keys: ['e'], action: { kind: 'tool', tool: 'EllipticalRoi' }, label: 'Ellipse ROI', group: 'Tools' },
  { keys: ['b'], action: { kind: 'tool', tool: 'Probe' }, label: 'Probe', group: 'Tools' },
  { keys: ['Delete'], action: { kind: 'delete-measurement' }, label: 'Delete the newest measurement on this image', group: 'Tools' },
  ...CT_PRESETS.map(
    (p): Shortcut => ({ keys: [p.key], action: { kind: 'preset', preset: p.id }, label: `${p.label} (C ${p.center} / W ${p.width})`, group: 'Window' }),
  ),
  { keys: ['i'], action: { kind: 'view', op: 'invert' }, label: 'Invert', group: 'Window' },
  { keys: ['f'], action: { kind: 'view', op: 'fit' }, label: 'Fit to viewport', group: 'View' },
  { keys: ['0'], action: { kind: 'view', op: 'actual-size' }, label: 'Actual size (1 image pixel = 1 screen pixel)', group: 'View' },
  { keys: [']'], action: { kind: 'view', op: 'rotate-right' }, label: 'Rotate 90° clockwise', group: 'View' },
  { keys: ['['], action: { kind: 'view', op: 'rotate-left' }, label: 'Rotate 90° counter-clockwise', group: 'View' },
  { keys: ['h'], action: { kind: 'view', op: 'flip-h' }, label: 'Flip horizontally', group: 'View' },
  { keys: ['v'], action: { kind: 'view', op: 'flip-v' }, label: 'Flip vertically', group: 'View' },
  { keys: ['x'], action: { kind: 'view', op: 'reset' }, label: 'Reset view (window, zoom, rotation)', group: 'View' },
  { keys: ['ArrowDown', 'ArrowRight'], action: { kind: 'scroll', delta: 1 }, label: 'Next image', group: 'Stack' },
  { keys: ['ArrowUp', 'ArrowLeft'], action: { kind: 'scroll', delta: -1 }, label: 'Previous image', group: 'Stack' },
  { keys: ['PageDown'], action: { kind: 'scroll', delta: 10 }, label: '10 images forward', group: 'Stack' },
  { keys: ['PageUp'], action: { kind: 'scroll', delta: -10 }, label: '10 images back', group: 'Stack' },
  { keys: ['Home'], action: { kind: 'scroll', delta: 'first' }, label: 'First image', group: 'Stack' },
  { keys: ['End'], action: { kind: 'scroll', delta: 'last' }, label: 'Last image', group: 'Stack' },
  { keys: ['k'], action: { kind: 'external', name: 'key-image' }, label: 'Mark / unmark the image as a key image', group: 'Stack' },
  { keys: ['c'], action: { kind: 'cine', op: 'toggle' }, label: 'Cine play / pause', group: 'Stack' },
  { keys: ['+', '='], action: { kind: 'cine', op: 'faster' }, label: 'Cine faster', group: 'Stack' },
  { keys: ['-'], action: { kind: 'cine', op: 'slower' }, label: 'Cine slower', group: 'Stack' },
  { keys: ['Alt+1'], action: { kind: 'layout', layout: '1x1' }, label: 'Layout 1×1', group: 'Layout' },
  { keys: ['Alt+2'], action: { kind: 'layout', layout: '1x2' }, label: 'Layout 1×2', group: 'Layout' },
  { keys: ['Alt+3'], action: { kind: 'layout', layout: '2x2' }, label: 'Layout 2×2', group: 'Layout' },
  { keys: ['Tab'], action: { kind: 'next-viewport' }, label: 'Next viewport', group: 'Layout' },
  { keys: ['o'], action: { kind: 'panel', panel: 'overlays' }, label: 'Show / hide corner overlays', group: 'Panels' },
  { keys: ['t'], action: { kind: 'panel', panel: 'tags' }, label: 'DICOM tag inspector', group: 'Panels' },
  { keys: ['m'], action: { kind: 'panel', panel: 'measurements' }, label: 'Measurement list', group: 'Panels' },
  { keys: ['u'], action: { kind: 'external', name: 'trust' }, label: 'Trust panel: credit score, sharing history, verification', group: 'Panels' },
  { keys: ['?'], action: { kind: 'panel', panel: 'help' }, label: 'This help', group: 'Panels' },
  { keys: ['Escape'], action: { kind: 'close' }, label: 'Close the open panel', group: 'Panels' },
];

/** The key string of an event as the table writes it ("Alt+1", "ArrowDown", "?"). */
export function keyOf(e: { key: string; altKey: boolean; ctrlKey: boolean; metaKey: boolean; code?: string }): string | null {
  if (e.ctrlKey || e.metaKey) return null;
  if (e.altKey) {
    // Alt+digit: take the digit from the physical key so keyboard layouts agree.
    const digit = e.code?.startsWith('Digit') ? e.code.slice(5) : e.key;
    return `Alt+${digit}`;
  }
  return e.key.length === 1 ? e.key.toLowerCase() : e.key;
}

export function actionForKey(key: string): ViewerAction | null {
  return SHORTCUTS.find((s) => s.keys.includes(key))?.action ?? null;
}
