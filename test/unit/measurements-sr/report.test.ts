/**
 * The mapping between saved measurements and a TID 1500 Measurement Report (src/node/measurements-sr/report.ts),
 * without a library: what goes in (and why not), units, evidence per series, and the round trip through a Part-10
 * encoding read back by dcmjs.
 */
import { describe, expect, it } from 'vitest';
import { measurementReportDataset, reportMeasurements, roiArea, samePoints, type SourceMeasurement } from '../../../src/node/measurements-sr/report';
import { encodePart10, readNaturalized } from '../../../src/node/keyimages/kos';
import { ENHANCED_SR_SOP_CLASS_UID } from '../../../src/shared/api/measurements-sr';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const study = { StudyInstanceUID: '1.2.826.0.1.3680043.2.1', PatientID: 'P1', PatientName: 'Doe^Jane' };
const img = (sop: string, series: string, over: Partial<SourceMeasurement> = {}): Omit<SourceMeasurement, 'kind' | 'data'> => ({
  sopInstanceUid: sop,
  sopClassUid: CT,
  seriesInstanceUid: series,
  frame: 0,
  stats: {},
  pixelSpacing: [0.5, 0.25],
  modality: 'CT',
  ...over,
});

type Num = { concept: string; value: number; unit: string };
function nums(ds: Record<string, unknown>): Num[] {
  const out: Num[] = [];
  const walk = (items: unknown) => {
    for (const it of (Array.isArray(items) ? items : items ? [items] : []) as Record<string, unknown>[]) {
      if (it.ValueType === 'NUM') {
        // dcmjs's content has single items as objects; a file read back has arrays
        const first = (v: unknown) => (Array.isArray(v) ? v[0] : v) as Record<string, unknown>;
        const mv = first(it.MeasuredValueSequence);
        out.push({ concept: String(first(it.ConceptNameCodeSequence).CodeMeaning), value: Number(mv.NumericValue), unit: String(first(mv.MeasurementUnitsCodeSequence).CodeValue) });
      }
      walk(it.ContentSequence);
    }
  };
  walk(ds.ContentSequence);
  return out;
}

