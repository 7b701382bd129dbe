/**
 * The fingerprint worker's warm-up: a synthetic CT-like slice (Explicit VR Little Endian, the
 * elements a scanner writes, one sequence, 16-bit pixels) fingerprinted a couple of thousand times
 * before the worker takes its first file. A fresh worker otherwise runs its first few hundred files
 * in V8's interpreter while the optimising compiler works on other threads: on 1,000 512² CT slices
 * that cost about 0.1 ms of CPU per image in a worker's first run.
 *
 * The slice goes through the worker's own path (warmUpFilePath): written once to a temporary file,
 * then read and fingerprinted by fingerprintFile like any file, so the code compiled is the code
 * that runs — the open, stat, chunked reads and the read callback included. Warmed on the slice
 * held in memory instead (warmUpStreamedPath, the fallback), the first real files still had the
 * file-reading half and the streamed loop itself compiled (and the loop recompiled) while they were
 * read: 0.05–0.1 ms of CPU per image in the compiler's threads over a 1,000-slice run.
 */
import { mkdtempSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintFile, fingerprintStreamedBytes, readCounts, type InstanceFingerprint } from './compute';

const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const ROOT = '2.25.302208163612781095367541196530958761371';

/** VRs with a 2-byte reserved field and a 4-byte length in Explicit VR (PS3.5 §7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);

/** A value, or a sequence's items (each a list of elements). */
type Value = string | number | Uint8Array | El[][];
type El = [group: number, element: number, vr: string, value: Value];

class Out {
  private parts: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const le = (n: number, width: 2 | 4): Uint8Array => {
  const b = new Uint8Array(width);
  for (let i = 0; i < width; i++) b[i] = (n >>> (8 * i)) & 0xff;
  return b;
};

function valueBytes(vr: string, v: Value): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'number') return vr === 'UL' ? le(v, 4) : le(v, 2);
  if (typeof v === 'string') {
    const s = v.length % 2 ? v + (vr === 'UI' ? '\0' : ' ') : v;
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  }
  throw new Error('a sequence has no value bytes');
}

function encode(out: Out, elements: El[]): void {
  for (const [g, e, vr, v] of elements) {
    out.push(le(g, 2));
    out.push(le(e, 2));
    out.push(Uint8Array.from(vr, (c) => c.charCodeAt(0)));
    if (vr === 'SQ') {
      // undefined length, items of undefined length, delimited
      out.push(new Uint8Array([0, 0, 0xff, 0xff, 0xff, 0xff]));
      for (const item of v as El[][]) {
        out.push(new Uint8Array([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]));
        encode(out, item);
        out.push(new Uint8Array([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]));
      }
      out.push(new Uint8Array([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]));
      continue;
    }
    const b = valueBytes(vr, v);
    if (LONG_VRS.has(vr)) {
      out.push(new Uint8Array(2));
      out.push(le(b.length, 4));
    } else out.push(le(b.length, 2));
    out.push(b);
  }
}

