/**
 * The fingerprint worker's warm-up slice (src/node/fingerprint/warmup.ts) must take the streamed
 * path (the code it is there to compile) and get exactly the reference digests on it.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { fingerprintBytes, fingerprintStreamedBytes, readCounts, STREAM_CHUNK_BYTES } from '../../../src/node/fingerprint/compute';
import { syntheticSlice, WARM_UP_ROWS, warmUpFilePath, warmUpStreamedPath } from '../../../src/node/fingerprint/warmup';

describe('fingerprint worker warm-up', () => {
  it('is a native slice of more than one chunk that the streamed path takes, with the reference digests', async () => {
    const bytes = syntheticSlice(288);
    expect(bytes.length).toBeGreaterThan(STREAM_CHUNK_BYTES);
    const streamed = fingerprintStreamedBytes(bytes);
    expect(streamed).not.toBeNull();
    const reference = await fingerprintBytes(new Uint8Array(bytes));
    expect(streamed).toEqual(reference);
    expect(streamed!.pixelMode).toBe('native');
    expect(streamed!.sopInstanceUid).toMatch(/^2\.25\.\d+\.3\.1$/);
    expect(streamed!.leaf).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('streams in any chunk size (smaller than the file) to the same digests, and the warm-up returns them', async () => {
    const bytes = syntheticSlice(192, 7);
    const reference = await fingerprintBytes(new Uint8Array(bytes));
    for (const chunk of [4096, 65_537, 70_001]) expect(fingerprintStreamedBytes(bytes, chunk)).toEqual(reference);
    expect(warmUpStreamedPath(2)).toEqual(await fingerprintBytes(syntheticSlice()));
  });

  it('the worker warm-up reads the slice from a temporary file through fingerprintFile (streamed), gets the reference digests and cleans up', async () => {
    const leftovers = () => readdirSync(tmpdir()).filter((f) => f.startsWith('medimg-fp-warmup-')).length;
    const before = leftovers();
    const counts = { ...readCounts };
    const got = await warmUpFilePath(3);
    expect(got).not.toBeNull();
    expect(got).toEqual(await fingerprintBytes(syntheticSlice(WARM_UP_ROWS)));
    expect(readCounts).toEqual(counts); // the thread's counts are the caller's files only
    expect(leftovers()).toBe(before);
  });
});
