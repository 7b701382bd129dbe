/**
 * The Length and Angle tools as the viewer uses them: Cornerstone3D's own tools for the mouse work
 * (create, drag, select), but what they draw next to the line is `measure()` of the handles in
 * image coordinates and the image's Pixel Spacing (src/shared/viewer/measure.ts) — the same function
 * the measurement list, the stored record and the export use — never the tool's own number.
 *
 * Every annotation the tools create is a draft until Cornerstone3D reports it completed; drafts and
 * incomplete measurements are never listed or saved (see measurements.ts).
 */
import { annotation as csAnnotation, cancelActiveManipulations, Enums as ToolEnums, type Types as ToolTypes } from '@cornerstonejs/tools';
import { eventTarget, getEnabledElements } from '@cornerstonejs/core';
import { measure, type MeasureKind } from '../../shared/viewer/measure';
import { metaOf } from './meta';
import { worldToImage } from './stackViewport';

type Annotation = ToolTypes.Annotation;

const KIND: Record<string, MeasureKind> = { Length: 'length', Angle: 'angle' };

/** What was last drawn next to each measurement (by uuid): read by the diagnostics for the tests. */
export const drawnLabels = new Map<string, string>();

/** The pixel spacing of an image as the header gives it (null when absent). */
export function spacingOf(imageId: string | undefined): number[] | null {
  return (imageId && metaOf(imageId)?.pixelSpacing) || null;
}

/** The measurement of legacy-format handles by our tool name, or null (not a length/angle, or incomplete). */
export function measureAnnotation(toolName: string, data: { handles?: unknown }, imageId: string | undefined) {
  const kind = KIND[toolName];
  return kind ? measure(kind, data.handles, spacingOf(imageId)) : null;
}

/** The image id behind a stack viewport's annotation target id ("imageId:<id>"). */
export function imageIdOfTarget(targetId: string | undefined): string | undefined {
  return targetId?.startsWith('imageId:') ? targetId.slice('imageId:'.length) : undefined;
}

/** World points → legacy handles (image coordinates) of a length ({start, end}) or angle ({start, middle, end}). */
export function lineHandles(kind: MeasureKind, points: readonly (readonly number[])[] | undefined, imageId: string | undefined) {
  if (!points || !imageId) return null;
  const names = kind === 'length' ? ['start', 'end'] : ['start', 'middle', 'end'];
  if (points.length < names.length) return null;
  const out: Record<string, { x: number; y: number }> = {};
  for (let i = 0; i < names.length; i++) {
    const p = worldToImage(imageId, points[i]!);
    if (!p) return null;
    out[names[i]!] = p;
  }
  return out;
}

/** The Length / Angle tools' configuration: their label is measure() of the handles. */
export function measuringConfiguration(tool: 'Length' | 'Angle'): Record<string, unknown> {
  const kind = KIND[tool]!;
  return {
    getTextLines: (data: { handles?: { points?: number[][] }; uuid?: string }, targetId: string) => {
      const imageId = imageIdOfTarget(targetId);
      const handles = lineHandles(kind, data.handles?.points, imageId);
      const r = handles ? measure(kind, handles, spacingOf(imageId)) : null;
      if (!r) {
        if (data.uuid) drawnLabels.delete(data.uuid);
        return [];
      }
      if (data.uuid) drawnLabels.set(data.uuid, r.text);
      return [r.text];
    },
  };
}

/** Marks the annotations the tools create as drafts (restored ones carry their uuid already). */
function watchDrafts(): void {
  eventTarget.addEventListener(ToolEnums.Events.ANNOTATION_ADDED, (ev: Event) => {
    const a = (ev as CustomEvent<{ annotation?: Annotation }>).detail?.annotation;
    if (!a) return;
    const data = a.data as { uuid?: string; __draft?: boolean };
    if (!data.uuid) {
      data.uuid = a.annotationUID;
      data.__draft = true;
    }
  });
  eventTarget.addEventListener(ToolEnums.Events.ANNOTATION_COMPLETED, (ev: Event) => {
    const a = (ev as CustomEvent<{ annotation?: Annotation }>).detail?.annotation;
    if (a && !cancelling.has(a.annotationUID ?? '')) delete (a.data as { __draft?: boolean }).__draft;
  });
}
if (typeof window !== 'undefined') watchDrafts();

