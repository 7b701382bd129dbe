import type { ReactNode } from 'react';
import type { ToolName } from '../../shared/viewer/shortcuts';
import type { RelativePreset } from '../../shared/viewer/presets';

/** A series as a viewport needs it: its instances in reading order, each with its frame count. */
export interface SeriesView {
  seriesId: string;
  label: string;
  modality: string;
  instances: { id: string; frames: number }[];
}

/** One image in a viewport's stack: an instance and a frame of it. */
export interface StackItem {
  imageId: string;
  instanceId: string;
  frame: number;
}

export function stackOf(series: SeriesView, imageIdFor: (id: string, frame: number, frames: number) => string): StackItem[] {
  const out: StackItem[] = [];
  for (const inst of series.instances) {
    const frames = Math.max(1, inst.frames || 1);
    for (let f = 0; f < frames; f++) out.push({ imageId: imageIdFor(inst.id, f, frames), instanceId: inst.id, frame: f });
  }
  return out;
}

/** Measurement as the viewer lists it. */
export interface MeasurementView {
  uuid: string;
  tool: ToolName;
  instanceId: string;
  frame: number;
  text: string;
}

/** What a viewport reports upwards, for the toolbar, tag inspector and measurement list. */
export interface ViewportStatus {
  index: number;
  imageId: string | null;
  instanceId: string | null;
  frame: number;
  position: number;
  count: number;
  modality: string;
  cinePlaying: boolean;
  fps: number;
  measurements: MeasurementView[];
}

/** Imperative commands the app sends to a viewport. */
export interface ViewportApi {
  preset(center: number, width: number): void;
  /** An MR / PET preset: a window from this image's own values (src/shared/viewer/presets.ts). */
  relativePreset(p: RelativePreset): void;
  view(op: 'fit' | 'actual-size' | 'rotate-right' | 'rotate-left' | 'flip-h' | 'flip-v' | 'invert' | 'reset'): void;
  scroll(delta: number | 'first' | 'last'): void;
  scrollTo(index: number): void;
  cine(op: 'toggle' | 'faster' | 'slower' | 'play' | 'stop'): void;
  setFps(fps: number): void;
  deleteMeasurement(uuid?: string): void;
}

/** What a viewport tells the badges drawn over it; the viewer does not know what they are. */
export interface ViewportBadgeContext {
  index: number;
  /** The series shown, null when empty. */
  seriesId: string | null;
  /** Its instance ids in order (the same array for the same series). */
  instanceIds: string[];
  /** The instance of the image on screen. */
  instanceId: string | null;
  /** True once the viewport has drawn an image. */
  ready: boolean;
}

/** A slot the app fills with badges for each viewport (e.g. the image's verification). */
export type ViewportBadges = (viewport: ViewportBadgeContext) => ReactNode;

/** What a viewport tells a layer drawn over its image (e.g. the AI heat map): where the image is on screen. */
export interface ViewportImageLayerContext {
  index: number;
  instanceId: string | null;
  imageSize: { columns: number; rows: number };
  /** Image pixel (col, row) → CSS pixels relative to the viewport's image box. */
  imageToScreen(col: number, row: number): { x: number; y: number };
}
export type ViewportImageLayer = (ctx: ViewportImageLayerContext) => ReactNode;
