/**
 * The synthetic sample generator: pydicom reads every file and finds the marks, the HU scale, the
 * geometry stepping along z and a phantom worth looking at; Orthanc accepts a file through its REST API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { component } from '../../support/components';
import { startOrthanc } from '../../support/orthanc';
import { tempDir } from '../../support/tmp';
import { pyJson, pythonWithPydicom } from './support';

const py = pythonWithPydicom();

describe.skipIf(!py)('sample series generator', () => {
  const tmp = tempDir('medimg-sample-');
  let ct: Awaited<ReturnType<typeof writeSampleSeries>>;
  let mr: Awaited<ReturnType<typeof writeSampleSeries>>;
  beforeAll(async () => {
    ct = await writeSampleSeries({ outDir: join(tmp.path, 'ct'), slices: 40, kind: 'ct', seed: 5 });
    mr = await writeSampleSeries({ outDir: join(tmp.path, 'mr'), slices: 10, kind: 'mr', seed: 5 });
  });
  afterAll(() => tmp.cleanup());

  it('writes CT slices pydicom reads: marked synthetic, HU rescale, real geometry, a phantom with air, lung, soft tissue and bone', () => {
    expect(ct.files).toHaveLength(40);
    const r = pyJson<{
      uids: string[];
      study: string[];
      series: string[];
      z: number[];
      loc: number[];
      nums: number[];
      info: Record<string, string | number>;
      hu: { min: number; max: number; air: number; lung: number; soft: number; bone: number };
    }>(
      py!,
      `
import sys, json, numpy as np, pydicom
files = sys.argv[1:]
dss = [pydicom.dcmread(f) for f in files]
d = dss[20]
a = d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept)
print(json.dumps(dict(
  uids=[x.SOPInstanceUID for x in dss], study=sorted({x.StudyInstanceUID for x in dss}), series=sorted({x.SeriesInstanceUID for x in dss}),
  z=[float(x.ImagePositionPatient[2]) for x in dss], loc=[float(x.SliceLocation) for x in dss], nums=[int(x.InstanceNumber) for x in dss],
  info=dict(name=str(d.PatientName), desc=d.SeriesDescription, comments=d.ImageComments, burned=d.BurnedInAnnotation, rows=d.Rows, cols=d.Columns,
    bits=d.BitsAllocated, signed=d.PixelRepresentation, slope=float(d.RescaleSlope), icpt=float(d.RescaleIntercept), wc=float(d.WindowCenter[0]),
    ww=float(d.WindowWidth[0]), thick=float(d.SliceThickness), ps=float(d.PixelSpacing[0]), iop=str(list(map(float, d.ImageOrientationPatient))),
    sop=d.SOPClassUID, mediasop=d.file_meta.MediaStorageSOPInstanceUID == d.SOPInstanceUID, ts=d.file_meta.TransferSyntaxUID),
  hu=dict(min=float(a.min()), max=float(a.max()), air=float((a < -950).mean()), lung=float(((a > -900) & (a < -700)).mean()),
    soft=float(((a > -50) & (a < 100)).mean()), bone=float((a > 500).mean())))))
`,
      ct.files,
    );
    expect(new Set(r.uids).size).toBe(40);
    expect(r.study).toEqual([ct.studyInstanceUid]);
    expect(r.series).toEqual([ct.seriesInstanceUid]);
    expect(r.nums).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (let i = 1; i < 40; i++) expect(r.z[i]! - r.z[i - 1]!).toBeCloseTo(1.25, 3);
    expect(r.loc).toEqual(r.z);
    expect(r.info).toMatchObject({
      name: 'SYNTHETIC^PHANTOM',
      desc: 'SYNTHETIC — not a patient',
      comments: 'SYNTHETIC — not a patient',
      burned: 'NO',
      rows: 512,
      cols: 512,
      bits: 16,
      signed: 1,
      slope: 1,
      icpt: -1024,
      wc: 40,
      ww: 400,
      thick: 1.25,
      ps: 0.703125,
      iop: '[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]',
      sop: '1.2.840.10008.5.1.4.1.1.2',
      mediasop: true,
      ts: '1.2.840.10008.1.2.1',
    });
    expect(r.hu.min).toBeGreaterThanOrEqual(-1000);
    expect(r.hu.max).toBeGreaterThan(900);
    expect(r.hu.air).toBeGreaterThan(0.2);
    expect(r.hu.lung).toBeGreaterThan(0.03);
    expect(r.hu.soft).toBeGreaterThan(0.2);
    expect(r.hu.bone).toBeGreaterThan(0.002);
  });

  it('writes an MR-like series and is deterministic for a seed', async () => {
    const r = pyJson<{ mod: string; rows: number; max: number; mean: number }>(
      py!,
      `
import sys, json, pydicom
d = pydicom.dcmread(sys.argv[1]); a = d.pixel_array
print(json.dumps(dict(mod=d.Modality, rows=d.Rows, max=int(a.max()), mean=float(a.mean()))))
`,
      [mr.files[5]!],
    );
    expect(r).toMatchObject({ mod: 'MR', rows: 256 });
    expect(r.max).toBeGreaterThan(500);
    const again = await writeSampleSeries({ outDir: join(tmp.path, 'mr2'), slices: 10, kind: 'mr', seed: 5 });
    expect(again.seriesInstanceUid).toBe(mr.seriesInstanceUid);
    // same pixels (the header differs only by the generation time)
    const a = readFileSync(mr.files[5]!);
    const b = readFileSync(again.files[5]!);
    expect(Buffer.compare(a.subarray(a.length - 131072), b.subarray(b.length - 131072))).toBe(0);
  });

  it('Orthanc accepts a generated file through its REST API', async (ctx) => {
    if (!component('orthanc')) return ctx.skip();
    const orthanc = await startOrthanc();
    try {
      const res = await fetch(`${orthanc.url}/instances`, { method: 'POST', body: readFileSync(ct.files[0]!), headers: { 'content-type': 'application/dicom' } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { Status: string; ID: string };
      expect(body.Status).toBe('Success');
      const tags = (await (await fetch(`${orthanc.url}/instances/${body.ID}/simplified-tags`)).json()) as Record<string, string>;
      expect(tags.PatientName).toBe('SYNTHETIC^PHANTOM');
      expect(tags.SeriesInstanceUID).toBe(ct.seriesInstanceUid);
    } finally {
      await orthanc.stop();
    }
  });
});
