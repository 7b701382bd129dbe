import { describe, expect, it } from 'vitest';
import { DEFAULT_PROTOCOLS, matchProtocol, planHanging, protocolProblem, type HangingProtocol, type StudySeries } from '../../../src/core/hanging/protocols';

const se = (id: number, modality: string, bodyPart = '', number: number | null = id, images = 10): StudySeries => ({ id, modality, bodyPart, number, images });

describe('hanging protocols (built-in defaults)', () => {
  it('CR/DX: one image, 1×1', () => {
    expect(planHanging(DEFAULT_PROTOCOLS, [se(7, 'DX', 'CHEST'), se(8, 'DX', 'CHEST')])).toEqual({ protocol: { id: 'cr-dx', name: 'Radiograph (CR/DX): 1×1' }, layout: '1x1', cells: [{ seriesId: 7, window: null }] });
    expect(matchProtocol(DEFAULT_PROTOCOLS, [se(1, 'CR')])!.id).toBe('cr-dx');
  });

  it('CT chest: the first series twice, soft tissue (mediastinum) beside lung window', () => {
    const plan = planHanging(DEFAULT_PROTOCOLS, [se(12, 'CT', 'CHEST', 3), se(11, 'CT', 'Chest', 2)]);
    expect(plan.protocol!.id).toBe('ct-chest');
    expect(plan.layout).toBe('1x2');
    // series number 2 (id 11) comes first
    expect(plan.cells).toEqual([
      { seriesId: 11, window: 'mediastinum' },
      { seriesId: 11, window: 'lung' },
    ]);
  });

  it('CT of another body part: the generic CT protocol', () => {
    expect(planHanging(DEFAULT_PROTOCOLS, [se(3, 'CT', 'HEAD')])).toMatchObject({ protocol: { id: 'ct' }, layout: '1x1', cells: [{ seriesId: 3 }] });
  });

  it('MR: series side by side, up to 2×2; series without images and other modalities are not hung', () => {
    expect(planHanging(DEFAULT_PROTOCOLS, [se(1, 'MR')])).toMatchObject({ layout: '1x1', cells: [{ seriesId: 1 }] });
    expect(planHanging(DEFAULT_PROTOCOLS, [se(1, 'MR'), se(2, 'MR')]).cells.map((c) => c.seriesId)).toEqual([1, 2]);
    const three = planHanging(DEFAULT_PROTOCOLS, [se(1, 'MR'), se(2, 'SR', '', 2, 0), se(3, 'MR'), se(4, 'OT'), se(5, 'MR')]);
    expect(three.layout).toBe('2x2');
    expect(three.cells.map((c) => c.seriesId)).toEqual([1, 3, 5, null]);
    const six = planHanging(DEFAULT_PROTOCOLS, [1, 2, 3, 4, 5, 6].map((i) => se(i, 'MR')));
    expect(six.cells.map((c) => c.seriesId)).toEqual([1, 2, 3, 4]);
  });

  it('no protocol applies: the first image series in 1×1', () => {
    expect(planHanging(DEFAULT_PROTOCOLS, [se(4, 'US'), se(2, 'US', '', 1)])).toEqual({ protocol: null, layout: '1x1', cells: [{ seriesId: 2, window: null }] });
    expect(planHanging(DEFAULT_PROTOCOLS, [])).toEqual({ protocol: null, layout: '1x1', cells: [{ seriesId: null, window: null }] });
  });
});

describe('reader-edited protocols', () => {
  const base: HangingProtocol = { id: 'x', name: 'MR 3+ series', modalities: ['MR'], bodyPart: '', minSeries: 3, maxSeries: null, layout: '1x2', cells: [{ series: 3, window: null }, { series: 1, window: null }] };

  it('the first in list order wins; number-of-series limits apply', () => {
    const list = [base, ...DEFAULT_PROTOCOLS];
    expect(matchProtocol(list, [se(1, 'MR'), se(2, 'MR')])!.id).toBe('mr');
    const plan = planHanging(list, [se(1, 'MR'), se(2, 'MR'), se(3, 'MR')]);
    expect(plan).toEqual({ protocol: { id: 'x', name: 'MR 3+ series' }, layout: '1x2', cells: [{ seriesId: 3, window: null }, { seriesId: 1, window: null }] });
    expect(matchProtocol([{ ...base, maxSeries: 2 }], [se(1, 'MR'), se(2, 'MR'), se(3, 'MR')])).toBeNull();
  });

  it('a cell naming a series the study lacks stays empty', () => {
    expect(planHanging([{ ...base, minSeries: null }], [se(1, 'MR')]).cells).toEqual([{ seriesId: null, window: null }, { seriesId: 1, window: null }]);
  });

  it('problems are said in the reader’s words', () => {
    expect(protocolProblem(base)).toBeNull();
    expect(protocolProblem({ ...base, name: ' ' })).toMatch(/needs a name/);
    expect(protocolProblem({ ...base, modalities: [] })).toMatch(/modalities/);
    expect(protocolProblem({ ...base, minSeries: 4, maxSeries: 2 })).toMatch(/minimum/);
    expect(protocolProblem({ ...base, layout: '1x1' })).toMatch(/2 viewports do not fit a 1x1/);
    expect(protocolProblem({ ...base, cells: [{ series: 0, window: null }] })).toMatch(/1–64/);
    for (const p of DEFAULT_PROTOCOLS) expect(protocolProblem(p)).toBeNull();
  });
});