/** A synthetic 16-bit CT slice of `rows`² pixels as a Part-10 file (deterministic bytes). */
export function syntheticSlice(rows = 192, instance = 1): Uint8Array {
  const sop = `${ROOT}.3.${instance}`;
  const meta = new Out();
  encode(meta, [
    [0x0002, 0x0001, 'OB', new Uint8Array([0, 1])],
    [0x0002, 0x0002, 'UI', CT_IMAGE_STORAGE],
    [0x0002, 0x0003, 'UI', sop],
    [0x0002, 0x0010, 'UI', EXPLICIT_VR_LE],
    [0x0002, 0x0012, 'UI', `${ROOT}.9`],
  ]);
  const pixels = new Uint8Array(rows * rows * 2);
  let x = 0x9e3779b9 ^ instance;
  for (let i = 0; i < pixels.length; i += 2) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pixels[i] = x & 0xff;
    pixels[i + 1] = (x >>> 8) & 0x0f;
  }
  const code: El[] = [[0x0008, 0x0100, 'SH', 'CTCHEST'], [0x0008, 0x0102, 'SH', 'LOCAL'], [0x0008, 0x0104, 'LO', 'CT chest']];
  const body = new Out();
  encode(body, [
    [0x0008, 0x0005, 'CS', 'ISO_IR 100'],
    [0x0008, 0x0008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'],
    [0x0008, 0x0016, 'UI', CT_IMAGE_STORAGE],
    [0x0008, 0x0018, 'UI', sop],
    [0x0008, 0x0020, 'DA', '20261130'],
    [0x0008, 0x0030, 'TM', '081500'],
    [0x0008, 0x0050, 'SH', 'WARMUP1'],
    [0x0008, 0x0060, 'CS', 'CT'],
    [0x0008, 0x0070, 'LO', 'MedImgShr warm-up'],
    [0x0008, 0x1032, 'SQ', [code]],
    [0x0010, 0x0010, 'PN', 'WARMUP^SYNTHETIC'],
    [0x0010, 0x0020, 'LO', 'WARMUP'],
    [0x0018, 0x0050, 'DS', '1.25'],
    [0x0018, 0x0060, 'DS', '120'],
    [0x0020, 0x000d, 'UI', `${ROOT}.1`],
    [0x0020, 0x000e, 'UI', `${ROOT}.2`],
    [0x0020, 0x0013, 'IS', String(instance)],
    [0x0020, 0x0032, 'DS', '-179.6\\-179.6\\-1248.75'],
    [0x0020, 0x0037, 'DS', '1\\0\\0\\0\\1\\0'],
    [0x0028, 0x0002, 'US', 1],
    [0x0028, 0x0004, 'CS', 'MONOCHROME2'],
    [0x0028, 0x0010, 'US', rows],
    [0x0028, 0x0011, 'US', rows],
    [0x0028, 0x0030, 'DS', '0.703125\\0.703125'],
    [0x0028, 0x0100, 'US', 16],
    [0x0028, 0x0101, 'US', 16],
    [0x0028, 0x0102, 'US', 15],
    [0x0028, 0x0103, 'US', 1],
    [0x0028, 0x1050, 'DS', '40'],
    [0x0028, 0x1051, 'DS', '400'],
    [0x0028, 0x1052, 'DS', '-1024'],
    [0x0028, 0x1053, 'DS', '1'],
    [0x7fe0, 0x0010, 'OW', pixels],
  ]);
  const file = new Out();
  file.push(new Uint8Array(128));
  file.push(Uint8Array.from('DICM', (c) => c.charCodeAt(0)));
  encode(file, [[0x0002, 0x0000, 'UL', meta.length]]);
  file.push(meta.bytes());
  file.push(body.bytes());
  return file.bytes();
}

/**
 * Fingerprints the synthetic slice `times` times through the streamed path (what a worker does
 * with a native slice), so its code is compiled before the first real file. Returns the last
 * result (null if the slice was not streamed, which the tests rule out).
 */
export function warmUpStreamedPath(times = 300): InstanceFingerprint | null {
  const bytes = syntheticSlice();
  let last: InstanceFingerprint | null = null;
  for (let i = 0; i < times; i++) last = fingerprintStreamedBytes(bytes, WARM_UP_CHUNK_BYTES);
  return last;
}

/**
 * The streamed read's chunk during the warm-up: smaller than the worker's, so the loop over chunks
 * (the part of the path that runs most) turns often enough to be optimised early.
 */
const WARM_UP_CHUNK_BYTES = 4 * 1024;
/** 64² 16-bit pixels: three chunks, and a file cheap enough to be read a few thousand times. */
export const WARM_UP_ROWS = 64;

/**
 * Fingerprints the synthetic slice `times` times through fingerprintFile, from a temporary file
 * (removed afterwards). Returns the last result; null when the slice could not be written or read
 * that way (the caller then warms up on the bytes in memory). The thread's read counts are left as
 * they were.
 */
export async function warmUpFilePath(times = 2000): Promise<InstanceFingerprint | null> {
  const counts = { ...readCounts };
  let dir: string | null = null;
  let path: string | null = null;
  try {
    dir = mkdtempSync(join(tmpdir(), 'medimg-fp-warmup-'));
    const file = join(dir, 'slice.dcm');
    path = file;
    writeFileSync(file, syntheticSlice(WARM_UP_ROWS));
    let last: InstanceFingerprint | null = null;
    for (let i = 0; i < times; i++) {
      const o = await fingerprintFile(file, undefined, { chunkBytes: WARM_UP_CHUNK_BYTES });
      if (!o.ok || !('fingerprint' in o)) return null;
      last = o.fingerprint;
    }
    return last;
  } catch {
    return null;
  } finally {
    // unlink + rmdir, not rmSync: Node 20's rmSync threw away V8's optimised code of every
    // function that writes typed arrays (the canonical encoding, the leaf), which the first files
    // then paid for again
    try {
      if (path) unlinkSync(path);
      if (dir) rmdirSync(dir);
    } catch {
      // a temporary file left behind
    }
    Object.assign(readCounts, counts);
  }
}
