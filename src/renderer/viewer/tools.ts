import { cornerstoneTools } from './cornerstone';
import { cancelDrawing, measuringTool, withDrafts } from './measureTools';
import type { ToolName } from '../../shared/viewer/shortcuts';

export const ANNOTATION_TOOLS: ToolName[] = ['Length', 'Angle', 'RectangleRoi', 'EllipticalRoi', 'Probe'];
const ALL: ToolName[] = ['Wwwc', 'Pan', 'Zoom', ...ANNOTATION_TOOLS];

let added = false;

/** Registers the tools once, globally (they apply to every enabled element, also later ones). */
export function addTools(): void {
  if (added) return;
  added = true;
  for (const name of ALL) {
    const ctor = cornerstoneTools[`${name}Tool`];
    if (!ctor) continue;
    cornerstoneTools.addTool(name === 'Length' || name === 'Angle' ? measuringTool(ctor) : ANNOTATION_TOOLS.includes(name) ? withDrafts(ctor) : ctor);
  }
  setPrimaryTool('Wwwc');
}

let current: ToolName = 'Wwwc';

/** Re-applies the current tool bindings (after a new element was enabled). */
export function reapplyTools(): void {
  bind(current);
}

/**
 * Mouse bindings (cornerstone-tools `buttons` values: left 1, right 2, middle 4): right always
 * zooms, middle always pans, left runs the chosen tool. Annotation tools that are not chosen stay
 * passive so their handles can still be moved. A measurement still being drawn is cancelled
 * first (a half-drawn one is discarded, never stored).
 */
export function setPrimaryTool(primary: ToolName): void {
  if (added) cancelDrawing();
  bind(primary);
}

function bind(primary: ToolName): void {
  current = primary;
  cornerstoneTools.setToolActive('Zoom', { mouseButtonMask: 2 });
  cornerstoneTools.setToolActive('Pan', { mouseButtonMask: 4 });
  if (primary !== 'Wwwc') cornerstoneTools.setToolPassive('Wwwc');
  for (const t of ANNOTATION_TOOLS) if (t !== primary) cornerstoneTools.setToolPassive(t);
  cornerstoneTools.setToolActive(primary, { mouseButtonMask: 1 });
}
