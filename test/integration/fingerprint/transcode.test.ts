/**
 * Lossless re-encodings made by another toolkit (dcmtk) keep `pixel` and `meta` and change `file`.
 * Sources: pydicom's MR_small and CT_small (read in place), the generated fixtures (signed 12-bit
 * with junk high bits, RGB, multi-frame) and a generated 512×512 CT slice.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { fingerprintBytes, type InstanceFingerprint } from '../../../src/node/fingerprint/compute';
import { tempDir } from '../../support/tmp';
import { encodeJ2kLossless } from '../../unit/fingerprint/j2k-encode';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const FIXTURES = join(__dirname, '../../fixtures/fingerprint');
const have = (tool: string) => {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
if (!have('dcmconv') && process.env.CI) throw new Error('dcmtk is required under CI');
const tmp = tempDir('medimg-fp-transcode-');
const fp = async (p: string): Promise<InstanceFingerprint> => fingerprintBytes(new Uint8Array(readFileSync(p)));
const run = (tool: string, args: string[]) => execFileSync(tool, args, { stdio: 'pipe' });

const sources: Record<string, string> = {};
beforeAll(async () => {
  sources['MR_small'] = join(PYDICOM, 'MR_small.dcm');
  sources['CT_small'] = join(PYDICOM, 'CT_small.dcm');
  sources['signed12'] = join(FIXTURES, 'signed12.dcm');
  sources['rgb'] = join(FIXTURES, 'rgb-interleaved.dcm');
  sources['multiframe'] = join(FIXTURES, 'multiframe.dcm');
  const ct = await writeSampleSeries({ outDir: join(tmp.path, 'sample'), slices: 1, kind: 'ct', seed: 7 });
  sources['sample-ct-512'] = ct.files[0]!;
});
afterAll(() => tmp.cleanup());

/** [label, tool, args before input/output] — each output must keep pixel and meta. */
const ENCODINGS: [string, string, string[]][] = [
  ['implicit VR LE (dcmconv +ti)', 'dcmconv', ['+ti']],
  ['explicit VR BE (dcmconv +tb)', 'dcmconv', ['+tb']],
  ['explicit VR LE (dcmconv +te)', 'dcmconv', ['+te']],
  ['deflated (dcmconv +td)', 'dcmconv', ['+td']],
  ['RLE (dcmcrle)', 'dcmcrle', []],
  ['JPEG-LS lossless (dcmcjpls)', 'dcmcjpls', []],
];

