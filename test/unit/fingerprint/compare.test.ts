import { describe, expect, it } from 'vitest';
import { compareFingerprints, type Comparable } from '../../../src/core/fingerprint';

const fp = (pixel: string, meta: string, file: string, pixelMode: Comparable['pixelMode'] = 'native'): Comparable => ({ pixel, meta, file, pixelMode, sopInstanceUid: '1.2.3' });

describe('compare: which digests agree, in words', () => {
  it.each([
    [fp('p', 'm', 'f'), fp('p', 'm', 'f'), 'identical', /identical files/],
    [fp('p', 'm', 'f'), fp('p', 'm', 'g', 'decoded'), 'same-image-different-encoding', /same pixels, same metadata, different file/],
    [fp('p', 'm', 'f'), fp('p', 'n', 'g'), 'same-pixels-different-metadata', /same pixels, different metadata/],
    [fp('p', 'm', 'f'), fp('q', 'm', 'g'), 'same-metadata-different-pixels', /pixels were altered/],
    [fp('p', 'm', 'f'), fp('q', 'n', 'g'), 'different', /different images/],
    [fp('p', 'm', 'f', 'fragments'), fp('q', 'm', 'g', 'native'), 'pixels-not-comparable', /lossy/],
  ])('%# → %s', (a, b, verdict, words) => {
    const c = compareFingerprints(a, b);
    expect(c.verdict).toBe(verdict);
    expect(c.meaning).toMatch(words);
    expect(c.pixel).toBe(a.pixel === b.pixel);
    expect(c.meta).toBe(a.meta === b.meta);
    expect(c.file).toBe(a.file === b.file);
  });
});