const cancelling = new Set<string>();

/**
 * Cornerstone3D holds a click back for 400 ms (is it the first half of a double click?) unless
 * the mouse moves on. A tool switch or a new image in that window would cancel the measurement the
 * click was finishing (the third point of an angle, the end of a length), and every click would
 * land late. So the viewer tracks clicks on its elements and lets Cornerstone3D handle a click
 * still held back, right after the click and before any cancel: a small pointer move makes its
 * listener process the held click at once.
 */
const clicks = new WeakMap<HTMLElement, { downAt: number; upAt: number; x: number; y: number; moved: boolean }>();
const tracked = new Set<HTMLElement>();

export function trackClicks(el: HTMLElement): () => void {
  const down = (e: MouseEvent) => {
    if (!e.isTrusted) return;
    clicks.set(el, { downAt: performance.now(), upAt: 0, x: e.clientX, y: e.clientY, moved: false });
  };
  const up = (e: MouseEvent) => {
    const c = clicks.get(el);
    if (!c || !e.isTrusted) return;
    c.upAt = performance.now();
    // None of the viewer's tools uses a double click: hand the click over now (after
    // Cornerstone3D's own mouseup listener has seen it), so a click that finishes a length or an
    // angle lands at once instead of 400 ms later.
    if (!c.moved) setTimeout(flushHeldClicks, 0);
  };
  const move = (e: MouseEvent) => {
    const c = clicks.get(el);
    if (c && Math.abs(e.clientX - c.x) + Math.abs(e.clientY - c.y) > 3) c.moved = true;
  };
  el.addEventListener('mousedown', down, true);
  document.addEventListener('mouseup', up, true);
  el.addEventListener('mousemove', move, true);
  tracked.add(el);
  return () => {
    el.removeEventListener('mousedown', down, true);
    document.removeEventListener('mouseup', up, true);
    el.removeEventListener('mousemove', move, true);
    tracked.delete(el);
  };
}

export function flushHeldClicks(): void {
  const now = performance.now();
  for (const el of tracked) {
    const c = clicks.get(el);
    if (!c || c.moved || !(c.upAt >= c.downAt) || now - c.downAt > 450) continue;
    clicks.delete(el);
    // A move past its 3-pixel tolerance makes the listener process the held click as it was (its
    // own mousedown, left button), then the pointer is put back where the click was. (A mousedown
    // with other buttons also flushes it, but the tools then read that event's buttons: a probe
    // click became a middle-button click — Pan — and no probe was added.)
    el.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, cancelable: true, buttons: 0, clientX: c.x + 5, clientY: c.y }));
    el.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, cancelable: true, buttons: 0, clientX: c.x, clientY: c.y }));
  }
}

/**
 * Stops the annotation being drawn on `element` (or on every element): the draft is removed, so no
 * half-drawn arm follows the mouse and none is listed or saved. (Cornerstone3D's cancel would keep
 * it and report it completed.)
 */
export function cancelDrawing(element?: HTMLElement): void {
  flushHeldClicks();
  const drafts = (csAnnotation.state.getAllAnnotations() as Annotation[]).filter((a) => (a.data as { __draft?: boolean }).__draft);
  for (const a of drafts) cancelling.add(a.annotationUID!);
  try {
    for (const e of getEnabledElements()) {
      if (element && e.viewport.element !== element) continue;
      try {
        cancelActiveManipulations(e.viewport.element);
      } catch {
        /* nothing to cancel */
      }
    }
    for (const a of drafts) csAnnotation.state.removeAnnotation(a.annotationUID!);
  } finally {
    for (const a of drafts) cancelling.delete(a.annotationUID!);
  }
  if (drafts.length) {
    for (const e of getEnabledElements()) {
      try {
        e.viewport.render();
      } catch {
        /* gone */
      }
    }
  }
}
