import { cornerstoneTools } from './cornerstone';
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
    if (ctor) cornerstoneTools.addTool(ctor);
  }
  setPrimaryTool('Wwwc');
}

/** Mouse masks: left = 1, right = 2, middle = 4. Right always zooms and middle always pans. */
export function setPrimaryTool(primary: ToolName): void {
  const maskOf = (t: ToolName) => (t === primary ? 1 : 0) | (t === 'Zoom' ? 2 : 0) | (t === 'Pan' ? 4 : 0);
  const order = [...ALL.filter((t) => t !== primary), primary];
  for (const t of order) {
    const mask = maskOf(t);
    if (mask) cornerstoneTools.setToolActive(t, { mouseButtonMask: mask });
    else cornerstoneTools.setToolPassive(t);
  }
}