describe.skipIf(!have('dcmconv'))('lossless re-encoding with dcmtk keeps pixel and meta', () => {
  for (const name of ['MR_small', 'CT_small', 'signed12', 'rgb', 'multiframe', 'sample-ct-512']) {
    it(`${name}: ${ENCODINGS.map((e) => e[0]).join(', ')}, and back`, async () => {
      const src = sources[name]!;
      const orig = await fp(src);
      expect(orig.pixelMode).toBe('native');
      const seen = new Set([orig.file]);
      for (const [label, tool, args] of ENCODINGS) {
        const out = join(tmp.path, `${name}-${tool}-${args.join('')}.dcm`);
        run(tool, [...args, src, out]);
        const f = await fp(out);
        expect(f.pixel, `${name} ${label}: pixel`).toBe(orig.pixel);
        expect(f.meta, `${name} ${label}: meta`).toBe(orig.meta);
        expect(f.sopInstanceUid).toBe(orig.sopInstanceUid);
        expect(f.leaf, `${name} ${label}: leaf`).toBe(orig.leaf);
        expect(seen.has(f.file), `${name} ${label}: file digest must differ`).toBe(false);
        seen.add(f.file);
        if (tool === 'dcmcjpls' || tool === 'dcmcrle') {
          expect(f.pixelMode).toBe('decoded');
          // and decompressed again by dcmtk
          const back = join(tmp.path, `${name}-${tool}-back.dcm`);
          run(tool === 'dcmcjpls' ? 'dcmdjpls' : 'dcmdrle', [out, back]);
          const g = await fp(back);
          expect(g.pixel).toBe(orig.pixel);
          expect(g.meta).toBe(orig.meta);
        }
      }
    });
  }

  it('JPEG lossless (dcmcjpeg +e1, +el): same pixel; meta differs only by the Derivation Description dcmcjpeg adds', async () => {
    for (const name of ['MR_small', 'CT_small', 'sample-ct-512']) {
      const orig = await fp(sources[name]!);
      for (const mode of ['+e1', '+el']) {
        const out = join(tmp.path, `${name}-jpeg${mode}.dcm`);
        run('dcmcjpeg', [mode, sources[name]!, out]);
        const f = await fp(out);
        expect(f.transferSyntaxUid).toBe(mode === '+e1' ? '1.2.840.10008.1.2.4.70' : '1.2.840.10008.1.2.4.57');
        expect(f.pixelMode).toBe('decoded');
        expect(f.pixel, `${name} ${mode}`).toBe(orig.pixel);
        expect(f.meta).not.toBe(orig.meta);
        run('dcmodify', ['-nb', '-ea', '(0008,2111)', out]);
        expect((await fp(out)).meta, `${name} ${mode} without (0008,2111)`).toBe(orig.meta);
      }
    }
  });

  it('JPEG 2000 lossless (OpenJPEG reversible encoder, file written by dcmjs; Debian\'s dcmtk has no dcmcjp2k) keeps pixel and meta', async () => {
    for (const name of ['MR_small', 'sample-ct-512']) {
      const orig = await fp(sources[name]!);
      const out = join(tmp.path, `${name}-j2k.dcm`);
      writeFileSync(out, await encodeJ2kLossless(new Uint8Array(readFileSync(sources[name]!))));
      const f = await fp(out);
      expect(f.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.90');
      expect(f.pixelMode).toBe('decoded');
      expect(f.pixel, name).toBe(orig.pixel);
      expect(f.meta, name).toBe(orig.meta);
      expect(f.file).not.toBe(orig.file);
      // dcmtk reads it back to the same pixels
      const back = join(tmp.path, `${name}-j2k-back.dcm`);
      if (have('dcmdjp2k')) {
        run('dcmdjp2k', [out, back]);
        expect((await fp(back)).pixel).toBe(orig.pixel);
      }
    }
  });

  it('pydicom\'s own JPEG 2000 lossless, JPEG-LS, RLE and big-endian versions of MR_small agree with it', async () => {
    const orig = await fp(sources['MR_small']!);
    for (const n of ['MR_small_jp2klossless.dcm', 'MR_small_jpeg_ls_lossless.dcm', 'MR_small_RLE.dcm', 'MR_small_bigendian.dcm', 'MR_small_implicit.dcm']) {
      const f = await fp(join(PYDICOM, n));
      expect(f.pixel, n).toBe(orig.pixel);
      expect(f.meta, n).toBe(orig.meta);
    }
  });

  it('the pixel digest of native and decoded files equals SHA-256 of pydicom\'s pixel_array (an independent reader)', async () => {
    const files = ['MR_small.dcm', 'MR_small_RLE.dcm', 'MR_small_bigendian.dcm', 'CT_small.dcm', 'rtdose.dcm', 'rtdose_rle.dcm', 'SC_rgb_rle.dcm', 'SC_rgb_rle_16bit.dcm', 'image_dfl.dcm'];
    const py = execFileSync(
      '/usr/bin/python3',
      ['-c', `import pydicom,hashlib,sys\nfor f in sys.argv[1:]:\n  a=pydicom.dcmread(f).pixel_array\n  print(hashlib.sha256(a.astype(a.dtype.newbyteorder('<')).tobytes()).hexdigest())`, ...files.map((f) => join(PYDICOM, f))],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n');
    for (const [i, f] of files.entries()) expect((await fp(join(PYDICOM, f))).pixel, f).toBe(py[i]);
  });

  it('a copy is identical in all three digests', async () => {
    const copy = join(tmp.path, 'copy.dcm');
    copyFileSync(sources['MR_small']!, copy);
    expect(await fp(copy)).toEqual(await fp(sources['MR_small']!));
    expect(existsSync(copy)).toBe(true);
  });
});
