/** decodeFrames (src/node/dicom/decode) on pydicom's files of every transfer syntax, against pydicom where it can decode. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrames } from '../../../src/node/dicom/decode';
import { parseDicomBytes } from '../../../src/node/dicom/parse';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const bytes = (n: string) => new Uint8Array(readFileSync(join(PYDICOM, n)));
const sha = (frames: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const f of frames) h.update(f);
  return h.digest('hex');
};

describe('decodeFrames', () => {
  it('decodes every lossless syntax of MR_small to the same frame, from bytes or from a parsed DataSet', async () => {
    const ref = sha((await decodeFrames(bytes('MR_small.dcm'))).frames);
    for (const n of ['MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm', 'MR_small_jpeg_ls_lossless.dcm', 'MR_small_jp2klossless.dcm']) {
      const d = await decodeFrames(bytes(n));
      expect(d).toMatchObject({ rows: 64, columns: 64, bitsAllocated: 16, samplesPerPixel: 1, pixelRepresentation: 1, numberOfFrames: 1, lossy: false });
      expect(sha(d.frames), n).toBe(ref);
      const p = parseDicomBytes(bytes(n));
      expect(sha((await decodeFrames(p.dataSet, { transferSyntaxUid: p.transferSyntaxUid })).frames)).toBe(ref);
    }
  });

  it('decodes lossy JPEG baseline (to RGB) and JPEG 2000; the JPEG keeps the mean colour of the lossless version', async () => {
    const rgb = await decodeFrames(bytes('SC_rgb_jpeg_dcmtk.dcm'));
    expect(rgb).toMatchObject({ rows: 100, columns: 100, samplesPerPixel: 3, photometricInterpretation: 'RGB', lossy: true, source: 'decoded' });
    expect(rgb.frames[0]!.length).toBe(100 * 100 * 3);
    const j2k = await decodeFrames(bytes('JPEG2000.dcm'));
    expect(j2k.frames[0]!.length).toBe(1024 * 256 * 2);
    // the lossless RLE version of the same test image is the reference: the lossy decode keeps its mean colour
    const ref = await decodeFrames(bytes('SC_rgb_rle.dcm'));
    const mean = (b: Uint8Array) => b.reduce((a, v) => a + v, 0) / b.length;
    expect(Math.abs(mean(rgb.frames[0]!) - mean(ref.frames[0]!))).toBeLessThan(3);
  });

  it('multi-frame: all frames or the ones asked for; 32-bit RLE; 1-bit packed', async () => {
    const all = await decodeFrames(bytes('SC_rgb_rle_32bit_2frame.dcm'));
    expect(all.frames).toHaveLength(2);
    const second = await decodeFrames(bytes('SC_rgb_rle_32bit_2frame.dcm'), { frames: [1] });
    expect(Buffer.compare(Buffer.from(second.frames[0]!), Buffer.from(all.frames[1]!))).toBe(0);
    const dose = await decodeFrames(bytes('rtdose.dcm'));
    expect(dose.frames).toHaveLength(15);
    const py = execFileSync('/usr/bin/python3', ['-c', `import pydicom;a=pydicom.dcmread('${join(PYDICOM, 'rtdose.dcm')}').pixel_array;print(int(a[3].sum()))`], { encoding: 'utf8' }).trim();
    const f3 = new Uint32Array(dose.frames[3]!.slice().buffer);
    expect(String(f3.reduce((a, v) => a + v, 0))).toBe(py);
    const bits = await decodeFrames(bytes('liver_1frame.dcm'));
    expect(bits.bitsAllocated).toBe(1);
    expect(bits.frames[0]!.length).toBe((512 * 512) / 8);
  });

  it('errors: 12-bit JPEG extended cannot be decoded by the 8-bit codec; no pixel data; a frame that does not exist', async () => {
    await expect(decodeFrames(bytes('JPGExtended.dcm'))).rejects.toMatchObject({ code: 'UNSUPPORTED_TRANSFER_SYNTAX' });
    await expect(decodeFrames(bytes('rtplan.dcm'))).rejects.toMatchObject({ code: 'MALFORMED' });
    await expect(decodeFrames(bytes('MR_small.dcm'), { frames: [1] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
