/**
 * The Length and Angle tools as the viewer uses them: cornerstone-tools' own tools for the mouse
 * work (create, drag, select), but what they draw next to the line is `measure()` of the handles
 * and the image's Pixel Spacing (src/shared/viewer/measure.ts), computed on every render — the
 * same function the measurement list, the stored record and the export use. cornerstone-tools'
 * own numbers (data.length, data.rAngle) were cached, throttled, rounded their own way (2
 * decimals for lengths, 2 for angles, the list 1) and, while an unfinished measurement of another
 * tool was still following the mouse, recomputed by the wrong tool.
 *
 * Every annotation gets a uuid when it is created and is a draft (`__draft`) until
 * cornerstone-tools reports it completed; drafts and incomplete measurements are never listed
 * or saved (see measurements.ts).
 */
import { measure, type MeasureKind } from '../../shared/viewer/measure';
import { cornerstone, cornerstoneTools } from './cornerstone';
import { metaOf } from './meta';

type Handles = Record<string, { x: number; y: number; moving?: boolean } & Record<string, unknown>>;
interface Annotation {
  uuid?: string;
  visible?: boolean;
  active?: boolean;
  invalidated?: boolean;
  __draft?: boolean;
  length?: number;
  rAngle?: number;
  unit?: string;
  handles: Handles & { textBox?: { x?: number; y?: number; hasMoved?: boolean; boundingBox?: unknown } };
}

const KIND: Record<string, MeasureKind> = { Length: 'length', Angle: 'angle' };

/** What was last drawn next to each measurement (by uuid): read by the diagnostics for the tests. */
export const drawnLabels = new Map<string, string>();

/** The pixel spacing of an image as the header gives it (null when absent). */
export function spacingOf(imageId: string | undefined): number[] | null {
  return (imageId && metaOf(imageId)?.pixelSpacing) || null;
}

/** The measurement of an annotation by its tool name, or null (not a length/angle, or incomplete). */
export function measureAnnotation(toolName: string, data: { handles?: unknown }, imageId: string | undefined) {
  const kind = KIND[toolName];
  return kind ? measure(kind, data.handles, spacingOf(imageId)) : null;
}

type ToolCtor = new (props?: Record<string, unknown>) => {
  name: string;
  configuration: Record<string, unknown>;
  createNewMeasurement(eventData: unknown): Annotation | undefined;
};

/** A tool that gives every new annotation a uuid and marks it a draft until it is completed. */
export function withDrafts(Base: ToolCtor): ToolCtor {
  return class extends Base {
    override createNewMeasurement(eventData: unknown): Annotation | undefined {
      const data = super.createNewMeasurement(eventData);
      if (data) {
        data.uuid = crypto.randomUUID();
        data.__draft = true;
      }
      return data;
    }
  };
}

function internal<T>(name: string): T {
  return cornerstoneTools.importInternal(name) as T;
}

