/**
 * A real PACS round trip: STOW-RS into Orthanc (DICOMweb plugin), WADO-RS back with
 * `transfer-syntax=*` (stored encoding) and with the default (Orthanc re-encodes to Explicit VR
 * Little Endian). `pixel` and `meta` survive; `file` does not have to.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { fingerprintBytes, type InstanceFingerprint } from '../../../src/node/fingerprint/compute';
import { component } from '../../support/components';
import { startOrthanc, stowRs, wadoRsInstance, type OrthancServer } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const orthancBin = component('orthanc');

describe.skipIf(!orthancBin)('Orthanc round trip (STOW-RS in, WADO-RS out)', () => {
  let server: OrthancServer;
  const tmp = tempDir('medimg-fp-orthanc-');
  const inputs: { name: string; bytes: Uint8Array; fp: InstanceFingerprint }[] = [];

  beforeAll(async () => {
    server = await startOrthanc({ binary: orthancBin! });
    const sample = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 3, kind: 'ct', seed: 11 });
    const rle = join(tmp.path, 'rle.dcm');
    execFileSync('dcmcrle', [sample.files[2]!, rle]);
    const files: [string, string][] = [
      ['CT_small (explicit LE)', join(PYDICOM, 'CT_small.dcm')],
      ['MR_small JPEG-LS lossless', join(PYDICOM, 'MR_small_jpeg_ls_lossless.dcm')],
      ['generated CT slice 3, RLE (dcmcrle)', rle],
      ['ExplVR_BigEnd (big-endian)', join(PYDICOM, 'ExplVR_BigEnd.dcm')],
      ['generated CT slice 1', sample.files[0]!],
      ['generated CT slice 2', sample.files[1]!],
    ];
    for (const [name, path] of files) {
      const bytes = new Uint8Array(readFileSync(path));
      inputs.push({ name, bytes, fp: await fingerprintBytes(bytes) });
    }
    for (const i of inputs) expect(await stowRs(server, [i.bytes]), `STOW-RS of ${i.name}`).toBe(200);
  });

  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it('WADO-RS with transfer-syntax=* and with the server default: same pixel and meta as what was sent', async () => {
    const rows: string[] = [];
    for (const i of inputs) {
      const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = i.fp;
      const stored = await fingerprintBytes(new Uint8Array(await wadoRsInstance(server, studyInstanceUid!, seriesInstanceUid!, sopInstanceUid!, '*')));
      const dflt = await fingerprintBytes(new Uint8Array(await wadoRsInstance(server, studyInstanceUid!, seriesInstanceUid!, sopInstanceUid!)));
      for (const [how, got] of [['transfer-syntax=*', stored], ['default', dflt]] as const) {
        expect(got.pixel, `${i.name} ${how}: pixel`).toBe(i.fp.pixel);
        expect(got.meta, `${i.name} ${how}: meta`).toBe(i.fp.meta);
        expect(got.leaf, `${i.name} ${how}: leaf`).toBe(i.fp.leaf);
      }
      rows.push(`${i.name}: sent ${i.fp.transferSyntaxUid}, * → ${stored.transferSyntaxUid}, default → ${dflt.transferSyntaxUid}; file ${stored.file === i.fp.file ? 'same' : 'differs'} / ${dflt.file === i.fp.file ? 'same' : 'differs'}`);
      if (i.fp.transferSyntaxUid !== '1.2.840.10008.1.2.1') {
        // The default re-encodes compressed and big-endian data to Explicit VR Little Endian: the file digest cannot survive that.
        expect(dflt.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
        expect(dflt.file).not.toBe(i.fp.file);
        expect(dflt.pixelMode).toBe('native');
      }
    }
    console.log(rows.join('\n'));
  });
});
