/**
 * The MPR's mouse: crosshairs (or window/level) on the left button, pan on the middle, zoom on the
 * right, slice on the wheel; one window shared by the three planes (a VOI synchroniser).
 */
import { CrosshairsTool, Enums as ToolEnums, PanTool, StackScrollTool, synchronizers, SynchronizerManager, ToolGroupManager, WindowLevelTool, ZoomTool } from '@cornerstonejs/tools';

export type PrimaryTool = 'crosshairs' | 'window';

/** Reference line colours: each plane keeps its colour on the others (axial red, sagittal yellow, coronal green). */
export const PLANE_COLOURS: Record<string, string> = {
  axial: 'rgb(224, 96, 90)',
  sagittal: 'rgb(232, 197, 71)',
  coronal: 'rgb(95, 194, 126)',
};

export interface MprTools {
  setPrimary(tool: PrimaryTool): void;
  destroy(): void;
}

export function createMprTools(ids: { toolGroupId: string; voiSyncId: string; renderingEngineId: string; viewportIds: Record<string, string> }): MprTools {
  ToolGroupManager.destroyToolGroup(ids.toolGroupId);
  SynchronizerManager.destroySynchronizer(ids.voiSyncId);
  const group = ToolGroupManager.createToolGroup(ids.toolGroupId)!;
  const planeOf = (viewportId: string) => Object.keys(ids.viewportIds).find((k) => ids.viewportIds[k] === viewportId) ?? '';
  group.addTool(CrosshairsTool.toolName, {
    getReferenceLineColor: (viewportId: string) => PLANE_COLOURS[planeOf(viewportId)] ?? 'rgb(200, 200, 200)',
    getReferenceLineControllable: () => true,
    // Rotating a line makes the other planes oblique.
    getReferenceLineDraggableRotatable: () => true,
    // The slab has its own control in the MPR toolbar (values in mm).
    getReferenceLineSlabThicknessControlsOn: () => false,
  });
  group.addTool(WindowLevelTool.toolName);
  group.addTool(PanTool.toolName);
  group.addTool(ZoomTool.toolName);
  group.addTool(StackScrollTool.toolName);
  for (const viewportId of Object.values(ids.viewportIds)) group.addViewport(viewportId, ids.renderingEngineId);
  group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }] });
  group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Secondary }] });
  group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Wheel }] });

  const voi = synchronizers.createVOISynchronizer(ids.voiSyncId, { syncInvertState: false, syncColormap: false });
  for (const viewportId of Object.values(ids.viewportIds)) voi.add({ renderingEngineId: ids.renderingEngineId, viewportId });

  const primary = [{ mouseButton: ToolEnums.MouseBindings.Primary }];
  return {
    setPrimary(tool) {
      if (tool === 'crosshairs') {
        group.setToolPassive(WindowLevelTool.toolName);
        group.setToolActive(CrosshairsTool.toolName, { bindings: primary });
      } else {
        // Passive: the lines stay drawn (and their centre draggable) while the left button sets the window.
        group.setToolPassive(CrosshairsTool.toolName);
        group.setToolActive(WindowLevelTool.toolName, { bindings: primary });
      }
    },
    destroy() {
      SynchronizerManager.destroySynchronizer(ids.voiSyncId);
      ToolGroupManager.destroyToolGroup(ids.toolGroupId);
    },
  };
}
