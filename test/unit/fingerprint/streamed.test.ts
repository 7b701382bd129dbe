/**
 * The worker's streamed read (src/node/fingerprint/compute.ts): a native slice whose Pixel Data
 * ends the file is read in cache-sized chunks, each hashed for `file` and its pixel part for
 * `pixel`. Its digests must be the reference implementation's (fingerprintBytes) for every layout
 * it takes — samples split across chunk borders, bits outside Bits Stored, odd lengths — and a
 * file it does not take must still get the reference digests (the whole-file read).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprintBytes, fingerprintFile, readCounts } from '../../../src/node/fingerprint/compute';
import { write } from './make-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'medimg-fp-streamed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ROOT = '1.2.826.0.1.3680043.10.1234.77.';

/** Deterministic pseudo-random bytes. */
function noise(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

interface Case {
  name: string;
  ds: Record<string, unknown>;
  bytes: number;
  /** Expected to take the streamed path. */
  streamed: boolean;
  /** Bytes appended after Pixel Data (a trailing element). */
  trailer?: Uint8Array;
}

const mono = (bits: number, stored: number, high: number, signed: number) => ({
  SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2', BitsAllocated: bits, BitsStored: stored, HighBit: high, PixelRepresentation: signed,
});
// (FFFC,FFFC) Data Set Trailing Padding, OB, 4 bytes: an element after Pixel Data
const padding = new Uint8Array([0xfc, 0xff, 0xfc, 0xff, 0x4f, 0x42, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]);
const cases: Case[] = [
  { name: 'ct16', ds: { Rows: 64, Columns: 61, ...mono(16, 16, 15, 1) }, bytes: 64 * 61 * 2, streamed: true },
  { name: 'signed12-junk', ds: { Rows: 64, Columns: 61, ...mono(16, 12, 11, 1) }, bytes: 64 * 61 * 2, streamed: true },
  { name: 'unsigned12-high13', ds: { Rows: 40, Columns: 33, ...mono(16, 12, 13, 0) }, bytes: 40 * 33 * 2, streamed: true },
  { name: 'signed20-of-32', ds: { Rows: 20, Columns: 21, ...mono(32, 20, 19, 1) }, bytes: 20 * 21 * 4, streamed: true },
  { name: 'odd8-padded', ds: { Rows: 33, Columns: 31, ...mono(8, 7, 6, 0) }, bytes: 33 * 31, streamed: true },
  { name: 'rgb-3-frames', ds: { Rows: 17, Columns: 19, NumberOfFrames: '3', SamplesPerPixel: 3, PhotometricInterpretation: 'RGB', BitsAllocated: 8, BitsStored: 8, HighBit: 7, PixelRepresentation: 0, PlanarConfiguration: 0 }, bytes: 17 * 19 * 3 * 3, streamed: true },
  { name: 'rgb-planar', ds: { Rows: 17, Columns: 19, SamplesPerPixel: 3, PhotometricInterpretation: 'RGB', BitsAllocated: 8, BitsStored: 8, HighBit: 7, PixelRepresentation: 0, PlanarConfiguration: 1 }, bytes: 17 * 19 * 3, streamed: false },
  { name: 'trailing-padding', ds: { Rows: 64, Columns: 61, ...mono(16, 12, 11, 1) }, bytes: 64 * 61 * 2, streamed: false, trailer: padding },
];

function file(c: Case, i: number): string {
  const pixels = noise(c.bytes, 1000 + i); // junk above High Bit in every layout with Bits Stored < Bits Allocated
  const f = write(`${c.name}.dcm`, `${ROOT}${i}`, { Modality: 'CT', ...c.ds }, pixels);
  const bytes = c.trailer ? Buffer.concat([f.bytes, c.trailer]) : f.bytes;
  const path = join(dir, f.name);
  writeFileSync(path, bytes);
  return path;
}

describe('streamed fingerprint read', () => {
  const files = cases.map((c, i) => ({ c, path: file(c, i) }));

  for (const chunkBytes of [200, 1001, 4096, 65536]) {
    it(`${chunkBytes}-byte chunks: every layout gets the reference digests, and the usual ones stream`, async () => {
      for (const { c, path } of files) {
            const ref = await fingerprintBytes(new Uint8Array(readFileSync(path)));
        const before = readCounts.streamed;
        const o = await fingerprintFile(path, undefined, { chunkBytes });
        expect(o.ok && 'fingerprint' in o, c.name).toBe(true);
        const f = (o as { fingerprint: typeof ref }).fingerprint;
        expect({ file: f.file, pixel: f.pixel, meta: f.meta, leaf: f.leaf, mode: f.pixelMode, frames: f.frames, size: f.size }, c.name).toEqual({
          file: ref.file, pixel: ref.pixel, meta: ref.meta, leaf: ref.leaf, mode: 'native', frames: ref.frames, size: ref.size,
        });
        // a file no larger than one chunk is read whole
        const streams = c.streamed && ref.size > chunkBytes;
        expect(readCounts.streamed - before, `${c.name} streamed`).toBe(streams ? 1 : 0);
      }
    });
  }

  it('a changed pixel changes pixel and file but not meta, on the streamed path', async () => {
    const { path } = files[1]!;
    const bytes = new Uint8Array(readFileSync(path));
    const a = await fingerprintFile(path, undefined, { chunkBytes: 1001 });
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x01; // a stored bit of the last sample (low byte)
    const edited = join(dir, 'edited.dcm');
    writeFileSync(edited, bytes);
    const b = await fingerprintFile(edited, undefined, { chunkBytes: 1001 });
    const fa = (a as { fingerprint: { file: string; pixel: string; meta: string } }).fingerprint;
    const fb = (b as { fingerprint: { file: string; pixel: string; meta: string } }).fingerprint;
    expect(fb.meta).toBe(fa.meta);
    expect(fb.pixel).not.toBe(fa.pixel);
    expect(fb.file).not.toBe(fa.file);
    expect(fb.pixel).toBe((await fingerprintBytes(bytes)).pixel);
  });

  it('the library\'s recorded file digest is the file digest when size and modification time still match (one SHA-256 pass), else ignored', async () => {
    for (const { c, path } of files) {
      const ref = await fingerprintBytes(new Uint8Array(readFileSync(path)));
      const st = statSync(path);
      for (const chunkBytes of [1001, 65536]) {
        // the real digest recorded: every digest as without it, on both read paths
        const same = await fingerprintFile(path, undefined, { chunkBytes, recorded: { sha256: ref.file, size: st.size, mtimeMs: st.mtimeMs } });
        const f = (same as { fingerprint: typeof ref }).fingerprint;
        expect({ file: f.file, pixel: f.pixel, meta: f.meta, leaf: f.leaf }, c.name).toEqual({ file: ref.file, pixel: ref.pixel, meta: ref.meta, leaf: ref.leaf });
        // taken, not recomputed: a recorded value for this size and time is what `file` says
        const taken = await fingerprintFile(path, undefined, { chunkBytes, recorded: { sha256: 'ab'.repeat(32), size: st.size, mtimeMs: st.mtimeMs } });
        expect((taken as { fingerprint: typeof ref }).fingerprint.file, c.name).toBe('ab'.repeat(32));
        expect((taken as { fingerprint: typeof ref }).fingerprint.pixel, c.name).toBe(ref.pixel);
        // recorded at another modification time or size: the file is hashed
        for (const stale of [{ size: st.size, mtimeMs: st.mtimeMs - 1000 }, { size: st.size + 1, mtimeMs: st.mtimeMs }]) {
          const o = await fingerprintFile(path, undefined, { chunkBytes, recorded: { sha256: 'ab'.repeat(32), ...stale } });
          expect((o as { fingerprint: typeof ref }).fingerprint.file, c.name).toBe(ref.file);
        }
      }
    }
  });

  it('a file cut short inside its pixel data is TRUNCATED, as on the whole-file path', async () => {
    const bytes = readFileSync(files[0]!.path);
    const cut = join(dir, 'cut.dcm');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const o = await fingerprintFile(cut, undefined, { chunkBytes: 1001 });
    expect(o.ok).toBe(false);
    expect(!o.ok && o.error.reject).toBe('TRUNCATED');
  });
});
