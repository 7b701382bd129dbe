/** "Key images only" (src/renderer/keyimages/useKeyImageFilter.ts): the series narrowed to its key instances, in series order. */
import { describe, expect, it } from 'vitest';
import { keyImagesOnly } from '../../../src/renderer/keyimages/useKeyImageFilter';
import { stackOf, type SeriesView } from '../../../src/renderer/viewer/types';

const series: SeriesView = {
  seriesId: '7',
  label: 'Se 2 · chest',
  modality: 'CT',
  instances: [
    { id: '10', frames: 1 },
    { id: '11', frames: 1 },
    { id: '12', frames: 3 },
    { id: '13', frames: 1 },
  ],
};

describe('key images only', () => {
  it('keeps exactly the key instances, in series order, with every frame of a multi-frame key image', () => {
    const v = keyImagesOnly(series, new Set(['13', '10', '12', '99']))!;
    expect(v.instances.map((i) => i.id)).toEqual(['10', '12', '13']);
    expect(v.seriesId).toBe('7');
    expect(v.label).toBe('Se 2 · chest · key images');
    expect(stackOf(v, (id, f) => `${id}#${f}`).map((x) => x.imageId)).toEqual(['10#0', '12#0', '12#1', '12#2', '13#0']);
  });

  it('gives null when the series has no key image (the viewport keeps the whole series)', () => {
    expect(keyImagesOnly(series, new Set(['99']))).toBeNull();
  });
});
