import { describe, expect, it } from 'vitest';
import { reportTiming, SCROLL_REPORT_MS } from '../../src/renderer/viewer/statusTiming';
import type { ViewportStatus } from '../../src/renderer/viewer/types';

const at = (position: number, over: Partial<ViewportStatus> = {}): ViewportStatus => ({
  index: 0,
  imageId: `wadouri:http://x/dicom/${position + 1}`,
  instanceId: String(position + 1),
  frame: 0,
  position,
  count: 200,
  modality: 'CT',
  cinePlaying: false,
  fps: 15,
  measurements: [],
  ...over,
});

describe('viewport status report timing', () => {
  it('holds back a lone viewport\'s scroll step shortly after the last report', () => {
    expect(reportTiming(at(4), at(5), 16, false)).toBe('later');
    expect(reportTiming(at(4), at(5), SCROLL_REPORT_MS - 1, false)).toBe('later');
  });
  it('sends a scroll step once the interval has passed, so a long scroll still reports every SCROLL_REPORT_MS', () => {
    expect(reportTiming(at(4), at(5), SCROLL_REPORT_MS, false)).toBe('frame');
  });
  it('sends every step in the next frame when other viewports follow this one (linked scrolling, reference lines)', () => {
    expect(reportTiming(at(4), at(5), 16, true)).toBe('frame');
  });
  it('sends at once whatever is not a scroll step: cine, a new series, a measurement, an image that failed, the first report', () => {
    expect(reportTiming(at(4), at(4, { cinePlaying: true }), 16, false)).toBe('frame');
    expect(reportTiming(at(4), at(5, { count: 120 }), 16, false)).toBe('frame');
    expect(reportTiming(at(4), at(4, { measurements: [] }), 16, false)).toBe('frame');
    expect(reportTiming(at(4), at(5, { imageId: null }), 16, false)).toBe('frame');
    expect(reportTiming(at(4), at(5, { fps: 20 }), 16, false)).toBe('frame');
    expect(reportTiming(null, at(5), 16, false)).toBe('frame');
  });
});