describe('saved measurements → TID 1500 Measurement Report', () => {
  const measurements: SourceMeasurement[] = [
    { ...img('1.2.3.1', '1.2.3'), kind: 'length', data: { handles: { start: { x: 0, y: 0 }, end: { x: 40, y: 30 } } } },
    { ...img('1.2.3.1', '1.2.3'), kind: 'angle', data: { handles: { start: { x: 10, y: 0 }, middle: { x: 0, y: 0 }, end: { x: 0, y: 10 } } } },
    { ...img('1.2.4.1', '1.2.4'), kind: 'rectangleRoi', data: { handles: { start: { x: 10, y: 10 }, end: { x: 50, y: 30 } } }, stats: { mean: 33.333 } },
    { ...img('1.2.4.1', '1.2.4'), kind: 'ellipticalRoi', data: { handles: { start: { x: 10, y: 10 }, end: { x: 30, y: 50 } } } },
    { ...img('1.2.4.1', '1.2.4'), kind: 'probe', data: { handles: { end: { x: 1, y: 1 } } } },
    { ...img('1.2.5.1', '1.2.5', { pixelSpacing: null }), kind: 'length', data: { handles: { start: { x: 0, y: 0 }, end: { x: 10, y: 0 } } } },
  ];
  const { dataset, written, skipped } = measurementReportDataset({ study, measurements, observer: 'reader^', at: new Date('2026-11-29T20:00:00Z') });

  it('writes lengths in mm, angles in degrees, areas in mm² and a CT ROI mean in HU', () => {
    // length: dx = 40 columns × 0.25 mm, dy = 30 rows × 0.5 mm → hypot(10, 15)
    expect(written.map((w) => [w.kind, w.value, w.unit])).toEqual([
      ['length', Number(Math.hypot(10, 15).toFixed(1)), 'mm'],
      ['angle', 90, 'deg'],
      ['rectangleRoi', 40 * 0.25 * 20 * 0.5, 'mm2'],
      ['ellipticalRoi', Number(((Math.PI * 20 * 0.25 * 40 * 0.5) / 4).toFixed(2)), 'mm2'],
    ]);
    expect(nums(dataset)).toEqual([
      { concept: 'Length', value: 18, unit: 'mm' },
      { concept: 'Cobb angle', value: 90, unit: 'deg' },
      { concept: 'Area', value: 100, unit: 'mm2' },
      { concept: 'Mean', value: 33.3, unit: "[hnsf'U]" },
      { concept: 'Area', value: 78.54, unit: 'mm2' },
    ]);
  });

  it('says why a probe and an uncalibrated length are left out', () => {
    expect(skipped).toEqual([
      { sopInstanceUid: '1.2.4.1', kind: 'probe', reason: 'a probe (one point value) has no TID 1500 mapping in the dcmjs Cornerstone adapter' },
      { sopInstanceUid: '1.2.5.1', kind: 'length', reason: 'the image has no Pixel Spacing (0028,0030), so the length is in pixels, not mm' },
    ]);
  });

  it('is an Enhanced SR of the study in its own series, each image in the evidence under its own series', () => {
    expect(dataset).toMatchObject({ SOPClassUID: ENHANCED_SR_SOP_CLASS_UID, Modality: 'SR', StudyInstanceUID: study.StudyInstanceUID, PatientID: 'P1', CompletionFlag: 'COMPLETE', VerificationFlag: 'UNVERIFIED' });
    expect(dataset.SeriesInstanceUID).not.toBe('1.2.3');
    expect(dataset.CurrentRequestedProcedureEvidenceSequence).toEqual([
      {
        StudyInstanceUID: study.StudyInstanceUID,
        ReferencedSeriesSequence: [
          { SeriesInstanceUID: '1.2.3', ReferencedSOPSequence: [{ ReferencedSOPClassUID: CT, ReferencedSOPInstanceUID: '1.2.3.1' }] },
          { SeriesInstanceUID: '1.2.4', ReferencedSOPSequence: [{ ReferencedSOPClassUID: CT, ReferencedSOPInstanceUID: '1.2.4.1' }] },
        ],
      },
    ]);
    const observer = (dataset.ContentSequence as Record<string, unknown>[]).find((c) => c.ValueType === 'PNAME');
    expect(observer?.PersonName).toBe('reader^');
  });

  it('reads back (after a Part-10 round trip) the same kinds, points, frames and values', () => {
    const back = reportMeasurements(readNaturalized(encodePart10(dataset)));
    expect(back.unreadable).toEqual([]);
    expect(back.measurements.map((m) => [m.sopInstanceUid, m.frame, m.kind, m.value, m.meanHu])).toEqual([
      ['1.2.3.1', 0, 'length', 18, null],
      ['1.2.3.1', 0, 'angle', 90, null],
      ['1.2.4.1', 0, 'rectangleRoi', 100, 33.3],
      ['1.2.4.1', 0, 'ellipticalRoi', 78.54, null],
    ]);
    for (const [i, m] of back.measurements.entries()) expect(samePoints(m.kind, m.data.handles, measurements[i]!.data.handles), m.kind).toBe(true);
    expect(back.measurements[3]!.data.handles).toEqual({ start: { x: 10, y: 10 }, end: { x: 30, y: 50 } });
  });

  it('refuses a data set that is not a TID 1500 report', () => {
    expect(() => reportMeasurements({ SOPClassUID: ENHANCED_SR_SOP_CLASS_UID, ValueType: 'CONTAINER', ContentTemplateSequence: [{ TemplateIdentifier: '2010' }] })).toThrow(
      'not a TID 1500 Measurement Report (SOP Class 1.2.840.10008.5.1.4.1.1.88.22, template 2010)',
    );
  });
});

describe('helpers', () => {
  it('roiArea: mm² from the box and [row, column] spacing; null without spacing or with an empty box', () => {
    expect(roiArea('rectangleRoi', { start: { x: 0, y: 0 }, end: { x: 10, y: 4 } }, [2, 0.5])).toBe(5 * 8);
    expect(roiArea('ellipticalRoi', { start: { x: 0, y: 0 }, end: { x: 10, y: 4 } }, [1, 1])).toBeCloseTo(Math.PI * 10, 10);
    expect(roiArea('rectangleRoi', { start: { x: 0, y: 0 }, end: { x: 10, y: 4 } }, null)).toBeNull();
    expect(roiArea('rectangleRoi', { start: { x: 3, y: 0 }, end: { x: 3, y: 4 } }, [1, 1])).toBeNull();
  });
  it('samePoints: a box is the same whichever corners; a length is not reversed', () => {
    expect(samePoints('ellipticalRoi', { start: { x: 1, y: 9 }, end: { x: 5, y: 2 } }, { start: { x: 5, y: 2 }, end: { x: 1, y: 9 } })).toBe(true);
    expect(samePoints('length', { start: { x: 1, y: 1 }, end: { x: 2, y: 2 } }, { start: { x: 1, y: 1 }, end: { x: 2, y: 2.0001 } })).toBe(true);
    expect(samePoints('length', { start: { x: 1, y: 1 }, end: { x: 2, y: 2 } }, { start: { x: 1, y: 1 }, end: { x: 2, y: 2.1 } })).toBe(false);
  });
});
