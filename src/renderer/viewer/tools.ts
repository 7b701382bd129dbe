/**
 * The viewer's tools on Cornerstone3D: one tool group for every stack viewport, so a tool chosen
 * on the toolbar applies to all of them (and to viewports opened later).
 */
import { Enums as ToolEnums, ToolGroupManager, cancelActiveManipulations, type Types as ToolTypes } from '@cornerstonejs/tools';
import { getEnabledElements } from '@cornerstonejs/core';
import { initCornerstone, RENDERING_ENGINE_ID, tools } from './cornerstone';
import { cancelDrawing, measuringConfiguration } from './measureTools';
import type { ToolName } from '../../shared/viewer/shortcuts';

export const ANNOTATION_TOOLS: ToolName[] = ['Length', 'Angle', 'RectangleRoi', 'EllipticalRoi', 'Probe'];

/** Our tool names (the toolbar's and the stored records') → Cornerstone3D's. */
export const CS_TOOL: Record<ToolName, string> = {
  Wwwc: tools.WindowLevelTool.toolName,
  Pan: tools.PanTool.toolName,
  Zoom: tools.ZoomTool.toolName,
  Length: tools.LengthTool.toolName,
  Angle: tools.AngleTool.toolName,
  RectangleRoi: tools.RectangleROITool.toolName,
  EllipticalRoi: tools.EllipticalROITool.toolName,
  Probe: tools.ProbeTool.toolName,
};
export const TOOL_OF_CS: Record<string, ToolName> = Object.fromEntries(Object.entries(CS_TOOL).map(([k, v]) => [v, k as ToolName]));

export const STACK_TOOL_GROUP_ID = 'medimg-stack';

let group: ToolTypes.IToolGroup | undefined;

function toolGroup(): ToolTypes.IToolGroup {
  initCornerstone();
  if (group) return group;
  group = ToolGroupManager.getToolGroup(STACK_TOOL_GROUP_ID) ?? ToolGroupManager.createToolGroup(STACK_TOOL_GROUP_ID)!;
  for (const name of Object.keys(CS_TOOL) as ToolName[]) {
    const cfg = name === 'Length' || name === 'Angle' ? measuringConfiguration(name) : undefined;
    group.addTool(CS_TOOL[name], cfg ? { ...cfg } : undefined);
  }
  bind(current);
  return group;
}

/** Puts a stack viewport under the viewer's tools. */
export function addViewportToTools(viewportId: string): void {
  toolGroup().addViewport(viewportId, RENDERING_ENGINE_ID);
}

export function removeViewportFromTools(viewportId: string): void {
  group?.removeViewports(RENDERING_ENGINE_ID, viewportId);
}

let current: ToolName = 'Wwwc';

/**
 * Mouse bindings: right always zooms, middle always pans, left runs the chosen tool. Annotation
 * tools that are not chosen stay passive so their handles can still be moved. A measurement still
 * being drawn is cancelled first (a half-drawn one is discarded, never stored).
 */
export function setPrimaryTool(primary: ToolName): void {
  if (group) cancelDrawing();
  current = primary;
  if (group) bind(primary);
}

function bind(primary: ToolName): void {
  const g = group!;
  const { Primary, Secondary, Auxiliary } = ToolEnums.MouseBindings;
  // Zoom and Pan keep their buttons; with the left button as well when they are the chosen tool.
  g.setToolActive(CS_TOOL.Zoom, { bindings: [{ mouseButton: Secondary }, ...(primary === 'Zoom' ? [{ mouseButton: Primary }] : [])] });
  g.setToolActive(CS_TOOL.Pan, { bindings: [{ mouseButton: Auxiliary }, ...(primary === 'Pan' ? [{ mouseButton: Primary }] : [])] });
  if (primary !== 'Wwwc') g.setToolPassive(CS_TOOL.Wwwc);
  for (const t of ANNOTATION_TOOLS) if (t !== primary) g.setToolPassive(CS_TOOL[t]);
  if (primary !== 'Zoom' && primary !== 'Pan') g.setToolActive(CS_TOOL[primary], { bindings: [{ mouseButton: Primary }] });
}

/** Cancels whatever a tool is doing on every viewer element (e.g. before the view changes under it). */
export function cancelManipulations(): void {
  for (const e of getEnabledElements()) {
    try {
      cancelActiveManipulations(e.viewport.element);
    } catch {
      /* gone */
    }
  }
}