/** Length and Angle with our label; everything else of the tool is cornerstone-tools'. */
export function measuringTool(Base: ToolCtor): ToolCtor {
  const Drafted = withDrafts(Base);
  return class extends Drafted {
    /** Called by cornerstone-tools while a handle moves, also (a bug of theirs) for another tool's annotation. */
    updateCachedStats(image: { imageId?: string }, _element: unknown, data: Annotation): void {
      const r = data?.handles ? measureAnnotation(this.name, data, image?.imageId) : null;
      if (this.name === 'Length') data.length = r?.value;
      else data.rAngle = r?.value;
      if (r) data.unit = r.unit;
      data.invalidated = false;
    }

    renderToolData(evt: { currentTarget: HTMLElement; detail: { canvasContext: { canvas: HTMLCanvasElement }; image: { imageId: string }; element: HTMLElement } }): void {
      const toolData = cornerstoneTools.getToolState(evt.currentTarget, this.name) as { data: Annotation[] } | undefined;
      if (!toolData?.data?.length) return;
      const { image, element } = evt.detail;
      const getNewContext = internal<(c: HTMLCanvasElement) => CanvasRenderingContext2D>('drawing/getNewContext');
      const draw = internal<(c: CanvasRenderingContext2D, fn: (c: CanvasRenderingContext2D) => void) => void>('drawing/draw');
      const setShadow = internal<(c: CanvasRenderingContext2D, cfg: unknown) => void>('drawing/setShadow');
      const drawJoinedLines = internal<(...a: unknown[]) => void>('drawing/drawJoinedLines');
      const drawHandles = internal<(...a: unknown[]) => void>('drawing/drawHandles');
      const drawLinkedTextBox = internal<(...a: unknown[]) => void>('drawing/drawLinkedTextBox');
      const colors = cornerstoneTools.toolColors as { getColorIfActive(d: unknown): string };
      const lineWidth = (cornerstoneTools.toolStyle as { getToolWidth(): number }).getToolWidth();
      const context = getNewContext(evt.detail.canvasContext.canvas);
      const names = this.name === 'Length' ? ['start', 'end'] : ['start', 'middle', 'end'];
      for (const data of toolData.data) {
        if (data.visible === false || !data.handles) continue;
        const pts = names.map((n) => data.handles[n]);
        if (!pts.every((p) => p && Number.isFinite(p.x) && Number.isFinite(p.y))) continue;
        const r = measureAnnotation(this.name, data, image.imageId);
        // The tools' own fields follow the one value, for anything of theirs that reads them.
        if (this.name === 'Length') data.length = r?.value;
        else data.rAngle = r?.value;
        data.invalidated = false;
        draw(context, (ctx) => {
          setShadow(ctx, this.configuration);
          const color = colors.getColorIfActive(data);
          drawJoinedLines(ctx, element, pts[0], pts.slice(1), { color });
          drawHandles(ctx, evt.detail, data.handles, { color, handleRadius: this.configuration.handleRadius, drawHandlesIfActive: false, hideHandlesIfMoving: false });
          if (!r) {
            if (data.uuid) drawnLabels.delete(data.uuid);
            return;
          }
          const tb = data.handles.textBox ?? (data.handles.textBox = {});
          if (!tb.hasMoved) {
            // Beside the right-most end (a length) or the vertex (an angle), in image coordinates.
            const anchor = this.name === 'Length' ? (pts[0]!.x >= pts[1]!.x ? pts[0]! : pts[1]!) : pts[1]!;
            tb.x = anchor.x;
            tb.y = anchor.y;
          }
          drawLinkedTextBox(ctx, element, tb, r.text, data.handles, () => pts, color, lineWidth, 10, true);
          if (data.uuid) drawnLabels.set(data.uuid, r.text);
        });
      }
    }
  };
}

/**
 * Stops the annotation being drawn on `element` (or on every element): cornerstone-tools' cancel
 * removes the half-drawn annotation and unlocks the tools; a draft left behind (cornerstone-tools
 * forgets the manipulator of a draft when a new image is shown, without cancelling it) is removed
 * too, so no half-drawn arm follows the mouse and none is listed or saved.
 */
export function cancelDrawing(element?: HTMLElement): void {
  try {
    const mod = cornerstoneTools.getModule('manipulatorState') as { setters: { cancelActiveManipulators(): void; cancelActiveManipulatorsForElement(el: HTMLElement): void } };
    if (element) mod.setters.cancelActiveManipulatorsForElement(element);
    else mod.setters.cancelActiveManipulators();
  } catch {
    /* element not enabled (yet) */
  }
  const enabled = cornerstone.getEnabledElements() as { element: HTMLElement; image?: unknown }[];
  for (const el of enabled) {
    if (!el.image || (element && el.element !== element)) continue;
    let removed = false;
    for (const tool of ['Length', 'Angle', 'RectangleRoi', 'EllipticalRoi', 'Probe']) {
      const state = cornerstoneTools.getToolState(el.element, tool) as { data: Annotation[] } | undefined;
      for (const d of [...(state?.data ?? [])]) {
        if (!d.__draft) continue;
        cornerstoneTools.removeToolState(el.element, tool, d);
        removed = true;
      }
    }
    if (removed) {
      try {
        cornerstone.updateImage(el.element);
      } catch {
        /* element gone */
      }
    }
  }
}
