/**
 * Anonymised export of real files nobody here wrote (pydicom's test set), checked by pydicom as an
 * independent peer: no identifying value of the original survives anywhere (sequences and private
 * tags included), UIDs are remapped consistently across a multi-file export, the output is valid
 * Part 10, and the pixel data is byte-identical.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll, describe, expect, it } from 'vitest';
import { BASIC_PROFILE } from '../../../src/core/deid/basic-profile';
import { KEEP_UID_TAGS, UidMap, type DcmDict } from '../../../src/core/deid/deidentify';
import { anonymiseExport } from '../../../src/node/dicom/anonymise';
import { writeSampleSeries } from '../../../src/node/dicom/sample';
import { tempDir } from '../../support/tmp';

const FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const PEER = join(__dirname, 'peer.py');
const tmp = tempDir('medimg-anon-');
afterAll(() => tmp.cleanup());

interface PeerResult {
  original: string;
  identifying: string[];
  uids: string[];
  leaks: { tag: string; value: string; in: string }[];
  privateLeft: string[];
  pixelsEqual: boolean;
  hasPixels: boolean;
  outUids: Record<string, string[]>;
  mediaStorageSopInstanceUid: string;
  patientIdentityRemoved: string;
  deidCode: string[];
}

function peer(pairs: [string, string][]): PeerResult[] {
  const input = JSON.stringify({ pairs, profile_tags: BASIC_PROFILE.map((r) => r.tag), keep_uid_tags: [...KEEP_UID_TAGS] });
  return JSON.parse(execFileSync(PYTHON, [PEER], { input, maxBuffer: 64 * 1024 * 1024 }).toString()) as PeerResult[];
}

const { DicomMessage, DicomDict } = dcmjs.data;

/** A three-image series made from CT_small.dcm: distinct SOP Instance UIDs, each referencing the previous one. */
function makeSeries(dir: string): { paths: string[]; sopUids: string[]; studyUid: string; seriesUid: string } {
  const src = readFileSync(join(FILES, 'CT_small.dcm'));
  const paths: string[] = [];
  const sopUids: string[] = [];
  const studyUid = '1.2.826.0.1.3680043.8.498.1111';
  const seriesUid = '1.2.826.0.1.3680043.8.498.2222';
  for (let i = 0; i < 3; i++) {
    const d = DicomMessage.readFile(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength));
    const dict = d.dict as DcmDict;
    const sop = `1.2.826.0.1.3680043.8.498.3333.${i + 1}`;
    sopUids.push(sop);
    dict['00080018'] = { vr: 'UI', Value: [sop] };
    dict['0020000D'] = { vr: 'UI', Value: [studyUid] };
    dict['0020000E'] = { vr: 'UI', Value: [seriesUid] };
    dict['00200013'] = { vr: 'IS', Value: [i + 1] };
    dict['00280301'] = { vr: 'CS', Value: ['NO'] };
    if (i > 0) {
      dict['00081140'] = {
        vr: 'SQ',
        Value: [{ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00081155': { vr: 'UI', Value: [sopUids[i - 1]] } }],
      };
    }
    const meta = d.meta as DcmDict;
    meta['00020003'] = { vr: 'UI', Value: [sop] };
    const out = new DicomDict(meta);
    out.dict = dict;
    const p = join(dir, `series-${i}.dcm`);
    writeFileSync(p, Buffer.from(out.write()));
    paths.push(p);
  }
  return { paths, sopUids, studyUid, seriesUid };
}

describe('anonymised export of real DICOM files', () => {
  const realFiles = ['CT_small.dcm', 'MR_small.dcm', 'rtplan.dcm', 'nested_priv_SQ.dcm', 'reportsi.dcm', 'rtstruct.dcm', 'rtdose.dcm',
    'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'JPEG2000.dcm', 'MR_small_RLE.dcm', 'priv_SQ.dcm', 'test-SR.dcm', 'image_dfl.dcm', 'waveform_ecg.dcm'];

  it('leaves none of the original identifying values, no private tags, and identical pixels', async () => {
    const out = join(tmp.path, 'real');
    const files = realFiles.map((f) => join(FILES, f));
    // Secondary captures (JPEG2000.dcm, image_dfl.dcm) need the burned-in override; tested on its own below.
    const report = await anonymiseExport({ files, outDir: out, override: { burnedInAnnotation: { reason: 'test set, pixels checked' } } });
    // structured documents are left out with the reason (the Basic Profile would empty their content)
    expect(report.skipped.map((k) => [k.source.split('/').pop(), k.code]).sort()).toEqual([
      ['reportsi.dcm', 'STRUCTURED_CONTENT'],
      ['test-SR.dcm', 'STRUCTURED_CONTENT'],
    ]);
    expect(report.skipped[0]!.reason).toMatch(/^Not exported as anonymised: a structured document \(SOP Class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.88\.\d+/);
    expect(report.written).toHaveLength(files.length - 2);
    const pairs = report.written.map((w) => [w.source, join(out, w.output)] as [string, string]);
    const results = peer(pairs);
    for (const r of results) {
      // The check can fail: every original carries identifying values to look for.
      expect(r.identifying.length + r.uids.length, r.original).toBeGreaterThan(0);
      expect(r.leaks, r.original).toEqual([]);
      expect(r.privateLeft, r.original).toEqual([]);
      if (r.hasPixels) expect(r.pixelsEqual, r.original).toBe(true);
      const overridden = report.written.find((w) => w.source === r.original)!.overridden;
      expect(r.patientIdentityRemoved, r.original).toBe(overridden ? 'NO' : 'YES');
      expect(r.deidCode, r.original).toEqual(['113100']);
      if (!r.outUids['00080018']) continue; // nested_priv_SQ.dcm, priv_SQ.dcm: no SOP Instance UID in the data set
      expect(r.mediaStorageSopInstanceUid, r.original).toBe(r.outUids['00080018']?.[0]);
      expect(r.mediaStorageSopInstanceUid).toMatch(/^2\.25\.\d+$/);
    }
    const ct = results.find((r) => r.original.endsWith('CT_small.dcm'))!;
    expect(ct.identifying).toContain('CompressedSamples^CT1');
    expect(report.written.filter((w) => w.overridden).map((w) => w.source.split('/').pop()).sort()).toEqual(['JPEG2000.dcm', 'image_dfl.dcm']);
    expect(existsSync(join(out, 'anonymisation-report.json'))).toBe(true);
    expect(readFileSync(join(out, 'anonymisation-report.json'), 'utf8')).not.toContain(FILES);
  });

  it('maps UIDs consistently across the files of one export, references in sequences included', async () => {
    const src = join(tmp.path, 'series-src');
    execFileSync('mkdir', ['-p', src]);
    const s = makeSeries(src);
    const uids = new UidMap();
    const out = join(tmp.path, 'series-out');
    const report = await anonymiseExport({ files: s.paths, outDir: out, uids });
    expect(report.written).toHaveLength(3);
    const results = peer(report.written.map((w) => [w.source, join(out, w.output)]));
    const newSops = results.map((r) => r.outUids['00080018']![0]!);
    expect(new Set(newSops).size).toBe(3);
    newSops.forEach((u, i) => expect(u).toBe(uids.get(s.sopUids[i]!)));
    for (const r of results) {
      expect(r.outUids['0020000D']).toEqual([uids.get(s.studyUid)]);
      expect(r.outUids['0020000E']).toEqual([uids.get(s.seriesUid)]);
      expect(r.leaks).toEqual([]);
    }
    // image 2 references image 1 and image 3 references image 2, by their new UIDs
    expect(results[1]!.outUids['00081155']).toEqual([newSops[0]]);
    expect(results[2]!.outUids['00081155']).toEqual([newSops[1]]);
    // one series folder for one series
    expect(readdirSync(out).filter((n) => n.startsWith('series-'))).toEqual(['series-001']);
  });

  it('anonymises a generated series (src/node/dicom/sample.ts): one study, one series, consistent new UIDs', async () => {
    const src = join(tmp.path, 'sample-src');
    const sample = await writeSampleSeries({ outDir: src, slices: 5, kind: 'ct', seed: 7 });
    const uids = new UidMap();
    const out = join(tmp.path, 'sample-out');
    const report = await anonymiseExport({ files: sample.files, outDir: out, uids });
    expect(report.skipped).toEqual([]);
    const results = peer(report.written.map((w) => [w.source, join(out, w.output)]));
    expect(results).toHaveLength(5);
    for (const r of results) {
      expect(r.identifying).toContain('SYNTHETIC^PHANTOM');
      expect(r.leaks).toEqual([]);
      expect(r.pixelsEqual).toBe(true);
      expect(r.outUids['0020000D']).toEqual([uids.get(sample.studyInstanceUid)]);
      expect(r.outUids['0020000E']).toEqual([uids.get(sample.seriesInstanceUid)]);
    }
    expect(new Set(results.map((r) => r.outUids['00080018']![0])).size).toBe(5);
    // Frame of Reference is shared by the slices before, and still after
    expect(new Set(results.map((r) => r.outUids['00200052']?.[0])).size).toBe(1);
  });

  it('does not export burned-in annotation as anonymised without an override, and records the override', async () => {
    const us = join(FILES, 'SC_rgb_small_odd.dcm'); // Secondary Capture without Burned In Annotation
    const out = join(tmp.path, 'burned');
    await expect(anonymiseExport({ files: [us], outDir: out })).rejects.toThrow(/burned-in annotation/);
    expect(existsSync(out)).toBe(false);
    const mixed = await anonymiseExport({ files: [us, join(FILES, 'CT_small.dcm')], outDir: out });
    expect(mixed.skipped).toEqual([expect.objectContaining({ code: 'BURNED_IN_ANNOTATION', source: us })]);
    expect(mixed.written).toHaveLength(1);
    const out2 = join(tmp.path, 'burned-override');
    const over = await anonymiseExport({ files: [us], outDir: out2, override: { burnedInAnnotation: { reason: 'pixels checked, no text' } } });
    expect(over.written[0]!.overridden).toBe(true);
    const [r] = peer([[us, join(out2, over.written[0]!.output)]]);
    expect(r!.patientIdentityRemoved).toBe('NO');
    expect(r!.leaks).toEqual([]);
    expect(r!.pixelsEqual).toBe(true);
  });

  it('a strict export that fails half way leaves no folder; unreadable files are reported by name', async () => {
    const out = join(tmp.path, 'strict');
    const files = [join(FILES, 'CT_small.dcm'), join(FILES, 'MR_truncated.dcm'), join(FILES, 'MR_small.dcm')];
    await expect(anonymiseExport({ files, outDir: out, strict: true })).rejects.toThrow(/nothing was written/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp.path).filter((n) => n.includes('.partial-'))).toEqual([]);
    const lenient = await anonymiseExport({ files, outDir: out });
    expect(lenient.written).toHaveLength(2);
    expect(lenient.skipped).toEqual([expect.objectContaining({ source: files[1], code: 'UNREADABLE_DICOM' })]);
    expect(lenient.skipped[0]!.reason).toMatch(/truncated|ends/i);
  });

  it('a cancelled export writes nothing', async () => {
    const ac = new AbortController();
    const out = join(tmp.path, 'cancelled');
    const files = [join(FILES, 'CT_small.dcm'), join(FILES, 'MR_small.dcm')];
    await expect(
      anonymiseExport({ files, outDir: out, signal: ac.signal, onProgress: (done) => done === 1 && ac.abort() }),
    ).rejects.toThrow(/cancelled/);
    expect(existsSync(out)).toBe(false);
  });
});
